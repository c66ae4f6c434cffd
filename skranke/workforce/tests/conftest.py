"""Workforce fixtures: cases with known arrival times, and a tiny centre to schedule."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from skranke.cases.actions import create_case
from skranke.cases.models import Case, Channel
from skranke.workforce.history import local_zone
from skranke.workforce.models import AgentContract, ChannelSettings, ShiftTemplate


@pytest.fixture(autouse=True)
def _fresh_forecasts():
    # Forecasts are cached per channel and day; every test builds its own history.
    cache.clear()
    yield
    cache.clear()


def make_cases(customer, team, moments: list[datetime], channel: str = Channel.PHONE) -> list[int]:
    """Cases created at the given (aware) moments: made through the action, then back-dated."""
    ids = []
    for moment in moments:
        case = create_case(customer=customer, subject="Spørsmål", team=team, channel=channel)
        Case.objects.filter(pk=case.pk).update(created_at=moment, updated_at=moment)
        ids.append(case.pk)
    return ids


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=local_zone())


@pytest.fixture
def phone_history(customer, team):
    """Three weeks of phone calls on weekdays: 10:00 and 10:20 and 14:05 every open day."""
    today = timezone.localdate()
    moments = []
    for offset in range(1, 22):
        day = today - timedelta(days=offset)
        if day.weekday() < 5:
            moments += [at(day, 10), at(day, 10, 20), at(day, 14, 5)]
    make_cases(customer, team, moments)
    return moments


@pytest.fixture
def tiny_centre(agent, team_lead):
    """Phone only, one 8-hour template, two agents with modest contracts."""
    ChannelSettings.objects.exclude(channel=Channel.PHONE).update(planned=False)
    ShiftTemplate.objects.all().delete()
    ShiftTemplate.objects.create(name="Dag", start=time(9), length_minutes=480, break_minutes=30)
    AgentContract.objects.create(
        user=agent, weekly_hours=15, hours_tolerance=7.5, channels=["phone"]
    )
    AgentContract.objects.create(
        user=team_lead, weekly_hours=15, hours_tolerance=7.5, channels=["phone"]
    )
