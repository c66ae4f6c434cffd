"""Tell open browsers that a case changed.

Payloads carry only ids: each browser re-fetches the fragment it shows, through the same
permission-checked views, so a broadcast can never leak a case to the wrong agent.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a broadcast must never break the write that caused it
        logger.exception("Broadcast failed")


def case_changed(case_id: int, number: int, team_ids: set[int], *, kind: str) -> None:
    """Schedule a broadcast for after the current transaction commits."""
    message = {"type": "case.changed", "case_id": case_id, "number": number, "kind": kind}
    groups = [case_group(case_id), ALL_CASES_GROUP, *(team_group(t) for t in sorted(team_ids))]
    transaction.on_commit(lambda: _send(groups, message))
