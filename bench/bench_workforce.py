"""Workforce benchmarks: Erlang A staffing for a week of 15-minute intervals, and a CP-SAT
schedule for 60 named agents with 20 shift templates.

Run: .venv/bin/python bench/bench_workforce.py [--time-limit 60] [--agents 60]
Targets (issue 4): staffing < 1 s; schedule within 60 s with the optimality gap reported.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from typing import Any

from skranke.workforce.scheduling import build_schedule, problem_from_dict
from skranke.workforce.staffing import Scenario, StaffingTarget, staffing_plan

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Daily calls for a mid-sized centre; the weekend is quieter.
DAILY_CALLS = {"mon": 3200, "tue": 2900, "wed": 2800, "thu": 2750, "fri": 2600, "sat": 900,
               "sun": 700}  # fmt: skip


def _shape(open_hour: float, close_hour: float) -> list[float]:
    """Quarter-hour shares of a day's calls: morning peak and a smaller afternoon hump."""
    slots = round((close_hour - open_hour) * 4)
    weights = []
    for index in range(slots):
        hour = open_hour + index / 4 + 0.125
        weights.append(
            1 + 1.5 * math.exp(-(((hour - 10) / 1.3) ** 2)) + math.exp(-(((hour - 14) / 1.6) ** 2))
        )
    total = sum(weights)
    return [weight / total for weight in weights]


def _opening(day: str) -> tuple[float, float]:
    return (9.0, 17.5) if day in ("sat", "sun") else (8.0, 20.0)


def week_of_arrivals() -> list[float]:
    """7 × 96 quarter-hour arrivals, zero while closed."""
    arrivals = []
    for day in DAYS:
        open_hour, close_hour = _opening(day)
        shape = _shape(open_hour, close_hour)
        first = round(open_hour * 4)
        for slot in range(96):
            inside = first <= slot < first + len(shape)
            arrivals.append(round(DAILY_CALLS[day] * shape[slot - first], 1) if inside else 0.0)
    return arrivals


def bench_staffing() -> dict[str, Any]:
    scenario = Scenario(
        arrivals=tuple(week_of_arrivals()),
        interval_seconds=900,
        aht_seconds=240,
        target=StaffingTarget(0.8, 20, max_occupancy=0.9),
        patience_seconds=180,
        shrinkage=0.3,
    )
    started = time.perf_counter()
    plan = staffing_plan(scenario)
    seconds = time.perf_counter() - started
    return {
        "intervals": len(plan.intervals),
        "open_intervals": sum(1 for item in plan.intervals if item.arrivals),
        "seconds": seconds,
        "peak_agents": max(item.agents for item in plan.intervals),
        "agent_hours": plan.agent_hours,
        "head_hours": plan.head_hours,
    }


def schedule_input(agents: int, time_limit: float) -> dict[str, Any]:
    # 20 templates: 13 full days (8 h incl. 30 min unpaid break) starting 08:00–14:00 every
    # half hour, and 7 four-hour shifts.
    templates = [
        {"name": f"full-{8 * 60 + 30 * i:04d}", "start": f"{8 + i // 2:02d}:{30 * (i % 2):02d}",
         "length_minutes": 480, "break_minutes": 30}
        for i in range(13)
    ] + [
        {"name": f"part-{start}", "start": start, "length_minutes": 240}
        for start in ("08:00", "09:00", "10:00", "12:00", "13:00", "15:00", "16:00")
    ]  # fmt: skip
    people = []
    for index in range(agents):
        part_time = index % 4 == 3
        people.append(
            {
                "name": f"Agent {index + 1:02d}",
                "channels": ["phone", "email"] if index % 3 == 0 else ["phone"],
                "contract_hours": 20 if part_time else 37.5,
                "hours_tolerance": 4 if part_time else 0,
                "hourly_cost": 280 if part_time else 300 + index % 5 * 10,
                "availability": {"sat": None, "sun": None} if index % 7 == 6 else {},
            }
        )
    arrivals = week_of_arrivals()
    phone: dict[str, Any] = {}
    email: dict[str, Any] = {}
    for day_index, day in enumerate(DAYS):
        open_hour, close_hour = _opening(day)
        first, last = round(open_hour * 4), round(close_hour * 4)
        phone[day] = {
            "start": f"{int(open_hour):02d}:{int(open_hour % 1 * 60):02d}",
            # Scaled to this roster: 60 people cannot answer a 3,000-call day.
            "values": [value * 0.6 for value in arrivals[day_index * 96 + first : day_index * 96 + last]],
        }  # fmt: skip
        email[day] = {"start": phone[day]["start"], "values": [2] * (last - first)}
    return {
        "week_start": "2025-06-02",
        "interval_minutes": 15,
        "time_limit_seconds": time_limit,
        "opening_hours": {day: [f"{int(_opening(day)[0]):02d}:00",
                                "17:30" if day in ("sat", "sun") else "20:00"] for day in DAYS},
        "templates": templates,
        "agents": people,
        "channels": {
            "phone": {"aht_seconds": 240, "patience_seconds": 180, "service_level": 0.8,
                      "target_seconds": 20, "arrivals": phone},
            "email": {"required": email},
        },
    }  # fmt: skip


def bench_schedule(agents: int, time_limit: float) -> dict[str, Any]:
    started = time.perf_counter()
    problem = problem_from_dict(schedule_input(agents, time_limit))
    prepared = time.perf_counter() - started
    result = build_schedule(problem)
    short = sum(row.under for row in result.intervals)
    required = sum(row.required for row in result.intervals)
    return {
        "agents": len(problem.agents),
        "templates": len(problem.templates),
        "prepare_seconds": prepared,
        "solve_seconds": result.solve_seconds,
        "status": result.status,
        "staffing_penalty": result.staffing_penalty,
        "staffing_bound": result.staffing_bound,
        "gap": result.gap,
        "cost_gap": result.cost_gap,
        "short_head_intervals": short,
        "required_head_intervals": required,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--agents", type=int, default=60)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")

    staffing = bench_staffing()
    print(
        f"staffing (Erlang A, 7 x 96 intervals, {staffing['open_intervals']} open): "
        f"{staffing['seconds'] * 1000:.0f} ms; peak {staffing['peak_agents']} agents, "
        f"{staffing['agent_hours']:.0f} agent-hours, {staffing['head_hours']:.0f} head-hours"
    )
    schedule = bench_schedule(args.agents, args.time_limit)
    print(
        f"schedule ({schedule['agents']} agents, {schedule['templates']} templates, 7 days x "
        f"15 min): {schedule['solve_seconds']:.1f} s solve (+{schedule['prepare_seconds']:.1f} s "
        f"input), {schedule['status']}, staffing penalty {schedule['staffing_penalty']} "
        f"(bound {schedule['staffing_bound']:.0f}, gap {schedule['gap']:.2%}), cost gap "
        f"{schedule['cost_gap']:.2%}, short {schedule['short_head_intervals']} of "
        f"{schedule['required_head_intervals']} required head-intervals"
    )


if __name__ == "__main__":
    main()
