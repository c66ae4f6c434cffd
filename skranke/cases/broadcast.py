"""Tell open browsers that a case changed.

Payloads carry only ids: each browser re-fetches the fragment it shows, through the same
permission-checked views, so a broadcast can never leak a case to the wrong agent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from skranke.lib import eventloop
from skranke.lib.aftercommit import batch_for_transaction

logger = logging.getLogger(__name__)

ALL_CASES_GROUP = "cases-all"


def team_group(team_id: int) -> str:
    return f"cases-team-{team_id}"


def case_group(case_id: int) -> str:
    return f"case-{case_id}"


def _send(groups: list[str], message: dict[str, object]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    in_memory = isinstance(layer, InMemoryChannelLayer)
    # The in-memory layer reaches only this process's consumers. With none of them in these
    # groups (the mail pipe, a separate worker, a quiet desk) nobody can hear it.
    if in_memory and not any(group in layer.groups for group in groups):
        return

    # One trip into the event loop for all groups: getting there costs far more than a
    # ``group_send`` to the in-memory or Redis layer.
    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, message)

    try:
        if in_memory:
            # Its queues belong to the web server's loop, which ``async_to_sync`` finds from
            # a sync view's thread.
            async_to_sync(send_all)()
        else:
            # Redis: the process's long-lived loop, whose connections are reused.
            eventloop.run(send_all())
    except Exception:  # a broadcast must never break the write that caused it
        logger.exception("Broadcast failed")


# Later kinds win when one transaction touches a case several times ("created" stays first).
_KIND_RANK = {"updated": 0, "message": 1, "merged": 2, "created": 3}


@dataclass
class _Change:
    number: int
    kind: str
    teams: set[int] = field(default_factory=set)


def _flush(pending: dict[int, _Change]) -> None:
    for case_id, change in pending.items():
        # Everyone who may see the case is in one of its teams' groups or the all-cases group
        # (a tab on the case page too: its case group carries presence only), so these reach
        # each tab once.
        groups = [ALL_CASES_GROUP, *(team_group(t) for t in sorted(change.teams))]
        message = {
            "type": "case.changed",
            "case_id": case_id,
            "number": change.number,
            "kind": change.kind,
        }
        _send(groups, message)


def case_changed(case_id: int, number: int, team_ids: set[int], *, kind: str) -> None:
    """Tell browsers after commit; several changes to one case in a transaction send once."""
    pending, deferred = batch_for_transaction("broadcast", dict[int, _Change], _flush)
    change = pending.setdefault(case_id, _Change(number=number, kind=kind))
    change.teams.update(t for t in team_ids if t is not None)
    if _KIND_RANK.get(kind, 0) > _KIND_RANK.get(change.kind, 0):
        change.kind = kind
    if not deferred:
        _flush(pending)
