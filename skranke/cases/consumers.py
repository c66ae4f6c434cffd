"""One websocket per browser tab: queue updates, case updates and who else is on a case.

Presence is a roll call inside the case's group, with no shared state to race on: a tab that
starts watching says hello, every other tab on the case answers it directly, and each tab keeps
its own list of the others. State changes and a heartbeat are sent to the group; a tab that
vanished without saying goodbye drops out when its heartbeats stop.
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from skranke.cases import broadcast

# Browsers send a heartbeat every 25 s; three missed ones and the person is gone.
PRESENCE_TIMEOUT_SECONDS = 80
PRESENCE_STATES = {"viewing", "replying"}


class DeskConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]
    watched_case: int | None
    presence_state: str
    others: dict[str, dict[str, Any]]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = []
        self.watched_case = None
        self.presence_state = "viewing"
        self.others = {}
        for group in await self._queue_groups(user):
            await self._join(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._leave_case()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        action = content.get("action")
        state = content.get("state")
        state = state if state in PRESENCE_STATES else "viewing"
        if action == "watch_case":
            case_id = await self._case_id_if_visible(content.get("number"))
            if case_id is None:
                await self.send_json({"type": "error", "error": "not_found"})
                return
            if self.watched_case != case_id:
                await self._leave_case()
                self.watched_case = case_id
                await self._join(broadcast.case_group(case_id))
            self.presence_state = state
            await self._send_people()
            await self._announce("case.presence_hello")
        elif action == "presence" and self.watched_case is not None:
            self.presence_state = state
            await self._announce("case.presence_state")

    # --- messages from the channel layer ---------------------------------------------------------
    async def case_changed(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "case.changed", "number": event["number"], "kind": event.get("kind", "")}
        )

    async def case_presence_hello(self, event: dict[str, Any]) -> None:
        if not self._about_my_case(event):
            return
        self._remember(event)
        # Answer the newcomer directly, so it learns who was already here.
        await self.channel_layer.send(
            event["channel"], {**self._my_presence(), "type": "case.presence_state"}
        )
        await self._send_people()

    async def case_presence_state(self, event: dict[str, Any]) -> None:
        if not self._about_my_case(event):
            return
        self._remember(event)
        await self._send_people()

    async def case_presence_leave(self, event: dict[str, Any]) -> None:
        if not self._about_my_case(event):
            return
        self.others.pop(event["channel"], None)
        await self._send_people()

    # --- helpers ----------------------------------------------------------------------------------
    def _about_my_case(self, event: dict[str, Any]) -> bool:
        return (
            event.get("case_id") == self.watched_case and event.get("channel") != self.channel_name
        )

    def _remember(self, event: dict[str, Any]) -> None:
        self.others[event["channel"]] = {
            "user_id": event["user_id"],
            "name": event["name"],
            "state": event["state"],
            "seen": time.monotonic(),
        }

    def _my_presence(self) -> dict[str, Any]:
        user = self.scope["user"]
        return {
            "case_id": self.watched_case,
            "channel": self.channel_name,
            "user_id": user.pk,
            "name": user.name or user.email,
            "state": self.presence_state,
        }

    async def _announce(self, kind: str) -> None:
        if self.watched_case is None:
            return
        await self.channel_layer.group_send(
            broadcast.case_group(self.watched_case), {**self._my_presence(), "type": kind}
        )

    async def _send_people(self) -> None:
        now = time.monotonic()
        self.others = {
            k: v for k, v in self.others.items() if now - v["seen"] < PRESENCE_TIMEOUT_SECONDS
        }
        me = self.scope["user"].pk
        by_user: dict[int, dict[str, Any]] = {}
        for person in self.others.values():
            if person["user_id"] == me:
                continue  # my own other tabs are no collision
            current = by_user.get(person["user_id"])
            if current is None or person["state"] == "replying":
                by_user[person["user_id"]] = person
        people = [{"name": p["name"], "state": p["state"]} for p in by_user.values()]
        await self.send_json({"type": "presence", "people": people})

    async def _leave_case(self) -> None:
        case_id = getattr(self, "watched_case", None)
        if case_id is None:
            return
        await self._announce("case.presence_leave")
        group = broadcast.case_group(case_id)
        await self.channel_layer.group_discard(group, self.channel_name)
        if group in self.groups_joined:
            self.groups_joined.remove(group)
        self.watched_case = None
        self.others = {}

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
