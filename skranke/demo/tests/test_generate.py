"""The demo generator: deterministic, consistent with what the actions write, and fast."""

from __future__ import annotations

import re
import time
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest

from skranke.accounts.models import Team, User
from skranke.cases.models import Case, CaseEvent, Channel, EventKind, Message, MessageKind, Status
from skranke.customers.models import Customer, CustomerPhone, Organisation
from skranke.demo.calendar import OpeningHours
from skranke.demo.generate import (
    DEMO_PASSWORD,
    DemoConfig,
    delete_demo,
    load_demo,
    make_org_number,
)
from skranke.lib.validators import org_number_is_valid

# A window with Norwegian public holidays in it (Easter, 1 and 17 May, Ascension, Whitsun).
NOW = datetime(2026, 5, 29, 11, 0, tzinfo=UTC)
SMALL = DemoConfig(cases=400, customers=80, seed=7, now=NOW, batch_size=150)


def _load(config: DemoConfig = SMALL) -> object:
    return load_demo(config, progress=False, out=lambda _line: None)


def _snapshot() -> list[tuple[object, ...]]:
    """Everything about the cases that does not depend on database ids."""
    emails = dict(User.objects.values_list("id", "email"))
    rows: list[tuple[object, ...]] = []
    for case in Case.objects.select_related("customer", "team").order_by("number"):
        rows.append(
            (
                case.subject,
                case.status,
                case.priority,
                case.type,
                case.channel,
                case.language,
                case.team.name,
                emails.get(case.assignee_id),
                case.customer.name,
                case.created_at,
                case.updated_at,
                case.first_response_at,
                case.solved_at,
                case.closed_at,
                case.follow_up_at,
                case.message_count,
            )
        )
    rows += list(
        Message.objects.order_by("case__number", "id").values_list(
            "kind", "body_text", "created_at"
        )
    )
    rows += [
        (e.kind, e.created_at, emails.get(e.actor_id))
        for e in CaseEvent.objects.order_by("case__number", "id")
    ]
    return rows


@pytest.mark.django_db
def test_same_seed_gives_the_same_data() -> None:
    _load()
    first = _snapshot()
    delete_demo()
    assert not Case.objects.exists()
    _load()
    assert _snapshot() == first
    delete_demo()
    _load(DemoConfig(cases=400, customers=80, seed=8, now=NOW))
    assert _snapshot() != first


@pytest.mark.django_db
def test_counts_and_people() -> None:
    summary = _load()
    assert Case.objects.count() == 400
    assert Customer.objects.count() == 80
    assert Team.objects.count() == 4
    assert User.objects.filter(email__endswith="@demo.skranke.no").count() == 14
    assert 400 <= summary.messages <= 400 * 8
    kari = User.objects.get(email="kari@demo.skranke.no")
    assert kari.check_password(DEMO_PASSWORD)
    assert kari.teams.filter(name="Kundeservice").exists()
    assert User.objects.get(email="admin@demo.skranke.no").is_superuser
    assert User.objects.get(email="leder@demo.skranke.no").sees_all_teams
    english = Customer.objects.filter(preferred_language="en").count()
    assert 1 <= english <= 25
    assert Case.objects.filter(language="en").exists()
    assert Customer.objects.filter(organisation__isnull=False).exists()


@pytest.mark.django_db
def test_organisation_numbers_and_phones_are_valid() -> None:
    _load()
    numbers = list(Organisation.objects.values_list("org_number", flat=True))
    assert numbers and all(org_number_is_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    for number in CustomerPhone.objects.values_list("number", flat=True):
        assert re.fullmatch(r"\+47[49]\d{7}", number), number
        assert phonenumbers.is_valid_number(phonenumbers.parse(number))


def test_org_number_generator() -> None:
    import random

    rng = random.Random(1)
    assert all(org_number_is_valid(make_org_number(rng)) for _ in range(500))


@pytest.mark.django_db
def test_timestamps_and_events_are_consistent() -> None:
    _load()
    messages: dict[int, list[Message]] = {}
    for m in Message.objects.order_by("created_at", "id"):
        messages.setdefault(m.case_id, []).append(m)
    events: dict[int, list[CaseEvent]] = {}
    for e in CaseEvent.objects.order_by("created_at", "id"):
        events.setdefault(e.case_id, []).append(e)
    for case in Case.objects.all():
        evs, msgs = events[case.pk], messages[case.pk]
        created = evs[0]
        assert created.kind == EventKind.CREATED and created.created_at == case.created_at
        assert msgs[0].created_at == case.created_at
        assert case.message_count == len(msgs)
        # Replaying the events gives the case as it is.
        status, assignee, team = created.new_value, "", None
        message_events = 0
        for e in evs[1:]:
            assert e.kind != EventKind.CREATED
            if e.kind == EventKind.STATUS:
                assert e.old_value == status, (case.number, e.old_value, status)
                status = e.new_value
            elif e.kind == EventKind.ASSIGNEE:
                assert e.old_value == assignee
                assignee = e.new_value
            elif e.kind == EventKind.TEAM:
                team = e.new_value
            elif e.kind == EventKind.MESSAGE:
                message_events += 1
                assert Message.objects.get(pk=e.data["message_id"]).case_id == case.pk
        assert status == case.status
        assert assignee == (str(case.assignee_id) if case.assignee_id else "")
        if team is not None:
            assert team == str(case.team_id)
        assert message_events == len(msgs) - 1
        last = max(evs[-1].created_at, msgs[-1].created_at)
        assert case.updated_at == last
        assert case.updated_at <= NOW
        # created ≤ first response ≤ solved ≤ closed
        replies = [m for m in msgs if m.kind == MessageKind.REPLY]
        assert case.first_response_at == (replies[0].created_at if replies else None)
        if case.first_response_at:
            assert case.created_at <= case.first_response_at
        if case.status in (Status.SOLVED, Status.CLOSED):
            assert case.solved_at is not None
            assert case.created_at <= case.solved_at
            if case.first_response_at:
                assert case.first_response_at <= case.solved_at
        else:
            assert case.solved_at is None
        assert (case.closed_at is not None) == (case.status == Status.CLOSED)
        if case.closed_at:
            assert case.solved_at <= case.closed_at
        if case.status not in (Status.PENDING, Status.ON_HOLD):
            assert case.follow_up_at is None
        customer_times = [m.created_at for m in msgs if m.kind == MessageKind.CUSTOMER]
        assert case.last_customer_message_at == (max(customer_times) if customer_times else None)
        if case.status == Status.NEW:
            assert case.assignee_id is None


@pytest.mark.django_db
def test_status_mix_looks_like_a_working_desk() -> None:
    _load()
    tally = Tally(Case.objects.values_list("status", flat=True))
    assert tally[Status.CLOSED] > tally[Status.OPEN] > 0
    assert tally[Status.NEW] + tally[Status.PENDING] > 0
    recent = Case.objects.filter(created_at__gte=NOW - timedelta(days=2))
    old = Case.objects.filter(created_at__lt=NOW - timedelta(days=30))
    assert not old.filter(status__in=[Status.NEW]).exists()
    assert old.filter(status=Status.CLOSED).count() > 0.9 * old.count()
    assert recent.exclude(status__in=[Status.SOLVED, Status.CLOSED]).exists()
    channels = Tally(Case.objects.values_list("channel", flat=True))
    assert channels.most_common(1)[0][0] == Channel.EMAIL


@pytest.mark.django_db
def test_arrivals_follow_the_opening_hours() -> None:
    _load(DemoConfig(cases=1500, customers=100, seed=3, now=NOW))
    calendar = OpeningHours((NOW - timedelta(days=95)).date(), NOW.date())
    outside = Tally()
    total = Tally()
    for channel, created in Case.objects.values_list("channel", "created_at"):
        is_open = calendar.is_open(created.timestamp())
        total[channel] += 1
        if not is_open:
            outside[channel] += 1
    for channel in (Channel.PHONE, Channel.CHAT, Channel.WALK_IN):
        assert outside[channel] == 0, channel
    after_hours = outside[Channel.EMAIL] + outside[Channel.WEB]
    share = after_hours / (total[Channel.EMAIL] + total[Channel.WEB])
    assert 0.01 < share < 0.15
    holidays = {d.start for d in calendar.days if not d.is_open}
    assert holidays  # the window has public holidays in it …
    on_holidays = [
        c
        for c in Case.objects.exclude(channel__in=[Channel.EMAIL, Channel.WEB])
        if calendar.days[calendar.day_of(c.created_at.timestamp())].holiday
    ]
    assert on_holidays == []  # … and the desk is closed on them
    # Mondays are busier than Sundays.
    weekdays = Tally(
        calendar.days[calendar.day_of(c.timestamp())].weekday
        for c in Case.objects.values_list("created_at", flat=True)
    )
    assert weekdays[0] > weekdays[6]


@pytest.mark.django_db
def test_rerun_is_a_noop_and_reset_reloads() -> None:
    _load()
    lines: list[str] = []
    summary = load_demo(SMALL, progress=False, out=lines.append)
    assert not summary.loaded
    assert "already loaded" in lines[0]
    assert any("admin@demo.skranke.no" in line for line in lines)
    assert Case.objects.count() == 400
    summary = load_demo(SMALL, reset=True, progress=False, out=lines.append)
    assert summary.loaded
    assert Case.objects.count() == 400
    assert User.objects.filter(email__endswith="@demo.skranke.no").count() == 14


@pytest.mark.django_db
def test_generation_is_quick() -> None:
    started = time.perf_counter()
    summary = _load(DemoConfig(cases=1000, customers=100, seed=5, now=NOW))
    elapsed = time.perf_counter() - started
    assert summary.cases == 1000
    assert elapsed < 10, f"{elapsed:.1f} s for 1,000 cases"


@pytest.mark.django_db
def test_demo_agents_have_workforce_contracts() -> None:
    from skranke.workforce.models import AgentContract

    _load()
    agents = User.objects.filter(email__endswith="@demo.skranke.no", role="agent")
    contracts = AgentContract.objects.filter(user__in=agents)
    assert contracts.count() == agents.count() == 12
    kari = contracts.get(user__email="kari@demo.skranke.no")
    assert "phone" in kari.channels
    for contract in contracts:
        assert 0 < contract.weekly_hours <= 37.5
        assert contract.channels
