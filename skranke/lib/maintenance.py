"""Keeping the database's query planner informed.

SQLite collects no statistics by itself: after a bulk load (the demo data, an import) the
planner guesses, and at a million cases a wrong guess is a full scan per queue page
(docs/benchmarks.md). PostgreSQL's autovacuum analyses changed tables on its own; after a bulk
load we still analyse at once rather than wait for it.
"""

from __future__ import annotations

import time

from django.db import DEFAULT_DB_ALIAS, connections
from django.tasks import task


def analyze(using: str = DEFAULT_DB_ALIAS) -> float:
    """Fresh planner statistics for every table (seconds taken); for after a bulk load."""
    started = time.perf_counter()
    with connections[using].cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def optimize(using: str = DEFAULT_DB_ALIAS) -> None:
    """SQLite's own periodic upkeep: re-analyse the tables whose statistics have gone stale.

    ``0x10002`` asks SQLite ≥ 3.46 to look at every table, not only those this connection has
    queried, and to re-analyse a table once its size has changed tenfold since the last
    ANALYZE: cheap when nothing changed, which is nearly always. Older SQLite releases ignore
    the ``0x10000`` bit and only consider tables this connection has used.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return  # PostgreSQL: autovacuum analyses by itself.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA optimize=0x10002")


@task()
def optimize_database() -> None:
    optimize()
