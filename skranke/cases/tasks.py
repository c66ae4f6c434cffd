from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from skranke.cases.actions import update_case
from skranke.cases.models import Case, Status


@task()
def reopen_due_follow_ups() -> int:
    """A pending case whose follow-up time has come goes back to the agents as open."""
    due = Case.objects.filter(status=Status.PENDING, follow_up_at__lte=timezone.now())
    count = 0
    for case in due.select_related("team")[:500]:
        update_case(case, actor=None, status=Status.OPEN)
        count += 1
    return count
