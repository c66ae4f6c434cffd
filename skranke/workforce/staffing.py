"""From traffic to people: required agents, shrinkage, written work, chat and what-ifs.

The queueing maths lives in :mod:`skranke.workforce.erlang`; this module answers the planner's
question "how many people do I need?" for each channel and interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from skranke.workforce.erlang import (
    CallLoad,
    QueueMetrics,
    ServiceLevelBasis,
    WorkforceInputError,
    queue_metrics,
)

__all__ = [
    "IntervalStaffing",
    "Scenario",
    "ScenarioChange",
    "Shrinkage",
    "StaffingPlan",
    "StaffingTarget",
    "TargetUnreachableError",
    "WhatIf",
    "WorkforceInputError",
    "chat_agents",
    "deferred_agents",
    "required_agents",
    "scheduled_heads",
    "staffing_plan",
    "what_if",
    "workload_agents",
]

# Rounding guard for ceil(): 10 / (1 − 0.2) is 12.500000000000002 in floating point, and a
# float that lands a hair above a whole number must not cost a whole extra person.
_CEIL_TOLERANCE = 1e-9
# No real queue needs more agents than this; beyond it a target is unreachable, not slow.
_MAX_AGENTS = 1_000_000


class TargetUnreachableError(WorkforceInputError):
    """No number of agents meets the targets (e.g. a 100 % service level or 0 % abandonment)."""


def _ceil(value: float) -> int:
    return math.ceil(value - _CEIL_TOLERANCE)


def _check_fraction(name: str, value: float, *, allow_zero: bool, allow_one: bool) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise WorkforceInputError(f"The {name} must be a number (got {value!r}).")
    low_ok = value >= 0 if allow_zero else value > 0
    high_ok = value <= 1 if allow_one else value < 1
    if not (low_ok and high_ok):
        low = "0" if allow_zero else "above 0"
        high = "1" if allow_one else "below 1"
        raise WorkforceInputError(
            f"The {name} must be a fraction between {low} and {high} (got {value})."
        )


@dataclass(frozen=True, slots=True)
class StaffingTarget:
    """What "enough agents" means; every limit given must hold at the same time.

    ``service_level`` of calls answered within ``target_seconds`` (80 % in 20 s by default),
    plus optional caps on average speed of answer, abandonment rate and occupancy (agents
    who are busy 95 % of the time burn out, so many centres cap it at 85–90 %).
    """

    service_level: float = 0.8
    target_seconds: float = 20.0
    max_asa_seconds: float | None = None
    max_abandon: float | None = None
    max_occupancy: float | None = None
    basis: ServiceLevelBasis = ServiceLevelBasis.OFFERED

    def __post_init__(self) -> None:
        _check_fraction("service-level target", self.service_level, allow_zero=True, allow_one=True)
        if not math.isfinite(self.target_seconds) or self.target_seconds < 0:
            raise WorkforceInputError(
                f"The target answer time must be 0 seconds or more (got {self.target_seconds})."
            )
        if self.max_asa_seconds is not None and not self.max_asa_seconds >= 0:
            raise WorkforceInputError(
                f"The ASA limit cannot be negative (got {self.max_asa_seconds})."
            )
        if self.max_abandon is not None:
            _check_fraction("abandonment limit", self.max_abandon, allow_zero=True, allow_one=True)
        if self.max_occupancy is not None:
            _check_fraction("occupancy limit", self.max_occupancy, allow_zero=False, allow_one=True)

    def is_met_by(self, metrics: QueueMetrics) -> bool:
        if metrics.service_level < self.service_level:
            return False
        if self.max_asa_seconds is not None and not metrics.asa_seconds <= self.max_asa_seconds:
            return False
        if self.max_abandon is not None and metrics.p_abandon > self.max_abandon:
            return False
        return not (self.max_occupancy is not None and metrics.occupancy > self.max_occupancy)


@dataclass(frozen=True, slots=True)
class Shrinkage:
    """Paid time in which an agent is not available for contacts, as fractions of paid time.

    The parts are added, the way most planners quote shrinkage ("30 %: 8 % breaks, 5 %
    meetings, 7 % training, 10 % sick leave"), because each is measured against the same
    paid hours.
    """

    breaks: float = 0.0
    meetings: float = 0.0
    training: float = 0.0
    sick_leave: float = 0.0
    other: float = 0.0

    def __post_init__(self) -> None:
        for name in ("breaks", "meetings", "training", "sick_leave", "other"):
            _check_fraction(
                f"{name.replace('_', ' ')} shrinkage",
                getattr(self, name),
                allow_zero=True,
                allow_one=False,
            )
        if self.total >= 1:
            raise WorkforceInputError(
                f"Total shrinkage must be below 100 % (got {self.total:.0%}): nobody would ever "
                "be available."
            )

    @property
    def total(self) -> float:
        return self.breaks + self.meetings + self.training + self.sick_leave + self.other


def scheduled_heads(agents: int, shrinkage: float | Shrinkage) -> int:
    """People to schedule so that ``agents`` are available: ceil(n / (1 − shrinkage))."""
    total = shrinkage.total if isinstance(shrinkage, Shrinkage) else shrinkage
    _check_fraction("shrinkage", total, allow_zero=True, allow_one=False)
    if agents < 0:
        raise WorkforceInputError(f"The number of agents cannot be negative (got {agents}).")
    return _ceil(agents / (1.0 - total))


def required_agents(call_load: CallLoad, target: StaffingTarget) -> tuple[int, QueueMetrics]:
    """Smallest number of agents meeting every limit in ``target``, with its metrics.

    Every metric improves as agents are added (service level up; ASA, abandonment and
    occupancy down), so the answer is found by galloping from a first guess and bisecting:
    a few model evaluations instead of n. With Erlang A the answer may lie below the offered
    load.
    """
    if call_load.load == 0:
        return 0, queue_metrics(0, call_load, target.target_seconds, target.basis)
    if target.service_level >= 1:
        raise TargetUnreachableError(
            "A 100 % service level cannot be promised: with random arrivals some caller "
            "always waits longer than the target. Choose a target below 100 %."
        )
    if target.max_abandon == 0 and call_load.patience_seconds is not None:
        raise TargetUnreachableError(
            "With impatient callers some always hang up; an abandonment limit of 0 % cannot "
            "be met. Choose a limit above 0 %."
        )
    if target.max_asa_seconds == 0:
        raise TargetUnreachableError(
            "An average speed of answer of 0 seconds would need infinitely many agents."
        )

    def meets(agents: int) -> QueueMetrics | None:
        metrics = queue_metrics(agents, call_load, target.target_seconds, target.basis)
        return metrics if target.is_met_by(metrics) else None

    guess = max(1, _ceil(call_load.load))
    if call_load.patience_seconds is not None:
        # Erlang C costs microseconds and usually lands within an agent or two of the
        # Erlang A answer, so the expensive model is evaluated only a handful of times.
        patient = CallLoad(call_load.arrivals, call_load.interval_seconds, call_load.aht_seconds)
        try:
            guess = max(1, required_agents(patient, replace(target, max_abandon=None))[0])
        except TargetUnreachableError:
            pass
    return _smallest_from_guess(meets, guess)


def _smallest_from_guess(
    meets: Callable[[int], QueueMetrics | None], guess: int
) -> tuple[int, QueueMetrics]:
    """Smallest n ≥ 1 with ``meets(n)``, galloping from ``guess`` and then bisecting."""
    found = meets(guess)
    step = 1
    if found is None:
        low, high = guess, guess + step  # low fails
        while (found := meets(high)) is None:
            if high > _MAX_AGENTS:
                raise TargetUnreachableError(
                    f"No staffing up to {_MAX_AGENTS:,} agents meets the target; check the "
                    "targets and the traffic figures."
                )
            low, step = high, step * 2
            high = low + step
    else:
        high, low = guess, max(0, guess - step)  # high meets; 0 agents never count
        while low > 0 and (candidate := meets(low)) is not None:
            high, found, step = low, candidate, step * 2
            low = max(0, high - step)
    while high - low > 1:
        middle = (low + high) // 2
        candidate = meets(middle)
        if candidate is None:
            low = middle
        else:
            high, found = middle, candidate
    assert found is not None  # `high` always meets the target by the loops above
    return high, found


def workload_agents(
    items: float,
    handling_seconds: float,
    window_seconds: float,
    *,
    utilisation: float = 1.0,
) -> float:
    """Agents needed to finish ``items`` pieces of written work within ``window_seconds``.

    Email and web forms are deferred work: nobody hangs on the line, so the queue does not
    matter, only whether the work fits in the time allowed. Agents = items × handling time /
    (window × utilisation). Returned as a fraction so callers can add channels before
    rounding up.
    """
    if items < 0:
        raise WorkforceInputError(f"The number of items cannot be negative (got {items}).")
    if not handling_seconds > 0:
        raise WorkforceInputError(
            f"Handling time must be more than 0 seconds (got {handling_seconds})."
        )
    if not window_seconds > 0:
        raise WorkforceInputError(f"The time window must be positive (got {window_seconds}).")
    _check_fraction("utilisation", utilisation, allow_zero=False, allow_one=True)
    return items * handling_seconds / (window_seconds * utilisation)


def deferred_agents(
    arrivals: Sequence[float],
    *,
    handling_seconds: float,
    interval_seconds: float,
    response_intervals: int,
    utilisation: float = 1.0,
) -> int:
    """Smallest constant number of agents that answers every item within its response time.

    Items arriving in interval i are due by the end of interval i + ``response_intervals``;
    worked oldest-first, they all make it iff for every deadline the work due so far fits in
    the capacity available so far. Work left at the end of the horizon still gets its
    ``response_intervals`` of grace, as it would on the next day.
    """
    if response_intervals < 0:
        raise WorkforceInputError(
            f"The response time cannot be negative (got {response_intervals} intervals)."
        )
    if any(value < 0 for value in arrivals):
        raise WorkforceInputError("Arrivals cannot be negative.")
    if not interval_seconds > 0 or not handling_seconds > 0:
        raise WorkforceInputError("Interval length and handling time must be positive.")
    _check_fraction("utilisation", utilisation, allow_zero=False, allow_one=True)
    capacity_per_agent = interval_seconds * utilisation
    needed = 0.0
    due = 0.0
    for index, count in enumerate(arrivals):
        due += count * handling_seconds
        intervals_until_deadline = index + 1 + response_intervals
        needed = max(needed, due / (intervals_until_deadline * capacity_per_agent))
    return _ceil(needed)


def chat_agents(
    call_load: CallLoad, target: StaffingTarget, concurrency: int
) -> tuple[int, QueueMetrics]:
    """Agents for chat, where one agent runs up to ``concurrency`` chats at once (1–3).

    Each agent is modelled as ``concurrency`` chat slots and the queue is sized in slots.
    ``call_load.aht_seconds`` must be the chat duration measured while agents run that many
    chats: a chat runs longer when its agent juggles three, and that is the honest cost of
    concurrency. Returns agents and the metrics of the slots.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise WorkforceInputError(
            f"Chat concurrency must be a whole number of at least 1 (got {concurrency!r})."
        )
    if concurrency > 3:
        raise WorkforceInputError(
            f"Chat concurrency above 3 is not supported (got {concurrency}); quality drops "
            "and the slot model stops being realistic."
        )
    slots, metrics = required_agents(call_load, target)
    return _ceil(slots / concurrency), metrics


@dataclass(frozen=True, slots=True)
class IntervalStaffing:
    index: int
    arrivals: float
    agents: int
    heads: int
    metrics: QueueMetrics


@dataclass(frozen=True, slots=True)
class StaffingPlan:
    intervals: tuple[IntervalStaffing, ...]
    interval_seconds: float

    @property
    def agent_hours(self) -> float:
        return sum(item.agents for item in self.intervals) * self.interval_seconds / 3600

    @property
    def head_hours(self) -> float:
        return sum(item.heads for item in self.intervals) * self.interval_seconds / 3600

    @property
    def peak_heads(self) -> int:
        return max((item.heads for item in self.intervals), default=0)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A forecast (arrivals per interval) and the rules that turn it into staff."""

    arrivals: tuple[float, ...]
    interval_seconds: float
    aht_seconds: float
    target: StaffingTarget = field(default_factory=StaffingTarget)
    patience_seconds: float | None = None
    shrinkage: float = 0.0


@dataclass(frozen=True, slots=True)
class ScenarioChange:
    """What a planner wants to try; ``None`` leaves the base value alone."""

    volume_factor: float = 1.0
    aht_seconds: float | None = None
    target: StaffingTarget | None = None
    shrinkage: float | None = None
    patience_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class WhatIf:
    base: StaffingPlan
    changed: StaffingPlan
    base_scenario: Scenario
    changed_scenario: Scenario

    @property
    def extra_head_hours(self) -> float:
        return self.changed.head_hours - self.base.head_hours


def staffing_plan(scenario: Scenario) -> StaffingPlan:
    """Required agents and scheduled heads for every interval of ``scenario``."""
    if not scenario.arrivals:
        raise WorkforceInputError("The scenario has no intervals to staff.")
    rows = []
    # Identical intervals (often runs of zeros) are common; reuse their answer.
    cache: dict[float, tuple[int, QueueMetrics]] = {}
    for index, arrivals in enumerate(scenario.arrivals):
        if arrivals not in cache:
            load = CallLoad(
                arrivals=arrivals,
                interval_seconds=scenario.interval_seconds,
                aht_seconds=scenario.aht_seconds,
                patience_seconds=scenario.patience_seconds,
            )
            cache[arrivals] = required_agents(load, scenario.target)
        agents, metrics = cache[arrivals]
        rows.append(
            IntervalStaffing(
                index=index,
                arrivals=arrivals,
                agents=agents,
                heads=scheduled_heads(agents, scenario.shrinkage),
                metrics=metrics,
            )
        )
    return StaffingPlan(intervals=tuple(rows), interval_seconds=scenario.interval_seconds)


def what_if(base: Scenario, change: ScenarioChange) -> WhatIf:
    """Both plans, base and changed, for a side-by-side comparison."""
    if not change.volume_factor >= 0 or not math.isfinite(change.volume_factor):
        raise WorkforceInputError(
            f"The volume factor must be 0 or more (got {change.volume_factor})."
        )
    changed = replace(
        base,
        arrivals=tuple(value * change.volume_factor for value in base.arrivals),
        aht_seconds=base.aht_seconds if change.aht_seconds is None else change.aht_seconds,
        target=base.target if change.target is None else change.target,
        shrinkage=base.shrinkage if change.shrinkage is None else change.shrinkage,
        patience_seconds=(
            base.patience_seconds if change.patience_seconds is None else change.patience_seconds
        ),
    )
    return WhatIf(
        base=staffing_plan(base),
        changed=staffing_plan(changed),
        base_scenario=base,
        changed_scenario=changed,
    )


def parse_agent_range(text: str) -> range:
    try:
        if "-" in text:
            first_text, last_text = text.split("-", 1)
            first, last = int(first_text), int(last_text)
        else:
            first = last = int(text)
    except ValueError:
        raise WorkforceInputError(
            f"--agents must be a number or a range like 10-16 (got {text!r})."
        ) from None
    if first < 0 or last < first:
        raise WorkforceInputError(
            f"--agents must be a rising range of non-negative numbers (got {text!r})."
        )
    if last - first > 10_000:
        raise WorkforceInputError("--agents spans more than 10,000 rows; narrow the range.")
    return range(first, last + 1)


def staffing_row(metrics: QueueMetrics) -> dict[str, float | int | None]:
    # These keys are a public interface for scripts: keep them stable.
    return {
        "agents": metrics.agents,
        "p_wait": metrics.p_wait,
        "service_level": metrics.service_level,
        "asa_seconds": metrics.asa_seconds if math.isfinite(metrics.asa_seconds) else None,
        "p_abandon": metrics.p_abandon,
        "occupancy": metrics.occupancy,
    }


def staffing_table(
    call_load: CallLoad, target: StaffingTarget, agents: str | None = None, *, spread: int = 3
) -> tuple[int, list[QueueMetrics]]:
    """The required number of agents and the metrics for each head count around it (or for
    ``agents``, e.g. "10-16"): the table `skranke wfm staffing` and the API print."""
    required, _ = required_agents(call_load, target)
    if agents:
        agent_range = parse_agent_range(agents)
    else:
        agent_range = range(max(0, required - spread), required + spread + 1)
    rows = [queue_metrics(n, call_load, target.target_seconds, target.basis) for n in agent_range]
    return required, rows
