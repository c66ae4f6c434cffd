"""Named queues, filters, sorting and capped counts for the agent workspace.

Plain functions over ``visible_cases`` so the views, the API and the benchmarks share one
definition of "my open cases". Every queue filters on the leading columns of one of the
composite indexes on ``Case`` and every count is capped, so the cost follows the size of the
queue an agent looks at, never the size of the table.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case as When_
from django.db.models import IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from skranke.accounts.models import User
from skranke.cases.access import visible_cases
from skranke.cases.models import ACTIVE_STATUSES, DONE_STATUSES, Case, Priority, Status
from skranke.search.query import MAX_LIMIT, cases_in_order, search_cases

# Above this many rows a count is shown as "1 000+"; counting further would make the cost grow
# with the table.
COUNT_CAP = 1000
RECENTLY_SOLVED_DAYS = 7


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str | Promise
    empty: str | Promise
    build: Callable[[User], QuerySet[Case]]
    default_sort: str = "updated"
    # A team-wide queue over several statuses whose pages are merged per status (queue_page):
    # always, or only when a filter narrows it.
    merge_statuses: tuple[str, ...] = ()
    merge_unfiltered: bool = False


def _mine(user: User) -> QuerySet[Case]:
    return visible_cases(user).filter(assignee=user, status__in=ACTIVE_STATUSES)


def _unassigned(user: User) -> QuerySet[Case]:
    # "My teams" even for team leads: the queue is about the work waiting for this person.
    return visible_cases(user).filter(
        team__in=user.teams.all(), assignee__isnull=True, status__in=ACTIVE_STATUSES
    )


def _open(user: User) -> QuerySet[Case]:
    return visible_cases(user).filter(status__in=ACTIVE_STATUSES)


def _follow_up(user: User) -> QuerySet[Case]:
    return visible_cases(user).filter(status=Status.PENDING, follow_up_at__lte=timezone.now())


def _solved(user: User) -> QuerySet[Case]:
    since = timezone.now() - timedelta(days=RECENTLY_SOLVED_DAYS)
    return visible_cases(user).filter(status__in=DONE_STATUSES, solved_at__gte=since)


QUEUES: dict[str, Queue] = {
    q.slug: q
    for q in [
        Queue(
            "mine",
            _("My open cases"),
            _("Nothing assigned to you. Take one from the unassigned queue."),
            _mine,
        ),
        Queue(
            "unassigned",
            _("Unassigned in my teams"),
            _("No unassigned cases in your teams."),
            _unassigned,
            merge_statuses=ACTIVE_STATUSES,
            merge_unfiltered=True,
        ),
        Queue(
            "open",
            _("All open"),
            _("No open cases. Enjoy the calm."),
            _open,
            merge_statuses=ACTIVE_STATUSES,
        ),
        Queue(
            "follow_up",
            _("Follow-up due"),
            _("No pending cases are due for follow-up."),
            _follow_up,
            "follow_up",
        ),
        Queue(
            "solved",
            _("Recently solved"),
            _("Nothing solved in the last seven days."),
            _solved,
            "solved",
        ),
    ]
}
DEFAULT_QUEUE = "mine"
RELEVANCE = "relevance"

_PRIORITY_RANK = When_(
    When(priority=Priority.URGENT, then=Value(3)),
    When(priority=Priority.HIGH, then=Value(2)),
    When(priority=Priority.NORMAL, then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)

SORTS: dict[str, tuple[str | Promise, tuple[str, ...]]] = {
    # Only while searching: the search ranks, there is no column to order by.
    RELEVANCE: (_("Relevance"), ()),
    "updated": (_("Last updated"), ("-updated_at", "-id")),
    "created": (_("Newest"), ("-created_at", "-id")),
    "priority": (_("Priority"), ("-priority_rank", "-updated_at", "-id")),
    "number": (_("Number"), ("-number",)),
    "follow_up": (_("Follow-up time"), ("follow_up_at", "id")),
    "solved": (_("Recently solved"), ("-solved_at", "-id")),
}
VISIBLE_SORTS = ("updated", "created", "priority", "number")
# Search text in a queue: how many ranked matches another sort (newest, priority …) reorders.
SEARCH_WINDOW = MAX_LIMIT


def capped_count(queryset: QuerySet[Any], cap: int = COUNT_CAP) -> int:
    """Count up to ``cap + 1`` rows: SELECT COUNT(*) FROM (… LIMIT cap+1)."""
    return queryset.order_by().values("pk")[: cap + 1].count()


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{COUNT_CAP}+" if self.capped else str(self.value)


def count(queryset: QuerySet[Any]) -> Count:
    value = capped_count(queryset)
    return Count(min(value, COUNT_CAP), value > COUNT_CAP)


def queue_counts(user: User) -> list[dict[str, Any]]:
    """The sidebar: every queue with its capped count (one small query each)."""
    return [
        {"slug": q.slug, "label": q.label, "count": count(q.build(user))} for q in QUEUES.values()
    ]


def apply_filters(queryset: QuerySet[Case], filters: dict[str, Any], user: User) -> QuerySet[Case]:
    """Filters come from ``QueueFilterForm.cleaned_data``; empty values are ignored."""
    for field in ("status", "priority", "channel", "type"):
        if filters.get(field):
            queryset = queryset.filter(**{field: filters[field]})
    if filters.get("team"):
        queryset = queryset.filter(team=filters["team"])
    assignee = filters.get("assignee")
    if assignee == "me":
        queryset = queryset.filter(assignee=user)
    elif assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee:
        queryset = queryset.filter(assignee_id=assignee)
    if filters.get("tag"):
        queryset = queryset.filter(tags__name=filters["tag"].strip().lower())
    # The search box (``q``) is not a filter here: see :func:`search_page`.
    return queryset


def sort(queryset: QuerySet[Case], key: str, *, one_priority: bool = False) -> QuerySet[Case]:
    """``one_priority``: the queryset is filtered to a single priority, so the rank is the same
    on every row and the order is the last update's, which an index can give without sorting."""
    if key == "priority" and one_priority:
        key = "updated"
    _label, ordering = SORTS.get(key, SORTS["updated"])
    if key == "priority":
        queryset = queryset.annotate(priority_rank=_PRIORITY_RANK)
    return queryset.order_by(*ordering)


@dataclass
class Page:
    cases: list[Case]
    number: int
    size: int
    total: Count | None  # None for a ranked search, which is not counted
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size + 1 if self.cases else 0

    @property
    def end(self) -> int:
        return self.start + len(self.cases) - 1 if self.cases else 0


def page_of(queryset: QuerySet[Case], number: int, size: int | None = None) -> Page:
    """One page plus a capped total. Fetches ``size + 1`` rows to know if a next page exists."""
    size = size or settings.SKRANKE_QUEUE_PAGE_SIZE
    number = max(1, number)
    offset = (number - 1) * size
    rows = list(_for_list(queryset)[offset : offset + size + 1])
    return Page(
        cases=rows[:size],
        number=number,
        size=size,
        total=count(queryset),
        has_next=len(rows) > size,
    )


# A database walks an index in the sort order only while every column before the sort column
# is pinned to one value, and "status IN (the four active statuses)" is not: the unassigned
# queue and "All open" filtered by channel read and sorted every matching case of the agent's
# teams (7,500 and 12,000 at 1M cases; 20 and 50 ms of SQLite). For these queues the page is
# taken from the first rows of each status, one short ordered index walk each, merged here.
# Unfiltered "All open" is already read in order from ``case_updated`` and a priority filter
# from ``case_status_prio_upd``; there the four extra queries cost more than they save.
_MERGED_SORTS = {"updated": "updated_at", "created": "created_at"}
# Deeper pages are sorted by the database as before: rarely visited, and a merge fetches
# ``depth`` rows per status.
MERGE_DEPTH = 1000


def queue_page(
    queue: Queue,
    queryset: QuerySet[Case],
    sort_key: str,
    number: int,
    *,
    one_priority: bool = False,
    narrowed: bool = False,
) -> Page:
    """A page of a queue (with its filters applied to ``queryset``), sorted by ``sort_key``.

    ``one_priority``: a single priority is filtered; ``narrowed``: another filter (channel,
    type, team, tag) is.
    """
    if sort_key == "priority" and one_priority:
        sort_key = "updated"
    size = settings.SKRANKE_QUEUE_PAGE_SIZE
    number = max(1, number)
    depth = number * size + 1
    column = _MERGED_SORTS.get(sort_key)
    merge = bool(queue.merge_statuses) and (queue.merge_unfiltered or narrowed)
    if not merge or column is None or depth > MERGE_DEPTH:
        return page_of(sort(queryset, sort_key), number, size)
    ordering = SORTS[sort_key][1]
    tops = [
        list(queryset.filter(status=status).order_by(*ordering).values_list(column, "pk")[:depth])
        for status in queue.merge_statuses
    ]
    # (time, id) pairs, newest first: the same order as ORDER BY time DESC, id DESC.
    merged = heapq.merge(*tops, reverse=True)
    ids = [pk for _time, pk in itertools.islice(merged, (number - 1) * size, depth)]
    rows = list(_for_list(queryset.filter(pk__in=ids).order_by(*ordering))) if ids else []
    return Page(
        cases=rows[:size],
        number=number,
        size=size,
        total=count(queryset),
        has_next=len(rows) > size,
    )


def search_page(
    queryset: QuerySet[Case],
    user: User,
    text: str,
    sort_key: str,
    number: int,
    size: int | None = None,
) -> Page:
    """One page of the cases in ``queryset`` (a queue with its filters) that match ``text``.

    Ranked best first by the search index, which applies the queue's filters inside the
    ranking. Another sort reorders the best ``SEARCH_WINDOW`` matches: a search for a common
    word sorted by date shows the relevant cases by date, not every case with that word.
    """
    size = size or settings.SKRANKE_QUEUE_PAGE_SIZE
    number = max(1, number)
    offset = (number - 1) * size
    if sort_key != RELEVANCE:
        ids = search_cases(user, text, limit=SEARCH_WINDOW, within=queryset)
        return page_of(sort(queryset.filter(pk__in=ids), sort_key), number, size)
    ids = search_cases(user, text, limit=size + 1, offset=offset, within=queryset)
    rows = cases_in_order(user, ids[:size], _for_list(queryset))
    return Page(cases=rows, number=number, size=size, total=None, has_next=len(ids) > size)


def _for_list(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.select_related("team", "assignee", "customer").prefetch_related("tags")
