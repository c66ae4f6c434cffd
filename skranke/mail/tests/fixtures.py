"""Fixtures for the database-side mail tests (intake, threading, outbound, servers).

Imported by each test module rather than living in ``conftest.py``: that conftest belongs to
the pure parser tests, which also run without Django (``-p no:django``).
"""

from __future__ import annotations

import logging

import pytest

from skranke.mail.tests.mailfactory import make_mail

# aiosmtpd logs every connection at INFO from its own thread, sometimes after pytest has
# closed the captured stream ("--- Logging error ---"); its warnings still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture
def mailbox(team):
    from skranke.mail.models import Mailbox

    return Mailbox.objects.create(
        address="kundeservice@firma.no",
        team=team,
        display_name="Firma kundeservice",
        signature="Kari i kundeservice\nFirma AS",
        send_acknowledgement=False,
    )


@pytest.fixture
def mail():
    return make_mail


def _reset_task_backends() -> None:
    from django.tasks import task_backends

    # The handler caches settings and backend instances; Django does not reset them on
    # setting_changed, so an override needs this.
    task_backends._settings = None
    try:
        del task_backends["default"]
    except AttributeError:
        pass


@pytest.fixture
def immediate_tasks(settings):
    """Run enqueued tasks at once, in the enqueuing thread."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    _reset_task_backends()
    yield
    _reset_task_backends()


class SMTPSink:
    """Collects what an aiosmtpd server receives."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) in the test process; Django's SMTP backend sends to it."""
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    sink = SMTPSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()


class Dovecot:
    """A private Dovecot IMAP server; ``new_user`` gives each test its own empty mailbox."""

    def __init__(self, workdir: str, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self._users = 0

    USERS = 200
    PASSWORD = "hemmelig-123"

    def write_users(self) -> None:
        # All users up front: Dovecot notices a changed passwd-file only by its mtime, which
        # would miss users added within the same second.
        with open(f"{self.workdir}/passwd", "w") as handle:
            for n in range(1, self.USERS + 1):
                handle.write(f"user{n}@firma.no:{{PLAIN}}{self.PASSWORD}\n")

    def new_user(self) -> tuple[str, str]:
        self._users += 1
        return f"user{self._users}@firma.no", self.PASSWORD

    def client(self, username: str, password: str):
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(username, password)
        return client


class OAuthServer:
    """A tiny OAuth2 provider: a token endpoint (refresh grant) and a tokeninfo endpoint that
    Dovecot's oauth2 passdb asks whether an XOAUTH2 access token is valid, and for whom."""

    def __init__(self) -> None:
        import http.server
        import json
        import threading
        import urllib.parse

        from tests.servers import free_port

        self.port = free_port()
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user
        self.access_tokens: dict[str, str] = {}  # access token -> user
        self.refreshes = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _json(self, status: int, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                user = server.refresh_tokens.get(form.get("refresh_token", [""])[0])
                if form.get("grant_type") != ["refresh_token"] or user is None:
                    return self._json(400, {"error": "invalid_grant"})
                server.refreshes += 1
                token = f"access-{server.refreshes}-{user}"
                server.access_tokens[token] = user
                self._json(200, {"access_token": token, "expires_in": 3600})

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                user = server.access_tokens.get(query.get("access_token", [""])[0])
                if user is None:
                    return self._json(401, {"error": "invalid_token"})
                self._json(200, {"email": user, "active": True})

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def stop(self) -> None:
        self.httpd.shutdown()


def _make_certificate(workdir: str) -> str:
    """A self-signed certificate for 127.0.0.1, so the TLS and STARTTLS paths are tested too."""
    import subprocess

    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", f"{workdir}/key.pem", "-out", f"{workdir}/cert.pem",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return f"{workdir}/cert.pem"


def _dovecot_config(workdir: str, port: int, oauth_port: int, tls_port: int) -> str:
    import grp
    import os
    import pwd

    if os.geteuid() == 0:
        # As root Dovecot drops privileges: mail as the packaged "dovecot" user, logins as
        # "dovenull", both from Debian's dovecot-core.
        mail_user = pwd.getpwnam("dovecot")
        internal, login = "dovecot", "dovenull"
        os.chown(f"{workdir}/home", mail_user.pw_uid, mail_user.pw_gid)
        os.chmod(workdir, 0o755)
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
    else:
        # Unprivileged, every process runs as the current user.
        me = pwd.getpwuid(os.geteuid())
        internal = login = me.pw_name
        uid, gid = me.pw_uid, os.getegid()
    group = grp.getgrgid(gid).gr_name
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {workdir}/run
state_dir = {workdir}/state
log_path = {workdir}/dovecot.log
ssl = yes
ssl_cert = <{workdir}/cert.pem
ssl_key = <{workdir}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
# A test server: durability of its own files does not matter, speed does.
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {workdir}/passwd
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {workdir}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={workdir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


@pytest.fixture(scope="session")
def dovecot():
    """Debian's dovecot-imapd on a free port, with a temporary config and mail directory."""
    import os
    import shutil
    import subprocess
    import tempfile

    from tests.servers import free_port, require_binary, wait_for_port

    binary = require_binary("dovecot", "dovecot-imapd")
    workdir = tempfile.mkdtemp(prefix="skranke-dovecot-")
    for sub in ("run", "state", "home"):
        os.makedirs(f"{workdir}/{sub}")
    port = free_port()
    tls_port = free_port()
    server = Dovecot(workdir, port)
    server.tls_port = tls_port
    server.certificate = _make_certificate(workdir)
    server.write_users()
    server.oauth = OAuthServer()
    with open(f"{workdir}/oauth2.conf.ext", "w") as handle:
        handle.write(
            f"tokeninfo_url = http://127.0.0.1:{server.oauth.port}/tokeninfo?access_token=\n"
            "introspection_mode = get\nusername_attribute = email\n"
        )
    with open(f"{workdir}/dovecot.conf", "w") as handle:
        handle.write(_dovecot_config(workdir, port, server.oauth.port, tls_port))
    proc = subprocess.Popen(
        [binary, "-F", "-c", f"{workdir}/dovecot.conf"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        try:
            wait_for_port(port)
            wait_for_port(tls_port)
        except RuntimeError:
            proc.kill()
            log = (
                open(f"{workdir}/dovecot.log").read()
                if os.path.exists(f"{workdir}/dovecot.log")
                else ""
            )
            raise RuntimeError(
                f"Dovecot did not start: {proc.stderr.read().decode()} {log}"
            ) from None
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.oauth.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def imap_mailbox(dovecot, team):
    """A Mailbox row pointing at a fresh Dovecot user; ``.imap`` is a client for delivering."""
    from skranke.mail.models import Mailbox, Security

    username, password = dovecot.new_user()
    mailbox = Mailbox.objects.create(
        address="kundeservice@firma.no",
        team=team,
        display_name="Firma kundeservice",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security=Security.NONE,
        imap_username=username,
        imap_password=password,
        send_acknowledgement=False,
    )
    mailbox.imap = dovecot.client(username, password)
    yield mailbox
    try:
        mailbox.imap.logout()
    except Exception:
        pass
