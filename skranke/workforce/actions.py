"""Every change to workforce data goes through these verbs (views, API and tasks alike)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from skranke.accounts.models import User
from skranke.workforce import planning
from skranke.workforce.erlang import WorkforceInputError
from skranke.workforce.models import (
    ForecastAdjustment,
    RunStatus,
    Schedule,
    ScheduledShift,
    ScheduleStatus,
)

# The solver's time limit a team lead may choose (seconds).
MIN_TIME_LIMIT = 1
MAX_TIME_LIMIT = 600


@transaction.atomic
def create_schedule(
    week_start: date, *, actor: User, time_limit_seconds: float = 30, today: date | None = None
) -> Schedule:
    """Build the solver input for the week from the database and enqueue the solver.

    Input that cannot make a problem (no contracts, no forecast…) raises
    ``WorkforceInputError`` here, before anything is saved or queued.
    """
    if not MIN_TIME_LIMIT <= time_limit_seconds <= MAX_TIME_LIMIT:
        raise WorkforceInputError(
            f"The time limit must be between {MIN_TIME_LIMIT} and {MAX_TIME_LIMIT} seconds."
        )
    problem = planning.schedule_problem(
        week_start, time_limit_seconds=time_limit_seconds, today=today
    )
    schedule = Schedule.objects.create(
        week_start=week_start,
        time_limit_seconds=time_limit_seconds,
        problem=problem,
        created_by=actor,
    )
    enqueue_schedule(schedule)
    return schedule


def enqueue_schedule(schedule: Schedule) -> None:
    from skranke.workforce.tasks import build_week

    schedule_id = schedule.pk
    transaction.on_commit(lambda: build_week.enqueue(schedule_id))


def _time(value: str | None) -> time | None:
    return datetime.fromisoformat(value).time() if value else None


@transaction.atomic
def store_result(schedule: Schedule, result: dict[str, Any]) -> None:
    """Save a solver result and replace the schedule's shifts with it."""
    ids: dict[str, int] = schedule.problem.get("skranke", {}).get("agents", {})
    schedule.shifts.all().delete()
    shifts = []
    for name, days in result["schedule"].items():
        for item in days:
            if item is None or name not in ids:
                continue
            start = datetime.fromisoformat(item["start"])
            shifts.append(
                ScheduledShift(
                    schedule=schedule,
                    agent_id=ids[name],
                    date=start.date(),
                    start=start.time(),
                    end=datetime.fromisoformat(item["end"]).time(),
                    break_start=_time(item.get("break_start")),
                    break_end=_time(item.get("break_end")),
                    channel=item["channel"],
                    template=item["template"],
                    paid_hours=item["paid_hours"],
                )
            )
    ScheduledShift.objects.bulk_create(shifts)
    schedule.result = result
    schedule.run_status = RunStatus.DONE
    schedule.solver_status = result["status"]
    schedule.gap = result["gap"]
    schedule.solve_seconds = result["solve_seconds"]
    schedule.reasons = list(result.get("warnings", []))
    schedule.error = ""
    schedule.finished_at = timezone.now()
    schedule.save()


def mark_running(schedule: Schedule) -> None:
    schedule.run_status = RunStatus.RUNNING
    schedule.started_at = timezone.now()
    schedule.save(update_fields=["run_status", "started_at"])


def mark_failed(schedule: Schedule, message: str, *, reasons: list[str] | None = None) -> None:
    schedule.run_status = RunStatus.INFEASIBLE if reasons else RunStatus.FAILED
    schedule.solver_status = "INFEASIBLE" if reasons else ""
    schedule.reasons = reasons or []
    schedule.error = message
    schedule.finished_at = timezone.now()
    schedule.save(update_fields=["run_status", "solver_status", "reasons", "error", "finished_at"])


@transaction.atomic
def publish_schedule(schedule: Schedule, *, actor: User) -> Schedule:
    """Agents see their shifts from now on; a published week replaces an earlier one."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.run_status != RunStatus.DONE:
        raise WorkforceInputError(_("Only a finished schedule can be published."))
    if schedule.status == ScheduleStatus.PUBLISHED:
        return schedule
    Schedule.objects.filter(
        week_start=schedule.week_start, status=ScheduleStatus.PUBLISHED
    ).exclude(pk=schedule.pk).update(status=ScheduleStatus.DRAFT, published_at=None)
    schedule.status = ScheduleStatus.PUBLISHED
    schedule.published_at = timezone.now()
    schedule.save(update_fields=["status", "published_at"])
    return schedule


@transaction.atomic
def add_adjustment(
    *, start: date, end: date, percent: float, channel: str = "", note: str = "", actor: User
) -> ForecastAdjustment:
    if end < start:
        raise WorkforceInputError(_("The adjustment ends before it starts."))
    if percent < -100:
        raise WorkforceInputError(_("Volume cannot fall by more than 100 %."))
    return ForecastAdjustment.objects.create(
        start=start, end=end, percent=percent, channel=channel, note=note, created_by=actor
    )


@transaction.atomic
def remove_adjustment(adjustment: ForecastAdjustment) -> None:
    adjustment.delete()
