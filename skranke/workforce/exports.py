"""Downloads of a schedule (CSV, XLSX, iCalendar) through the core's own exporters.

The shifts in the database are the truth (a published week is what agents work), so the core's
``ScheduleResult`` is rebuilt from them and from the stored per-interval coverage, and then
``schedule_to_csv``, ``write_xlsx`` and ``schedule_to_ics`` write the files.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from skranke.workforce.erlang import QueueMetrics, ServiceLevelBasis
from skranke.workforce.history import local_zone
from skranke.workforce.models import Schedule, ScheduledShift
from skranke.workforce.scheduling import (
    Assignment,
    IntervalCoverage,
    ScheduleProblem,
    ScheduleResult,
    schedule_to_csv,
    schedule_to_ics,
    write_xlsx,
)

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ICS_TYPE = "text/calendar; charset=utf-8"


def _assignment(shift: ScheduledShift) -> Assignment:
    def at(value: object) -> datetime | None:
        return datetime.combine(shift.date, value) if value is not None else None  # type: ignore[arg-type]

    return Assignment(
        template=shift.template,
        channel=shift.channel,
        start=datetime.combine(shift.date, shift.start),
        end=datetime.combine(shift.date, shift.end),
        break_start=at(shift.break_start),
        break_end=at(shift.break_end),
        paid_hours=shift.paid_hours,
    )


def _stored_metrics(row: dict[str, object]) -> QueueMetrics | None:
    level = row.get("service_level")
    if level is None:
        return None
    asa = row.get("asa_seconds")
    return QueueMetrics(
        model="stored",
        agents=int(row.get("scheduled") or 0),  # type: ignore[call-overload]
        load=0.0,
        target_seconds=0.0,
        basis=ServiceLevelBasis.OFFERED,
        p_wait=0.0,
        service_level=float(level),  # type: ignore[arg-type]
        asa_seconds=math.inf if asa is None else float(asa),  # type: ignore[arg-type]
        expected_wait_seconds=math.inf,
        p_abandon=float(row.get("p_abandon") or 0.0),  # type: ignore[arg-type]
        occupancy=0.0,
        queue_length=0.0,
    )


def rebuild_result(
    schedule: Schedule, shifts: Iterable[ScheduledShift] | None = None
) -> ScheduleResult:
    """The core result of ``schedule`` from its (possibly filtered) shifts."""
    if shifts is None:
        shifts = schedule.shifts.select_related("agent")
    problem = ScheduleProblem(
        week_start=schedule.week_start,
        interval_minutes=int(schedule.problem.get("interval_minutes", 15)),
        opening_hours={},
        templates=(),
        agents=(),
        demand={},
        timezone=str(schedule.problem.get("timezone") or local_zone()),
    )
    grid: dict[str, list[Assignment | None]] = {}
    for shift in shifts:
        name = shift.agent.name or shift.agent.email
        days = grid.setdefault(name, [None] * 7)
        days[(shift.date - schedule.week_start).days] = _assignment(shift)
    intervals = [
        IntervalCoverage(
            channel=str(row["channel"]),
            start=datetime.fromisoformat(str(row["start"])),
            required=int(row["required"]),
            scheduled=int(row["scheduled"]),
            metrics=_stored_metrics(row),
        )
        for row in schedule.result.get("intervals", [])
    ]
    return ScheduleResult(
        problem=problem,
        grid=dict(sorted(grid.items())),
        intervals=intervals,
        status=schedule.solver_status,
        staffing_penalty=int(schedule.result.get("staffing_penalty", 0)),
        staffing_bound=float(schedule.result.get("staffing_bound", 0.0)),
        cost=float(schedule.result.get("cost", 0.0)),
        cost_bound=0.0,
        solve_seconds=schedule.solve_seconds or 0.0,
        warnings=list(schedule.reasons),
    )


def schedule_csv(schedule: Schedule) -> str:
    return schedule_to_csv(rebuild_result(schedule))


def schedule_xlsx(schedule: Schedule) -> bytes:
    with TemporaryDirectory() as directory:
        path = Path(directory) / "schedule.xlsx"
        write_xlsx(rebuild_result(schedule), path)
        return path.read_bytes()


def agent_ics(shifts: Iterable[ScheduledShift]) -> str:
    """One calendar with the given shifts of one agent, across any number of weeks."""
    by_schedule: dict[int, list[ScheduledShift]] = {}
    schedules: dict[int, Schedule] = {}
    for shift in shifts:
        by_schedule.setdefault(shift.schedule_id, []).append(shift)
        schedules[shift.schedule_id] = shift.schedule
    header: list[str] = []
    events: list[str] = []
    for schedule_id, items in by_schedule.items():
        result = rebuild_result(schedules[schedule_id], items)
        for name in result.grid:
            text = schedule_to_ics(result, name)
            lines = text.split("\r\n")
            first = lines.index("BEGIN:VEVENT") if "BEGIN:VEVENT" in lines else len(lines) - 2
            header = header or lines[:first]
            events += [line for line in lines[first:] if line and line != "END:VCALENDAR"]
    if not header:
        header = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Skranke//Workforce schedule//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
        ]
    buffer = io.StringIO()
    for line in [*header, *events, "END:VCALENDAR"]:
        buffer.write(line + "\r\n")
    return buffer.getvalue()
