"""IMAP polling against a real Dovecot, and the full loop through a real SMTP server."""

from __future__ import annotations

import threading
import time
from email import message_from_bytes
from unittest import mock

import pytest
from imapclient.exceptions import LoginError

from skranke.cases.actions import add_message
from skranke.cases.models import Case, DeliveryStatus, MessageKind
from skranke.mail import imap
from skranke.mail.imap import IMPORTED_KEYWORD, poll_mailbox
from skranke.mail.models import InboundEmail
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


def _flags(mailbox) -> dict[int, tuple[bytes, ...]]:
    mailbox.imap.select_folder("INBOX")
    uids = mailbox.imap.search()
    if not uids:
        return {}
    return {uid: data[b"FLAGS"] for uid, data in mailbox.imap.fetch(uids, ["FLAGS"]).items()}


def test_poll_imports_new_mail_and_flags_it_after_commit(imap_mailbox, mail):
    for i in range(3):
        imap_mailbox.imap.append("INBOX", mail(subject=f"Sak {i}", body=f"Tekst {i}"))
    report = poll_mailbox(imap_mailbox)
    assert (report.imported, report.skipped) == (3, 0)
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["Sak 0", "Sak 1", "Sak 2"]
    assert all(IMPORTED_KEYWORD in flags for flags in _flags(imap_mailbox).values())
    # \Seen stays the people's flag: a colleague can still see the mail as unread in Outlook.
    assert not any(b"\\Seen" in flags for flags in _flags(imap_mailbox).values())
    inbound = InboundEmail.objects.order_by("imap_uid").first()
    assert inbound.source == "imap" and inbound.imap_uid == 1 and inbound.imap_uidvalidity

    assert poll_mailbox(imap_mailbox).imported == 0
    assert Case.objects.count() == 3


def test_crash_between_commit_and_flag_never_imports_twice(imap_mailbox, mail):
    imap_mailbox.imap.append("INBOX", mail())
    with mock.patch.object(imap._Folder, "mark_done", side_effect=ConnectionError("cut")):
        with pytest.raises(ConnectionError):
            poll_mailbox(imap_mailbox)
    assert Case.objects.count() == 1  # committed, but the server never heard
    imap_mailbox.refresh_from_db()
    assert "cut" in imap_mailbox.last_error
    report = poll_mailbox(imap_mailbox)
    assert (report.imported, report.skipped) == (0, 1)
    assert Case.objects.count() == 1
    assert IMPORTED_KEYWORD in next(iter(_flags(imap_mailbox).values()))


def test_a_message_that_fails_does_not_block_the_others(imap_mailbox, mail, monkeypatch):
    from skranke.mail import intake

    real = intake._ingest_in_transaction

    def fail_on_poison(parsed, *args, **kwargs):
        if parsed.subject == "Gift":
            raise RuntimeError("parser bug")
        return real(parsed, *args, **kwargs)

    monkeypatch.setattr(intake, "_ingest_in_transaction", fail_on_poison)
    imap_mailbox.imap.append("INBOX", mail(subject="Gift"))
    imap_mailbox.imap.append("INBOX", mail(subject="Vanlig"))
    report = poll_mailbox(imap_mailbox)
    assert report.imported == 1 and len(report.errors) == 1
    assert list(Case.objects.values_list("subject", flat=True)) == ["Vanlig"]
    imap_mailbox.refresh_from_db()
    assert "parser bug" in imap_mailbox.last_error
    flags = _flags(imap_mailbox)
    assert IMPORTED_KEYWORD not in flags[1] and IMPORTED_KEYWORD in flags[2]
    # Fixed (here: un-patched), the next poll takes it in.
    monkeypatch.setattr(intake, "_ingest_in_transaction", real)
    assert poll_mailbox(imap_mailbox).imported == 1


def test_processed_mail_can_be_moved_to_a_folder(imap_mailbox, mail):
    imap_mailbox.imap.create_folder("Skranke")
    imap_mailbox.processed_folder = "Skranke"
    imap_mailbox.save()
    imap_mailbox.imap.append("INBOX", mail())
    assert poll_mailbox(imap_mailbox).imported == 1
    assert _flags(imap_mailbox) == {}
    imap_mailbox.imap.select_folder("Skranke")
    assert len(imap_mailbox.imap.search()) == 1


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_and_starttls(imap_mailbox, dovecot, mail, monkeypatch, security):
    """Certificates are verified: the test trusts its own self-signed one, nothing else."""
    monkeypatch.setenv("SSL_CERT_FILE", dovecot.certificate)
    imap_mailbox.imap_security = security
    imap_mailbox.imap_port = dovecot.tls_port if security == "ssl" else dovecot.port
    imap_mailbox.save()
    imap_mailbox.imap.append("INBOX", mail(subject=f"Via {security}"))
    assert poll_mailbox(imap_mailbox).imported == 1


def test_untrusted_certificate_is_refused(imap_mailbox, dovecot):
    import ssl

    imap_mailbox.imap_security = "ssl"
    imap_mailbox.imap_port = dovecot.tls_port
    imap_mailbox.save()
    with pytest.raises(ssl.SSLCertVerificationError):
        poll_mailbox(imap_mailbox)


def test_wrong_password_is_recorded_on_the_mailbox(imap_mailbox):
    imap_mailbox.imap_password = "feil"
    imap_mailbox.save()
    with pytest.raises(LoginError):
        poll_mailbox(imap_mailbox)
    imap_mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in imap_mailbox.last_error


def _use_oauth2(mailbox, dovecot, refresh_token: str) -> None:
    """Microsoft 365 / Google style: no password, a refresh token renews the access token."""
    dovecot.oauth.refresh_tokens[refresh_token] = mailbox.imap_username
    mailbox.imap_password = ""
    mailbox.oauth2_token_url = dovecot.oauth.token_url
    mailbox.oauth2_client_id = "skranke-test"
    mailbox.oauth2_refresh_token = refresh_token


def test_xoauth2_login_with_refreshed_token(imap_mailbox, dovecot, mail):
    _use_oauth2(imap_mailbox, dovecot, "refresh-abc")
    imap_mailbox.save()
    imap_mailbox.imap.append("INBOX", mail(subject="Via OAuth2"))
    before = dovecot.oauth.refreshes
    assert poll_mailbox(imap_mailbox).imported == 1
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.oauth2_access_token.startswith("access-")
    assert imap_mailbox.oauth2_expires_at is not None
    assert poll_mailbox(imap_mailbox).imported == 0
    assert dovecot.oauth.refreshes == before + 1  # the stored token was reused
    imap_mailbox.oauth2_access_token = "revoked"
    imap_mailbox.oauth2_refresh_token = ""
    imap_mailbox.save()
    with pytest.raises(LoginError):
        poll_mailbox(imap_mailbox)


def test_xoauth2_token_refused_before_its_expiry_is_renewed_once(imap_mailbox, dovecot, mail):
    from datetime import timedelta

    from django.utils import timezone

    _use_oauth2(imap_mailbox, dovecot, "refresh-xyz")
    # Not expired by the clock, but the provider has revoked it.
    imap_mailbox.oauth2_access_token = "revoked-early"
    imap_mailbox.oauth2_expires_at = timezone.now() + timedelta(minutes=50)
    imap_mailbox.save()
    imap_mailbox.imap.append("INBOX", mail(subject="Etter tilbakekalling"))
    before = dovecot.oauth.refreshes
    assert poll_mailbox(imap_mailbox).imported == 1
    assert dovecot.oauth.refreshes == before + 1
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.oauth2_access_token.startswith("access-")


@pytest.mark.django_db(transaction=True)
def test_idle_picks_up_new_mail(imap_mailbox, mail, monkeypatch):
    monkeypatch.setattr(imap, "IDLE_SECONDS", 1)
    stop = threading.Event()
    watcher = threading.Thread(
        target=imap.poll_forever, args=([imap_mailbox],), kwargs={"stop": stop}, daemon=True
    )
    watcher.start()
    try:
        time.sleep(0.5)
        imap_mailbox.imap.append("INBOX", mail(subject="Via IDLE"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not Case.objects.filter(subject="Via IDLE").exists():
            time.sleep(0.2)
        assert Case.objects.filter(subject="Via IDLE").exists()
    finally:
        stop.set()
        watcher.join(timeout=10)


def test_end_to_end_dovecot_to_case_to_smtp_and_back(
    imap_mailbox,
    mail,
    smtp_server,
    immediate_tasks,
    agent,
    django_capture_on_commit_callbacks,
):
    # 1. The customer's mail arrives in the IMAP mailbox and is polled into a case.
    imap_mailbox.imap.append(
        "INBOX",
        mail(
            sender="Åse Ødegård <ase@kunde.no>",
            subject="Feil på fakturaen",
            body="Hei, beløpet på fakturaen er feil.",
            message_id="first-mail@kunde.no",
        ),
    )
    assert poll_mailbox(imap_mailbox).imported == 1
    case = Case.objects.get()
    assert case.customer.primary_email == "ase@kunde.no"

    # 2. An agent replies; the reply goes out through the real SMTP server.
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_message(
            case, kind=MessageKind.REPLY, actor=agent, body_text="Hei Åse, vi retter den."
        )
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert len(smtp_server.envelopes) == 1
    mail_from, rcpt_tos, content = smtp_server.envelopes[0]
    assert rcpt_tos == ["ase@kunde.no"]
    received = message_from_bytes(content)
    assert received["Message-ID"] == f"<{reply.external_id}>"
    assert received["In-Reply-To"] == "<first-mail@kunde.no>"
    assert received["References"] == "<first-mail@kunde.no>"
    assert received["Reply-To"] == f"kundeservice+c{case.number}@firma.no"
    assert f"[#{case.number}]" in received["Subject"]

    # 3. The customer answers the reply they received (their client keeps only In-Reply-To
    #    and quotes the text); it comes back through IMAP into the same case.
    answer = mail(
        sender="Åse Ødegård <ase@kunde.no>",
        to=received["Reply-To"],
        subject="SV: " + received["Subject"].replace(f"[#{case.number}]", "").strip(),
        body="Takk!\n\nDen tir. skrev Firma kundeservice:\n> Hei Åse, vi retter den.",
        in_reply_to=received["Message-ID"].strip("<>"),
    )
    imap_mailbox.imap.append("INBOX", answer)
    assert poll_mailbox(imap_mailbox).imported == 1
    assert Case.objects.count() == 1
    last = case.messages.order_by("-id").first()
    assert last.kind == MessageKind.CUSTOMER
    assert last.body_text.startswith("Takk!")
    assert last.metadata["email"]["threaded_by"] in ("reply_address", "in_reply_to")
