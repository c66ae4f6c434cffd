"""The cases API: auth, every endpoint, filters and cursors, access control, bad input."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from skranke.accounts.models import ApiToken, User
from skranke.cases.actions import NewAttachment, add_message, create_case, update_case
from skranke.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    EventKind,
    Message,
    MessageKind,
    Status,
)
from skranke.customers.models import Customer

pytestmark = pytest.mark.django_db

JSON = "application/json"


def bearer(user: User) -> Client:
    _, raw = ApiToken.objects.issue(user)
    # Error messages follow Accept-Language (nb or en); pin English so tests can quote them.
    return Client(headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


@pytest.fixture
def api(agent) -> Client:
    return bearer(agent)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def snapshot() -> dict[str, int]:
    """Row counts of everything a case write can touch, to prove nothing was half-written."""
    return {
        "cases": Case.objects.count(),
        "messages": Message.objects.count(),
        "events": CaseEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "customers": Customer.objects.count(),
    }


# --- Authentication ---------------------------------------------------------------------------


def test_no_credentials_is_401_with_instructions(case):
    response = Client().get("/api/v1/cases")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    assert "Authorization: Bearer <token>" in detail
    assert "skranke token create" in detail


def test_wrong_token_is_401(case):
    response = Client(headers={"Authorization": "Bearer sk_not-a-token"}).get("/api/v1/cases")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API token."}


def test_revoked_token_and_inactive_agent_are_401(agent, case):
    token, raw = ApiToken.objects.issue(agent)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/cases").status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    assert client.get("/api/v1/cases").status_code == 401

    _, raw = ApiToken.objects.issue(agent)
    agent.is_active = False
    agent.save()
    assert bearer(agent).get("/api/v1/cases").status_code == 401


def test_session_auth_needs_csrf_for_writes(agent, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.get(f"/api/v1/cases/{case.number}").status_code == 200

    refused = client.patch(f"/api/v1/cases/{case.number}", {"priority": "high"}, content_type=JSON)
    assert refused.status_code == 403
    assert "X-CSRFToken" in refused.json()["detail"]
    case.refresh_from_db()
    assert case.priority == "normal"

    client.get("/api/v1/docs")  # renders {% csrf_token %}, which sets the cookie
    token = client.cookies["csrftoken"].value
    accepted = client.patch(
        f"/api/v1/cases/{case.number}",
        {"priority": "high"},
        content_type=JSON,
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["priority"] == "high"


# --- List, filters, cursor pagination ---------------------------------------------------------


def test_list_shows_only_own_teams_cases(api, case, other_case, team_lead):
    numbers = [c["number"] for c in api.get("/api/v1/cases").json()["items"]]
    assert numbers == [case.number]
    lead_numbers = {c["number"] for c in bearer(team_lead).get("/api/v1/cases").json()["items"]}
    assert lead_numbers == {case.number, other_case.number}


def test_list_item_shape(api, case, agent):
    update_case(case, actor=agent, assignee=agent, tags=["faktura", "vip"])
    response = api.get("/api/v1/cases")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    item = body["items"][0]
    assert item["number"] == case.number
    assert item["status"] == "open"
    assert item["tags"] == ["faktura", "vip"]
    assert item["team"] == {"id": case.team_id, "slug": "kundeservice", "name": "Kundeservice"}
    assert item["assignee"] == {"id": agent.pk, "name": agent.name, "email": agent.email}
    assert item["customer"]["name"] == "Per Kunde"
    assert item["url"] == f"/cases/{case.number}/"
    assert item["messages"] is None


@pytest.fixture
def varied_cases(customer, other_customer, team, other_team, agent, team_lead):
    made = {
        "urgent_email": create_case(
            customer=customer, subject="A", team=team, priority="urgent", body_text="x"
        ),
        "phone_incident": create_case(
            customer=customer, subject="B", team=team, channel="phone", type="incident"
        ),
        "other_customer": create_case(customer=other_customer, subject="C", team=team),
        "other_team": create_case(customer=customer, subject="D", team=other_team),
    }
    update_case(made["urgent_email"], actor=agent, assignee=agent, tags=["vip"])
    update_case(made["phone_incident"], actor=agent, status="pending", assignee=team_lead)
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", {"phone_incident"}),
        ("status=new&status=pending", {"phone_incident", "other_customer", "other_team"}),
        ("priority=urgent", {"urgent_email"}),
        ("type=incident", {"phone_incident"}),
        ("channel=phone", {"phone_incident"}),
        ("team=faktura", {"other_team"}),
        ("tag=VIP", {"urgent_email"}),
        ("assignee=me", {"urgent_email"}),
        ("assignee=none", {"other_customer", "other_team"}),
        ("assignee=leder@example.no", {"phone_incident"}),
        ("team=nonexistent", set()),
    ],
)
def test_list_filters(team_lead, varied_cases, query, expected):
    # team_lead sees every team; "me" is the team lead only where the query says so.
    client = bearer(team_lead)
    if "assignee=me" in query:
        client = bearer(User.objects.get(email="kari@example.no"))
        client_user_team_cases = {"urgent_email"}
        expected = expected & client_user_team_cases
    response = client.get(f"/api/v1/cases?{query}")
    assert response.status_code == 200, response.content
    got = {c["number"] for c in response.json()["items"]}
    assert got == {varied_cases[name].number for name in expected}


def test_list_filters_by_team_id_customer_and_updated_after(team_lead, varied_cases, other_team):
    client = bearer(team_lead)
    by_team = client.get(f"/api/v1/cases?team={other_team.pk}").json()["items"]
    assert [c["number"] for c in by_team] == [varied_cases["other_team"].number]

    other_customer_id = varied_cases["other_customer"].customer_id
    by_customer = client.get(f"/api/v1/cases?customer={other_customer_id}").json()["items"]
    assert [c["number"] for c in by_customer] == [varied_cases["other_customer"].number]

    cutoff = timezone.now()
    Case.objects.filter(pk=varied_cases["phone_incident"].pk).update(
        updated_at=cutoff + timedelta(minutes=5)
    )
    response = client.get("/api/v1/cases", {"updated_after": cutoff.isoformat()})
    assert [c["number"] for c in response.json()["items"]] == [
        varied_cases["phone_incident"].number
    ]


def test_updated_after_needs_a_timezone(api, case):
    response = api.get("/api/v1/cases?updated_after=2025-01-01T10:00:00")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "updated_after"]


@pytest.mark.parametrize("order", ["-updated_at", "updated_at"])
def test_cursor_pagination_walks_every_case_once(api, customer, team, order):
    created = [create_case(customer=customer, subject=f"Sak {i}", team=team) for i in range(23)]
    # Ties on updated_at are the hard case for keyset pagination: make a block of them.
    same_time = timezone.now() - timedelta(hours=1)
    Case.objects.filter(pk__in=[c.pk for c in created[5:14]]).update(updated_at=same_time)

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5, "order": order}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/v1/cases", params).json()
        seen += [c["number"] for c in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    expected = list(
        Case.objects.order_by(order, "-pk" if order.startswith("-") else "pk").values_list(
            "number", flat=True
        )
    )
    assert seen == expected


def test_cursor_pagination_does_not_skip_when_new_cases_arrive(api, customer, team):
    for i in range(6):
        create_case(customer=customer, subject=f"Sak {i}", team=team)
    first = api.get("/api/v1/cases?limit=3").json()
    create_case(customer=customer, subject="Ny underveis", team=team)
    second = api.get("/api/v1/cases", {"limit": 3, "cursor": first["next"]}).json()
    numbers = [c["number"] for c in first["items"] + second["items"]]
    assert len(set(numbers)) == 6


# --- Search --------------------------------------------------------------------------------------


@pytest.fixture
def invoice_cases(customer, other_customer, team, other_team, search_index):
    """Cases whose text (not subject) says "faktura", in the agent's team and another."""
    mine = create_case(
        customer=customer, subject="Spørsmål om mai", team=team, body_text="Ingen faktura i mai."
    )
    urgent = create_case(
        customer=customer,
        subject="Dobbel belastning",
        team=team,
        priority="urgent",
        body_text="Faktura nummer to er feil.",
    )
    create_case(customer=customer, subject="Ny ruter", team=team, body_text="Hei")
    hidden = create_case(
        customer=other_customer,
        subject="Hemmelig",
        team=other_team,
        body_text="Denne faktura er for et annet team.",
    )
    search_index()
    return {"mine": mine, "urgent": urgent, "hidden": hidden}


def test_search_cases_matches_inflected_words(api, invoice_cases):
    body = api.get("/api/v1/cases", {"q": "fakturaen"}).json()
    numbers = {c["number"] for c in body["items"]}
    assert numbers == {invoice_cases["mine"].number, invoice_cases["urgent"].number}
    assert body["next"] is None


def test_search_cases_never_reaches_other_teams(api, invoice_cases, other_team):
    hidden = invoice_cases["hidden"]
    for params in (
        {"q": "faktura annet team"},
        {"q": "faktura", "team": other_team.slug},
        {"q": f"#{hidden.number}"},
    ):
        assert api.get("/api/v1/cases", params).json()["items"] == [], params


def test_search_cases_combines_with_filters(api, invoice_cases):
    body = api.get("/api/v1/cases", {"q": "fakturaen", "priority": "urgent"}).json()
    assert [c["number"] for c in body["items"]] == [invoice_cases["urgent"].number]


def test_search_case_number_comes_first(api, invoice_cases):
    mine = invoice_cases["mine"]
    assert api.get("/api/v1/cases", {"q": f"#{mine.number}"}).json()["items"][0]["number"] == (
        mine.number
    )


def test_search_pages_through_the_ranking(api, customer, team, search_index):
    for i in range(7):
        create_case(customer=customer, subject=f"Faktura {i}", team=team)
    search_index()
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "faktura", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/v1/cases", params).json()
        seen += [c["number"] for c in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7


def test_search_query_count_does_not_grow_with_cases(
    api, customer, team, agent, search_index, django_assert_max_num_queries
):
    for i in range(30):
        case = create_case(customer=customer, subject=f"Faktura {i}", team=team)
        update_case(case, actor=agent, tags=["a", f"t{i}"] if i % 2 else [])
    search_index()
    # token look-up, the agent's teams, the search, cases (with joins), tags.
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/cases", {"q": "fakturaen", "tag": "a", "limit": 200})
    assert len(response.json()["items"]) == 15


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("limit=201", ["query", "limit"]),
        ("limit=0", ["query", "limit"]),
        ("cursor=not-a-cursor", ["query", "cursor"]),
        ("cursor=WyJ4Il0", ["query", "cursor"]),  # valid base64 of ["x"], wrong shape
        ("status=bogus", ["query", "status", 0]),
        ("order=subject", ["query", "order"]),
    ],
)
def test_list_rejects_bad_query(api, case, query, loc):
    response = api.get(f"/api/v1/cases?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc
    assert detail[0]["msg"]


def test_list_query_count_does_not_grow_with_cases(
    api, customer, other_customer, team, agent, django_assert_max_num_queries
):
    category = Category.objects.create(name="Faktura")
    for i in range(30):
        case = create_case(
            customer=customer if i % 2 else other_customer, subject=f"Sak {i}", team=team
        )
        update_case(case, actor=agent, assignee=agent, category=category, tags=["a", f"t{i}"])
    # token look-up, cases (with team/assignee/customer/organisation/category joined), tags.
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/cases?limit=200")
    assert len(response.json()["items"]) == 30


# --- Get --------------------------------------------------------------------------------------


def test_get_case_with_messages(api, case, agent):
    add_message(case, kind=MessageKind.NOTE, actor=agent, body_text="Sjekker med Faktura.")
    plain = api.get(f"/api/v1/cases/{case.number}").json()
    assert plain["messages"] is None

    response = api.get(f"/api/v1/cases/{case.number}?include=messages")
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [m["kind"] for m in messages] == ["customer", "note"]
    assert messages[1]["author"]["email"] == agent.email
    assert messages[0]["customer_id"] == case.customer_id


def test_get_unknown_include_is_422(api, case):
    response = api.get(f"/api/v1/cases/{case.number}?include=messages,secrets")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "include"]
    assert "secrets" in response.json()["detail"][0]["msg"]


def test_unknown_case_is_404(api):
    response = api.get("/api/v1/cases/99999")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such case."}


# --- Access control ---------------------------------------------------------------------------


def _attachment_url(case: Case, agent: User) -> str:
    message = add_message(
        case,
        kind=MessageKind.NOTE,
        actor=agent,
        body_text="vedlegg",
        attachments=[NewAttachment("a.txt", b"hemmelig")],
    )
    attachment = message.attachments.get()
    return f"/api/v1/cases/{case.number}/attachments/{attachment.pk}"


def test_other_teams_agent_gets_404_everywhere(api, other_case, other_agent):
    """An agent of another team can't tell the case exists: same 404 as a missing number."""
    before = snapshot()
    missing = api.get("/api/v1/cases/99999")
    number = other_case.number
    attempts = [
        api.get(f"/api/v1/cases/{number}"),
        api.get(f"/api/v1/cases/{number}?include=messages"),
        api.patch(f"/api/v1/cases/{number}", {"priority": "urgent"}, content_type=JSON),
        api.get(f"/api/v1/cases/{number}/messages"),
        api.post(f"/api/v1/cases/{number}/messages", {"body_text": "hei"}, content_type=JSON),
        api.get(f"/api/v1/cases/{number}/events"),
        api.get(_attachment_url(other_case, other_agent)),
    ]
    for response in attempts:
        assert response.status_code == 404
        assert response.json() == missing.json()
    after = snapshot()
    assert after["messages"] == before["messages"] + 1  # only the fixture's own note above
    other_case.refresh_from_db()
    assert other_case.priority == "normal"


def test_team_lead_and_admin_see_and_change_any_case(team_lead, admin_user, other_case):
    for user in (team_lead, admin_user):
        client = bearer(user)
        assert client.get(f"/api/v1/cases/{other_case.number}").status_code == 200
        response = client.patch(
            f"/api/v1/cases/{other_case.number}", {"priority": "high"}, content_type=JSON
        )
        assert response.status_code == 200


def test_list_filter_cannot_reach_other_teams_cases(api, other_case):
    response = api.get(f"/api/v1/cases?team=faktura&customer={other_case.customer_id}")
    assert response.json()["items"] == []


# --- Create -----------------------------------------------------------------------------------


def test_create_case_for_existing_customer(api, agent, customer, team, team_lead):
    Category.objects.create(name="Faktura")
    response = api.post(
        "/api/v1/cases",
        {
            "customer": {"id": customer.pk},
            "subject": "Dobbel belastning",
            "body_text": "Kunden ringte om dobbel belastning.",
            "team": team.pk,
            "priority": "high",
            "type": "complaint",
            "category": "faktura",
            "assignee": team_lead.email,
            "tags": ["Kort", "faktura"],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "api"
    assert body["status"] == "open"  # assigned on creation
    assert body["priority"] == "high"
    assert body["type"] == "complaint"
    assert body["category"]["name"] == "Faktura"
    assert body["tags"] == ["faktura", "kort"]
    assert body["assignee"]["id"] == team_lead.pk
    case = Case.objects.get(number=body["number"])
    assert case.messages.get().kind == MessageKind.CUSTOMER
    created = case.events.get(kind=EventKind.CREATED)
    assert created.actor == agent


def test_create_case_finds_or_creates_customer(api, customer, team):
    by_phone = api.post(
        "/api/v1/cases",
        {
            "customer": {"phone": "912 34 567"},
            "subject": "Ringte inn",
            "team": "kundeservice",
            "channel": "phone",
        },
        content_type=JSON,
    )
    assert by_phone.status_code == 201, by_phone.content
    assert by_phone.json()["customer"]["id"] == customer.pk

    new = api.post(
        "/api/v1/cases",
        {
            "customer": {"email": "Ny.Kunde@Example.no", "name": "Ny Kunde"},
            "subject": "Hei",
            "team": "kundeservice",
            "body_text": "Første henvendelse",
        },
        content_type=JSON,
    )
    assert new.status_code == 201, new.content
    created = Customer.objects.get(pk=new.json()["customer"]["id"])
    assert created.name == "Ny Kunde"
    assert created.primary_email == "ny.kunde@example.no"


def test_create_case_unknown_team_writes_nothing(api):
    before = snapshot()
    response = api.post(
        "/api/v1/cases",
        {"customer": {"email": "helt.ny@example.no"}, "subject": "Hei", "team": "finnes-ikke"},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "team"],
                "msg": "No team with id or slug 'finnes-ikke'.",
                "type": "unknown_team",
            }
        ]
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        ({"subject": 123}, ["body", "subject"], "string_type"),
        ({"subject": ""}, ["body", "subject"], "string_too_short"),
        ({"priority": "extreme"}, ["body", "priority"], "enum"),
        ({"tags": "vip"}, ["body", "tags"], "list_type"),
        ({"customer": {}}, ["body", "customer"], "customer_required"),
        (
            {"customer": {"email": "ikke-en-adresse"}},
            ["body", "customer", "email"],
            "invalid_email",
        ),
        ({"customer": {"id": 999999}}, ["body", "customer", "id"], "unknown_customer"),
        ({"assignee": "nobody@example.no"}, ["body", "assignee"], "unknown_agent"),
        ({"colour": "red"}, ["body", "colour"], "extra_forbidden"),
    ],
)
def test_create_case_bad_payloads(api, customer, payload, loc, type_):
    data = {"customer": {"id": customer.pk}, "subject": "Hei", "team": "kundeservice"} | payload
    before = snapshot()
    response = api.post("/api/v1/cases", data, content_type=JSON)
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == type_ and e["msg"] for e in errors), errors
    assert snapshot() == before


def test_create_case_missing_fields(api):
    response = api.post("/api/v1/cases", {}, content_type=JSON)
    assert response.status_code == 422
    missing = {tuple(e["loc"]) for e in response.json()["detail"] if e["type"] == "missing"}
    assert missing == {("body", "customer"), ("body", "subject"), ("body", "team")}


def test_create_case_is_all_or_nothing(api, monkeypatch):
    """If the case can't be created after the customer was, the customer is rolled back too."""
    from django.core.exceptions import ValidationError

    import skranke.cases.api as cases_api

    real_create_case = cases_api.create_case

    def create_then_fail(**kwargs: Any) -> Case:
        real_create_case(**kwargs)
        raise ValidationError({"subject": "Refused late, after writing."})

    monkeypatch.setattr(cases_api, "create_case", create_then_fail)
    before = snapshot()
    response = api.post(
        "/api/v1/cases",
        {
            "customer": {"email": "rulles.tilbake@example.no"},
            "subject": "Hei",
            "team": "kundeservice",
            "body_text": "tekst",
        },
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "subject"], "msg": "Refused late, after writing.", "type": "invalid"}
    ]
    assert snapshot() == before


def test_create_case_oversize_attachment_writes_nothing(api, settings):
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 100
    before = snapshot()
    response = api.post(
        "/api/v1/cases",
        {
            "customer": {"email": "stor.fil@example.no"},
            "subject": "Skjermbilde",
            "team": "kundeservice",
            "body_text": "Se vedlegg",
            "attachments": [{"filename": "skjerm.png", "content_base64": b64(b"x" * 101)}],
        },
        content_type=JSON,
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "attachments"],
                "msg": "skjerm.png is 101\xa0bytes; the largest file allowed is 100\xa0bytes.",
                "type": "attachment_too_large",
            }
        ]
    }
    assert snapshot() == before
    assert not (settings.MEDIA_ROOT / "attachments").exists()


# --- Update -----------------------------------------------------------------------------------


def test_patch_changes_fields_and_writes_events(api, agent, case, other_team):
    follow_up = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = api.patch(
        f"/api/v1/cases/{case.number}",
        {
            "status": "pending",
            "priority": "urgent",
            "type": "incident",
            "subject": "Faktura feil – kreditnota",
            "assignee": agent.pk,
            "tags": ["kreditnota"],
            "follow_up_at": follow_up.isoformat(),
        },
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["priority"] == "urgent"
    assert body["subject"] == "Faktura feil – kreditnota"
    assert body["tags"] == ["kreditnota"]
    assert body["assignee"]["id"] == agent.pk
    case.refresh_from_db()
    assert case.follow_up_at == follow_up
    kinds = set(case.events.exclude(kind=EventKind.CREATED).values_list("kind", flat=True))
    assert kinds == {"status", "priority", "type", "subject", "assignee", "tags", "follow_up"}
    assert set(case.events.exclude(kind=EventKind.CREATED).values_list("actor", flat=True)) == {
        agent.pk
    }

    # Hand it on to another team and unassign; the agent can no longer see it afterwards.
    moved = api.patch(
        f"/api/v1/cases/{case.number}",
        {"team": "faktura", "assignee": None},
        content_type=JSON,
    )
    assert moved.status_code == 200
    assert moved.json()["team"]["slug"] == "faktura"
    assert moved.json()["assignee"] is None
    assert api.get(f"/api/v1/cases/{case.number}").status_code == 404


def test_patch_without_changes_writes_no_events(api, case):
    before = CaseEvent.objects.count()
    response = api.patch(f"/api/v1/cases/{case.number}", {"priority": "normal"}, content_type=JSON)
    assert response.status_code == 200
    assert CaseEvent.objects.count() == before


def test_patch_unknown_status_is_422_and_writes_nothing(api, case):
    before = snapshot()
    response = api.patch(
        f"/api/v1/cases/{case.number}",
        {"status": "done", "priority": "high"},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "status"],
                "msg": "Input should be 'new', 'open', 'pending', 'on_hold', 'solved' or 'closed'",
                "type": "enum",
                "ctx": {"expected": "'new', 'open', 'pending', 'on_hold', 'solved' or 'closed'"},
            }
        ]
    }
    case.refresh_from_db()
    assert case.priority == "normal"
    assert snapshot() == before


def test_patch_action_validation_error_maps_to_field(api, case):
    """A Django ValidationError raised inside the action comes back as 422 at its field."""
    before = snapshot()
    response = api.patch(
        f"/api/v1/cases/{case.number}", {"subject": "   ", "priority": "high"}, content_type=JSON
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "subject"], "msg": "The subject cannot be empty.", "type": "invalid"}
        ]
    }
    case.refresh_from_db()
    assert case.priority == "normal"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        ({"status": None}, ["body", "status"], "null_not_allowed"),
        ({"team": None}, ["body", "team"], "null_not_allowed"),
        ({"priority": 3}, ["body", "priority"], "enum"),
        ({"follow_up_at": "tomorrow"}, ["body", "follow_up_at"], "datetime_from_date_parsing"),
        ({"follow_up_at": "2030-01-01T10:00:00"}, ["body", "follow_up_at"], "timezone_aware"),
        ({"assignee": 999999}, ["body", "assignee"], "unknown_agent"),
        ({"category": "Finnes ikke"}, ["body", "category"], "unknown_category"),
        ({"staus": "open"}, ["body", "staus"], "extra_forbidden"),
    ],
)
def test_patch_bad_payloads(api, case, payload, loc, type_):
    before = snapshot()
    response = api.patch(f"/api/v1/cases/{case.number}", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == type_ for e in errors), errors
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"status": "open",}', "Malformed JSON: Expecting property name"),
        ("{bad json", "Malformed JSON: Expecting property name"),
        ('{"status": ', "Malformed JSON: Expecting value"),
    ],
)
def test_malformed_json_is_400(api, case, body, fragment):
    before = snapshot()
    response = api.patch(f"/api/v1/cases/{case.number}", body, content_type=JSON)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert len(detail) == 1
    assert detail[0]["loc"] == ["body"]
    assert detail[0]["type"] == "json_invalid"
    assert detail[0]["msg"].startswith(fragment)
    assert "line 1, column" in detail[0]["msg"]
    assert snapshot() == before


def test_json_that_is_not_an_object_is_422(api, case):
    response = api.patch(f"/api/v1/cases/{case.number}", "[1, 2]", content_type=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


# --- Messages ---------------------------------------------------------------------------------


def test_reply_with_attachment(api, agent, case):
    content = b"%PDF-1.7 faktura"
    response = api.post(
        f"/api/v1/cases/{case.number}/messages",
        {
            "kind": "reply",
            "body_text": "Her er kreditnotaen.",
            "attachments": [
                {
                    "filename": "kreditnota.pdf",
                    "content_type": "application/pdf",
                    "content_base64": b64(content),
                }
            ],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    message = response.json()
    assert message["kind"] == "reply"
    assert message["author"]["id"] == agent.pk
    [attachment] = message["attachments"]
    assert attachment["filename"] == "kreditnota.pdf"
    assert attachment["size"] == len(content)
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()

    download = api.get(attachment["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")

    case.refresh_from_db()
    assert case.status == Status.OPEN
    assert case.first_response_at is not None
    assert case.message_count == 2
    assert case.events.filter(kind=EventKind.MESSAGE).count() == 1


def test_note_html_is_sanitised_and_status_set(api, case):
    response = api.post(
        f"/api/v1/cases/{case.number}/messages",
        {
            "kind": "note",
            "body_html": "<p>Intern <b>merknad</b><script>alert(1)</script></p>",
            "status": "on_hold",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    assert response.json()["body_html"] == "<p>Intern <b>merknad</b></p>"
    case.refresh_from_db()
    assert case.status == Status.ON_HOLD


def test_customer_message_is_attributed_to_the_customer(api, case):
    response = api.post(
        f"/api/v1/cases/{case.number}/messages",
        {"kind": "customer", "body_text": "Takk!"},
        content_type=JSON,
    )
    assert response.status_code == 201
    assert response.json()["author"] is None
    assert response.json()["customer_id"] == case.customer_id


def test_oversize_attachment_is_413_and_writes_nothing(api, case, settings):
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 1000
    before = snapshot()
    case.refresh_from_db()
    before_case = (case.message_count, case.updated_at, case.status)
    response = api.post(
        f"/api/v1/cases/{case.number}/messages",
        {
            "body_text": "Se vedlegg",
            "attachments": [
                {"filename": "liten.txt", "content_base64": b64(b"ok")},
                {"filename": "stor.bin", "content_base64": b64(b"\0" * 1001)},
            ],
        },
        content_type=JSON,
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "attachments"],
                "msg": "stor.bin is 1001\xa0bytes; the largest file allowed is 1000\xa0bytes.",
                "type": "attachment_too_large",
            }
        ]
    }
    assert snapshot() == before
    case.refresh_from_db()
    assert (case.message_count, case.updated_at, case.status) == before_case
    assert not (settings.MEDIA_ROOT / "attachments").exists()


def test_body_larger_than_the_api_accepts_is_413(api, case, settings):
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    before = snapshot()
    response = api.post(
        f"/api/v1/cases/{case.number}/messages",
        {"body_text": "x" * (2 * 1024 * 1024)},
        content_type=JSON,
    )
    assert response.status_code == 413
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["type"] == "request_too_large"
    assert "the API accepts at most" in error["msg"]
    assert snapshot() == before


def test_attachment_larger_than_djangos_form_limit_is_accepted(api, case, settings):
    """DATA_UPLOAD_MAX_MEMORY_SIZE is for forms; the API takes attachments up to the
    attachment limit even though base64 makes the JSON body bigger than that."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 10_000
    response = api.post(
        f"/api/v1/cases/{case.number}/messages",
        {
            "kind": "note",
            "attachments": [{"filename": "logg.txt", "content_base64": b64(b"L" * 5000)}],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    assert response.json()["attachments"][0]["size"] == 5000


@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        ({"body_text": ""}, ["body"], "empty_message"),
        ({"kind": "shout", "body_text": "x"}, ["body", "kind"], "enum"),
        (
            {"body_text": "x", "attachments": [{"filename": "a", "content_base64": "###"}]},
            ["body", "attachments", 0, "content_base64"],
            "base64_decode",
        ),
        (
            {"body_text": "x", "attachments": [{"content_base64": "aGk="}]},
            ["body", "attachments", 0, "filename"],
            "missing",
        ),
    ],
)
def test_add_message_bad_payloads(api, case, payload, loc, type_):
    before = snapshot()
    response = api.post(f"/api/v1/cases/{case.number}/messages", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == type_ for e in errors), errors
    assert snapshot() == before


def test_list_messages_pages_in_order(api, agent, case):
    for i in range(4):
        add_message(case, kind=MessageKind.NOTE, actor=agent, body_text=f"notat {i}")
    first = api.get(f"/api/v1/cases/{case.number}/messages?limit=3").json()
    second = api.get(
        f"/api/v1/cases/{case.number}/messages", {"limit": 3, "cursor": first["next"]}
    ).json()
    texts = [m["body_text"] for m in first["items"] + second["items"]]
    assert texts == ["Hei, fakturaen min er feil.", "notat 0", "notat 1", "notat 2", "notat 3"]
    assert second["next"] is None


def test_list_events(api, agent, case):
    update_case(case, actor=agent, priority="high")
    response = api.get(f"/api/v1/cases/{case.number}/events")
    assert response.status_code == 200
    events = response.json()["items"]
    assert [e["kind"] for e in events] == ["created", "priority"]
    assert events[1]["old_value"] == "normal"
    assert events[1]["new_value"] == "high"
    assert events[1]["actor"]["id"] == agent.pk


def test_attachment_of_another_case_is_404(api, agent, case, customer, team):
    second = create_case(customer=customer, subject="Annen sak", team=team)
    url = _attachment_url(second, agent)
    attachment_id = url.rsplit("/", 1)[1]
    response = api.get(f"/api/v1/cases/{case.number}/attachments/{attachment_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such attachment."}


# --- OpenAPI and docs -------------------------------------------------------------------------


def test_openapi_document_lists_the_paths():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{number}",
        "/api/v1/cases/{number}/messages",
        "/api/v1/cases/{number}/events",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/merge",
        "/api/v1/organisations",
        "/api/v1/organisations/{organisation_id}",
    ):
        assert path in paths
    assert set(paths["/api/v1/cases/{number}"]) == {"get", "patch"}
    assert "BearerToken" in document["components"]["securitySchemes"]
    operation_ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert "case_list" in operation_ids
    assert len(operation_ids) == len(set(operation_ids))


def test_docs_page_loads_nothing_from_outside():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html
    assert '"validatorUrl": null' in html
    asset = Client().get("/static/ninja/swagger-ui-bundle.js")
    assert asset.status_code == 200


@pytest.mark.parametrize("params", [{"team": "²"}, {"assignee": "²"}])
def test_odd_digits_in_filters_match_nothing_instead_of_failing(api, case, params):
    # "²".isdigit() is true, int("²") is an error: the filter must treat it as a name.
    response = api.get("/api/v1/cases", params)
    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "url", "params"),
    [
        ("get", "/api/v1/cases", {"customer": str(10**30)}),
        ("get", "/api/v1/customers", {"organisation": str(10**30)}),
        ("get", f"/api/v1/customers/{10**30}", {}),
        ("get", f"/api/v1/cases/{10**30}", {}),
    ],
)
def test_malformed_references_get_a_clear_client_error(api, case, method, url, params):
    response = getattr(api, method)(url, params)
    assert 400 <= response.status_code < 500, response.content[:300]
    assert "detail" in response.json()


def test_unknown_team_reference_in_body_is_422(api, customer):
    response = api.post(
        "/api/v1/cases",
        {"customer": {"id": customer.pk}, "subject": "x", "team": "²"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "team"
