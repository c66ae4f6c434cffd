from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from skranke.accounts.models import Presence


def workspace(request: HttpRequest) -> dict[str, Any]:
    """What the shell of every agent page needs (name, presence, language, queue counts).

    ``queue_nav`` is a callable: the template calls it only where the sidebar is drawn, so
    partial (htmx) responses don't pay for the counts.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def queue_nav() -> list[dict[str, Any]]:
        from skranke.cases.queues import queue_counts

        return queue_counts(user)

    return {
        "current_user": user,
        "presence_choices": Presence.choices,
        "queue_nav": queue_nav,
    }
