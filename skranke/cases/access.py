"""The one way to read protected cases. Views and API handlers never query ``Case`` directly."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from skranke.accounts.models import User
from skranke.cases.models import Case


def visible_cases(user: User) -> QuerySet[Case]:
    """Cases the user may see: team leads and admins see all, agents their teams' cases."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    cases = Case.objects.all()
    if user.sees_all_teams:
        return cases
    return cases.filter(team__in=user.teams.all())


def can_write_case(user: User, case: Case) -> bool:
    if user.sees_all_teams:
        return True
    return user.teams.filter(pk=case.team_id).exists()


def access_case(user: User, number: int, *, write: bool = False) -> Case:
    """Fetch a case by its number, or 404 if the user may not see it.

    A forbidden case is reported as missing, so numbers of other teams' cases don't leak.
    Every agent who can see a case may also work on it; ``write`` is kept for the day a
    read-only role arrives, and so call sites say what they intend.
    """
    case = (
        visible_cases(user)
        .select_related("team", "assignee", "customer", "organisation", "category")
        .filter(number=number)
        .first()
    )
    if case is None or (write and not can_write_case(user, case)):
        raise Http404("No such case")
    return case
