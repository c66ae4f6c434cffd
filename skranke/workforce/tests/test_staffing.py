"""Required agents, shrinkage, written work, chat and what-if comparisons."""

from __future__ import annotations

import math

import pytest

from skranke.workforce.erlang import CallLoad, ServiceLevelBasis, queue_metrics
from skranke.workforce.staffing import (
    Scenario,
    ScenarioChange,
    Shrinkage,
    StaffingTarget,
    TargetUnreachableError,
    WorkforceInputError,
    chat_agents,
    deferred_agents,
    required_agents,
    scheduled_heads,
    staffing_plan,
    what_if,
    workload_agents,
)

CALLS = CallLoad(arrivals=100, interval_seconds=1800, aht_seconds=180)
IMPATIENT = CallLoad(arrivals=100, interval_seconds=1800, aht_seconds=180, patience_seconds=300)


def _smallest_by_scan(load: CallLoad, target: StaffingTarget) -> int:
    # The obvious linear scan, to check the bisection against.
    agents = 0
    while not target.is_met_by(queue_metrics(agents, load, target.target_seconds, target.basis)):
        agents += 1
    return agents


def test_eighty_in_twenty_needs_fourteen_with_erlang_c() -> None:
    # From the reference values: 13 agents give SL < 80 %, 14 give 88.8 %.
    agents, metrics = required_agents(CALLS, StaffingTarget(0.8, 20))
    assert agents == 14
    assert metrics.service_level == pytest.approx(0.88835, abs=1e-5)


def test_erlang_a_needs_thirteen_for_eighty_in_twenty() -> None:
    # Reference: 13 agents reach SL 0.858 when callers have 5 minutes' patience.
    agents, _ = required_agents(IMPATIENT, StaffingTarget(0.8, 20))
    assert agents == 13


@pytest.mark.parametrize(
    "target",
    [
        StaffingTarget(0.8, 20),
        StaffingTarget(0.9, 10, max_occupancy=0.75),
        StaffingTarget(0.5, 30, max_asa_seconds=5),
        StaffingTarget(0.2, 60, max_abandon=0.01),
        StaffingTarget(0.3, 20, basis=ServiceLevelBasis.ANSWERED),
    ],
)
@pytest.mark.parametrize("load", [CALLS, IMPATIENT, CallLoad(700, 900, 420, 90)])
def test_bisection_finds_the_same_answer_as_a_scan(load: CallLoad, target: StaffingTarget) -> None:
    agents, metrics = required_agents(load, target)
    assert agents == _smallest_by_scan(load, target)
    assert target.is_met_by(metrics)


def test_erlang_a_can_staff_below_the_offered_load() -> None:
    heavy = CallLoad(arrivals=1000, interval_seconds=1800, aht_seconds=1800, patience_seconds=60)
    agents, metrics = required_agents(heavy, StaffingTarget(0.2, 20))
    assert agents < heavy.load
    assert metrics.service_level >= 0.2


def test_unreachable_targets_raise() -> None:
    with pytest.raises(TargetUnreachableError, match="100 %"):
        required_agents(CALLS, StaffingTarget(1.0, 20))
    with pytest.raises(TargetUnreachableError, match="abandonment"):
        required_agents(IMPATIENT, StaffingTarget(0.8, 20, max_abandon=0.0))
    assert issubclass(TargetUnreachableError, ValueError)


def test_bad_targets_are_refused() -> None:
    with pytest.raises(WorkforceInputError):
        StaffingTarget(service_level=1.2)
    with pytest.raises(WorkforceInputError):
        StaffingTarget(target_seconds=-1)
    with pytest.raises(WorkforceInputError):
        StaffingTarget(max_occupancy=0)


def test_shrinkage_turns_positions_into_heads() -> None:
    assert scheduled_heads(14, 0.3) == 20  # 14 / 0.7 = 20 exactly, not 21
    assert scheduled_heads(10, 0.2) == 13  # 12.5 rounds up
    assert scheduled_heads(0, 0.35) == 0
    shrinkage = Shrinkage(breaks=0.08, meetings=0.05, training=0.07, sick_leave=0.10)
    assert shrinkage.total == pytest.approx(0.30)
    assert scheduled_heads(14, shrinkage) == 20
    with pytest.raises(WorkforceInputError):
        Shrinkage(breaks=0.6, sick_leave=0.5)
    with pytest.raises(WorkforceInputError):
        scheduled_heads(10, 1.0)


def test_written_work_is_workload_over_window() -> None:
    # 400 emails of 6 minutes within an 8-hour day at 85 % utilisation.
    agents = workload_agents(400, 360, 8 * 3600, utilisation=0.85)
    assert agents == pytest.approx(400 * 360 / (8 * 3600 * 0.85))
    with pytest.raises(WorkforceInputError):
        workload_agents(-1, 360, 3600)


def test_deferred_work_meets_every_deadline_and_no_fewer_would() -> None:
    arrivals = [40, 10, 0, 0, 30, 5, 0, 0]  # emails per hour
    handling, interval, response = 300.0, 3600.0, 2
    agents = deferred_agents(
        arrivals, handling_seconds=handling, interval_seconds=interval, response_intervals=response
    )

    def all_on_time(staff: int) -> bool:
        # Simulate oldest-first work with `staff` agents, hour by hour.
        backlog: list[list[float]] = []  # [deadline, remaining work seconds]
        for hour, count in enumerate(arrivals):
            backlog.append([hour + response, count * handling])
            capacity = staff * interval
            for item in backlog:
                used = min(capacity, item[1])
                item[1] -= used
                capacity -= used
            if any(item[1] > 1e-9 and item[0] <= hour for item in backlog):
                return False
            backlog = [item for item in backlog if item[1] > 1e-9]
        return True

    assert all_on_time(agents)
    assert not all_on_time(agents - 1)


def test_chat_concurrency_divides_slots() -> None:
    chats = CallLoad(arrivals=120, interval_seconds=1800, aht_seconds=600)
    slots, _ = required_agents(chats, StaffingTarget(0.8, 60))
    agents, _ = chat_agents(chats, StaffingTarget(0.8, 60), concurrency=2)
    assert agents == math.ceil(slots / 2)
    with pytest.raises(WorkforceInputError):
        chat_agents(chats, StaffingTarget(), concurrency=0)


def test_plan_and_what_if() -> None:
    base = Scenario(
        arrivals=(0, 20, 60, 100, 60),
        interval_seconds=1800,
        aht_seconds=180,
        target=StaffingTarget(0.8, 20),
        patience_seconds=300,
        shrinkage=0.3,
    )
    plan = staffing_plan(base)
    assert [row.agents for row in plan.intervals][0] == 0
    assert plan.intervals[3].agents == 13
    assert plan.intervals[3].heads == scheduled_heads(13, 0.3)
    comparison = what_if(base, ScenarioChange(volume_factor=1.3, aht_seconds=200))
    assert comparison.changed_scenario.arrivals[3] == pytest.approx(130)
    assert all(
        new.agents >= old.agents
        for new, old in zip(comparison.changed.intervals, comparison.base.intervals, strict=True)
    )
    assert comparison.extra_head_hours > 0
    relaxed = what_if(base, ScenarioChange(target=StaffingTarget(0.6, 30), shrinkage=0.2))
    assert relaxed.changed.head_hours < relaxed.base.head_hours
    with pytest.raises(WorkforceInputError):
        what_if(base, ScenarioChange(volume_factor=-1))
