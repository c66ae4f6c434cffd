"""One long-lived event loop per process for sync code that must await something.

``async_to_sync`` outside an event loop starts a new loop in a new thread on every call, and
channels_redis opens its connections per loop: a broadcast from a worker or the mail pipe then
paid for a thread, a loop and a fresh Redis connection each time. Coroutines run here share one
loop in a daemon thread, so connections are opened once and reused.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_owner_pid: int | None = None


def _running_loop() -> asyncio.AbstractEventLoop:
    global _loop, _owner_pid
    with _lock:
        # A forked child inherits the variable but not the thread: start its own.
        if _loop is None or _owner_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=loop.run_forever, name="skranke-event-loop", daemon=True
            ).start()
            _loop, _owner_pid = loop, os.getpid()
        return _loop


def run[T](coroutine: Coroutine[Any, Any, T], *, timeout: float = 10.0) -> T:
    """Run ``coroutine`` on the shared loop and wait for its result (or its exception)."""
    future = asyncio.run_coroutine_threadsafe(coroutine, _running_loop())
    return future.result(timeout)
