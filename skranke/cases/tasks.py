from __future__ import annotations

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from skranke.cases.actions import update_case
from skranke.cases.models import Case, Status


@task()
def reopen_due_follow_ups() -> int:
    """A pending case whose follow-up time has come goes back to the agents as open."""
    now = timezone.now()
    due = Case.objects.filter(status=Status.PENDING, follow_up_at__lte=now)
    count = 0
    for pk in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            # Decide on the locked row: an agent may have changed the case since the list.
            case = due.select_for_update().filter(pk=pk).first()
            if case is not None:
                update_case(case, actor=None, status=Status.OPEN)
                count += 1
    return count
