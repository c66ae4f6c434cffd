"""The LMTP/SMTP listener against real clients (smtplib's LMTP and SMTP)."""

from __future__ import annotations

import smtplib

import pytest

from skranke.cases.models import Case
from skranke.mail import lmtp
from skranke.mail.models import InboundEmail
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)
from tests.servers import free_port

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listener(mailbox):
    port = free_port()
    controller = lmtp.start("127.0.0.1", port, lmtp=True)
    yield port
    controller.stop()


def test_unknown_recipient_refused_at_rcpt(listener):
    client = smtplib.LMTP("127.0.0.1", listener)
    try:
        client.ehlo_or_helo_if_needed()
        client.mail("per@kunde.no")
        code, message = client.rcpt("ukjent@firma.no")
        assert code == 550
        assert b"no such mailbox" in message
    finally:
        client.quit()
    assert Case.objects.count() == 0


def test_known_recipient_accepted_and_case_exists_after_250(listener, mail):
    client = smtplib.LMTP("127.0.0.1", listener)
    try:
        refused = client.sendmail(
            "per@kunde.no", ["kundeservice@firma.no"], mail(subject="Via LMTP")
        )
        assert refused == {}
        # By the time 250 arrived, the case was committed.
        case = Case.objects.get()
        assert case.subject == "Via LMTP"
        assert InboundEmail.objects.get().source == "lmtp"
    finally:
        client.quit()


def test_lmtp_answers_each_recipient(listener, mail):
    client = smtplib.LMTP("127.0.0.1", listener)
    try:
        client.ehlo_or_helo_if_needed()
        client.mail("per@kunde.no")
        assert client.rcpt("kundeservice@firma.no")[0] == 250
        assert client.rcpt("ukjent@firma.no")[0] == 550
        assert client.rcpt("kundeservice+c1@firma.no")[0] == 250
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(smtplib.quotedata(mail().decode()).encode() + b"\r\n.\r\n")
        first = client.getreply()
        second = client.getreply()
        assert first[0] == 250 and second[0] == 250
    finally:
        client.quit()
    # Two recipients of the same mailbox: one case, not two.
    assert Case.objects.count() == 1


def test_smtp_mode_and_unparseable_message(mailbox):
    port = free_port()
    controller = lmtp.start("127.0.0.1", port, lmtp=False)
    try:
        client = smtplib.SMTP("127.0.0.1", port)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("per@kunde.no", ["kundeservice@firma.no"], b"\r\n")
        assert refused.value.smtp_code == 550
        client.quit()
    finally:
        controller.stop()
    assert Case.objects.count() == 0
