"""CP-SAT scheduling on small weeks: optimality, Norwegian rest rules, explanations, exports."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from skranke.workforce import cli
from skranke.workforce.erlang import CallLoad, WorkforceInputError, queue_metrics
from skranke.workforce.scheduling import (
    ScheduleInfeasibleError,
    ScheduleResult,
    build_schedule,
    coverage_to_csv,
    load_problem,
    problem_from_dict,
    schedule_to_csv,
    schedule_to_ics,
    write_ics_dir,
    write_xlsx,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "week.json"
MONDAY = date(2025, 6, 2)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _flat(value: int, start: str, slots: int) -> dict[str, Any]:
    return {"start": start, "values": [value] * slots}


def _problem(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "week_start": MONDAY.isoformat(),
        "interval_minutes": 60,
        "opening_hours": {day: ["06:00", "22:00"] for day in DAYS},
        "rules": {"max_weekly_hours": 48},
        "templates": [
            {"name": "early", "start": "06:00", "length_minutes": 480},
            {"name": "late", "start": "14:00", "length_minutes": 480},
        ],
        "agents": [],
        "channels": {"phone": {"required": {}}},
        "time_limit_seconds": 5,
    }
    base.update(overrides)
    return base


def _rest_violations(result: ScheduleResult) -> list[str]:
    """Check the Norwegian rules on the finished grid, independently of the model."""
    problems = []
    for name, items in result.grid.items():
        for first, second in itertools.pairwise(items):
            if first and second and (second.start - first.end) < timedelta(hours=11):
                problems.append(f"{name}: daily rest {first.end} → {second.start}")
        week_start = datetime.combine(result.problem.week_start, datetime.min.time())
        edges = (
            [week_start]
            + [moment for item in items if item for moment in (item.start, item.end)]
            + [week_start + timedelta(days=7)]
        )
        gaps = [edges[i + 1] - edges[i] for i in range(0, len(edges), 2)]
        if max(gaps) < timedelta(hours=35):
            problems.append(f"{name}: no 35-hour weekly rest")
    return problems


def test_small_week_is_optimal_against_brute_force() -> None:
    # Three open days so every combination can be enumerated: 3 agents × 3^3 choices.
    raw = _problem(
        opening_hours={
            "mon": ["06:00", "22:00"],
            "tue": ["06:00", "22:00"],
            "wed": ["06:00", "22:00"],
        },
        agents=[
            {"name": "A", "channels": ["phone"], "contract_hours": 16},
            {"name": "B", "channels": ["phone"], "contract_hours": 16, "hours_tolerance": 8},
            {"name": "C", "channels": ["phone"], "contract_hours": 8, "hours_tolerance": 8},
        ],
        channels={
            "phone": {
                "required": {
                    "mon": {"start": "06:00", "values": [2] * 8 + [1] * 8},
                    "tue": {"start": "06:00", "values": [1] * 8 + [2] * 8},
                    "wed": {"start": "06:00", "values": [1] * 16},
                }
            }
        },
    )
    problem = problem_from_dict(raw)
    result = build_schedule(problem)
    assert result.status == "OPTIMAL"
    assert result.gap == 0.0

    required = {
        (d, h): (raw["channels"]["phone"]["required"][DAYS[d]]["values"][h - 6])
        for d in range(3)
        for h in range(6, 22)
    }
    windows = {"early": range(6, 14), "late": range(14, 22), None: range(0)}
    bands = {"A": (16, 16), "B": (8, 24), "C": (0, 16)}
    best = None
    options = list(itertools.product(["early", "late", None], repeat=3))
    for combo in itertools.product(options, repeat=3):
        ok = True
        for name, week in zip("ABC", combo, strict=True):
            hours = 8 * sum(1 for shift in week if shift)
            if not bands[name][0] <= hours <= bands[name][1]:
                ok = False
            if any(a == "late" and b == "early" for a, b in itertools.pairwise(week)):
                ok = False  # 22:00 → 06:00 is 8 h, less than the 11-hour daily rest
        if not ok:
            continue
        penalty = 0
        for (d, h), need in required.items():
            have = sum(1 for week in combo if h in windows[week[d]])
            penalty += 10 * max(0, need - have) + max(0, have - need)
        best = penalty if best is None else min(best, penalty)
    assert result.staffing_penalty == best
    assert _rest_violations(result) == []


def test_daily_rest_forbids_late_then_early() -> None:
    raw = _problem(
        agents=[{"name": "Kari", "channels": ["phone"], "contract_hours": 16}],
        channels={
            "phone": {
                "required": {
                    "mon": {"start": "14:00", "values": [1] * 8},
                    "tue": {"start": "06:00", "values": [1] * 8},
                }
            }
        },
    )
    result = build_schedule(problem_from_dict(raw))
    monday, tuesday = result.grid["Kari"][0], result.grid["Kari"][1]
    assert not (monday and tuesday and monday.template == "late" and tuesday.template == "early")
    assert result.staffing_penalty > 0
    assert _rest_violations(result) == []


def test_weekly_rest_moves_the_day_off_inside_the_week() -> None:
    # Six 09–17 shifts with demand Mon–Sat: without the 35-hour rule Sunday would be free,
    # but Saturday 17:00 → Sunday 24:00 is only 31 h inside the week, so a weekday must go.
    raw = _problem(
        opening_hours={day: ["09:00", "17:00"] for day in DAYS},
        templates=[{"name": "day", "start": "09:00", "length_minutes": 480}],
        agents=[{"name": "Ola", "channels": ["phone"], "contract_hours": 48}],
        channels={"phone": {"required": {day: _flat(1, "09:00", 8) for day in DAYS[:6]}}},
    )
    result = build_schedule(problem_from_dict(raw))
    week = result.grid["Ola"]
    assert week[6] is not None
    assert week[0] is not None  # Monday off would give only 24 + 9 = 33 h
    assert sum(1 for item in week if item is None) == 1
    assert _rest_violations(result) == []


def test_impossible_contract_is_explained_before_solving() -> None:
    raw = _problem(
        templates=[{"name": "short", "start": "09:00", "length_minutes": 240}],
        agents=[
            {
                "name": "Ingrid",
                "channels": ["phone"],
                "contract_hours": 37.5,
                "availability": {day: None for day in ("thu", "fri", "sat", "sun")},
            }
        ],
    )
    with pytest.raises(ScheduleInfeasibleError, match="Ingrid must work at least 37.5 h") as info:
        build_schedule(problem_from_dict(raw))
    assert "12 h" in str(info.value)


def test_rule_conflict_is_explained_by_the_solver() -> None:
    # Monday only late, Tuesday only early, and the contract needs both: 8 h rest < 11 h.
    raw = _problem(
        agents=[
            {
                "name": "Lars",
                "channels": ["phone"],
                "contract_hours": 16,
                "availability": {
                    "mon": ["14:00", "22:00"],
                    "tue": ["06:00", "14:00"],
                    "wed": None,
                    "thu": None,
                    "fri": None,
                    "sat": None,
                    "sun": None,
                },
            }
        ],
    )
    with pytest.raises(ScheduleInfeasibleError) as info:
        build_schedule(problem_from_dict(raw))
    assert any("daily rest of Lars" in reason for reason in info.value.reasons)


def test_no_agents_is_refused() -> None:
    with pytest.raises(WorkforceInputError, match="no agents"):
        problem_from_dict(_problem(agents=[]))


def test_expected_service_per_interval_uses_the_scheduled_heads() -> None:
    raw = _problem(
        agents=[
            {"name": f"Agent {i}", "channels": ["phone"], "contract_hours": 8, "hours_tolerance": 8}
            for i in range(3)
        ],
        channels={
            "phone": {
                "aht_seconds": 300,
                "patience_seconds": 120,
                "service_level": 0.8,
                "target_seconds": 20,
                "arrivals": {"mon": _flat(20, "06:00", 8)},
            }
        },
    )
    result = build_schedule(problem_from_dict(raw))
    monday = [row for row in result.intervals if row.start.date() == MONDAY and row.metrics]
    assert monday
    for row in monday:
        load = CallLoad(row.metrics.load * 3600 / 300, 3600, 300, 120)  # type: ignore[union-attr]
        expected = queue_metrics(row.scheduled, load, 20)
        assert row.metrics.service_level == pytest.approx(expected.service_level)  # type: ignore[union-attr]
    # 20 calls/h × 300 s = 1.67 Erlang; the staffing step asks for 3 heads in the early block.
    assert max(row.required for row in monday) == 3


@pytest.fixture(scope="module")
def example_result() -> ScheduleResult:
    return build_schedule(load_problem(EXAMPLE), time_limit_seconds=20)


def test_example_week_respects_rules_and_contracts(example_result: ScheduleResult) -> None:
    result = example_result
    assert result.status in {"OPTIMAL", "FEASIBLE"}
    assert _rest_violations(result) == []
    for agent in result.problem.agents:
        hours = result.hours(agent.name)
        assert agent.contract_hours - agent.hours_tolerance - 1e-9 <= hours
        assert hours <= min(agent.contract_hours + agent.hours_tolerance, 40) + 1e-9
        for day, item in enumerate(result.grid[agent.name]):
            if item:
                assert item.channel in agent.channels
                assert result.problem.day(day) not in agent.days_off
                window = agent.availability.get(day, (0, 1440))
                assert window is not None
                assert window[0] <= item.start.hour * 60 + item.start.minute
                assert item.end.hour * 60 + item.end.minute <= window[1]
    # Ingrid asked for Wednesday 4 June off; Nora never works weekends.
    assert result.grid["Ingrid Berg"][2] is None
    assert result.grid["Nora Larsen"][5] is None and result.grid["Nora Larsen"][6] is None


def test_exports(example_result: ScheduleResult, tmp_path: Path) -> None:
    grid = list(csv.reader(io.StringIO(schedule_to_csv(example_result))))
    assert grid[0][0] == "agent" and grid[0][1] == "2025-06-02"
    assert len(grid) == 1 + len(example_result.grid)
    coverage = list(csv.DictReader(io.StringIO(coverage_to_csv(example_result))))
    assert {row["channel"] for row in coverage} == {"phone", "email"}

    workbook_path = tmp_path / "week.xlsx"
    write_xlsx(example_result, workbook_path)
    book = load_workbook(workbook_path)
    assert book.sheetnames == ["Schedule", "Coverage", "Summary"]
    assert book["Schedule"].cell(2, 1).value == grid[1][0]

    ics = schedule_to_ics(example_result, "Kari Nordmann", stamp=datetime(2025, 5, 1))
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert all(len(line.encode()) <= 75 for line in lines)
    shifts = [item for item in example_result.grid["Kari Nordmann"] if item]
    assert ics.count("BEGIN:VEVENT") == len(shifts)
    first = shifts[0]
    # Oslo is UTC+2 in June.
    assert f"DTSTART:{first.start - timedelta(hours=2):%Y%m%dT%H%M%S}Z" in ics
    files = write_ics_dir(example_result, tmp_path / "ics")
    assert len(files) == len(example_result.grid)


def test_cli_schedule_json_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xlsx = tmp_path / "out.xlsx"
    code = cli.main(
        [
            "schedule", str(EXAMPLE), "--time-limit", "20", "--json",
            "--xlsx", str(xlsx), "--ics-dir", str(tmp_path / "ics"),
        ]
    )  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"status", "gap", "schedule", "intervals", "solve_seconds"}
    assert xlsx.exists()
    assert len(list((tmp_path / "ics").glob("*.ics"))) == len(data["schedule"])


def test_cli_schedule_from_csv_demand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup = _problem(
        agents=[{"name": "Emil", "channels": ["phone"], "contract_hours": 8}],
        channels={},
    )
    setup_path = tmp_path / "setup.json"
    setup_path.write_text(json.dumps(setup))
    demand = tmp_path / "demand.csv"
    demand.write_text(
        "channel,weekday,time,required\n"
        + "".join(f"phone,tue,{hour:02d}:00,1\n" for hour in range(14, 22))
    )
    assert cli.main(["schedule", str(demand), "--setup", str(setup_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schedule"]["Emil"][1]["template"] == "late"
    assert data["staffing_penalty"] == 0
    assert cli.main(["schedule", str(demand)]) == 2
    assert "--setup" in capsys.readouterr().err
