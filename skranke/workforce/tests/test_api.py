"""/api/v1/workforce: staffing, forecast, schedules; access and validation errors."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from skranke.accounts.models import ApiToken, User
from skranke.workforce.forms import next_monday
from skranke.workforce.models import RunStatus, Schedule
from skranke.workforce.tasks import build_week

pytestmark = pytest.mark.django_db

JSON = "application/json"
BASE = "/api/v1/workforce"
STABLE_KEYS = {"agents", "p_wait", "service_level", "asa_seconds", "p_abandon", "occupancy"}


def bearer(user: User) -> Client:
    _, raw = ApiToken.objects.issue(user)
    return Client(headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


def post(client: Client, path: str, body: object) -> tuple[int, object]:
    response = client.post(
        BASE + path, json.dumps(body) if not isinstance(body, str) else body, content_type=JSON
    )
    return response.status_code, response.json()


def test_staffing_matches_reference_values(team_lead):
    status, body = post(
        bearer(team_lead),
        "/staffing",
        {
            "arrivals": 100,
            "interval_minutes": 30,
            "aht_seconds": 180,
            "target_seconds": 20,
            "agents": "11-14",
        },
    )
    assert status == 200
    assert body["model"] == "erlang_c"
    assert body["offered_load"] == pytest.approx(10)
    assert body["required_agents"] == 14
    rows = {row["agents"]: row for row in body["rows"]}
    assert set(rows[11]) == STABLE_KEYS
    assert rows[11]["p_wait"] == pytest.approx(0.6821182, abs=1e-6)
    assert rows[14]["service_level"] == pytest.approx(0.88835, abs=1e-5)
    assert rows[14]["asa_seconds"] == pytest.approx(7.8359, abs=1e-3)
    assert rows[14]["p_abandon"] == 0


def test_staffing_erlang_a(team_lead):
    status, body = post(
        bearer(team_lead),
        "/staffing",
        {
            "arrivals": 100,
            "interval_minutes": 30,
            "aht_seconds": 180,
            "patience_seconds": 300,
            "agents": "13",
        },
    )
    assert status == 200 and body["model"] == "erlang_a"
    [row] = body["rows"]
    assert row["service_level"] == pytest.approx(0.858178, abs=1e-5)
    assert row["p_abandon"] == pytest.approx(0.024963, abs=1e-5)


def test_unstable_queue_has_null_asa_not_nan(team_lead):
    status, body = post(
        bearer(team_lead),
        "/staffing",
        {"arrivals": 100, "interval_minutes": 30, "aht_seconds": 180, "agents": "5"},
    )
    assert status == 200
    assert body["rows"][0]["asa_seconds"] is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"arrivals": -1, "aht_seconds": 180}, "Arrivals cannot be negative"),
        ({"arrivals": 100, "aht_seconds": 0}, "Average handling time must be more than 0"),
        ({"arrivals": 100, "aht_seconds": 180, "service_level": 1.0}, "100 % service level"),
        ({"arrivals": 100, "aht_seconds": 180, "agents": "16-10"}, "rising range"),
    ],
)
def test_staffing_bad_input_is_422_with_the_reason(team_lead, payload, message):
    status, body = post(bearer(team_lead), "/staffing", payload)
    assert status == 422
    [item] = body["detail"]
    assert message in item["msg"]
    assert item["type"] == "workforce_input"


def test_staffing_refuses_nan(team_lead):
    status, body = post(bearer(team_lead), "/staffing", '{"arrivals": NaN, "aht_seconds": 180}')
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "arrivals"]


def test_staffing_missing_field(team_lead):
    status, body = post(bearer(team_lead), "/staffing", {"arrivals": 10})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "aht_seconds"]


def test_agents_are_refused(agent):
    client = bearer(agent)
    status, body = post(client, "/staffing", {"arrivals": 10, "aht_seconds": 180})
    assert status == 403
    assert "team leads" in body["detail"]
    assert client.get(BASE + "/forecast?channel=phone").status_code == 403
    assert client.get(BASE + "/schedules/1").status_code == 403
    status, _ = post(client, "/schedules", {"week_start": next_monday().isoformat()})
    assert status == 403


def test_unauthenticated_is_401(db):
    response = Client().get(BASE + "/forecast?channel=phone")
    assert response.status_code == 401


def test_forecast(team_lead, phone_history):
    response = bearer(team_lead).get(BASE + "/forecast", {"channel": "phone", "horizon": 7})
    assert response.status_code == 200
    body = response.json()
    assert body["method"] in body["wape_by_method"]
    assert len(body["days"]) == 7
    assert sum(body["history"].values()) == len(phone_history)


def test_forecast_bad_channel_and_no_history(team_lead):
    client = bearer(team_lead)
    response = client.get(BASE + "/forecast", {"channel": "fax"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "channel"]
    response = client.get(BASE + "/forecast", {"channel": "chat"})
    assert response.status_code == 422
    assert "No cases" in response.json()["detail"][0]["msg"]


def test_schedule_create_and_get(team_lead, tiny_centre, phone_history):
    client = bearer(team_lead)
    status, body = post(
        client, "/schedules", {"week_start": next_monday().isoformat(), "time_limit_seconds": 3}
    )
    assert status == 202
    assert body["run_status"] == RunStatus.QUEUED and body["shifts"] == []
    build_week.call(body["id"])
    response = client.get(f"{BASE}/schedules/{body['id']}")
    assert response.status_code == 200
    done = response.json()
    assert done["run_status"] == "done"
    assert done["solver_status"] in ("OPTIMAL", "FEASIBLE")
    assert done["shifts"] and {"agent", "date", "start", "end", "channel"} <= set(done["shifts"][0])


def test_schedule_bad_week_and_missing(team_lead, tiny_centre):
    client = bearer(team_lead)
    status, body = post(client, "/schedules", {"week_start": "2026-06-03"})  # a Wednesday
    assert status == 422
    assert "Monday" in body["detail"][0]["msg"]
    status, body = post(
        client, "/schedules", {"week_start": next_monday().isoformat(), "time_limit_seconds": 0}
    )
    assert status == 422
    assert not Schedule.objects.exists()
    assert client.get(BASE + "/schedules/999").status_code == 404
