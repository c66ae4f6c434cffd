"""One websocket per browser tab: queue updates, case updates and who else is on a case."""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.cache import cache

from skranke.cases import broadcast

PRESENCE_TTL_SECONDS = 60


def _presence_key(case_id: int) -> str:
    return f"presence:case:{case_id}"


class DeskConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]
    watched_case: int | None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = []
        self.watched_case = None
        for group in await self._queue_groups(user):
            await self._join(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "watched_case", None) is not None:
            await self._set_presence(None)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        action = content.get("action")
        if action == "watch_case":
            case_id = await self._case_id_if_visible(content.get("number"))
            if case_id is None:
                await self.send_json({"type": "error", "error": "not_found"})
                return
            if self.watched_case and self.watched_case != case_id:
                await self._set_presence(None)
            self.watched_case = case_id
            await self._join(broadcast.case_group(case_id))
            await self._set_presence(content.get("state") or "viewing")
        elif action == "presence" and self.watched_case:
            state = content.get("state")
            await self._set_presence(state if state in {"viewing", "replying"} else "viewing")

    # --- messages from the channel layer ---------------------------------------------------------
    async def case_changed(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "case.changed", "number": event["number"], "kind": event.get("kind", "")}
        )

    async def case_presence(self, event: dict[str, Any]) -> None:
        if event.get("case_id") != self.watched_case:
            return
        me = self.scope["user"].pk
        others = [p for p in event["people"] if p["user_id"] != me]
        await self.send_json({"type": "presence", "people": others})

    # --- helpers ----------------------------------------------------------------------------------
    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    @database_sync_to_async
    def _queue_groups(self, user: Any) -> list[str]:
        if user.sees_all_teams:
            return [broadcast.ALL_CASES_GROUP]
        return [broadcast.team_group(t) for t in user.teams.values_list("pk", flat=True)]

    @database_sync_to_async
    def _case_id_if_visible(self, number: Any) -> int | None:
        from skranke.cases.access import visible_cases

        try:
            number = int(number)
        except (TypeError, ValueError):
            return None
        return (
            visible_cases(self.scope["user"])
            .filter(number=number)
            .values_list("pk", flat=True)
            .first()
        )

    async def _set_presence(self, state: str | None) -> None:
        case_id = self.watched_case
        if case_id is None:
            return
        user = self.scope["user"]
        key = _presence_key(case_id)
        people: dict[str, dict[str, Any]] = await cache.aget(key) or {}
        now = time.time()
        people = {k: v for k, v in people.items() if now - v["seen"] < PRESENCE_TTL_SECONDS}
        if state is None:
            people.pop(self.channel_name, None)
        else:
            people[self.channel_name] = {
                "user_id": user.pk,
                "name": user.name or user.email,
                "state": state,
                "seen": now,
            }
        await cache.aset(key, people, PRESENCE_TTL_SECONDS * 2)
        by_user: dict[int, dict[str, Any]] = {}
        for person in people.values():
            current = by_user.get(person["user_id"])
            if current is None or person["state"] == "replying":
                by_user[person["user_id"]] = person
        await self.channel_layer.group_send(
            broadcast.case_group(case_id),
            {"type": "case.presence", "case_id": case_id, "people": list(by_user.values())},
        )
