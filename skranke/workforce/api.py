"""Workforce planning in the JSON API (``/api/v1/workforce``), for team leads and admins.

Thin handlers over the same code as the pages and the ``skranke wfm`` CLI. Input the maths
refuses (``WorkforceInputError``: negative rates, AHT 0, an unreachable target) is a 422 with
the core's own message; no response ever carries NaN or infinity (JSON has neither).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from skranke.lib.api import InvalidInput, Loc, user_of
from skranke.workforce import actions, planning
from skranke.workforce.access import access_schedule, is_planner
from skranke.workforce.erlang import (
    CallLoad,
    ServiceLevelBasis,
    WorkforceInputError,
)
from skranke.workforce.models import Schedule
from skranke.workforce.staffing import StaffingTarget, staffing_row, staffing_table

router = Router(tags=["workforce"])


def _planner(request: HttpRequest) -> Any:
    user = user_of(request)
    if not is_planner(user):
        raise HttpError(403, "Workforce planning is for team leads and administrators.")
    return user


def _refuse(error: WorkforceInputError, loc: Loc | None = None) -> InvalidInput:
    return InvalidInput(loc or ["body"], str(error), "workforce_input")


class StaffingIn(Schema):
    """The inputs of ``skranke wfm staffing``."""

    arrivals: float = Field(..., allow_inf_nan=False, description="contacts in the interval")
    interval_minutes: float = Field(30.0, allow_inf_nan=False)
    aht_seconds: float = Field(..., allow_inf_nan=False, description="average handling time")
    target_seconds: float = Field(20.0, allow_inf_nan=False)
    service_level: float = Field(0.8, allow_inf_nan=False, description="fraction, e.g. 0.8")
    patience_seconds: float | None = Field(
        None, allow_inf_nan=False, description="mean patience; switches to Erlang A"
    )
    basis: Literal["offered", "answered"] = "offered"
    agents: str | None = Field(None, description="agent count or range, e.g. 14 or 10-16")


class StaffingRow(Schema):
    agents: int
    p_wait: float
    service_level: float
    asa_seconds: float | None
    p_abandon: float
    occupancy: float


class StaffingOut(Schema):
    model: str
    offered_load: float
    required_agents: int
    rows: list[StaffingRow]


@router.post("/staffing", response=StaffingOut, url_name="workforce_staffing")
def staffing(request: HttpRequest, payload: StaffingIn) -> dict[str, Any]:
    """Service level, ASA, abandonment and occupancy per number of agents, and the smallest
    number that meets the target; the rows have the CLI's stable ``--json`` keys."""
    _planner(request)
    try:
        call_load = CallLoad(
            arrivals=payload.arrivals,
            interval_seconds=payload.interval_minutes * 60,
            aht_seconds=payload.aht_seconds,
            patience_seconds=payload.patience_seconds,
        )
        target = StaffingTarget(
            service_level=payload.service_level,
            target_seconds=payload.target_seconds,
            basis=ServiceLevelBasis(payload.basis),
        )
        required, metrics = staffing_table(call_load, target, payload.agents)
        rows = [staffing_row(m) for m in metrics]
    except WorkforceInputError as error:
        raise _refuse(error) from None
    return {
        "model": "erlang_a" if payload.patience_seconds is not None else "erlang_c",
        "offered_load": call_load.load,
        "required_agents": required,
        "rows": rows,
    }


class ForecastQuery(Schema):
    channel: str
    horizon: int = Field(14, ge=1, le=56)


class ForecastDay(Schema):
    date: date
    contacts: float
    holiday: str | None


class ForecastOut(Schema):
    channel: str
    method: str
    wape: float | None
    wape_by_method: dict[str, float | None]
    history: dict[str, int]
    days: list[ForecastDay]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@router.get("/forecast", response=ForecastOut, url_name="workforce_forecast")
def forecast(request: HttpRequest, filters: Query[ForecastQuery]) -> dict[str, Any]:
    """Daily forecast for a channel, with the model chosen by back-test WAPE."""
    _planner(request)
    channels = dict(planning.channel_choices())
    if filters.channel not in channels:
        raise InvalidInput(
            ["query", "channel"],
            f"Unknown or unplanned channel {filters.channel!r}; planned: "
            + ", ".join(sorted(channels))
            + ".",
            "unknown_channel",
        )
    today = timezone.localdate()
    result = planning.forecast_channel(
        filters.channel, until=today + timedelta(days=filters.horizon - 1)
    )
    if result.daily is None:
        message = (
            "No cases in this channel yet to forecast from."
            if result.error == "no_history"
            else result.error
        )
        raise InvalidInput(["query", "channel"], message, "workforce_input")
    daily = result.daily
    return {
        "channel": filters.channel,
        "method": str(daily.method),
        "wape": _finite(daily.wape),
        "wape_by_method": {str(k): _finite(v) for k, v in daily.wape_by_method.items()},
        "history": {day.isoformat(): count for day, count in sorted(result.history.items())},
        "days": [
            {"date": day, "contacts": value, "holiday": daily.holidays.get(day)}
            for day, value in sorted(daily.values.items())
        ],
    }


class ScheduleIn(Schema):
    week_start: date = Field(..., description="a Monday")
    time_limit_seconds: float = Field(
        30, ge=actions.MIN_TIME_LIMIT, le=actions.MAX_TIME_LIMIT, allow_inf_nan=False
    )


class ShiftOut(Schema):
    agent_id: int
    agent: str
    date: date
    start: str
    end: str
    break_start: str | None
    break_end: str | None
    channel: str
    paid_hours: float


class ScheduleOut(Schema):
    id: int
    week_start: date
    status: str
    run_status: str
    solver_status: str
    gap: float | None
    solve_seconds: float | None
    time_limit_seconds: float
    reasons: list[str]
    error: str
    shifts: list[ShiftOut]


def _schedule_out(schedule: Schedule) -> dict[str, Any]:
    shifts = schedule.shifts.select_related("agent").order_by("date", "start", "agent__name")
    return {
        "id": schedule.pk,
        "week_start": schedule.week_start,
        "status": schedule.status,
        "run_status": schedule.run_status,
        "solver_status": schedule.solver_status,
        "gap": schedule.gap,
        "solve_seconds": schedule.solve_seconds,
        "time_limit_seconds": schedule.time_limit_seconds,
        "reasons": schedule.reasons,
        "error": schedule.error,
        "shifts": [
            {
                "agent_id": shift.agent_id,
                "agent": str(shift.agent),
                "date": shift.date,
                "start": f"{shift.start:%H:%M}",
                "end": f"{shift.end:%H:%M}",
                "break_start": f"{shift.break_start:%H:%M}" if shift.break_start else None,
                "break_end": f"{shift.break_end:%H:%M}" if shift.break_end else None,
                "channel": shift.channel,
                "paid_hours": shift.paid_hours,
            }
            for shift in shifts
        ],
    }


@router.post("/schedules", response={202: ScheduleOut}, url_name="workforce_schedule_create")
def create_schedule(request: HttpRequest, payload: ScheduleIn) -> Status[dict[str, Any]]:
    """Build the week's solver input from the database and queue the solver; poll
    ``GET /schedules/{id}`` until ``run_status`` is ``done``, ``infeasible`` or ``failed``."""
    user = _planner(request)
    try:
        schedule = actions.create_schedule(
            payload.week_start, actor=user, time_limit_seconds=payload.time_limit_seconds
        )
    except WorkforceInputError as error:
        raise _refuse(error, ["body", "week_start"]) from None
    return Status(202, _schedule_out(schedule))


@router.get("/schedules/{schedule_id}", response=ScheduleOut, url_name="workforce_schedule")
def get_schedule(request: HttpRequest, schedule_id: int) -> dict[str, Any]:
    user = _planner(request)
    return _schedule_out(access_schedule(user, schedule_id))
