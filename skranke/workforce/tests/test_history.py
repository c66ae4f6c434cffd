"""History from the case tables: arrivals per interval and day, handling times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from skranke.cases.actions import add_message
from skranke.cases.models import Case, Channel, Message, MessageKind
from skranke.workforce import history, planning
from skranke.workforce.models import ChannelSettings
from skranke.workforce.staffing import scheduled_heads
from skranke.workforce.tests.conftest import at, make_cases

pytestmark = pytest.mark.django_db


def test_interval_arrivals_count_local_quarter_hours(customer, team):
    day = timezone.localdate() - timedelta(days=3)
    make_cases(customer, team, [at(day, 9, 1), at(day, 9, 14), at(day, 9, 15), at(day, 17, 59)])
    # Another channel and another day are not counted.
    make_cases(customer, team, [at(day, 9, 5)], channel=Channel.EMAIL)
    make_cases(customer, team, [at(day + timedelta(days=1), 9, 5)])

    rows = dict(history.interval_arrivals(Channel.PHONE, day, day + timedelta(days=1)))

    assert len(rows) == 96
    stamps = {f"{moment:%H:%M}": count for moment, count in rows.items() if count}
    assert stamps == {"09:00": 2, "09:15": 1, "17:45": 1}


def test_daily_arrivals_fill_quiet_days_with_zero(customer, team):
    start = timezone.localdate() - timedelta(days=5)
    make_cases(customer, team, [at(start, 10), at(start, 23, 59), at(start + timedelta(days=2), 8)])

    counts = history.daily_arrivals(Channel.PHONE, start, start + timedelta(days=4))

    assert list(counts.values()) == [2, 0, 1, 0]


def test_local_midnight_boundary_uses_oslo_time(customer, team):
    day = timezone.localdate() - timedelta(days=2)
    # 00:30 in Oslo is the previous day in UTC: it still belongs to ``day``.
    make_cases(customer, team, [at(day, 0, 30)])
    assert history.daily_arrivals(Channel.PHONE, day, day + timedelta(days=1)) == {day: 1}


def test_chat_handling_time_from_message_sessions(customer, team, agent):
    day = timezone.localdate() - timedelta(days=2)
    for _ in range(history.MIN_SAMPLES):
        [case_id] = make_cases(customer, team, [at(day, 10)], channel=Channel.CHAT)
        case = Case.objects.get(pk=case_id)
        for minutes in (0, 2, 5):
            message = add_message(case, kind=MessageKind.REPLY, body_text="Hei", actor=agent)
            Message.objects.filter(pk=message.pk).update(
                created_at=at(day, 10) + timedelta(minutes=minutes)
            )
        # A message the next day starts a new session, which is too short to count.
        later = add_message(case, kind=MessageKind.REPLY, body_text="Takk", actor=agent)
        Message.objects.filter(pk=later.pk).update(created_at=at(day, 15))

    handling = history.handling_time(Channel.CHAT, configured_seconds=600)

    assert handling.measured
    assert handling.samples == history.MIN_SAMPLES
    assert handling.seconds == pytest.approx(300)


def test_phone_handling_time_from_recorded_durations_else_configured(customer, team, agent):
    day = timezone.localdate() - timedelta(days=1)
    [case_id] = make_cases(customer, team, [at(day, 11)])
    case = Case.objects.get(pk=case_id)
    add_message(case, kind=MessageKind.NOTE, body_text="Samtale", actor=agent)
    Message.objects.filter(case=case).update(metadata={"duration_seconds": 200})

    # One recorded call is too few: the configured value is used.
    few = history.handling_time(Channel.PHONE, configured_seconds=240)
    assert (few.measured, few.seconds, few.samples) == (False, 240.0, 1)

    for _ in range(history.MIN_SAMPLES):
        [other] = make_cases(customer, team, [at(day, 12)])
        add_message(Case.objects.get(pk=other), kind=MessageKind.NOTE, body_text="x", actor=agent)
    Message.objects.filter(case__channel=Channel.PHONE).update(metadata={"duration_seconds": 180})
    assert history.handling_time(Channel.PHONE, configured_seconds=240).seconds == 180


def test_chat_sessions_split_on_long_pauses():
    start = at(timezone.localdate(), 9)
    times = [start, start + timedelta(minutes=4), start + timedelta(hours=2)]
    times.append(times[-1] + timedelta(minutes=1))
    assert history.chat_sessions(times) == [240.0, 60.0]


def test_forecast_and_staffing_from_case_history(phone_history):
    today = timezone.localdate()
    result = planning.forecast_channel(Channel.PHONE, until=today + timedelta(days=13))
    assert result.daily is not None, result.error
    assert len(result.daily.values) == 14
    # The intraday shape puts the calls at 10:00, 10:15 and 14:00.
    weekday = next(
        today + timedelta(days=n)
        for n in range(1, 8)
        if (today + timedelta(days=n)).weekday() < 5
        and (today + timedelta(days=n)) not in result.daily.holidays
    )
    intervals = result.intervals(weekday)
    busy = [index for index, value in enumerate(intervals) if value > 0]
    assert busy == [40, 41, 56]

    settings_row = ChannelSettings.objects.get(channel=Channel.PHONE)
    inputs = planning.channel_inputs(settings_row, shrinkage=0.3)
    plan = planning.plan_day(inputs, weekday, intervals)
    # Open 09:00–18:30: 38 quarter hours, staffed only where calls arrive.
    assert len(plan.rows) == 38
    assert [row.agents > 0 for row in plan.rows].count(True) == 3
    peak = max(row.agents for row in plan.rows)
    assert plan.peak_heads == scheduled_heads(peak, 0.3)
    assert all(row.metrics and row.metrics.service_level >= 0.8 for row in plan.rows)


def test_no_history_is_reported_not_raised(db):
    result = planning.forecast_channel(Channel.CHAT, until=timezone.localdate())
    assert result.daily is None
    assert result.error == "no_history"
