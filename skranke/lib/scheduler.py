"""The one scheduler process: enqueues periodic tasks on their interval.

Only the enqueueing happens here; the work itself runs in the task workers, so the scheduler
stays tiny and a slow job never delays the next tick. Apps register jobs in ``PERIODIC``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    task_path: str  # dotted path of a django.tasks Task
    every_seconds: float


PERIODIC: list[PeriodicJob] = [
    PeriodicJob("skranke.cases.tasks.reopen_due_follow_ups", 60),
    PeriodicJob("skranke.mail.tasks.poll_mailboxes", 60),
    PeriodicJob("skranke.lib.maintenance.optimize_database", 3600),
]


def run_scheduler(stop: threading.Event | None = None, tick_seconds: float = 1.0) -> None:
    stop = stop or threading.Event()
    next_run = {job.task_path: 0.0 for job in PERIODIC}
    logger.info("Scheduler started with %d periodic jobs", len(PERIODIC))
    while not stop.is_set():
        now = time.monotonic()
        for job in PERIODIC:
            if now >= next_run[job.task_path]:
                next_run[job.task_path] = now + job.every_seconds
                try:
                    close_old_connections()
                    import_string(job.task_path).enqueue()
                except Exception:
                    logger.exception("Could not enqueue %s", job.task_path)
        stop.wait(tick_seconds)
