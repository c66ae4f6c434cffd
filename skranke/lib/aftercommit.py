"""Collect work during a transaction and do it once, after commit.

A reply that also changes the status touches a case twice; the browsers and the search index
should hear about it once. ``batch_for_transaction`` hands out one batch object per transaction
(per savepoint-surviving ``on_commit`` registration) and runs ``flush(batch)`` after commit.
Outside a transaction the work is done at once.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def batch_for_transaction[B](
    name: str, factory: Callable[[], B], flush: Callable[[B], None], *, robust: bool = True
) -> tuple[B, bool]:
    """Return ``(batch, deferred)``. When ``deferred`` is False there is no transaction and the
    caller must flush the batch itself after filling it."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        return factory(), False
    attr = f"_skranke_batch_{name}"
    current = getattr(conn, attr, None)
    # The callback leaves run_on_commit when it has run or its savepoint was rolled back;
    # either way a fresh batch starts.
    if current is not None and any(func is current[1] for _, func, _ in conn.run_on_commit):
        return current[0], True
    batch = factory()

    def callback() -> None:
        flush(batch)

    setattr(conn, attr, (batch, callback))
    transaction.on_commit(callback, robust=robust)
    return batch, True


def current_batch(name: str) -> object | None:
    """The batch this transaction has collected under ``name`` so far, or None.

    For work that is better done before commit, inside the transaction: the caller empties
    what it has done, and anything added later is still flushed after commit."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        return None
    current = getattr(conn, f"_skranke_batch_{name}", None)
    if current is not None and any(func is current[1] for _, func, _ in conn.run_on_commit):
        return current[0]
    return None


def forget_batches() -> None:
    """Start fresh batches on this connection.

    Tests need it: their fixtures run inside a transaction that never commits, so a batch the
    fixtures opened would otherwise swallow what the test itself does under
    ``django_capture_on_commit_callbacks``.
    """
    conn = transaction.get_connection()
    for attr in [a for a in vars(conn) if a.startswith("_skranke_batch_")]:
        setattr(conn, attr, None)
