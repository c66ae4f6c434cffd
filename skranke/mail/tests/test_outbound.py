from __future__ import annotations

import smtplib
from email import message_from_bytes
from email.message import Message as EmailMessage
from unittest import mock

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError

from skranke.cases.actions import add_message
from skranke.cases.models import DeliveryStatus, MessageKind
from skranke.mail.actions import retry_delivery
from skranke.mail.intake import ingest
from skranke.mail.tasks import RETRY_DELAYS, send_reply
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_case(mailbox, mail):
    return ingest(
        mail(cc="Bjørn <bjorn@kunde.no>", headers={"Reply-To": "Per Privat <per.privat@kunde.no>"}),
        mailbox=mailbox,
    )


def _sent() -> EmailMessage:
    assert len(django_mail.outbox) == 1
    return message_from_bytes(django_mail.outbox[0].message().as_bytes())


def test_agent_reply_is_sent_with_threading_headers(
    email_case, agent, immediate_tasks, django_capture_on_commit_callbacks
):
    case = email_case.case
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_message(
            case, kind=MessageKind.REPLY, actor=agent, body_text="Hei Per,\nvi ser på det."
        )
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    sent = _sent()
    assert sent["Message-ID"] == f"<{reply.external_id}>"
    assert sent["In-Reply-To"] == f"<{email_case.message.external_id}>"
    assert sent["References"] == f"<{email_case.message.external_id}>"
    assert sent["Reply-To"] == f"kundeservice+c{case.number}@firma.no"
    assert sent["To"] == "per.privat@kunde.no"
    assert sent["Cc"] == "bjorn@kunde.no"
    assert sent["Auto-Submitted"] == "no"
    assert f"[#{case.number}]" in sent["Subject"]
    assert sent.get_content_type() == "multipart/alternative"
    text, html = sent.get_payload()
    assert "vi ser på det." in text.get_payload(decode=True).decode()
    assert "Kari i kundeservice" in text.get_payload(decode=True).decode()  # the signature
    assert "<html" in html.get_payload(decode=True).decode()


def test_english_case_gets_english_template(
    email_case, agent, immediate_tasks, django_capture_on_commit_callbacks
):
    case = email_case.case
    case.language = "en"
    case.save()
    with django_capture_on_commit_callbacks(execute=True):
        add_message(case, kind=MessageKind.REPLY, actor=agent, body_text="Hello")
    assert "Case number" in django_mail.outbox[0].body


def test_reply_attachments_are_sent(
    email_case, agent, immediate_tasks, django_capture_on_commit_callbacks
):
    from skranke.cases.actions import NewAttachment

    with django_capture_on_commit_callbacks(execute=True):
        add_message(
            email_case.case,
            kind=MessageKind.REPLY,
            actor=agent,
            body_text="Vedlagt",
            attachments=[NewAttachment("svar.pdf", b"%PDF", "application/pdf")],
        )
    assert django_mail.outbox[0].attachments[0][0] == "svar.pdf"


def test_notes_and_cases_without_mailbox_are_not_mailed(
    case, email_case, agent, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = add_message(email_case.case, kind=MessageKind.NOTE, actor=agent, body_text="Intern")
    assert note.delivery_status == DeliveryStatus.NONE
    # The ``case`` fixture's team has a mailbox here, so use a team without one.
    from skranke.accounts.models import Team
    from skranke.cases.actions import update_case

    update_case(case, team=Team.objects.create(name="Uten e-post", slug="uten"))
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_message(case, kind=MessageKind.REPLY, actor=agent, body_text="Hei")
    assert reply.delivery_status == DeliveryStatus.NONE
    assert django_mail.outbox == []


def test_transient_failure_retries_then_fails_and_can_be_retried(
    email_case, agent, django_capture_on_commit_callbacks
):
    """With the database task backend: each failure re-queues with a later run_after."""
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        reply = add_message(email_case.case, kind=MessageKind.REPLY, actor=agent, body_text="Hei")
    assert reply.delivery_status == DeliveryStatus.QUEUED
    broken = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("connection lost"),
    )
    with broken:
        for attempt in range(1, len(RETRY_DELAYS) + 1):
            assert send_reply.call(reply.pk) == "retrying"
            reply.refresh_from_db()
            assert reply.delivery_status == DeliveryStatus.QUEUED
            assert "connection lost" in reply.delivery_error
            assert reply.metadata["email"]["attempts"] == attempt
        assert DBTaskResult.objects.count() == 1 + len(RETRY_DELAYS)
        assert send_reply.call(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        retry_delivery(reply)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert send_reply.call(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    with pytest.raises(ValidationError):
        retry_delivery(reply)


def test_permanent_refusal_fails_at_once(email_case, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_message(email_case.case, kind=MessageKind.REPLY, actor=agent, body_text="Hei")
    refused = smtplib.SMTPRecipientsRefused({"per.privat@kunde.no": (550, b"5.1.1 no such user")})
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused
    ):
        assert send_reply.call(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "550 5.1.1 no such user" in reply.delivery_error


def test_acknowledgement_is_sent_and_marked_automatic(
    mailbox, mail, immediate_tasks, django_capture_on_commit_callbacks
):
    mailbox.send_acknowledgement = True
    mailbox.opening_hours = "hverdager 08–16"
    mailbox.save()
    raw = mail()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(raw, mailbox=mailbox)
    sent = _sent()
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == f"<{result.parsed.message_id}>"
    assert sent["To"] == "per@kunde.no"
    body = django_mail.outbox[0].body
    assert "Vi har mottatt henvendelsen din" in body
    assert str(result.case.number) in body and "hverdager 08–16" in body
    # The customer's answer to the acknowledgement threads back into the case.
    answer = mail(
        subject="Re: " + str(sent["Subject"]),
        in_reply_to=sent["Message-ID"].strip("<>"),
        references=[result.parsed.message_id, sent["Message-ID"].strip("<>")],
    )
    assert ingest(answer, mailbox=mailbox).case == result.case
