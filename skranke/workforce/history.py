"""What happened: arrivals and handling times per channel, read from cases and their messages.

Plain functions over the case tables, feeding the pure forecasting and staffing code. An
arrival is a case's creation (``Case.created_at``, the same moment as its ``created`` event);
local wall-clock time in the centre's time zone, because opening hours and shifts are written
that way.

Handling times are measured where the channel gives them and configured otherwise
(``ChannelSettings.aht_seconds``):

* **chat**: a session is the run of messages from the first one until a pause longer than
  :data:`CHAT_SESSION_GAP`; its length is the handling time (what the customer and the agent
  spent in the conversation);
* **phone**: a message may carry the call's length in ``metadata["duration_seconds"]`` (what a
  telephony integration records);
* everything else uses the configured value.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from skranke.cases.models import Case, Channel, Message
from skranke.workforce.forecast import arrivals_per_interval

INTERVAL_MINUTES = 15
# A pause longer than this ends a chat session (the customer left, or the chat moved on).
CHAT_SESSION_GAP = timedelta(minutes=30)
# Measured handling times need a few samples before they replace the configured value.
MIN_SAMPLES = 20
# Sessions shorter than this are a greeting nobody answered, not handled work.
MIN_SESSION_SECONDS = 30


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date, zone: ZoneInfo | None = None) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone or local_zone())


def _arrival_times(channel: str, start: date, end: date) -> QuerySet[Case, datetime]:
    zone = local_zone()
    return (
        Case.objects.filter(
            channel=channel,
            created_at__gte=local_midnight(start, zone),
            created_at__lt=local_midnight(end, zone),
        )
        .order_by()
        .values_list("created_at", flat=True)
    )


def daily_arrivals(channel: str, start: date, end: date) -> dict[date, int]:
    """Cases created per local day from ``start`` up to (not including) ``end``, zeros included."""
    zone = local_zone()
    counts = {start + timedelta(days=offset): 0 for offset in range((end - start).days)}
    for moment in _arrival_times(channel, start, end).iterator(chunk_size=5000):
        day = moment.astimezone(zone).date()
        if day in counts:
            counts[day] += 1
    return counts


def interval_arrivals(
    channel: str, start: date, end: date, *, interval_minutes: int = INTERVAL_MINUTES
) -> list[tuple[datetime, int]]:
    """Cases created per local interval from ``start`` to ``end`` (exclusive), zeros included.

    Timestamps in the result are naive local wall time, as the forecasting code expects.
    """
    zone = local_zone()
    return arrivals_per_interval(
        _arrival_times(channel, start, end).iterator(chunk_size=5000),
        interval_minutes=interval_minutes,
        start=local_midnight(start, zone),
        end=local_midnight(end, zone),
        timezone=zone,
    )


@dataclass(frozen=True, slots=True)
class HandlingTime:
    seconds: float
    samples: int
    measured: bool


def chat_sessions(timestamps: Iterable[datetime]) -> list[float]:
    """Lengths in seconds of the sessions in one case's ordered message times."""
    lengths = []
    first = last = None
    for moment in timestamps:
        if last is not None and moment - last > CHAT_SESSION_GAP:
            assert first is not None
            lengths.append((last - first).total_seconds())
            first = None
        if first is None:
            first = moment
        last = moment
    if first is not None and last is not None:
        lengths.append((last - first).total_seconds())
    return [length for length in lengths if length >= MIN_SESSION_SECONDS]


def measured_handling_seconds(channel: str, start: date, end: date) -> list[float]:
    """Handling times the channel itself recorded between ``start`` and ``end``."""
    zone = local_zone()
    messages = Message.objects.filter(
        case__channel=channel,
        case__created_at__gte=local_midnight(start, zone),
        case__created_at__lt=local_midnight(end, zone),
    ).order_by()
    if channel == Channel.CHAT:
        rows = messages.order_by("case_id", "created_at").values_list("case_id", "created_at")
        samples: list[float] = []
        current: int | None = None
        times: list[datetime] = []
        for case_id, moment in rows.iterator(chunk_size=5000):
            if case_id != current:
                samples += chat_sessions(times)
                current, times = case_id, []
            times.append(moment)
        samples += chat_sessions(times)
        return samples
    if channel == Channel.PHONE:
        values = messages.filter(metadata__has_key="duration_seconds").values_list(
            "metadata", flat=True
        )
        durations = []
        for metadata in values:
            try:
                seconds = float(metadata["duration_seconds"])
            except (TypeError, ValueError, KeyError):
                continue
            if seconds > 0:
                durations.append(seconds)
        return durations
    return []


def handling_time(channel: str, configured_seconds: float, *, days: int = 28) -> HandlingTime:
    """Mean handling time over the last ``days`` days if measured often enough, else the
    configured value. The mean, not the median: Erlang needs the mean service time."""
    today = timezone.localdate()
    samples = measured_handling_seconds(channel, today - timedelta(days=days), today)
    if len(samples) >= MIN_SAMPLES:
        return HandlingTime(seconds=statistics.fmean(samples), samples=len(samples), measured=True)
    return HandlingTime(seconds=float(configured_seconds), samples=len(samples), measured=False)
