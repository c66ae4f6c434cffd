"""Planner statistics: ANALYZE after bulk loads, SQLite's periodic optimize on the schedule."""

from __future__ import annotations

import pytest
from django.db import connection

from skranke.lib import maintenance
from skranke.lib.scheduler import PERIODIC


@pytest.mark.django_db
def test_analyze_writes_statistics():
    assert maintenance.analyze() >= 0
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_optimize_runs_on_every_backend():
    maintenance.optimize()  # PRAGMA optimize on SQLite, nothing on PostgreSQL


def test_optimize_is_scheduled():
    paths = {job.task_path for job in PERIODIC}
    assert "skranke.lib.maintenance.optimize_database" in paths
