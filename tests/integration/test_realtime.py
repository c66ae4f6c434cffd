"""Live updates over websockets, on the in-memory layer and on a real Redis."""

from __future__ import annotations

import pytest
from channels.layers import channel_layers
from channels.testing.websocket import WebsocketCommunicator
from django.test import override_settings

from skranke.cases.actions import update_case


async def _connect(user):
    from channels.db import database_sync_to_async

    from skranke.config.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/desk/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
    )
    communicator.scope["user"] = user
    # AuthMiddlewareStack would read the session cookie; tests hand over the user directly.
    connected, _ = await communicator.connect()
    assert connected
    await database_sync_to_async(lambda: None)()
    return communicator


def _layer_settings(redis_url: str | None):
    if redis_url is None:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }


async def _assert_change_reaches_agent_of_team(case, agent, other_agent):
    from channels.db import database_sync_to_async

    mine = await _connect(agent)
    theirs = await _connect(other_agent)
    await database_sync_to_async(update_case)(case, actor=agent, priority="urgent")
    # Generous: on a loaded CI machine the Redis round trips of a full run took over 5 s once.
    event = await mine.receive_json_from(timeout=15)
    assert event == {"type": "case.changed", "number": case.number, "kind": "updated"}
    # The agent of another team hears nothing about this case.
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_case_change_broadcast_in_memory(case, agent, other_agent):
    with override_settings(CHANNEL_LAYERS=_layer_settings(None)):
        channel_layers.backends.clear()
        await _assert_change_reaches_agent_of_team(case, agent, other_agent)
    channel_layers.backends.clear()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_case_change_broadcast_over_redis(case, agent, other_agent, redis_url):
    with override_settings(CHANNEL_LAYERS=_layer_settings(redis_url)):
        channel_layers.backends.clear()
        await _assert_change_reaches_agent_of_team(case, agent, other_agent)
        channel_layers.backends.clear()
    channel_layers.backends.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_presence_shows_other_agent_on_case(case, agent, team_lead):
    with override_settings(CHANNEL_LAYERS=_layer_settings(None)):
        channel_layers.backends.clear()
        kari = await _connect(agent)
        lise = await _connect(team_lead)
        await kari.send_json_to({"action": "watch_case", "number": case.number})
        assert await kari.receive_json_from(timeout=5) == {"type": "presence", "people": []}
        await lise.send_json_to(
            {"action": "watch_case", "number": case.number, "state": "replying"}
        )
        seen = await kari.receive_json_from(timeout=5)
        assert seen["type"] == "presence"
        assert [(p["name"], p["state"]) for p in seen["people"]] == [("Lise Leder", "replying")]
        await kari.disconnect()
        await lise.disconnect()
    channel_layers.backends.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_agent_cannot_watch_other_teams_case(other_case, agent):
    communicator = await _connect(agent)
    await communicator.send_json_to({"action": "watch_case", "number": other_case.number})
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "error",
        "error": "not_found",
    }
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_presence_survives_simultaneous_arrivals_and_leaving(case, agent, team_lead):
    import asyncio

    with override_settings(CHANNEL_LAYERS=_layer_settings(None)):
        channel_layers.backends.clear()
        kari = await _connect(agent)
        lise = await _connect(team_lead)
        await asyncio.gather(
            kari.send_json_to({"action": "watch_case", "number": case.number}),
            lise.send_json_to({"action": "watch_case", "number": case.number}),
        )

        async def last_people(communicator):
            people = None
            while not await communicator.receive_nothing(timeout=0.3):
                message = await communicator.receive_json_from()
                if message["type"] == "presence":
                    people = message["people"]
            return people

        assert await last_people(kari) == [{"name": "Lise Leder", "state": "viewing"}]
        assert await last_people(lise) == [{"name": "Kari Nordmann", "state": "viewing"}]
        await lise.disconnect()
        assert await last_people(kari) == []
        await kari.disconnect()
    channel_layers.backends.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_tab_on_the_case_page_hears_each_change_once(case, agent):
    from channels.db import database_sync_to_async

    with override_settings(CHANNEL_LAYERS=_layer_settings(None)):
        channel_layers.backends.clear()
        tab = await _connect(agent)
        await tab.send_json_to({"action": "watch_case", "number": case.number})
        assert (await tab.receive_json_from(timeout=5))["type"] == "presence"
        await database_sync_to_async(update_case)(case, actor=agent, priority="high")
        event = await tab.receive_json_from(timeout=5)
        assert event == {"type": "case.changed", "number": case.number, "kind": "updated"}
        # In its team's group and in the case's (presence) group, but told once.
        assert await tab.receive_nothing(timeout=0.3)
        await tab.disconnect()
    channel_layers.backends.clear()
