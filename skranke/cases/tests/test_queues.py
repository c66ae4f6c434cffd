"""Queue pages merged per status list the same cases, in the same order, as one sorted query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from skranke.cases import queues
from skranke.cases.actions import create_case
from skranke.cases.models import Case, Status


@pytest.fixture
def spread(customer, team):
    """Twelve cases over the active statuses and two channels, updated a minute apart."""
    statuses = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED]
    now = timezone.now()
    for i in range(12):
        case = create_case(
            customer=customer,
            subject=f"Sak {i}",
            team=team,
            channel="email" if i % 3 else "phone",
        )
        # Same instant for two cases, so the id decides between them, as in ORDER BY.
        at = now - timedelta(minutes=i // 2)
        Case.objects.filter(pk=case.pk).update(
            status=statuses[i % len(statuses)], updated_at=at, created_at=at
        )


@pytest.mark.parametrize("slug", ["open", "unassigned"])
@pytest.mark.parametrize("sort_key", ["updated", "created"])
@pytest.mark.parametrize("channel", ["", "email"])
def test_merged_pages_match_one_sorted_query(settings, agent, spread, slug, sort_key, channel):
    settings.SKRANKE_QUEUE_PAGE_SIZE = 3
    queue = queues.QUEUES[slug]
    cases = queues.apply_filters(queue.build(agent), {"channel": channel}, agent)
    for number in (1, 2, 3, 4):
        merged = queues.queue_page(queue, cases, sort_key, number, narrowed=bool(channel))
        plain = queues.page_of(queues.sort(cases, sort_key), number)
        assert [c.pk for c in merged.cases] == [c.pk for c in plain.cases]
        assert merged.has_next == plain.has_next
        assert str(merged.total) == str(plain.total)
