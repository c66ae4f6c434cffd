"""Who may plan, and the one way to fetch schedules and shifts.

Team leads and administrators plan (forecast, staffing, schedules, what-if). Every agent sees
their own shifts once a schedule is published, and nothing else of the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from skranke.accounts.models import Role, User
from skranke.workforce.models import Schedule, ScheduledShift, ScheduleStatus


def is_planner(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in (Role.TEAM_LEAD, Role.ADMIN)


def require_planner(user: User) -> None:
    if not is_planner(user):
        raise PermissionDenied(_("Workforce planning is for team leads and administrators."))


def planner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_planner(request.user)  # type: ignore[arg-type]
        return view(request, *args, **kwargs)

    return wrapper


def access_schedule(user: User, schedule_id: int) -> Schedule:
    """A schedule for a planner, or 403 for anyone else and 404 if there is none."""
    require_planner(user)
    schedule = Schedule.objects.select_related("created_by").filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404("No such schedule")
    return schedule


def own_shifts(user: User) -> QuerySet[ScheduledShift]:
    """The user's shifts in published schedules: all an agent ever sees of the plan."""
    if not user.is_authenticated or not user.is_active:
        return ScheduledShift.objects.none()
    return ScheduledShift.objects.filter(
        agent=user, schedule__status=ScheduleStatus.PUBLISHED
    ).select_related("schedule")
