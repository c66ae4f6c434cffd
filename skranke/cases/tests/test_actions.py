from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError

from skranke.cases.actions import (
    NewAttachment,
    add_message,
    create_case,
    merge_cases,
    update_case,
)
from skranke.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    EventKind,
    Message,
    MessageKind,
    Status,
)


def test_create_case_numbers_and_events(customer, team, agent):
    first = create_case(customer=customer, subject="A", team=team, body_text="x")
    second = create_case(customer=customer, subject="B", team=team, body_text="y")
    assert second.number == first.number + 1
    assert first.status == Status.NEW
    kinds = list(first.events.values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED]
    assert first.messages.get().kind == MessageKind.CUSTOMER


def test_reply_sets_first_response_and_opens(case, agent):
    add_message(case, kind=MessageKind.REPLY, actor=agent, body_text="Vi ser på det.")
    case.refresh_from_db()
    assert case.first_response_at is not None
    assert case.status == Status.OPEN
    assert case.message_count == 2


def test_update_case_writes_one_event_per_change(case, agent, other_team):
    events = update_case(case, actor=agent, priority="high", team=other_team, status="pending")
    assert sorted(e.kind for e in events) == ["priority", "status", "team"]
    # No change, no event.
    assert update_case(case, actor=agent, priority="high") == []


def test_update_case_rejects_bad_values_and_writes_nothing(case, agent):
    before = CaseEvent.objects.count()
    with pytest.raises(ValidationError):
        update_case(case, actor=agent, status="bogus", priority="high")
    case.refresh_from_db()
    assert case.priority == "normal"
    assert CaseEvent.objects.count() == before


def test_oversize_attachment_refused_and_nothing_written(case, agent, settings):
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 10
    messages_before = Message.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        add_message(
            case,
            kind=MessageKind.REPLY,
            actor=agent,
            body_text="Se vedlegg",
            attachments=[NewAttachment("stor.pdf", b"x" * 11, "application/pdf")],
        )
    assert "stor.pdf" in str(excinfo.value)
    assert Message.objects.count() == messages_before
    assert Attachment.objects.count() == 0


def test_attachment_stored_with_hash(case, agent):
    message = add_message(
        case,
        kind=MessageKind.NOTE,
        actor=agent,
        body_text="Kvittering",
        attachments=[NewAttachment("kvittering.txt", b"hei", "text/plain")],
    )
    attachment = message.attachments.get()
    assert attachment.size == 3
    assert attachment.sha256 == hashlib.sha256(b"hei").hexdigest()
    assert attachment.file.read() == b"hei"


def test_merge_moves_messages_and_closes_source(customer, team, agent):
    a = create_case(customer=customer, subject="A", team=team, body_text="one")
    b = create_case(customer=customer, subject="B", team=team, body_text="two")
    merge_cases(a, b, actor=agent)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == Status.CLOSED and a.merged_into == b
    assert b.message_count == 2 and a.message_count == 0
    assert b.events.filter(kind=EventKind.MERGED).exists()
    with pytest.raises(ValidationError):
        merge_cases(a, b, actor=agent)


def test_html_is_sanitised(case, agent):
    message = add_message(
        case,
        kind=MessageKind.REPLY,
        actor=agent,
        body_html='<p onclick="x()">Hei<script>alert(1)</script></p>',
    )
    assert "script" not in message.body_html and "onclick" not in message.body_html
    assert Case.objects.get(pk=case.pk).message_count == 2
