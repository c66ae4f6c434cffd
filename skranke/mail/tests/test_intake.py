from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from skranke.cases.models import Case, DeliveryStatus, Message, MessageKind, Status
from skranke.customers.models import CustomerEmail
from skranke.mail.intake import IntakeError, ingest
from skranke.mail.models import InboundEmail, InboundStatus
from skranke.mail.parsing import UnparseableMessage
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)

pytestmark = pytest.mark.django_db


def test_new_mail_creates_case_customer_and_inbound_row(mailbox, mail):
    raw = mail(
        sender="Åse Ødegård <ase@kunde.no>",
        subject="Spørsmål om æøå",
        body="Hei!\nHvorfor er fakturaen feil?",
        cc="Bjørn <bjorn@kunde.no>, kundeservice@firma.no",
        attachments=[("kvittering.pdf", b"%PDF-1.4 test", "application/pdf")],
    )
    result = ingest(raw, mailbox=mailbox)
    assert result.status == "created"
    case = result.case
    assert case.subject == "Spørsmål om æøå"
    assert case.team == mailbox.team
    assert case.customer.name == "Åse Ødegård"
    assert case.customer.primary_email == "ase@kunde.no"
    # Our own address is never recorded as a CC (we would mail ourselves).
    assert case.metadata["email"]["cc"] == [{"name": "Bjørn", "address": "bjorn@kunde.no"}]
    message = case.messages.get()
    assert message.kind == MessageKind.CUSTOMER
    assert "Hvorfor er fakturaen feil?" in message.body_text
    assert message.metadata["email"]["threaded_by"] is None
    assert [a.filename for a in message.attachments.all()] == ["kvittering.pdf"]
    inbound = InboundEmail.objects.get()
    assert inbound.case == case and inbound.case_message == message
    assert default_storage.open(inbound.raw.name).read() == raw


def test_same_mail_twice_is_imported_once(mailbox, mail):
    raw = mail()
    first = ingest(raw, mailbox=mailbox)
    second = ingest(raw, mailbox=mailbox)
    assert second.status == "duplicate"
    assert second.case == first.case
    assert Case.objects.count() == 1 and Message.objects.count() == 1


def test_mail_without_message_id_is_deduplicated_by_fingerprint(mailbox, mail):
    raw = mail(message_id=None)
    ingest(raw, mailbox=mailbox)
    assert ingest(raw, mailbox=mailbox).status == "duplicate"
    assert InboundEmail.objects.get().dedupe_key.startswith(f"{mailbox.pk}:sha:")
    # A different mail without id is its own case.
    ingest(mail(message_id=None, body="Noe annet"), mailbox=mailbox)
    assert Case.objects.count() == 2


def test_mailbox_found_from_plus_address_recipient(mailbox, mail):
    result = ingest(mail(to="kundeservice+c99999@firma.no"))
    assert result.mailbox == mailbox


def test_unknown_recipient_is_refused(mailbox, mail):
    with pytest.raises(IntakeError, match="no enabled mailbox"):
        ingest(mail(to="someone@elsewhere.no"))


def test_empty_input_is_unparseable(mailbox):
    with pytest.raises(UnparseableMessage):
        ingest(b"   ", mailbox=mailbox)


def test_oversize_message_still_makes_a_case_with_a_note(mailbox, mail, settings):
    settings.SKRANKE_MAIL_MAX_ATTACHMENT_BYTES = 1000
    raw = mail(attachments=[("stor.bin", b"x" * 5000, "application/octet-stream")])
    result = ingest(raw, mailbox=mailbox)
    notes = result.case.messages.filter(kind=MessageKind.NOTE)
    assert notes.count() == 1
    assert "stor.bin" in notes.get().body_text
    assert result.message.attachments.count() == 0


def test_auto_reply_gets_no_acknowledgement_and_keeps_status(mailbox, mail, case):
    mailbox.send_acknowledgement = True
    mailbox.save()
    raw = mail(subject="Automatisk svar: ferie", headers={"Auto-Submitted": "auto-replied"})
    result = ingest(raw, mailbox=mailbox)
    assert result.parsed.is_auto_reply
    assert not result.inbound.acknowledged


def _queued_receipts() -> list[list[object]]:
    from django_tasks_db.models import DBTaskResult

    return [
        row.args_kwargs["args"]
        for row in DBTaskResult.objects.filter(task_path__endswith=".send_acknowledgement")
    ]


def test_acknowledgement_is_queued_with_the_mail(mailbox, mail):
    from django.db import transaction

    mailbox.send_acknowledgement = True
    mailbox.save()
    result = ingest(mail(), mailbox=mailbox)
    assert result.inbound.acknowledged
    assert _queued_receipts() == [[result.inbound.pk]]
    # Queued inside the mail's transaction: a mail that is rolled back leaves no receipt.
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(mail(sender="rulles@kunde.no", message_id="rolled@kunde.no"), mailbox=mailbox)
        raise RuntimeError("roll back")
    assert _queued_receipts() == [[result.inbound.pk]]


def test_acknowledgements_per_sender_per_hour_and_never_to_our_own_address(mailbox, mail):
    mailbox.send_acknowledgement = True
    mailbox.save()
    acked = [
        ingest(mail(subject=f"Sak {i}", body=f"Melding {i}"), mailbox=mailbox).inbound.acknowledged
        for i in range(5)
    ]
    assert acked == [True, True, True, False, False]
    own = ingest(mail(sender="kundeservice+sak@firma.no", subject="Intern"), mailbox=mailbox)
    assert own.status == "created" and not own.inbound.acknowledged


def test_loop_breaker_holds_mail_over_the_hourly_limit(mailbox, mail, settings):
    settings.SKRANKE_MAIL_LOOP_LIMIT = 3
    results = [ingest(mail(body=f"Melding {i}"), mailbox=mailbox) for i in range(5)]
    assert [r.status for r in results[3:]] == ["loop_held", "loop_held"]
    assert InboundEmail.objects.filter(status=InboundStatus.LOOP_HELD).count() == 2
    assert InboundEmail.objects.count() == 5  # held, never lost


def _bounce(original_id: str, recipient: str, status: str = "5.1.1") -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.kunde.no>\r\n"
        "To: kundeservice@firma.no\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.kunde.no>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.kunde.no\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_id}>\r\nSubject: Re: Faktura\r\n"
        "--B--\r\n"
    ).encode()


def test_permanent_bounce_attaches_to_case_and_marks_address(mailbox, case, agent):
    from skranke.cases.actions import add_message

    case.metadata = {"email": {"mailbox": mailbox.pk}}
    case.save()
    reply = add_message(case, kind=MessageKind.REPLY, actor=agent, body_text="Hei Per")
    assert reply.external_id
    result = ingest(_bounce(reply.external_id, "per@kunde.no"), mailbox=mailbox)
    assert result.status == "bounce"
    assert result.case == case
    assert result.message.kind == MessageKind.NOTE
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert CustomerEmail.objects.get(address="per@kunde.no").undeliverable
    assert not result.inbound.acknowledged


def test_bounce_for_unknown_message_is_stored_without_a_case(mailbox):
    result = ingest(_bounce("nobody@else", "x@kunde.no"), mailbox=mailbox)
    assert result.status == "bounce_unmatched"
    assert result.case is None
    assert Case.objects.count() == 0


def test_reply_from_customer_reopens_pending_case(mailbox, mail):
    first = ingest(mail(), mailbox=mailbox)
    from skranke.cases.actions import update_case

    update_case(first.case, status=Status.PENDING)
    reply = mail(
        subject=f"SV: Faktura stemmer ikke [#{first.case.number}]", body="Her er mer info."
    )
    second = ingest(reply, mailbox=mailbox)
    assert second.case == first.case
    second.case.refresh_from_db()
    assert second.case.status == Status.OPEN


def test_html_is_kept_sanitised_with_remote_images_held(mailbox, mail):
    raw = mail(
        html='<p onclick="x()">Hei</p><img src="https://tracker.example/p.gif"><script>x</script>'
    )
    message = ingest(raw, mailbox=mailbox).message
    assert "onclick" not in message.body_html and "<script" not in message.body_html
    assert 'data-remote-src="https://tracker.example/p.gif"' in message.body_html


def test_dry_run_stores_nothing(mailbox, mail):
    result = ingest(mail(), mailbox=mailbox, dry_run=True)
    assert result.status == "dry_run"
    assert Case.objects.count() == 0 and InboundEmail.objects.count() == 0


def test_overlong_sender_name_and_address_still_make_a_case(mailbox, mail):
    long_local = "a" * 250
    raw = mail(sender=f"{'Å' * 300} <{long_local}@kunde.no>")
    result = ingest(raw, mailbox=mailbox)
    assert result.status == "created"
    assert len(result.case.customer.name) == 200


def test_a_bug_on_one_message_does_not_block_the_rest(mailbox, mail, monkeypatch):
    from skranke.mail import intake

    real = intake._ingest_in_transaction
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "_ingest_in_transaction", flaky)
    with pytest.raises(RuntimeError):
        ingest(mail(), mailbox=mailbox)
    assert InboundEmail.objects.count() == 0 and Case.objects.count() == 0
    assert ingest(mail(), mailbox=mailbox).status == "created"


def test_statements_per_mail_stay_few(mailbox, mail, django_assert_max_num_queries):
    # The ingestion benchmark's budget (docs/benchmarks.md), the same on both engines: one
    # look-up for dedupe and loop count, the customer, counter, case, event, message,
    # InboundEmail and one index write (in a savepoint), plus BEGIN and COMMIT.
    from skranke.lib.aftercommit import forget_batches

    # Each mail is its own transaction in production; here they share the test's, so the
    # batches the earlier mails left behind are let go first.
    ingest(mail(sender="ase@kunde.no", message_id="first@kunde.no"), mailbox=mailbox)
    forget_batches()
    with django_assert_max_num_queries(13):
        ingest(
            mail(sender="ase@kunde.no", subject="Ny sak", message_id="second@kunde.no"),
            mailbox=mailbox,
        )
    forget_batches()
    with django_assert_max_num_queries(13):
        result = ingest(
            mail(sender="ase@kunde.no", in_reply_to="first@kunde.no", message_id="3@kunde.no"),
            mailbox=mailbox,
        )
    assert result.status == "appended"
    forget_batches()
    with django_assert_max_num_queries(17):
        result = ingest(mail(sender="ny@kunde.no", message_id="4@kunde.no"), mailbox=mailbox)
    assert result.status == "created"


def test_mail_is_indexed_inside_its_transaction(mailbox, mail, agent):
    from skranke.search.query import search_cases

    # No on_commit callback runs in this test: the index row was written with the case.
    result = ingest(mail(sender="ase@kunde.no", subject="Vaskemaskinen lekker"), mailbox=mailbox)
    assert search_cases(agent, "vaskemaskin") == [result.case.pk]
    reply = mail(sender="ase@kunde.no", in_reply_to=result.parsed.message_id, body="Kjøleskapet")
    ingest(reply, mailbox=mailbox)
    assert search_cases(agent, "kjøleskap") == [result.case.pk]
