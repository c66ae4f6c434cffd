"""Ranked ("search") pagination: positions, depth, and pages at the search's size cap."""

from __future__ import annotations

import pytest

from skranke.lib.cursors import InvalidCursor, paginate_ranked

RESULTS = list(range(100, 107))  # seven hits, best first


def search(offset: int, count: int, cap: int = 200) -> list[int]:
    return RESULTS[offset : offset + min(count, cap)]


def walk(**options) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = paginate_ranked(cursor=cursor, **options)
        pages.append(page.items)
        cursor = page.next
        if cursor is None:
            return pages


def test_pages_walk_the_ranking_once():
    assert walk(search=search, limit=3, depth=1000) == [[100, 101, 102], [103, 104, 105], [106]]


def test_depth_ends_the_walk():
    assert walk(search=search, limit=3, depth=4) == [[100, 101, 102], [103]]


def test_a_page_at_the_search_cap_cannot_look_ahead():
    # limit + 1 would exceed what the search returns, so a full page always offers a next.
    capped = lambda offset, count: search(offset, count, cap=2)  # noqa: E731
    assert walk(search=capped, limit=2, depth=1000, fetch_cap=2) == [
        [100, 101],
        [102, 103],
        [104, 105],
        [106],
    ]
    assert walk(search=capped, limit=1, depth=1000, fetch_cap=2)[-1] == [106]


@pytest.mark.parametrize("cursor", ["nope", "WyJ4Il0", "eyJvZmZzZXQiOi0xfQ"])
def test_foreign_and_tampered_cursors_are_refused(cursor):
    # ["x"] is a keyset cursor's shape; {"offset":-1} is a tampered one.
    with pytest.raises(InvalidCursor):
        paginate_ranked(search, limit=3, cursor=cursor, depth=1000)
