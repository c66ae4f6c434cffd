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
from skranke.lib.aftercommit import forget_batches


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


def test_stale_object_does_not_overwrite_newer_changes(case, agent):
    stale = Case.objects.get(pk=case.pk)
    add_message(case, kind=MessageKind.REPLY, actor=agent, body_text="svar")
    update_case(stale, actor=agent, priority="high")
    case.refresh_from_db()
    assert case.message_count == 2
    assert case.first_response_at is not None
    assert case.priority == "high"


def test_leaving_pending_clears_follow_up_with_an_event(case, agent):
    from datetime import timedelta

    from django.utils import timezone

    update_case(
        case, actor=agent, status=Status.PENDING, follow_up_at=timezone.now() + timedelta(days=1)
    )
    update_case(case, actor=agent, status=Status.OPEN)
    case.refresh_from_db()
    assert case.follow_up_at is None
    follow_ups = list(
        case.events.filter(kind=EventKind.FOLLOW_UP).values_list("new_value", flat=True)
    )
    assert len(follow_ups) == 2 and follow_ups[-1] == ""


def test_closed_to_solved_clears_closed_at_and_keeps_solved_at(case, agent):
    update_case(case, actor=agent, status=Status.SOLVED)
    case.refresh_from_db()
    first_solved = case.solved_at
    update_case(case, actor=agent, status=Status.CLOSED)
    update_case(case, actor=agent, status=Status.SOLVED)
    case.refresh_from_db()
    assert case.closed_at is None
    assert case.solved_at == first_solved


def test_merge_refuses_cycles_and_closed_targets(customer, team, agent):
    a = create_case(customer=customer, subject="A", team=team, body_text="one")
    b = create_case(customer=customer, subject="B", team=team, body_text="two")
    c = create_case(customer=customer, subject="C", team=team, body_text="three")
    stale_b = Case.objects.get(pk=b.pk)
    merge_cases(b, a, actor=agent)
    with pytest.raises(ValidationError):
        merge_cases(a, stale_b, actor=agent)  # would make a cycle
    update_case(c, actor=agent, status=Status.CLOSED)
    with pytest.raises(ValidationError):
        merge_cases(a, c, actor=agent)
    a.refresh_from_db()
    assert a.merged_into is None and a.message_count == 2


def test_merge_into_solved_case_reopens_it(customer, team, agent):
    a = create_case(customer=customer, subject="A", team=team, body_text="one")
    b = create_case(customer=customer, subject="B", team=team, body_text="two")
    update_case(b, actor=agent, status=Status.SOLVED)
    merge_cases(a, b, actor=agent)
    b.refresh_from_db()
    assert b.status == Status.OPEN and b.message_count == 2


def test_one_broadcast_per_case_per_transaction(
    case, agent, monkeypatch, django_capture_on_commit_callbacks
):
    from skranke.cases import broadcast

    sent: list[dict] = []
    monkeypatch.setattr(broadcast, "_send", lambda groups, message: sent.append(message))
    forget_batches()
    with django_capture_on_commit_callbacks(execute=True):
        # A first reply also moves the case from new to open: one change, one broadcast.
        add_message(case, kind=MessageKind.REPLY, actor=agent, body_text="svar")
    assert [m["kind"] for m in sent] == ["message"]


def test_reopen_task_only_touches_cases_still_due(case, agent):
    from datetime import timedelta

    from django.utils import timezone

    from skranke.cases.tasks import reopen_due_follow_ups

    update_case(
        case, actor=agent, status=Status.PENDING, follow_up_at=timezone.now() - timedelta(minutes=1)
    )
    assert reopen_due_follow_ups.call() == 1
    case.refresh_from_db()
    assert case.status == Status.OPEN and case.follow_up_at is None
    assert reopen_due_follow_ups.call() == 0


def test_in_memory_broadcast_is_skipped_when_nobody_in_this_process_listens(monkeypatch, settings):
    from channels.layers import channel_layers, get_channel_layer

    from skranke.cases import broadcast

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()

    trips: list[object] = []
    real = broadcast.async_to_sync
    monkeypatch.setattr(broadcast, "async_to_sync", lambda f: trips.append(f) or real(f))
    layer = get_channel_layer()
    broadcast._send(["case-1", broadcast.ALL_CASES_GROUP], {"type": "case.changed"})
    assert trips == []  # the mail pipe or a worker process: no consumer, no event loop

    channel = real(layer.new_channel)()
    real(layer.group_add)(broadcast.ALL_CASES_GROUP, channel)
    try:
        broadcast._send(["case-1", broadcast.ALL_CASES_GROUP], {"type": "case.changed"})
        assert len(trips) == 1
        assert real(layer.receive)(channel) == {"type": "case.changed"}
    finally:
        real(layer.group_discard)(broadcast.ALL_CASES_GROUP, channel)


def test_a_block_of_case_numbers_is_consecutive_and_never_handed_out_again(customer, team):
    from skranke.cases.actions import next_numbers

    first = create_case(customer=customer, subject="Før", team=team).number
    block = next_numbers(50)
    after = create_case(customer=customer, subject="Etter", team=team).number
    assert first < block
    assert after == block + 50


def test_a_rolled_back_creation_leaves_a_gap_only_on_postgresql(customer, team):
    from django.db import connection, transaction

    first = create_case(customer=customer, subject="Én", team=team).number
    with pytest.raises(RuntimeError), transaction.atomic():
        create_case(customer=customer, subject="Angret", team=team)
        raise RuntimeError("roll back")
    after = create_case(customer=customer, subject="To", team=team).number
    # PostgreSQL's sequence locks nothing and so cannot take a number back; SQLite's counter
    # row is written inside the creating transaction and rolls back with it.
    assert after == first + (2 if connection.vendor == "postgresql" else 1)


@pytest.mark.django_db(transaction=True)
def test_a_creation_in_progress_never_makes_another_fail(customer, team):
    """PostgreSQL: the second creation does not even wait (case numbers come from a sequence).
    SQLite, one writer at a time: it waits for the first to commit, then succeeds."""
    import threading

    from django.db import connection, transaction

    postgres = connection.vendor == "postgresql"
    created = threading.Event()
    release = threading.Event()

    def slow_creator() -> None:
        try:
            with transaction.atomic():
                create_case(customer=customer, subject="Treg", team=team)
                created.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_creator)
    thread.start()
    try:
        assert created.wait(10)
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")  # waiting would fail, not hang
        else:
            threading.Timer(0.5, release.set).start()  # the first commits while we wait
        quick = create_case(customer=customer, subject="Rask", team=team)
        assert quick.pk is not None
        assert release.is_set() != postgres  # PostgreSQL did not wait for the first commit
    finally:
        release.set()
        thread.join()
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 2


def test_an_invalid_status_is_refused_before_anything_is_written(case, agent):
    from django.db import transaction

    before = case.messages.count()
    with transaction.atomic():
        with pytest.raises(ValidationError):
            add_message(case, kind=MessageKind.NOTE, actor=agent, body_text="Hei", new_status="x")
        # The caller's transaction is still usable, and nothing was written.
        assert case.messages.count() == before
