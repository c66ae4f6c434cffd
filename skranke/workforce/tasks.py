"""The solver runs in the task worker: a week for dozens of agents takes up to the time limit."""

from __future__ import annotations

import logging

from django.tasks import task

from skranke.workforce import actions
from skranke.workforce.erlang import WorkforceInputError
from skranke.workforce.models import RunStatus, Schedule
from skranke.workforce.scheduling import (
    ScheduleInfeasibleError,
    build_schedule,
    problem_from_dict,
    result_to_dict,
)

logger = logging.getLogger(__name__)


@task()
def build_week(schedule_id: int) -> str:
    """Solve one queued schedule and store its result, or why there is none."""
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None or schedule.run_status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return "skipped"
    actions.mark_running(schedule)
    try:
        problem = problem_from_dict(schedule.problem)
        result = build_schedule(problem, time_limit_seconds=schedule.time_limit_seconds)
    except ScheduleInfeasibleError as error:
        actions.mark_failed(schedule, str(error), reasons=error.reasons)
        return "infeasible"
    except (WorkforceInputError, KeyError, TypeError, ValueError) as error:
        actions.mark_failed(schedule, str(error))
        return "failed"
    except Exception as error:
        logger.exception("Schedule %s failed", schedule_id)
        actions.mark_failed(schedule, f"{type(error).__name__}: {error}")
        raise
    actions.store_result(schedule, result_to_dict(result))
    return result.status
