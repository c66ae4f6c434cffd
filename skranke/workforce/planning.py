"""From the centre's settings and history to the pure planning code, and back.

Reads the configuration a team lead keeps in the database (channel targets, shrinkage, opening
hours, adjustments, shift templates, contracts), calls the Django-free forecasting, staffing
and scheduling modules, and returns plain dataclasses the pages, the API and the task share.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from skranke.cases.models import Channel
from skranke.workforce import history
from skranke.workforce.erlang import CallLoad, QueueMetrics, WorkforceInputError
from skranke.workforce.forecast import (
    Adjustment,
    DailyForecast,
    forecast_daily,
    intraday_forecast,
    intraday_profile,
)
from skranke.workforce.models import (
    AgentContract,
    ChannelKind,
    ChannelSettings,
    ForecastAdjustment,
    OpeningHours,
    ShiftTemplate,
    Shrinkage,
)
from skranke.workforce.scheduling import WEEKDAYS
from skranke.workforce.staffing import (
    StaffingTarget,
    chat_agents,
    deferred_agents,
    required_agents,
    scheduled_heads,
)

INTERVAL = history.INTERVAL_MINUTES
SLOTS_PER_DAY = 1440 // INTERVAL
HISTORY_WEEKS = 16
PROFILE_WEEKS = 8
# Forecasts are refitted at most this often per channel (Holt-Winters takes a moment).
FORECAST_CACHE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class ChannelInputs:
    """Everything staffing needs to know about one channel."""

    channel: str
    label: str
    kind: ChannelKind
    aht_seconds: float
    aht_measured: bool
    target: StaffingTarget
    patience_seconds: float | None
    concurrency: int
    response_hours: float
    shrinkage: float
    # weekday → (open minute, close minute), or None when closed
    opening: dict[int, tuple[int, int] | None]

    @property
    def model_name(self) -> str:
        if self.kind is ChannelKind.WRITTEN:
            # Written work has no queue to model: the need is the work divided by the time.
            return _("Workload")
        return "Erlang A" if self.patience_seconds else "Erlang C"


def total_shrinkage() -> float:
    """Shrinkage parts added up, as a fraction of paid time."""
    return sum(part.percent for part in Shrinkage.objects.all()) / 100


def opening_hours(channel: str) -> dict[int, tuple[int, int] | None]:
    hours: dict[int, tuple[int, int] | None] = dict.fromkeys(range(7))
    for row in OpeningHours.objects.filter(channel=channel):
        hours[row.weekday] = (
            row.opens.hour * 60 + row.opens.minute,
            row.closes.hour * 60 + row.closes.minute,
        )
    return hours


def channel_inputs(settings_row: ChannelSettings, *, shrinkage: float) -> ChannelInputs:
    handling = history.handling_time(settings_row.channel, settings_row.aht_seconds)
    occupancy = settings_row.max_occupancy_percent
    return ChannelInputs(
        channel=settings_row.channel,
        label=str(settings_row.get_channel_display()),
        kind=settings_row.kind,
        aht_seconds=handling.seconds,
        aht_measured=handling.measured,
        target=StaffingTarget(
            service_level=settings_row.service_level_percent / 100,
            target_seconds=settings_row.target_seconds,
            max_occupancy=None if occupancy is None else occupancy / 100,
        ),
        patience_seconds=settings_row.patience_seconds,
        concurrency=settings_row.chat_concurrency,
        response_hours=settings_row.response_hours,
        shrinkage=shrinkage,
        opening=opening_hours(settings_row.channel),
    )


def planned_channels() -> list[ChannelInputs]:
    shrinkage = total_shrinkage()
    return [
        channel_inputs(row, shrinkage=shrinkage)
        for row in ChannelSettings.objects.filter(planned=True)
    ]


def channel_choices() -> list[tuple[str, str]]:
    return [
        (row.channel, str(row.get_channel_display()))
        for row in ChannelSettings.objects.filter(planned=True)
    ]


# --- forecast ---------------------------------------------------------------------------------


@dataclass(slots=True)
class ChannelForecast:
    channel: str
    history: dict[date, int]
    daily: DailyForecast | None = None
    profiles: dict[int, list[float]] = field(default_factory=dict)
    error: str = ""

    def intervals(self, day: date) -> list[float]:
        """Forecast arrivals in each interval of ``day`` (all zeros when unknown)."""
        if self.daily is None or day not in self.daily.values:
            return [0.0] * SLOTS_PER_DAY
        try:
            rows = intraday_forecast({day: self.daily.values[day]}, self.profiles)
        except WorkforceInputError:
            return [0.0] * SLOTS_PER_DAY
        return [value for _, value in rows]


def adjustments_for(channel: str) -> list[Adjustment]:
    rows = ForecastAdjustment.objects.filter(Q(channel="") | Q(channel=channel))
    return [Adjustment(row.start, row.end, row.factor, row.note) for row in rows]


def forecast_channel(channel: str, *, until: date, today: date | None = None) -> ChannelForecast:
    """History up to yesterday and a forecast from today up to ``until`` (inclusive)."""
    today = today or timezone.localdate()
    horizon = max(1, (until - today).days + 1)
    adjustments = adjustments_for(channel)
    key = "wfm-forecast:" + ":".join(
        [channel, today.isoformat(), str(horizon)]
        + [f"{a.start}/{a.end}/{a.factor}" for a in adjustments]
    )
    cached = cache.get(key)
    if isinstance(cached, ChannelForecast):
        return cached
    start = today - timedelta(weeks=HISTORY_WEEKS)
    daily = history.daily_arrivals(channel, start, today)
    result = ChannelForecast(channel=channel, history=daily)
    if sum(daily.values()) == 0:
        result.error = "no_history"
        return result
    # Leading days before the first contact are not "closed", they are before Skranke.
    first = min(day for day, count in daily.items() if count)
    trimmed = {day: count for day, count in daily.items() if day >= first}
    try:
        result.daily = forecast_daily(trimmed, horizon, adjustments=adjustments)
    except WorkforceInputError as error:
        result.error = str(error)
        return result
    profile_start = today - timedelta(weeks=PROFILE_WEEKS)
    result.profiles = intraday_profile(
        history.interval_arrivals(channel, profile_start, today), interval_minutes=INTERVAL
    )
    cache.set(key, result, FORECAST_CACHE_SECONDS)
    return result


# --- staffing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntervalRow:
    start: datetime
    arrivals: float
    agents: int
    heads: int
    metrics: QueueMetrics | None


@dataclass(frozen=True, slots=True)
class DayPlan:
    inputs: ChannelInputs
    day: date
    rows: tuple[IntervalRow, ...]

    @property
    def arrivals(self) -> float:
        return sum(row.arrivals for row in self.rows)

    @property
    def agent_hours(self) -> float:
        return sum(row.agents for row in self.rows) * INTERVAL / 60

    @property
    def head_hours(self) -> float:
        return sum(row.heads for row in self.rows) * INTERVAL / 60

    @property
    def peak_heads(self) -> int:
        return max((row.heads for row in self.rows), default=0)

    def heads_by_slot(self) -> list[int]:
        heads = [0] * SLOTS_PER_DAY
        for row in self.rows:
            heads[(row.start.hour * 60 + row.start.minute) // INTERVAL] = row.heads
        return heads


def open_slots(inputs: ChannelInputs, day: date) -> range:
    window = inputs.opening.get(day.weekday())
    if window is None:
        return range(0)
    return range(window[0] // INTERVAL, math.ceil(window[1] / INTERVAL))


def plan_day(inputs: ChannelInputs, day: date, arrivals: Sequence[float]) -> DayPlan:
    """Required agents and scheduled heads for every open interval of ``day``.

    Live queues use Erlang A (with a patience) or C; chat sizes chat slots and divides by the
    concurrency; written work is staffed at a constant level that answers everything within
    the response target, with what arrives while closed waiting for the first open interval.
    """
    if len(arrivals) != SLOTS_PER_DAY:
        raise WorkforceInputError(f"A day has {SLOTS_PER_DAY} intervals (got {len(arrivals)}).")
    slots = open_slots(inputs, day)
    midnight = datetime.combine(day, datetime.min.time())
    rows: list[IntervalRow] = []
    if not slots:
        return DayPlan(inputs=inputs, day=day, rows=())
    if inputs.kind is ChannelKind.WRITTEN:
        work = [arrivals[slot] for slot in slots]
        work[0] += sum(arrivals) - sum(work)
        agents = deferred_agents(
            work,
            handling_seconds=inputs.aht_seconds,
            interval_seconds=INTERVAL * 60,
            response_intervals=max(0, round(inputs.response_hours * 60 / INTERVAL)),
        )
        heads = scheduled_heads(agents, inputs.shrinkage)
        for slot, count in zip(slots, work, strict=True):
            start = midnight + timedelta(minutes=slot * INTERVAL)
            rows.append(IntervalRow(start, count, agents, heads, None))
        return DayPlan(inputs=inputs, day=day, rows=tuple(rows))
    cache: dict[float, tuple[int, QueueMetrics]] = {}
    for slot in slots:
        count = float(arrivals[slot])
        if count not in cache:
            load = CallLoad(count, INTERVAL * 60, inputs.aht_seconds, inputs.patience_seconds)
            if inputs.kind is ChannelKind.CHAT:
                cache[count] = chat_agents(load, inputs.target, inputs.concurrency)
            else:
                cache[count] = required_agents(load, inputs.target)
        agents, metrics = cache[count]
        rows.append(
            IntervalRow(
                start=midnight + timedelta(minutes=slot * INTERVAL),
                arrivals=count,
                agents=agents,
                heads=scheduled_heads(agents, inputs.shrinkage),
                metrics=metrics,
            )
        )
    return DayPlan(inputs=inputs, day=day, rows=tuple(rows))


@dataclass(frozen=True, slots=True)
class Change:
    """A what-if: ``None`` keeps the channel's own value."""

    volume_percent: float = 0.0
    aht_seconds: float | None = None
    service_level: float | None = None
    target_seconds: float | None = None
    shrinkage: float | None = None

    def apply(self, inputs: ChannelInputs) -> ChannelInputs:
        target = inputs.target
        if self.service_level is not None or self.target_seconds is not None:
            target = replace(
                target,
                service_level=(
                    target.service_level if self.service_level is None else self.service_level
                ),
                target_seconds=(
                    target.target_seconds if self.target_seconds is None else self.target_seconds
                ),
            )
        return replace(
            inputs,
            aht_seconds=inputs.aht_seconds if self.aht_seconds is None else self.aht_seconds,
            target=target,
            shrinkage=inputs.shrinkage if self.shrinkage is None else self.shrinkage,
        )

    def arrivals(self, values: Sequence[float]) -> list[float]:
        factor = 1 + self.volume_percent / 100
        if not factor >= 0:
            raise WorkforceInputError("Volume cannot fall by more than 100 %.")
        return [value * factor for value in values]


# --- scheduling -------------------------------------------------------------------------------


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def agent_label(contract: AgentContract, taken: set[str]) -> str:
    name = contract.user.name or contract.user.email
    if name in taken:
        name = f"{name} ({contract.user.email})"
    taken.add(name)
    return name


def schedule_problem(
    week_start: date, *, time_limit_seconds: float, today: date | None = None
) -> dict[str, object]:
    """The JSON input of :func:`scheduling.problem_from_dict` for ``week_start``, built from the
    database; ``problem["skranke"]["agents"]`` maps the names used back to user ids."""
    if week_start.weekday() != 0:
        raise WorkforceInputError(f"A schedule week starts on a Monday ({week_start} is not).")
    channels = planned_channels()
    if not channels:
        raise WorkforceInputError("No channel is planned; switch one on under channel settings.")
    contracts = list(
        AgentContract.objects.filter(active=True, user__is_active=True).select_related("user")
    )
    if not contracts:
        raise WorkforceInputError(
            "No agent has a contract to schedule; add agent contracts in the administration."
        )
    templates = list(ShiftTemplate.objects.filter(active=True))
    if not templates:
        raise WorkforceInputError("There are no active shift templates.")

    skilled = {channel for contract in contracts for channel in contract.channels}
    demand: dict[str, object] = {}
    opening: dict[str, list[str] | None] = {}
    week = [week_start + timedelta(days=offset) for offset in range(7)]
    for inputs in channels:
        if inputs.channel not in skilled:
            continue
        forecast = forecast_channel(inputs.channel, until=week[-1], today=today)
        if forecast.daily is None:
            raise WorkforceInputError(
                f"{inputs.label}: no forecast ({forecast.error or 'no history'})."
            )
        per_day: dict[str, dict[str, object]] = {}
        for day in week:
            arrivals = forecast.intervals(day)
            slots = open_slots(inputs, day)
            if inputs.kind is ChannelKind.QUEUE:
                values: list[float] = [
                    round(value, 3) if index in slots else 0.0
                    for index, value in enumerate(arrivals)
                ]
            else:
                values = [float(heads) for heads in plan_day(inputs, day, arrivals).heads_by_slot()]
            per_day[WEEKDAYS[day.weekday()]] = {"start": "00:00", "values": values}
        if inputs.kind is ChannelKind.QUEUE:
            demand[inputs.channel] = {
                "arrivals": per_day,
                "aht_seconds": inputs.aht_seconds,
                "patience_seconds": inputs.patience_seconds,
                "service_level": inputs.target.service_level,
                "target_seconds": inputs.target.target_seconds,
                "max_occupancy": inputs.target.max_occupancy,
                "shrinkage": inputs.shrinkage,
            }
        else:
            demand[inputs.channel] = {"required": per_day}
        for weekday, window in inputs.opening.items():
            key = WEEKDAYS[weekday]
            if window is None:
                opening.setdefault(key, None)
                continue
            current = opening.get(key)
            low, high = window
            if current is not None:
                low = min(low, int(current[0][:2]) * 60 + int(current[0][3:]))
                high = max(high, int(current[1][:2]) * 60 + int(current[1][3:]))
            opening[key] = [_hhmm(low), _hhmm(high)]
    if not demand:
        raise WorkforceInputError("No agent has a skill for any planned channel.")

    taken: set[str] = set()
    agents = []
    ids: dict[str, int] = {}
    for contract in contracts:
        name = agent_label(contract, taken)
        ids[name] = contract.user_id
        in_week = [day for day in contract.days_off if str(day) in {d.isoformat() for d in week}]
        agents.append(
            {
                "name": name,
                "channels": [c for c in contract.channels if c in demand],
                "contract_hours": contract.weekly_hours,
                "hours_tolerance": contract.hours_tolerance,
                "hourly_cost": contract.hourly_cost,
                "availability": {WEEKDAYS[int(d)]: None for d in contract.weekdays_off},
                "days_off": in_week,
            }
        )
    return {
        "week_start": week_start.isoformat(),
        "interval_minutes": INTERVAL,
        "timezone": str(history.local_zone()),
        "time_limit_seconds": time_limit_seconds,
        "opening_hours": opening,
        "templates": [
            {
                "name": template.name,
                "start": f"{template.start:%H:%M}",
                "length_minutes": template.length_minutes,
                "break_minutes": template.break_minutes,
            }
            for template in templates
        ],
        "agents": agents,
        "channels": demand,
        "skranke": {"agents": ids},
    }


def channel_label(channel: str) -> str:
    try:
        return str(Channel(channel).label)
    except ValueError:
        return channel
