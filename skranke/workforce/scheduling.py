"""A week's schedule of named agents, built with OR-tools CP-SAT.

Input: shift templates, agents (channels, contracted hours, availability, days off),
opening hours, Norwegian working-time rules and the required heads per channel and interval
(given directly, or computed from forecast arrivals with Erlang C/A). Output: who works which
shift on which day, required against scheduled heads per interval, and the service level,
ASA and abandonment those heads are expected to give.

The objective is lexicographic: first the weighted under- and over-staffing, then the wage
cost. It is solved in two passes (the second with the first's result as a bound) rather than
with one big weighted sum, so a cheap schedule can never buy itself a worse service.

When no schedule exists the planner is told why: first by pre-checks for the usual suspects
(contract hours that no combination of allowed shifts can reach), then by asking CP-SAT for a
set of named constraint groups that cannot hold together.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time as clock
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ortools.sat.python import cp_model

from skranke.workforce.erlang import CallLoad, QueueMetrics, WorkforceInputError, queue_metrics
from skranke.workforce.staffing import StaffingTarget, required_agents, scheduled_heads

__all__ = [
    "Agent",
    "Assignment",
    "ChannelDemand",
    "IntervalCoverage",
    "ScheduleInfeasibleError",
    "ScheduleProblem",
    "ScheduleResult",
    "ShiftTemplate",
    "WorkingTimeRules",
    "build_schedule",
    "coverage_to_csv",
    "format_summary",
    "load_problem",
    "problem_from_dict",
    "result_to_dict",
    "schedule_to_csv",
    "schedule_to_ics",
    "write_ics_dir",
    "write_xlsx",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 1440
DEFAULT_TIME_LIMIT_SECONDS = 10.0
# Share of the time limit for the first (staffing) pass; the cost pass gets the rest.
_STAFFING_PASS_SHARE = 0.7


class ScheduleInfeasibleError(WorkforceInputError):
    """No schedule satisfies the rules; ``reasons`` lists the conflicting constraints."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("No schedule is possible: " + "; ".join(self.reasons))


@dataclass(frozen=True, slots=True)
class WorkingTimeRules:
    """Norwegian Working Environment Act (arbeidsmiljøloven) defaults.

    §10-8: 11 hours' rest between working days and 35 hours' rest per 7 days; §10-4:
    ordinary working time at most 9 hours a day and 40 hours a week. Collective agreements
    may change these, hence configurable.
    """

    daily_rest_hours: float = 11.0
    weekly_rest_hours: float = 35.0
    max_weekly_hours: float = 40.0
    max_daily_hours: float = 9.0


@dataclass(frozen=True, slots=True)
class ShiftTemplate:
    """A shift pattern: start time, length and an unpaid break placed mid-shift.

    ``break_offset_minutes`` (from the start) defaults to the middle of the shift rounded
    down to the interval, which is where most centres put lunch.
    """

    name: str
    start_minute: int
    length_minutes: int
    break_minutes: int = 0
    break_offset_minutes: int | None = None

    @property
    def end_minute(self) -> int:
        return self.start_minute + self.length_minutes

    @property
    def paid_minutes(self) -> int:
        return self.length_minutes - self.break_minutes

    def break_start(self, interval: int) -> int:
        if self.break_offset_minutes is not None:
            return self.start_minute + self.break_offset_minutes
        middle = (self.length_minutes - self.break_minutes) // 2
        return self.start_minute + middle - middle % interval

    def working_slots(self, interval: int) -> list[int]:
        """Interval indices of the day during which the agent is at work (not on break)."""
        break_from = self.break_start(interval)
        break_to = break_from + self.break_minutes
        return [
            minute // interval
            for minute in range(self.start_minute, self.end_minute, interval)
            if not (self.break_minutes and break_from <= minute < break_to)
        ]


@dataclass(frozen=True, slots=True)
class Agent:
    """A named person. ``availability`` maps weekday (0 = Monday) to the window a shift must
    fit in, or ``None`` for "never that weekday"; weekdays not listed are unrestricted."""

    name: str
    channels: tuple[str, ...]
    contract_hours: float
    hours_tolerance: float = 0.0
    max_weekly_hours: float | None = None
    hourly_cost: float = 1.0
    availability: Mapping[int, tuple[int, int] | None] = field(default_factory=dict)
    days_off: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class ChannelDemand:
    """Required heads for one channel, 7 days × intervals per day.

    ``call_load``/``target``/``shrinkage`` are kept when the requirement came from arrivals,
    so the result can say what service the scheduled heads are expected to give.
    """

    channel: str
    required: tuple[tuple[int, ...], ...]
    arrivals: tuple[tuple[float, ...], ...] | None = None
    aht_seconds: float | None = None
    patience_seconds: float | None = None
    target: StaffingTarget | None = None
    shrinkage: float = 0.0


@dataclass(frozen=True, slots=True)
class ScheduleProblem:
    week_start: date
    interval_minutes: int
    opening_hours: Mapping[int, tuple[int, int] | None]
    templates: tuple[ShiftTemplate, ...]
    agents: tuple[Agent, ...]
    demand: Mapping[str, ChannelDemand]
    rules: WorkingTimeRules = WorkingTimeRules()
    under_weight: int = 10
    over_weight: int = 1
    timezone: str = "Europe/Oslo"
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS

    @property
    def slots_per_day(self) -> int:
        return DAY_MINUTES // self.interval_minutes

    def day(self, index: int) -> date:
        return self.week_start + timedelta(days=index)


@dataclass(frozen=True, slots=True)
class Assignment:
    template: str
    channel: str
    start: datetime
    end: datetime
    break_start: datetime | None
    break_end: datetime | None
    paid_hours: float

    def label(self) -> str:
        text = f"{self.start:%H:%M}–{self.end:%H:%M} {self.channel}"
        if self.break_start and self.break_end:
            text += f" (break {self.break_start:%H:%M}–{self.break_end:%H:%M})"
        return text


@dataclass(frozen=True, slots=True)
class IntervalCoverage:
    channel: str
    start: datetime
    required: int
    scheduled: int
    metrics: QueueMetrics | None

    @property
    def under(self) -> int:
        return max(0, self.required - self.scheduled)

    @property
    def over(self) -> int:
        return max(0, self.scheduled - self.required)


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    problem: ScheduleProblem
    grid: dict[str, list[Assignment | None]]
    intervals: list[IntervalCoverage]
    status: str
    staffing_penalty: int
    staffing_bound: float
    cost: float
    cost_bound: float
    solve_seconds: float
    warnings: list[str]

    @property
    def gap(self) -> float:
        """Relative optimality gap of the staffing objective (0 = proven optimal)."""
        if self.staffing_penalty == 0:
            return 0.0
        return max(0.0, (self.staffing_penalty - self.staffing_bound) / self.staffing_penalty)

    @property
    def cost_gap(self) -> float:
        if self.cost == 0:
            return 0.0
        return max(0.0, (self.cost - self.cost_bound) / self.cost)

    def hours(self, agent: str) -> float:
        return sum(item.paid_hours for item in self.grid[agent] if item)


# --- input -----------------------------------------------------------------------------------


def _minute(text: Any, what: str) -> int:
    try:
        hours, minutes = str(text).split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise WorkforceInputError(f"{what}: expected a time like 09:30 (got {text!r}).") from None
    if not 0 <= value <= DAY_MINUTES or int(minutes) >= 60:
        raise WorkforceInputError(f"{what}: {text!r} is not a time of day.")
    return value


def _window(value: Any, what: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise WorkforceInputError(f'{what}: expected ["HH:MM", "HH:MM"] or null.')
    start, end = _minute(value[0], what), _minute(value[1], what)
    if end <= start:
        raise WorkforceInputError(f"{what}: {value[1]} is not after {value[0]}.")
    return start, end


def _weekday_map(raw: Any, what: str) -> dict[int, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise WorkforceInputError(f"{what} must be an object keyed by mon, tue, … sun.")
    unknown = set(raw) - set(WEEKDAYS)
    if unknown:
        raise WorkforceInputError(
            f"{what}: unknown weekday {sorted(unknown)[0]!r}; use mon, tue, wed, thu, fri, sat, "
            "sun."
        )
    return {WEEKDAYS.index(key): value for key, value in raw.items()}


def _per_interval(raw: Any, slots: int, interval: int, what: str) -> tuple[tuple[float, ...], ...]:
    """Parse {"mon": {"start": "09:00", "values": [..]}, …} into 7 full-day rows."""
    days = [[0.0] * slots for _ in range(7)]
    for weekday, spec in _weekday_map(raw, what).items():
        if spec is None:
            continue
        if not isinstance(spec, dict) or "values" not in spec:
            raise WorkforceInputError(
                f'{what} for {WEEKDAYS[weekday]} needs {{"start": "HH:MM", "values": [...]}}.'
            )
        start = _minute(spec.get("start", "00:00"), what)
        if start % interval:
            raise WorkforceInputError(f"{what}: start {spec['start']} is not on the interval grid.")
        values = spec["values"]
        first = start // interval
        if first + len(values) > slots:
            raise WorkforceInputError(f"{what} for {WEEKDAYS[weekday]} runs past midnight.")
        for offset, value in enumerate(values):
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise WorkforceInputError(
                    f"{what} for {WEEKDAYS[weekday]}: {value!r} is not a non-negative number."
                )
            days[weekday][first + offset] = float(value)
    return tuple(tuple(day) for day in days)


def _demand(name: str, raw: dict[str, Any], slots: int, interval: int) -> ChannelDemand:
    what = f"channel {name!r}"
    if "required" in raw:
        required = _per_interval(raw["required"], slots, interval, f"{what} required")
        return ChannelDemand(
            channel=name, required=tuple(tuple(math.ceil(v) for v in day) for day in required)
        )
    if "arrivals" not in raw or "aht_seconds" not in raw:
        raise WorkforceInputError(
            f'{what} needs either "required" heads or "arrivals" with "aht_seconds".'
        )
    arrivals = _per_interval(raw["arrivals"], slots, interval, f"{what} arrivals")
    target = StaffingTarget(
        service_level=float(raw.get("service_level", 0.8)),
        target_seconds=float(raw.get("target_seconds", 20)),
        max_asa_seconds=raw.get("max_asa_seconds"),
        max_abandon=raw.get("max_abandon"),
        max_occupancy=raw.get("max_occupancy"),
    )
    shrinkage = float(raw.get("shrinkage", 0.0))
    patience = raw.get("patience_seconds")
    aht = float(raw["aht_seconds"])
    cache: dict[float, int] = {}
    required_days = []
    for day in arrivals:
        row = []
        for count in day:
            if count not in cache:
                load = CallLoad(count, interval * 60, aht, patience)
                agents, _ = required_agents(load, target)
                cache[count] = scheduled_heads(agents, shrinkage)
            row.append(cache[count])
        required_days.append(tuple(row))
    return ChannelDemand(
        channel=name,
        required=tuple(required_days),
        arrivals=arrivals,
        aht_seconds=aht,
        patience_seconds=patience,
        target=target,
        shrinkage=shrinkage,
    )


def problem_from_dict(raw: Mapping[str, Any]) -> ScheduleProblem:
    """Build a problem from the JSON schema documented in docs/workforce.md."""
    try:
        week_start = date.fromisoformat(str(raw["week_start"]))
    except (KeyError, ValueError):
        raise WorkforceInputError('"week_start" must be a date like 2025-06-02.') from None
    interval = int(raw.get("interval_minutes", 15))
    if interval <= 0 or DAY_MINUTES % interval:
        raise WorkforceInputError(f"interval_minutes must divide a day (got {interval}).")
    slots = DAY_MINUTES // interval
    opening = {
        weekday: _window(value, f"opening hours for {WEEKDAYS[weekday]}")
        for weekday, value in _weekday_map(raw.get("opening_hours"), "opening_hours").items()
    }
    rules = WorkingTimeRules(**raw.get("rules", {}))
    templates = []
    for item in raw.get("templates", []):
        templates.append(
            ShiftTemplate(
                name=str(item["name"]),
                start_minute=_minute(item["start"], f"template {item.get('name')!r}"),
                length_minutes=int(item["length_minutes"]),
                break_minutes=int(item.get("break_minutes", 0)),
                break_offset_minutes=item.get("break_offset_minutes"),
            )
        )
    agents = []
    for item in raw.get("agents", []):
        name = str(item.get("name", "")).strip()
        agents.append(
            Agent(
                name=name,
                channels=tuple(item.get("channels", [])),
                contract_hours=float(item.get("contract_hours", 0)),
                hours_tolerance=float(item.get("hours_tolerance", 0)),
                max_weekly_hours=item.get("max_weekly_hours"),
                hourly_cost=float(item.get("hourly_cost", 1.0)),
                availability={
                    weekday: _window(value, f"availability of {name} on {WEEKDAYS[weekday]}")
                    for weekday, value in _weekday_map(
                        item.get("availability"), f"availability of {name}"
                    ).items()
                },
                days_off=frozenset(date.fromisoformat(day) for day in item.get("days_off", [])),
            )
        )
    channels = raw.get("channels", {})
    if not isinstance(channels, dict) or not channels:
        raise WorkforceInputError('"channels" must name at least one channel with its demand.')
    demand = {name: _demand(name, spec, slots, interval) for name, spec in channels.items()}
    weights = raw.get("weights", {})
    problem = ScheduleProblem(
        week_start=week_start,
        interval_minutes=interval,
        opening_hours=opening,
        templates=tuple(templates),
        agents=tuple(agents),
        demand=demand,
        rules=rules,
        under_weight=int(weights.get("under", 10)),
        over_weight=int(weights.get("over", 1)),
        timezone=str(raw.get("timezone", "Europe/Oslo")),
        time_limit_seconds=float(raw.get("time_limit_seconds", DEFAULT_TIME_LIMIT_SECONDS)),
    )
    _validate(problem)
    return problem


def _demand_from_csv(text: str) -> dict[str, dict[str, Any]]:
    """CSV rows ``channel,weekday,time,arrivals|required`` → the JSON ``channels`` shape."""
    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or [])
    kind = "required" if "required" in fields else "arrivals"
    if not {"channel", "weekday", "time", kind} <= fields:
        raise WorkforceInputError(
            "A demand CSV needs the columns channel, weekday, time and arrivals (or required)."
        )
    rows: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for line, row in enumerate(reader, start=2):
        weekday = row["weekday"].strip().lower()[:3]
        if weekday not in WEEKDAYS:
            raise WorkforceInputError(f"CSV line {line}: unknown weekday {row['weekday']!r}.")
        try:
            value = float(row[kind])
        except ValueError:
            raise WorkforceInputError(f"CSV line {line}: {row[kind]!r} is not a number.") from None
        minute = _minute(row["time"].strip(), f"CSV line {line}")
        rows.setdefault(row["channel"].strip(), {}).setdefault(weekday, []).append((minute, value))
    result: dict[str, dict[str, Any]] = {}
    for channel, days in rows.items():
        spec: dict[str, Any] = {}
        for weekday, items in days.items():
            items.sort()
            step = items[1][0] - items[0][0] if len(items) > 1 else 15
            values = [0.0] * ((items[-1][0] - items[0][0]) // max(step, 1) + 1)
            for minute, value in items:
                values[(minute - items[0][0]) // max(step, 1)] = value
            first = items[0][0]
            spec[weekday] = {"start": f"{first // 60:02d}:{first % 60:02d}", "values": values}
        result[channel] = {kind: spec}
    return result


def load_problem(path: Path, *, setup_path: Path | None = None) -> ScheduleProblem:
    """Read a problem from JSON, or from a demand CSV plus a JSON ``setup`` for the rest."""
    try:
        if path.suffix.lower() == ".csv":
            if setup_path is None:
                raise WorkforceInputError(
                    "A CSV input holds only the demand; pass --setup SETUP.json with the week, "
                    "templates and agents."
                )
            raw = json.loads(setup_path.read_text(encoding="utf-8"))
            demand = _demand_from_csv(path.read_text(encoding="utf-8"))
            channels = raw.get("channels", {})
            for name, spec in demand.items():
                # Queue parameters (AHT, target…) stay in the setup; the CSV brings the numbers.
                channels[name] = {**channels.get(name, {}), **spec}
            raw["channels"] = channels
        else:
            raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise WorkforceInputError(f"{error.doc and path}: not valid JSON ({error.msg}).") from None
    except OSError as error:
        raise WorkforceInputError(f"Cannot read {error.filename}: {error.strerror}.") from None
    except (KeyError, TypeError) as error:
        raise WorkforceInputError(f"Malformed input: missing or wrong field {error}.") from None
    if not isinstance(raw, dict):
        raise WorkforceInputError("The input must be a JSON object.")
    try:
        return problem_from_dict(raw)
    except (KeyError, TypeError) as error:
        raise WorkforceInputError(f"Malformed input: missing or wrong field {error}.") from None


def _validate(problem: ScheduleProblem) -> None:
    interval = problem.interval_minutes
    if not problem.agents:
        raise WorkforceInputError("There are no agents to schedule.")
    if not problem.templates:
        raise WorkforceInputError("There are no shift templates to schedule with.")
    names = [agent.name for agent in problem.agents]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise WorkforceInputError("Every agent needs a name, and names must be unique.")
    if len({template.name for template in problem.templates}) != len(problem.templates):
        raise WorkforceInputError("Shift template names must be unique.")
    for template in problem.templates:
        what = f"Shift template {template.name!r}"
        if template.length_minutes <= 0 or template.end_minute > DAY_MINUTES:
            raise WorkforceInputError(f"{what} must have a positive length and end by midnight.")
        if not 0 <= template.break_minutes < template.length_minutes:
            raise WorkforceInputError(f"{what} has a break as long as the shift.")
        for value in (template.start_minute, template.length_minutes, template.break_minutes):
            if value % interval:
                raise WorkforceInputError(
                    f"{what} does not line up with the {interval}-minute intervals."
                )
        if template.break_minutes:
            start = template.break_start(interval)
            if (start - template.start_minute) % interval or not (
                template.start_minute < start
                and start + template.break_minutes < template.end_minute
            ):
                raise WorkforceInputError(f"{what} has its break outside the shift.")
    for agent in problem.agents:
        if agent.contract_hours < 0 or agent.hours_tolerance < 0:
            raise WorkforceInputError(f"{agent.name}: contract hours cannot be negative.")
        if agent.hourly_cost < 0:
            raise WorkforceInputError(f"{agent.name}: hourly cost cannot be negative.")
    if problem.under_weight < 0 or problem.over_weight < 0:
        raise WorkforceInputError("Staffing weights cannot be negative.")
    if not problem.time_limit_seconds > 0:
        raise WorkforceInputError("The time limit must be positive.")
    try:
        ZoneInfo(problem.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkforceInputError(f"Unknown time zone {problem.timezone!r}.") from None
    for demand in problem.demand.values():
        if len(demand.required) != 7 or any(
            len(day) != problem.slots_per_day for day in demand.required
        ):
            raise WorkforceInputError(
                f"Channel {demand.channel!r}: demand must cover 7 days of "
                f"{problem.slots_per_day} intervals."
            )


# --- model -----------------------------------------------------------------------------------


def _allowed(problem: ScheduleProblem, agent: Agent, day: int, template: ShiftTemplate) -> bool:
    opening = problem.opening_hours.get(day)
    if opening is None:
        return False
    if template.start_minute < opening[0] or template.end_minute > opening[1]:
        return False
    if problem.day(day) in agent.days_off:
        return False
    if day in agent.availability:
        window = agent.availability[day]
        if window is None or template.start_minute < window[0] or template.end_minute > window[1]:
            return False
    return template.paid_minutes <= problem.rules.max_daily_hours * 60


def _hour_band(problem: ScheduleProblem, agent: Agent) -> tuple[int, int]:
    """Allowed paid minutes in the week: contract ± tolerance, capped by the legal maximum."""
    legal = problem.rules.max_weekly_hours
    if agent.max_weekly_hours is not None:
        legal = min(legal, float(agent.max_weekly_hours))
    low = max(0.0, agent.contract_hours - agent.hours_tolerance)
    high = min(agent.contract_hours + agent.hours_tolerance, legal)
    return math.ceil(low * 60 - 1e-6), math.floor(high * 60 + 1e-6)


def precheck(problem: ScheduleProblem) -> tuple[list[str], list[str]]:
    """Obvious reasons no schedule can exist, and warnings that do not block one."""
    reasons: list[str] = []
    warnings: list[str] = []
    channels = set(problem.demand)
    for agent in problem.agents:
        low, high = _hour_band(problem, agent)
        if low > high:
            reasons.append(
                f"{agent.name} must work at least {low / 60:g} h but may work at most "
                f"{high / 60:g} h (contract, tolerance and the weekly maximum of "
                f"{problem.rules.max_weekly_hours:g} h)"
            )
            continue
        if not set(agent.channels) & channels:
            warnings.append(f"{agent.name} has no skill for any channel in the demand")
            if low > 0:
                reasons.append(f"{agent.name} must work {low / 60:g} h but has no usable channel")
            continue
        best_per_day = sorted(
            (
                max(
                    (t.paid_minutes for t in problem.templates if _allowed(problem, agent, d, t)),
                    default=0,
                )
                for d in range(7)
            ),
            reverse=True,
        )
        # Weekly rest (35 h) needs at least one free day, so at most six working days count.
        reachable = sum(best_per_day[:6])
        if reachable < low:
            open_days = sum(1 for value in best_per_day if value)
            reasons.append(
                f"{agent.name} must work at least {low / 60:g} h but the allowed shifts on "
                f"{open_days} available day(s) reach at most {reachable / 60:g} h"
            )
    for demand in problem.demand.values():
        for day, row in enumerate(demand.required):
            opening = problem.opening_hours.get(day)
            outside = sum(
                value
                for slot, value in enumerate(row)
                if value
                and (
                    opening is None
                    or not opening[0] <= slot * problem.interval_minutes < opening[1]
                )
            )
            if outside:
                warnings.append(
                    f"{demand.channel}: {outside} head-intervals required outside opening hours "
                    f"on {WEEKDAYS[day]} cannot be staffed"
                )
    return reasons, warnings


@dataclass
class _Model:
    model: cp_model.CpModel
    shifts: dict[tuple[int, int, int, str], cp_model.IntVar]
    staffing: cp_model.LinearExprT
    cost: cp_model.LinearExprT
    groups: dict[int, str]  # literal index → human description (only when explaining)


def _build_model(problem: ScheduleProblem, *, explain: bool) -> _Model:
    model = cp_model.CpModel()
    interval = problem.interval_minutes
    templates = problem.templates
    groups: dict[int, str] = {}

    def group(description: str) -> list[cp_model.IntVar]:
        if not explain:
            return []
        literal = model.new_bool_var(description)
        groups[literal.index] = description
        return [literal]

    shifts: dict[tuple[int, int, int, str], cp_model.IntVar] = {}
    for a, agent in enumerate(problem.agents):
        usable = [c for c in agent.channels if c in problem.demand]
        for d in range(7):
            for s, template in enumerate(templates):
                if _allowed(problem, agent, d, template):
                    for channel in usable:
                        shifts[a, d, s, channel] = model.new_bool_var(f"w_{a}_{d}_{s}_{channel}")

    # Channel variables of one agent, day and template: "works shift s that day", any channel.
    on: dict[tuple[int, int, int], list[cp_model.IntVar]] = {}
    for (a, d, s, _), var in shifts.items():
        on.setdefault((a, d, s), []).append(var)

    by_agent_day: dict[tuple[int, int], list[tuple[int, cp_model.IntVar]]] = {}
    for (a, d, s, _), var in shifts.items():
        by_agent_day.setdefault((a, d), []).append((s, var))

    daily_rest = round(problem.rules.daily_rest_hours * 60)
    weekly_rest = round(problem.rules.weekly_rest_hours * 60)
    cost_terms = []
    for a, agent in enumerate(problem.agents):
        day_vars = {d: by_agent_day.get((a, d), []) for d in range(7)}
        works = {}
        for d in range(7):
            works[d] = model.new_bool_var(f"works_{a}_{d}")
            model.add(sum(var for _, var in day_vars[d]) == works[d])

        low, high = _hour_band(problem, agent)
        paid = sum(templates[s].paid_minutes * var for d in range(7) for s, var in day_vars[d])
        model.add_linear_constraint(paid, low, high).only_enforce_if(
            group(f"contract hours of {agent.name} ({low / 60:g}–{high / 60:g} h)")
        )
        cost_per_minute = round(agent.hourly_cost * 100)  # øre per hour ÷ 60, kept integral
        cost_terms.append(cost_per_minute * paid)

        rest_literal = group(f"{problem.rules.daily_rest_hours:g}-hour daily rest of {agent.name}")
        for d in range(6):
            for s, template in enumerate(templates):
                first = on.get((a, d, s))
                if not first:
                    continue
                clash = [
                    var
                    for s2, var in day_vars[d + 1]
                    if DAY_MINUTES + templates[s2].start_minute - template.end_minute < daily_rest
                ]
                if clash:
                    model.add(sum(first) + sum(clash) <= 1).only_enforce_if(rest_literal)

        # Weekly rest: some day d is free and the rest around it — from the previous shift's
        # end to the next shift's start, counted only inside this week — is long enough.
        candidates = []
        for d in range(7):
            rest = model.new_bool_var(f"weekly_rest_{a}_{d}")
            model.add(works[d] == 0).only_enforce_if(rest)
            before = (
                DAY_MINUTES - sum(templates[s].end_minute * var for s, var in day_vars[d - 1])
                if d > 0
                else 0
            )
            after = (
                sum(templates[s].start_minute * var for s, var in day_vars[d + 1])
                + DAY_MINUTES * (1 - works[d + 1])
                if d < 6
                else 0
            )
            model.add(before + DAY_MINUTES + after >= weekly_rest).only_enforce_if(rest)
            candidates.append(rest)
        model.add_bool_or(candidates).only_enforce_if(
            group(f"{problem.rules.weekly_rest_hours:g}-hour weekly rest of {agent.name}")
        )

    # Coverage per channel and interval.
    covering: dict[tuple[str, int, int], list[cp_model.IntVar]] = {}
    slots_of = [template.working_slots(interval) for template in templates]
    for (_, d, s, channel), var in shifts.items():
        for slot in slots_of[s]:
            covering.setdefault((channel, d, slot), []).append(var)
    penalty_terms = []
    for channel, demand in problem.demand.items():
        for d in range(7):
            for slot in range(problem.slots_per_day):
                required = demand.required[d][slot]
                heads = covering.get((channel, d, slot), [])
                if not heads:
                    # Nothing can cover this interval: a constant, reported, not optimised.
                    continue
                under = model.new_int_var(0, required, f"under_{channel}_{d}_{slot}")
                over = model.new_int_var(0, len(heads), f"over_{channel}_{d}_{slot}")
                model.add(sum(heads) + under - over == required)
                penalty_terms.append(problem.under_weight * under + problem.over_weight * over)
    return _Model(
        model=model,
        shifts=shifts,
        staffing=cp_model.LinearExpr.sum(penalty_terms) if penalty_terms else 0,
        cost=cp_model.LinearExpr.sum(cost_terms) if cost_terms else 0,
        groups=groups,
    )


def _solver(seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = 8
    solver.parameters.random_seed = 1
    return solver


def _explain(problem: ScheduleProblem, seconds: float) -> list[str]:
    built = _build_model(problem, explain=True)
    built.model.add_assumptions(
        [built.model.get_bool_var_from_proto_index(index) for index in built.groups]
    )
    solver = _solver(seconds)
    # Core extraction needs a single worker in CP-SAT.
    solver.parameters.num_workers = 1
    status = solver.solve(built.model)
    if status != cp_model.INFEASIBLE:
        return ["the rules conflict in a way the solver could not pin down in time"]
    core = solver.sufficient_assumptions_for_infeasibility()
    return [built.groups[index] for index in core if index in built.groups] or [
        "shift templates, opening hours and availability leave no valid week"
    ]


def build_schedule(
    problem: ScheduleProblem, *, time_limit_seconds: float | None = None
) -> ScheduleResult:
    """Solve the week; raise :class:`ScheduleInfeasibleError` with reasons if impossible."""
    limit = problem.time_limit_seconds if time_limit_seconds is None else time_limit_seconds
    if not limit > 0:
        raise WorkforceInputError(f"The time limit must be positive (got {limit}).")
    reasons, warnings = precheck(problem)
    if reasons:
        raise ScheduleInfeasibleError(reasons)
    started = clock.perf_counter()
    built = _build_model(problem, explain=False)
    model = built.model

    model.minimize(built.staffing)
    # The time limit covers the whole call, model building included.
    solver = _solver(limit * _STAFFING_PASS_SHARE - (clock.perf_counter() - started))
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise ScheduleInfeasibleError(_explain(problem, max(1.0, limit / 2)))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise WorkforceInputError(
            f"No schedule found within {limit:g} s; allow more time (--time-limit) or simplify "
            "the input."
        )
    staffing_status = status
    staffing_penalty = round(solver.objective_value)
    staffing_bound = solver.best_objective_bound
    hint = {var: solver.value(var) for var in built.shifts.values()}

    # Second pass: cheapest schedule that is no worse on staffing than the first found.
    model.add(built.staffing <= staffing_penalty)
    model.minimize(built.cost)
    for var, value in hint.items():
        model.add_hint(var, value)
    remaining = limit - (clock.perf_counter() - started)
    cost_solver = _solver(max(0.5, remaining))
    cost_status = cost_solver.solve(model)
    if cost_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = {var: cost_solver.value(var) for var in built.shifts.values()}
        cost = cost_solver.objective_value / 100 / 60
        cost_bound = cost_solver.best_objective_bound / 100 / 60
    else:
        # The hint satisfies the second model, so this only happens when time ran out.
        chosen = hint
        cost = sum(
            problem.templates[s].paid_minutes * problem.agents[a].hourly_cost / 60 * value
            for (a, _, s, _), value in ((key, hint[var]) for key, var in built.shifts.items())
        )
        cost_bound = 0.0
    optimal = staffing_status == cp_model.OPTIMAL and cost_status == cp_model.OPTIMAL
    return _result(
        problem,
        {key: chosen[var] for key, var in built.shifts.items()},
        status="OPTIMAL" if optimal else "FEASIBLE",
        staffing_penalty=staffing_penalty,
        staffing_bound=staffing_bound,
        cost=cost,
        cost_bound=cost_bound,
        seconds=clock.perf_counter() - started,
        warnings=warnings,
    )


def _result(
    problem: ScheduleProblem,
    values: Mapping[tuple[int, int, int, str], int],
    *,
    status: str,
    staffing_penalty: int,
    staffing_bound: float,
    cost: float,
    cost_bound: float,
    seconds: float,
    warnings: list[str],
) -> ScheduleResult:
    interval = problem.interval_minutes
    grid: dict[str, list[Assignment | None]] = {agent.name: [None] * 7 for agent in problem.agents}
    heads: dict[tuple[str, int, int], int] = {}
    for (a, d, s, channel), value in values.items():
        if not value:
            continue
        template = problem.templates[s]
        midnight = datetime.combine(problem.day(d), time())
        break_from = template.break_start(interval) if template.break_minutes else None
        grid[problem.agents[a].name][d] = Assignment(
            template=template.name,
            channel=channel,
            start=midnight + timedelta(minutes=template.start_minute),
            end=midnight + timedelta(minutes=template.end_minute),
            break_start=None if break_from is None else midnight + timedelta(minutes=break_from),
            break_end=(
                None
                if break_from is None
                else midnight + timedelta(minutes=break_from + template.break_minutes)
            ),
            paid_hours=template.paid_minutes / 60,
        )
        for slot in template.working_slots(interval):
            heads[channel, d, slot] = heads.get((channel, d, slot), 0) + 1

    intervals = []
    for channel, demand in problem.demand.items():
        for d in range(7):
            opening = problem.opening_hours.get(d)
            midnight = datetime.combine(problem.day(d), time())
            for slot in range(problem.slots_per_day):
                required = demand.required[d][slot]
                scheduled = heads.get((channel, d, slot), 0)
                is_open = opening is not None and opening[0] <= slot * interval < opening[1]
                if not (is_open or required or scheduled):
                    continue
                intervals.append(
                    IntervalCoverage(
                        channel=channel,
                        start=midnight + timedelta(minutes=slot * interval),
                        required=required,
                        scheduled=scheduled,
                        metrics=_expected_metrics(demand, d, slot, scheduled, interval),
                    )
                )
    return ScheduleResult(
        problem=problem,
        grid=grid,
        intervals=intervals,
        status=status,
        staffing_penalty=staffing_penalty,
        staffing_bound=staffing_bound,
        cost=cost,
        cost_bound=cost_bound,
        solve_seconds=seconds,
        warnings=warnings,
    )


def _expected_metrics(
    demand: ChannelDemand, day: int, slot: int, heads: int, interval: int
) -> QueueMetrics | None:
    if demand.arrivals is None or demand.aht_seconds is None or demand.target is None:
        return None
    # Heads on shift lose the in-shift shrinkage (coaching, system trouble…) before they
    # answer anything; only whole agents answer calls.
    agents = math.floor(heads * (1 - demand.shrinkage) + 1e-9)
    load = CallLoad(
        demand.arrivals[day][slot], interval * 60, demand.aht_seconds, demand.patience_seconds
    )
    return queue_metrics(agents, load, demand.target.target_seconds, demand.target.basis)


# --- output ----------------------------------------------------------------------------------


def result_to_dict(result: ScheduleResult) -> dict[str, Any]:
    problem = result.problem
    return {
        "status": result.status,
        "week_start": problem.week_start.isoformat(),
        "solve_seconds": round(result.solve_seconds, 3),
        "staffing_penalty": result.staffing_penalty,
        "staffing_bound": result.staffing_bound,
        "gap": result.gap,
        "cost": round(result.cost, 2),
        "cost_gap": result.cost_gap,
        "warnings": result.warnings,
        "schedule": {
            name: [
                None
                if item is None
                else {
                    "template": item.template,
                    "channel": item.channel,
                    "start": item.start.isoformat(timespec="minutes"),
                    "end": item.end.isoformat(timespec="minutes"),
                    "break_start": item.break_start.isoformat(timespec="minutes")
                    if item.break_start
                    else None,
                    "break_end": item.break_end.isoformat(timespec="minutes")
                    if item.break_end
                    else None,
                    "paid_hours": item.paid_hours,
                }
                for item in days
            ]
            for name, days in result.grid.items()
        },
        "hours": {name: result.hours(name) for name in result.grid},
        "intervals": [
            {
                "channel": row.channel,
                "start": row.start.isoformat(timespec="minutes"),
                "required": row.required,
                "scheduled": row.scheduled,
                "service_level": row.metrics.service_level if row.metrics else None,
                "asa_seconds": (
                    row.metrics.asa_seconds
                    if row.metrics and math.isfinite(row.metrics.asa_seconds)
                    else None
                ),
                "p_abandon": row.metrics.p_abandon if row.metrics else None,
            }
            for row in result.intervals
        ],
    }


def format_summary(result: ScheduleResult) -> str:
    problem = result.problem
    lines = [
        f"Week of {problem.week_start}: {result.status}, {result.solve_seconds:.1f} s, "
        f"staffing penalty {result.staffing_penalty} (gap {result.gap:.1%}), "
        f"cost {result.cost:,.0f} (gap {result.cost_gap:.1%})",
    ]
    days = [f"{WEEKDAYS[d].title()} {problem.day(d):%d.%m}" for d in range(7)]
    width = max(len(name) for name in result.grid)
    lines.append(f"{'agent':<{width}}  " + "  ".join(f"{day:<11}" for day in days) + "  hours")
    for name, items in result.grid.items():
        cells = [f"{item.start:%H:%M}-{item.end:%H:%M}" if item else "—" for item in items]
        lines.append(
            f"{name:<{width}}  "
            + "  ".join(f"{cell:<11}" for cell in cells)
            + f"  {result.hours(name):5.1f}"
        )
    under = sum(row.under for row in result.intervals)
    over = sum(row.over for row in result.intervals)
    lines.append(f"Head-intervals short: {under}; over: {over}.")
    lines.extend(f"Warning: {warning}" for warning in result.warnings)
    return "\n".join(lines) + "\n"


def schedule_to_csv(result: ScheduleResult) -> str:
    """The grid: one row per agent, one column per day, plus paid hours."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    days = [result.problem.day(d) for d in range(7)]
    writer.writerow(["agent", *(day.isoformat() for day in days), "paid_hours"])
    for name, items in result.grid.items():
        writer.writerow(
            [name, *(item.label() if item else "" for item in items), f"{result.hours(name):g}"]
        )
    return buffer.getvalue()


def coverage_to_csv(result: ScheduleResult) -> str:
    """Required against scheduled heads and expected service per interval."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["channel", "start", "required", "scheduled", "service_level", "asa_seconds", "p_abandon"]
    )
    for row in result.intervals:
        metrics = row.metrics
        writer.writerow(
            [
                row.channel,
                row.start.isoformat(timespec="minutes"),
                row.required,
                row.scheduled,
                f"{metrics.service_level:.4f}" if metrics else "",
                f"{metrics.asa_seconds:.1f}"
                if metrics and math.isfinite(metrics.asa_seconds)
                else "",
                f"{metrics.p_abandon:.4f}" if metrics else "",
            ]
        )
    return buffer.getvalue()


def write_xlsx(result: ScheduleResult, path: Path) -> None:
    """Workbook with a Schedule sheet (the grid) and a Coverage sheet (per interval)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "Schedule"
    for table, target in (
        (schedule_to_csv(result), sheet),
        (coverage_to_csv(result), book.create_sheet("Coverage")),
    ):
        for row_index, row in enumerate(csv.reader(io.StringIO(table))):
            values: list[Any] = []
            for cell in row:
                try:
                    values.append(float(cell) if row_index else cell)
                except ValueError:
                    values.append(cell)
            target.append(values)
        for cell in target[1]:
            cell.font = Font(bold=True)
        target.freeze_panes = "B2"
    summary = book.create_sheet("Summary")
    summary.append(["status", result.status])
    summary.append(["solve seconds", round(result.solve_seconds, 2)])
    summary.append(["staffing penalty", result.staffing_penalty])
    summary.append(["gap", result.gap])
    summary.append(["cost", round(result.cost, 2)])
    book.save(path)


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> Iterable[str]:
    # RFC 5545 §3.1: lines longer than 75 octets continue on lines starting with a space.
    encoded = line.encode("utf-8")
    chunk: list[str] = []
    size = 0
    for character in line:
        width = len(character.encode("utf-8"))
        if size + width > 75:
            yield "".join(chunk)
            chunk, size = [" "], 1
        chunk.append(character)
        size += width
    if chunk or not encoded:
        yield "".join(chunk)


def schedule_to_ics(result: ScheduleResult, agent: str, *, stamp: datetime | None = None) -> str:
    """One agent's week as an iCalendar file (RFC 5545), times in UTC so no VTIMEZONE is
    needed and every calendar shows the shift at the right local time."""
    if agent not in result.grid:
        raise WorkforceInputError(f"No agent named {agent!r} in this schedule.")
    zone = ZoneInfo(result.problem.timezone)
    stamp = stamp or datetime.now(UTC)

    def utc(moment: datetime) -> str:
        return moment.replace(tzinfo=zone).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Skranke//Workforce schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for day, item in enumerate(result.grid[agent]):
        if item is None:
            continue
        uid = f"{result.problem.day(day).isoformat()}-{agent}-{item.template}".replace(" ", "-")
        description = f"Channel: {item.channel}. Paid hours: {item.paid_hours:g}."
        if item.break_start and item.break_end:
            description += f" Break {item.break_start:%H:%M}–{item.break_end:%H:%M}."
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_ics_text(uid)}@skranke",
            f"DTSTAMP:{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"DTSTART:{utc(item.start)}",
            f"DTEND:{utc(item.end)}",
            f"SUMMARY:{_ics_text(f'Shift {item.template} ({item.channel})')}",
            f"DESCRIPTION:{_ics_text(description)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{folded}\r\n" for line in lines for folded in _fold(line))


def write_ics_dir(result: ScheduleResult, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for agent in result.grid:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in agent)
        path = directory / f"{safe}.ics"
        path.write_text(schedule_to_ics(result, agent), encoding="utf-8", newline="")
        written.append(path)
    return written
