"""Team-lead pages, the schedule task end to end, publishing, exports and "my shifts"."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from skranke.workforce import actions
from skranke.workforce.forms import next_monday
from skranke.workforce.models import (
    AgentContract,
    ForecastAdjustment,
    RunStatus,
    Schedule,
    ScheduledShift,
    ScheduleStatus,
)
from skranke.workforce.tasks import build_week

pytestmark = pytest.mark.django_db

PLANNER_PAGES = [
    ("workforce:forecast", {}),
    ("workforce:staffing", {}),
    ("workforce:what_if", {}),
    ("workforce:schedules", {}),
]


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def built_schedule(user, *, time_limit: float = 3) -> Schedule:
    schedule = actions.create_schedule(next_monday(), actor=user, time_limit_seconds=time_limit)
    assert build_week.call(schedule.pk) in ("OPTIMAL", "FEASIBLE")
    schedule.refresh_from_db()
    return schedule


@pytest.mark.parametrize(("name", "kwargs"), PLANNER_PAGES)
def test_agents_are_refused_planner_pages(agent, name, kwargs):
    response = login(agent).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), PLANNER_PAGES)
def test_planner_pages_render_empty_states(team_lead, name, kwargs):
    response = login(team_lead).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert b"wfm-tabs" in response.content


def test_anonymous_is_sent_to_login(db):
    response = Client().get(reverse("workforce:forecast"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_index_sends_each_role_to_its_page(agent, team_lead):
    assert login(agent).get(reverse("workforce:index"))["Location"].endswith("/my-shifts/")
    assert login(team_lead).get(reverse("workforce:index"))["Location"].endswith("/forecast/")


def test_sidebar_links_by_role(agent, team_lead):
    lead_page = login(team_lead).get(reverse("workforce:my_shifts")).content.decode()
    agent_page = login(agent).get(reverse("workforce:my_shifts")).content.decode()
    assert reverse("workforce:forecast") in lead_page
    assert reverse("workforce:forecast") not in agent_page
    assert reverse("workforce:my_shifts") in agent_page


def test_forecast_page_with_history(team_lead, phone_history):
    response = login(team_lead).get(reverse("workforce:forecast"), {"channel": "phone"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "WAPE" in html
    assert "<svg" in html and "<rect" in html
    assert response.context["forecast"].daily is not None
    assert len(response.context["days"]) == 14


def test_forecast_without_history_explains(team_lead):
    response = login(team_lead).get(reverse("workforce:forecast"), {"channel": "chat"})
    assert b"Not enough history" in response.content


def test_adjustment_changes_the_forecast(team_lead, phone_history):
    client = login(team_lead)
    url = reverse("workforce:forecast") + "?channel=phone&horizon=7"
    before = client.get(url).context["total"]
    today = timezone.localdate()
    response = client.post(
        reverse("workforce:adjustment_create"),
        {
            "channel": "phone",
            "start": today.isoformat(),
            "end": (today + timedelta(days=30)).isoformat(),
            "percent": "30",
            "note": "Kampanje",
            "next": url,
        },
    )
    assert response.status_code == 302
    after = client.get(url).context["total"]
    assert after == pytest.approx(before * 1.3)
    adjustment = ForecastAdjustment.objects.get()
    client.post(reverse("workforce:adjustment_delete", args=[adjustment.pk]))
    assert not ForecastAdjustment.objects.exists()


def test_adjustment_form_errors(team_lead):
    response = login(team_lead).post(
        reverse("workforce:adjustment_create"),
        {"start": "2026-05-10", "end": "2026-05-01", "percent": "10"},
    )
    assert response.status_code == 400
    assert b"before the start date" in response.content
    assert not ForecastAdjustment.objects.exists()


def test_agent_cannot_add_adjustments(agent):
    response = login(agent).post(
        reverse("workforce:adjustment_create"),
        {"start": "2026-05-01", "end": "2026-05-02", "percent": "10"},
    )
    assert response.status_code == 403


def test_staffing_page_shows_intervals(team_lead, phone_history):
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    response = login(team_lead).get(
        reverse("workforce:staffing"), {"day": day.isoformat(), "channel": "phone"}
    )
    assert response.status_code == 200
    plan = response.context["plan"]
    assert len(plan.rows) == 38
    html = response.content.decode()
    assert "Erlang A" in html and "<svg" in html


def test_what_if_compares_plans(team_lead, phone_history):
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    response = login(team_lead).get(
        reverse("workforce:what_if"),
        {"channel": "phone", "day": day.isoformat(), "volume_percent": "300", "aht_seconds": "600"},
    )
    assert response.status_code == 200
    context = response.context
    assert context["changed"].head_hours > context["base"].head_hours
    assert context["changed"].inputs.aht_seconds == 600


def test_schedule_task_end_to_end(team_lead, agent, tiny_centre, phone_history):
    client = login(team_lead)
    response = client.post(
        reverse("workforce:schedules"),
        {"week_start": next_monday().isoformat(), "time_limit_seconds": "3"},
    )
    schedule = Schedule.objects.get()
    assert response["Location"] == reverse("workforce:schedule", args=[schedule.pk])
    assert schedule.run_status == RunStatus.QUEUED
    page = client.get(reverse("workforce:schedule", args=[schedule.pk]))
    assert b"every 2s" in page.content  # polls while the solver runs

    assert build_week.call(schedule.pk) in ("OPTIMAL", "FEASIBLE")
    schedule.refresh_from_db()
    assert schedule.run_status == RunStatus.DONE
    assert schedule.gap is not None and schedule.solve_seconds is not None
    shifts = ScheduledShift.objects.filter(schedule=schedule)
    assert {shift.agent for shift in shifts} == {agent, team_lead}
    for user in (agent, team_lead):
        hours = sum(shift.paid_hours for shift in shifts if shift.agent == user)
        assert 7.5 <= hours <= 22.5
    assert all(shift.start >= time(9) for shift in shifts)

    # htmx polling gets a refresh once the solver is done.
    poll = client.get(
        reverse("workforce:schedule", args=[schedule.pk]),
        headers={"HX-Request": "true", "HX-Target": "schedule-status"},
    )
    assert poll["HX-Refresh"] == "true"
    page = client.get(reverse("workforce:schedule", args=[schedule.pk]))
    assert b"wfm-shift" in page.content and b"<svg" in page.content


def test_infeasible_input_is_explained(team_lead, agent, tiny_centre, phone_history):
    AgentContract.objects.filter(user=agent).update(weekly_hours=60, hours_tolerance=0)
    schedule = actions.create_schedule(next_monday(), actor=team_lead, time_limit_seconds=2)
    assert build_week.call(schedule.pk) == "infeasible"
    schedule.refresh_from_db()
    assert schedule.run_status == RunStatus.INFEASIBLE
    assert any("Kari Nordmann" in reason for reason in schedule.reasons)
    page = login(team_lead).get(reverse("workforce:schedule", args=[schedule.pk]))
    assert b"No schedule is possible" in page.content
    assert b"Kari Nordmann" in page.content


def test_schedule_without_contracts_is_refused_up_front(team_lead, phone_history):
    response = login(team_lead).post(
        reverse("workforce:schedules"),
        {"week_start": next_monday().isoformat(), "time_limit_seconds": "3"},
    )
    assert response.status_code == 400
    assert b"No agent has a contract" in response.content
    assert not Schedule.objects.exists()


def test_publish_and_my_shifts(team_lead, agent, other_agent, tiny_centre, phone_history):
    schedule = built_schedule(team_lead)
    agent_client = login(agent)
    # Drafts are invisible to agents.
    assert agent_client.get(reverse("workforce:my_shifts")).context["weeks"] == []
    assert login(agent).get(reverse("workforce:schedule", args=[schedule.pk])).status_code == 403

    response = login(team_lead).post(reverse("workforce:schedule_publish", args=[schedule.pk]))
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.PUBLISHED

    page = agent_client.get(reverse("workforce:my_shifts"))
    shown = [shift for _, shifts in page.context["weeks"] for shift in shifts]
    assert shown and all(shift.agent == agent for shift in shown)
    # Another agent without shifts sees the empty state, not someone else's week.
    other = login(other_agent).get(reverse("workforce:my_shifts"))
    assert other.context["weeks"] == []
    assert b"No published shifts" in other.content

    ics = agent_client.get(reverse("workforce:my_shifts_ics"))
    assert ics["Content-Type"] == "text/calendar; charset=utf-8"
    body = ics.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == len(shown)


def test_exports_download(team_lead, agent, tiny_centre, phone_history):
    schedule = built_schedule(team_lead)
    client = login(team_lead)
    csv = client.get(reverse("workforce:schedule_export", args=[schedule.pk, "csv"]))
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv["Content-Disposition"]
    assert csv.content.decode().startswith("agent,")
    assert "Kari Nordmann" in csv.content.decode()

    xlsx = client.get(reverse("workforce:schedule_export", args=[schedule.pk, "xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx.content[:2] == b"PK"

    ics = client.get(reverse("workforce:schedule_agent_ics", args=[schedule.pk, agent.pk]))
    assert ics["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in ics.content.decode()

    assert (
        client.get(reverse("workforce:schedule_export", args=[schedule.pk, "pdf"])).status_code
        == 404
    )
    assert (
        login(agent)
        .get(reverse("workforce:schedule_export", args=[schedule.pk, "csv"]))
        .status_code
        == 403
    )


def test_missing_schedule_is_404(team_lead):
    assert login(team_lead).get(reverse("workforce:schedule", args=[999])).status_code == 404


def test_pages_in_norwegian(team_lead):
    client = Client(headers={"Accept-Language": "nb"})
    client.force_login(team_lead)
    response = client.get(reverse("workforce:schedules"))
    assert response.status_code == 200
