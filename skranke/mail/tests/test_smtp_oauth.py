"""Sending with OAuth2 (XOAUTH2), as Microsoft 365 and Google require, against real servers in
the test process: aiosmtpd that accepts ``AUTH XOAUTH2`` only for tokens a tiny OAuth2 token
endpoint issued, and nothing else (no PLAIN, no LOGIN, no mail before AUTH)."""

from __future__ import annotations

import base64
import binascii
import json
import smtplib
import ssl
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.smtp import AuthResult
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.forms.models import model_to_dict
from django.utils import timezone

from skranke.cases.actions import add_message
from skranke.cases.models import DeliveryStatus, MessageKind
from skranke.mail.admin import MailboxForm
from skranke.mail.intake import ingest
from skranke.mail.models import Security, SMTPAuth
from skranke.mail.outbound import connection_for
from skranke.mail.smtp import OAuth2EmailBackend, XOAUTH2Refused
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)
from skranke.mail.tests.fixtures import OAuthServer, SMTPSink, _make_certificate

pytestmark = [
    pytest.mark.mailserver,
    pytest.mark.django_db,
    # Implicit TLS is TLS too, but aiosmtpd only counts STARTTLS; see ``start_smtp``.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

REFRESH_TOKEN = "refresh-kundeservice"


class XOAUTH2Server(SMTPSink):
    """The aiosmtpd handler: AUTH XOAUTH2 against the token endpoint's access tokens, answered
    like Google (a base64 JSON challenge, then 535 after the client's empty line)."""

    def __init__(self, oauth: OAuthServer) -> None:
        super().__init__()
        self.oauth = oauth
        self.attempts: list[tuple[str, str, bool]] = []  # user, token, accepted
        self.refused_users: set[str] = set()  # e.g. SMTP AUTH switched off for the mailbox
        self.senders: list[str] = []  # who had signed in, per delivered mail

    async def auth_XOAUTH2(self, server, args):
        blob = args[1] if len(args) == 2 else await server.challenge_auth("")
        try:
            decoded = base64.b64decode(blob, validate=True).decode()
        except (binascii.Error, TypeError, UnicodeDecodeError):
            return AuthResult(success=False, handled=False, message="501 5.5.2 Bad XOAUTH2")
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        accepted = self.oauth.access_tokens.get(token) == user and user not in self.refused_users
        self.attempts.append((user, token, accepted))
        if accepted:
            return AuthResult(success=True, auth_data=user)
        error = {"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"}
        answer = await server.challenge_auth(json.dumps(error))
        if answer != b"":
            return AuthResult(success=False, handled=True)  # aiosmtpd has answered already
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted"
        )

    async def handle_DATA(self, server, session, envelope):
        self.senders.append(session.auth_data)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def _oauth_server():
    server = OAuthServer()
    yield server
    server.stop()


@pytest.fixture
def oauth(_oauth_server):
    """The token endpoint, with no tokens issued yet."""
    _oauth_server.refresh_tokens.clear()
    _oauth_server.access_tokens.clear()
    _oauth_server.refreshes = 0
    return _oauth_server


@pytest.fixture(scope="module")
def _certificate(tmp_path_factory):
    from tests.servers import require_binary

    require_binary("openssl", "openssl")
    return _make_certificate(str(tmp_path_factory.mktemp("certificate")))


@pytest.fixture
def certificate(_certificate, monkeypatch):
    """A self-signed certificate the client trusts (and nothing else): TLS is verified."""
    monkeypatch.setenv("SSL_CERT_FILE", _certificate)
    return _certificate


@pytest.fixture
def start_smtp(oauth, certificate):
    """Starts aiosmtpd for a security mode: XOAUTH2 as the only mechanism, AUTH before MAIL."""
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    controllers = []

    def start(security: str = Security.STARTTLS, handler=None):
        handler = handler or XOAUTH2Server(oauth)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, certificate.replace("cert.pem", "key.pem"))
        options: dict = {
            "auth_required": True,
            "auth_exclude_mechanism": ["PLAIN", "LOGIN"],
            # aiosmtpd counts only STARTTLS as TLS; implicit TLS is encrypted all the same.
            "auth_require_tls": security == Security.STARTTLS,
        }
        if security == Security.STARTTLS:
            options.update(tls_context=context, require_starttls=True)
        elif security == Security.SSL:
            options.update(ssl_context=context)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        handler.port = port
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def oauth_mailbox(mailbox, oauth):
    """Microsoft 365 style: no password anywhere, a refresh token renews the access token."""
    oauth.refresh_tokens[REFRESH_TOKEN] = mailbox.address
    mailbox.smtp_host = "127.0.0.1"
    mailbox.smtp_auth = SMTPAuth.OAUTH2
    mailbox.oauth2_token_url = oauth.token_url
    mailbox.oauth2_client_id = "skranke-test"
    mailbox.oauth2_refresh_token = REFRESH_TOKEN
    mailbox.save()
    return mailbox


def _use(mailbox, server, security: str = Security.STARTTLS) -> None:
    mailbox.smtp_port = server.port
    mailbox.smtp_security = security
    mailbox.save()


def _reply(mailbox, mail, agent, capture, body: str = "Hei Per, vi retter fakturaen."):
    inbound = ingest(mail(message_id="faktura-1@kunde.no"), mailbox=mailbox)
    with capture(execute=True):
        reply = add_message(inbound.case, kind=MessageKind.REPLY, actor=agent, body_text=body)
    reply.refresh_from_db()
    return inbound, reply


@pytest.mark.parametrize("security", [Security.STARTTLS, Security.SSL, Security.NONE])
def test_reply_is_sent_with_xoauth2(
    oauth_mailbox,
    oauth,
    start_smtp,
    mail,
    agent,
    immediate_tasks,
    django_capture_on_commit_callbacks,
    security,
):
    server = start_smtp(security)
    _use(oauth_mailbox, server, security)
    inbound, reply = _reply(oauth_mailbox, mail, agent, django_capture_on_commit_callbacks)

    assert reply.delivery_status == DeliveryStatus.SENT, reply.delivery_error
    oauth_mailbox.refresh_from_db()
    token = oauth_mailbox.oauth2_access_token
    assert oauth.access_tokens[token] == "kundeservice@firma.no"
    assert oauth_mailbox.oauth2_expires_at > timezone.now() + timedelta(minutes=50)
    assert server.attempts == [("kundeservice@firma.no", token, True)]
    assert server.senders == ["kundeservice@firma.no"]
    [(mail_from, rcpt_tos, content)] = server.envelopes
    assert mail_from == "kundeservice@firma.no"
    assert rcpt_tos == ["per@kunde.no"]
    sent = message_from_bytes(content)
    case = inbound.case
    assert sent["Message-ID"] == f"<{reply.external_id}>"
    assert sent["In-Reply-To"] == "<faktura-1@kunde.no>"
    assert sent["Reply-To"] == f"kundeservice+c{case.number}@firma.no"
    assert sent["X-Skranke-Case"] == str(case.number)
    assert f"[#{case.number}]" in sent["Subject"]
    assert "Firma kundeservice" in sent["From"]


@pytest.mark.parametrize("stored", ["expired", "revoked early"])
def test_stale_token_is_renewed_once_and_the_mail_goes_out(
    oauth_mailbox,
    oauth,
    start_smtp,
    mail,
    agent,
    immediate_tasks,
    django_capture_on_commit_callbacks,
    stored,
):
    server = start_smtp()
    _use(oauth_mailbox, server)
    # The provider forgot this token; Skranke believes it has an hour left ("revoked early")
    # or knows it has run out ("expired").
    oauth_mailbox.oauth2_access_token = "stale-token"
    oauth_mailbox.oauth2_expires_at = timezone.now() + timedelta(
        hours=1 if stored == "revoked early" else -1
    )
    oauth_mailbox.save()

    _inbound, reply = _reply(oauth_mailbox, mail, agent, django_capture_on_commit_callbacks)

    assert reply.delivery_status == DeliveryStatus.SENT, reply.delivery_error
    assert reply.metadata["email"]["attempts"] == 1  # not rescued by the task's retry
    assert oauth.refreshes == 1
    oauth_mailbox.refresh_from_db()
    renewed = oauth_mailbox.oauth2_access_token
    assert renewed != "stale-token" and oauth.access_tokens[renewed] == oauth_mailbox.address
    tried = [(token, accepted) for _user, token, accepted in server.attempts]
    if stored == "revoked early":
        assert tried == [("stale-token", False), (renewed, True)]  # on the same connection
    else:
        assert tried == [(renewed, True)]  # renewed before signing in, no refused attempt
    assert len(server.envelopes) == 1


def test_revoked_refresh_token_fails_the_delivery_with_a_clear_error(
    oauth_mailbox,
    oauth,
    start_smtp,
    mail,
    agent,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    server = start_smtp()
    _use(oauth_mailbox, server)
    oauth_mailbox.oauth2_access_token = "stale-token"
    oauth_mailbox.oauth2_expires_at = timezone.now() + timedelta(hours=1)
    oauth_mailbox.save()
    del oauth.refresh_tokens[REFRESH_TOKEN]  # the administrator's consent was withdrawn

    _inbound, reply = _reply(oauth_mailbox, mail, agent, django_capture_on_commit_callbacks)

    # The immediate task backend runs every retry at once; the last one gives up.
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "invalid_grant" in reply.delivery_error
    assert "needs a new refresh token" in reply.delivery_error
    assert "kundeservice@firma.no" in reply.delivery_error
    assert server.envelopes == []
    # Each attempt signed in once with the stale token and asked for a new one once.
    assert [token for _user, token, _ok in server.attempts] == ["stale-token"] * len(
        server.attempts
    )
    assert reply.metadata["email"]["attempts"] == len(server.attempts)
    oauth_mailbox.refresh_from_db()
    assert oauth_mailbox.oauth2_access_token == "stale-token"
    assert oauth_mailbox.oauth2_refresh_token == REFRESH_TOKEN


def _send_one(mailbox) -> int:
    with connection_for(mailbox) as connection:
        return connection.send_messages(
            [EmailMessage("Test", "Hei", "kundeservice@firma.no", ["per@kunde.no"])]
        )


def test_token_refused_also_after_renewal_gives_up_after_one_retry(
    oauth_mailbox, oauth, start_smtp
):
    """E.g. SMTP AUTH switched off for the mailbox in Microsoft 365: renewing cannot help."""
    server = start_smtp()
    _use(oauth_mailbox, server)
    server.refused_users.add(oauth_mailbox.address)
    with pytest.raises(XOAUTH2Refused) as refused:
        _send_one(oauth_mailbox)
    assert refused.value.smtp_code == 535
    reason = refused.value.smtp_error
    assert "kundeservice@firma.no refused, also with a renewed token" in reason
    assert "Username and Password not accepted" in reason and "mail.google.com" in reason
    assert len(server.attempts) == 2 and oauth.refreshes == 2  # first token, then forced
    assert server.envelopes == []


def test_without_a_refresh_token_a_refused_token_is_not_retried(oauth_mailbox, oauth, start_smtp):
    server = start_smtp()
    _use(oauth_mailbox, server)
    oauth_mailbox.oauth2_refresh_token = ""
    oauth_mailbox.oauth2_access_token = "pasted-token"
    oauth_mailbox.save()
    with pytest.raises(XOAUTH2Refused, match="refused: 5.7.8"):
        _send_one(oauth_mailbox)
    assert [token for _user, token, _ok in server.attempts] == ["pasted-token"]
    assert oauth.refreshes == 0


def test_smtp_username_is_used_when_set(oauth_mailbox, oauth, start_smtp):
    server = start_smtp()
    _use(oauth_mailbox, server)
    oauth_mailbox.smtp_username = "utsending@firma.no"
    oauth_mailbox.save()
    oauth.refresh_tokens[REFRESH_TOKEN] = "utsending@firma.no"
    assert _send_one(oauth_mailbox) == 1
    assert server.senders == ["utsending@firma.no"]


def test_server_without_xoauth2_is_a_clear_error(oauth_mailbox, start_smtp):
    """A server offering only passwords (here PLAIN and LOGIN) is not tried with a token."""
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    port = free_port()
    controller = Controller(SMTPSink(), hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    try:
        oauth_mailbox.smtp_port = port
        oauth_mailbox.smtp_security = Security.NONE
        oauth_mailbox.save()
        with pytest.raises(smtplib.SMTPNotSupportedError, match="does not offer AUTH XOAUTH2"):
            _send_one(oauth_mailbox)
    finally:
        controller.stop()


def test_connection_for_chooses_the_backend_by_sign_in(oauth_mailbox):
    assert type(connection_for(oauth_mailbox)) is OAuth2EmailBackend
    oauth_mailbox.smtp_auth = SMTPAuth.PASSWORD
    oauth_mailbox.smtp_password = "hemmelig"
    assert type(connection_for(oauth_mailbox)) is SMTPBackend


def test_oauth2_sign_in_needs_a_host_and_tokens(mailbox):
    mailbox.smtp_auth = SMTPAuth.OAUTH2
    with pytest.raises(ValidationError) as missing_host:
        mailbox.full_clean()
    assert set(missing_host.value.message_dict) == {"smtp_host"}
    mailbox.smtp_host = "smtp.office365.com"
    mailbox.oauth2_token_url = "https://login.microsoftonline.com/firma/oauth2/v2.0/token"
    mailbox.oauth2_client_id = "skranke"
    with pytest.raises(ValidationError) as missing_token:
        mailbox.full_clean()
    assert set(missing_token.value.message_dict) == {"smtp_auth"}
    mailbox.oauth2_refresh_token = "refresh"
    mailbox.full_clean()
    mailbox.oauth2_refresh_token, mailbox.oauth2_access_token = "", "pasted-token"
    mailbox.full_clean()


def test_admin_form_keeps_the_stored_refresh_token_for_oauth2(oauth_mailbox):
    """The refresh token is never sent back to the browser; saving without retyping it (or
    switching to OAuth2 later) must pass validation with the stored one."""
    data = {
        key: value
        for key, value in model_to_dict(oauth_mailbox, fields=MailboxForm.Meta.fields).items()
        if value is not None
    }
    data["oauth2_refresh_token"] = ""
    form = MailboxForm(data=data, instance=oauth_mailbox)
    assert form.is_valid(), form.errors
    assert form.save().oauth2_refresh_token == REFRESH_TOKEN

    oauth_mailbox.oauth2_refresh_token = ""
    oauth_mailbox.save()
    form = MailboxForm(data=data, instance=oauth_mailbox)
    assert not form.is_valid()
    assert "smtp_auth" in form.errors


def test_admin_shows_the_sign_in_choice_in_bokmal(client, admin_user, oauth_mailbox):
    client.force_login(admin_user)
    page = client.get(f"/admin/mail/mailbox/{oauth_mailbox.pk}/change/").content.decode()
    assert 'name="smtp_auth"' in page
    assert "SMTP-pålogging" in page and "Brukernavn og passord" in page
    assert REFRESH_TOKEN not in page  # a secret, never sent back to the browser
