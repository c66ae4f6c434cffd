"""The customers and organisations API: search, cursors, create/update/merge, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from skranke.accounts.models import ApiToken, User
from skranke.cases.actions import create_case
from skranke.cases.models import Case, CaseEvent, EventKind
from skranke.customers.actions import create_customer, create_organisation
from skranke.customers.models import Customer, CustomerEmail, CustomerPhone, Organisation

pytestmark = pytest.mark.django_db

JSON = "application/json"
VALID_ORG_NUMBER = "974760673"
OTHER_VALID_ORG_NUMBER = "923609016"


def bearer(user: User) -> Client:
    _, raw = ApiToken.objects.issue(user)
    return Client(headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


@pytest.fixture
def api(agent) -> Client:
    return bearer(agent)


@pytest.fixture
def organisation(db) -> Organisation:
    return create_organisation(
        name="Fjord Elektro AS", org_number=VALID_ORG_NUMBER, email_domains=["fjordelektro.no"]
    )


def counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "emails": CustomerEmail.objects.count(),
        "phones": CustomerPhone.objects.count(),
        "organisations": Organisation.objects.count(),
        "events": CaseEvent.objects.count(),
    }


def test_endpoints_need_authentication(customer, organisation):
    for url in (
        "/api/v1/customers",
        f"/api/v1/customers/{customer.pk}",
        "/api/v1/organisations",
        f"/api/v1/organisations/{organisation.pk}",
    ):
        response = Client().get(url)
        assert response.status_code == 401
        assert "Bearer" in response.json()["detail"]
    response = Client().post("/api/v1/customers", {"name": "X"}, content_type=JSON)
    assert response.status_code == 401


# --- Customers: list and search ---------------------------------------------------------------


def test_list_customers_with_contacts(api, customer, other_customer):
    response = api.get("/api/v1/customers")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [c["id"] for c in body["items"]] == [customer.pk, other_customer.pk]
    first = body["items"][0]
    assert first["emails"] == [
        {"address": "per@kunde.no", "is_primary": True, "undeliverable": False}
    ]
    assert first["phones"] == [{"number": "+4791234567", "is_primary": True}]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("per", {"Per Kunde"}),
        ("ANNE", {"Anne Annen"}),
        ("anne@annen", {"Anne Annen"}),
        ("per@kunde.no", {"Per Kunde"}),
        ("kunde.no", {"Per Kunde"}),
        ("912 34 567", {"Per Kunde"}),
        ("+47 91234567", {"Per Kunde"}),
        ("0047 912-34-567", {"Per Kunde"}),
        ("912 34", {"Per Kunde"}),
        ("ingen treff", set()),
    ],
)
def test_search_customers(api, customer, other_customer, search_index, q, expected):
    search_index()
    response = api.get("/api/v1/customers", {"q": q})
    assert response.status_code == 200
    assert {c["name"] for c in response.json()["items"]} == expected


def test_search_ranks_exact_email_first(api, customer, search_index):
    create_customer(name="Per Kunde Jr", emails=["per.jr@kunde.no"])
    search_index()
    items = api.get("/api/v1/customers", {"q": "per@kunde.no"}).json()["items"]
    assert items[0]["id"] == customer.pk


def test_customer_search_pages_through_the_ranking(api, search_index):
    for i in range(12):
        create_customer(name=f"Kunde {i:02d}", emails=[f"k{i}@example.no"])
    search_index()
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5, "q": "example.no"}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/v1/customers", params).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 12


def test_customer_search_within_an_organisation(api, organisation, search_index):
    member = create_customer(name="Kari Elektro", emails=["kari@fjordelektro.no"])
    create_customer(name="Kari Privat", emails=["kari@example.no"])
    search_index()
    params = {"q": "kari", "organisation": organisation.pk}
    assert [c["id"] for c in api.get("/api/v1/customers", params).json()["items"]] == [member.pk]


def test_search_and_list_cursors_are_not_interchangeable(api, customer, other_customer):
    listed = api.get("/api/v1/customers", {"limit": 1}).json()
    response = api.get("/api/v1/customers", {"q": "per", "cursor": listed["next"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "invalid_cursor"


def test_customer_cursor_pagination(api):
    for i in range(12):
        create_customer(name=f"Kunde {i:02d}", emails=[f"k{i}@example.no"])
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/v1/customers", params).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 12
    assert seen == sorted(seen)


def test_merged_customers_are_not_listed(api, agent, customer, other_customer):
    api.post(
        f"/api/v1/customers/{other_customer.pk}/merge", {"into": customer.pk}, content_type=JSON
    )
    ids = [c["id"] for c in api.get("/api/v1/customers").json()["items"]]
    assert ids == [customer.pk]


def test_customer_list_query_count(api, organisation, django_assert_max_num_queries):
    for i in range(25):
        create_customer(
            name=f"Kunde {i}",
            emails=[f"k{i}@fjordelektro.no", f"privat{i}@example.no"],
            phones=[f"+47 4000 {i:04d}"],
        )
    # token, customers (+ organisation joined), emails, phones.
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/customers?limit=200")
    items = response.json()["items"]
    assert len(items) == 25
    assert items[0]["organisation"]["org_number"] == VALID_ORG_NUMBER


# --- Customers: get, create, update -----------------------------------------------------------


def test_get_customer(api, customer, organisation):
    customer.organisation = organisation
    customer.save()
    response = api.get(f"/api/v1/customers/{customer.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Per Kunde"
    assert body["organisation"]["name"] == "Fjord Elektro AS"
    assert body["emails"][0]["address"] == "per@kunde.no"
    assert body["phones"][0]["number"] == "+4791234567"
    assert body["merged_into"] is None


def test_unknown_customer_is_404(api):
    response = api.get("/api/v1/customers/99999")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such customer."}


def test_create_customer(api, organisation):
    response = api.post(
        "/api/v1/customers",
        {
            "name": "Ingrid Berg",
            "emails": ["Ingrid@FjordElektro.no", "ingrid.privat@example.no"],
            "phones": ["22 33 44 55"],
            "preferred_language": "en",
            "city": "Bergen",
            "custom_fields": {"kundenummer": "K-1001"},
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [e["address"] for e in body["emails"]] == [
        "ingrid@fjordelektro.no",
        "ingrid.privat@example.no",
    ]
    assert body["emails"][0]["is_primary"] is True
    assert body["phones"] == [{"number": "+4722334455", "is_primary": True}]
    # Matched from the email domain when no organisation is given.
    assert body["organisation"]["id"] == organisation.pk
    assert body["preferred_language"] == "en"
    assert body["custom_fields"] == {"kundenummer": "K-1001"}


@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        ({}, ["body"], "customer_empty"),
        ({"name": "X", "emails": ["ikke-epost"]}, ["body", "emails", 0], "invalid_email"),
        ({"name": "X", "phones": ["12"]}, ["body", "phones", 0], "invalid_phone"),
        ({"name": "X", "organisation": 99999}, ["body", "organisation"], "unknown_organisation"),
        ({"name": "X", "preferred_language": "sv"}, ["body", "preferred_language"], "enum"),
        ({"name": "X", "emails": "a@b.no"}, ["body", "emails"], "list_type"),
        ({"name": "X", "shoe_size": 44}, ["body", "shoe_size"], "extra_forbidden"),
    ],
)
def test_create_customer_bad_payloads(api, payload, loc, type_):
    before = counts()
    response = api.post("/api/v1/customers", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == type_ and e["msg"] for e in errors), errors
    assert counts() == before


def test_create_customer_with_taken_email_is_422_from_the_action(api, customer):
    before = counts()
    response = api.post(
        "/api/v1/customers",
        {
            "name": "Duplikat",
            "emails": ["ny@example.no", "PER@kunde.no"],
            "phones": ["+4790000000"],
        },
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "emails"],
                "msg": "per@kunde.no already belongs to Per Kunde",
                "type": "invalid",
            }
        ]
    }
    assert counts() == before


def test_update_customer(api, customer, organisation):
    response = api.patch(
        f"/api/v1/customers/{customer.pk}",
        {
            "name": "Per Kunde Olsen",
            "phones": ["+47 400 00 001", "912 34 567"],
            "organisation": organisation.pk,
        },
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Per Kunde Olsen"
    assert [p["number"] for p in body["phones"]] == ["+4740000001", "+4791234567"]
    assert body["phones"][0]["is_primary"] is True
    assert body["emails"][0]["address"] == "per@kunde.no"  # untouched
    assert body["organisation"]["id"] == organisation.pk

    cleared = api.patch(
        f"/api/v1/customers/{customer.pk}", {"organisation": None}, content_type=JSON
    )
    assert cleared.json()["organisation"] is None


def test_update_customer_bad_payloads_write_nothing(api, customer, other_customer):
    before = counts()
    taken = api.patch(
        f"/api/v1/customers/{customer.pk}",
        {"name": "Nytt navn", "emails": ["anne@annen.no"]},
        content_type=JSON,
    )
    assert taken.status_code == 422
    assert taken.json()["detail"] == [
        {
            "loc": ["body", "emails"],
            "msg": "anne@annen.no already belongs to Anne Annen",
            "type": "invalid",
        }
    ]
    customer.refresh_from_db()
    assert customer.name == "Per Kunde"  # the name change was rolled back with the rest
    assert counts() == before

    for payload, loc in (
        ({"name": None}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"phones": ["abc"]}, ["body", "phones", 0]),
    ):
        response = api.patch(f"/api/v1/customers/{customer.pk}", payload, content_type=JSON)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc
    assert counts() == before


# --- Customers: merge -------------------------------------------------------------------------


def test_merge_customers_moves_cases_and_contacts(api, agent, customer, other_customer, team):
    case = create_case(customer=other_customer, subject="Gammel sak", team=team)
    response = api.post(
        f"/api/v1/customers/{other_customer.pk}/merge", {"into": customer.pk}, content_type=JSON
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == customer.pk
    assert {e["address"] for e in body["emails"]} == {"per@kunde.no", "anne@annen.no"}
    case.refresh_from_db()
    assert case.customer_id == customer.pk
    event = case.events.get(kind=EventKind.CUSTOMER)
    assert event.actor == agent

    tombstone = api.get(f"/api/v1/customers/{other_customer.pk}").json()
    assert tombstone["merged_into"] == customer.pk


@pytest.mark.parametrize(
    ("into", "loc", "type_"),
    [
        ("self", ["body"], "invalid"),
        (99999, ["body", "into"], "unknown_customer"),
        ("abc", ["body", "into"], "int_parsing"),
    ],
)
def test_merge_customers_bad_target(api, customer, other_customer, team, into, loc, type_):
    create_case(customer=other_customer, subject="Sak", team=team)
    before = counts()
    target = other_customer.pk if into == "self" else into
    response = api.post(
        f"/api/v1/customers/{other_customer.pk}/merge", {"into": target}, content_type=JSON
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert response.json()["detail"][0]["type"] == type_
    assert counts() == before
    assert Case.objects.filter(customer=other_customer).count() == 1


def test_merging_an_already_merged_customer_is_refused(api, customer, other_customer):
    third = create_customer(name="Tredje", emails=["tredje@example.no"])
    first = api.post(
        f"/api/v1/customers/{other_customer.pk}/merge", {"into": customer.pk}, content_type=JSON
    )
    assert first.status_code == 200
    again = api.post(
        f"/api/v1/customers/{other_customer.pk}/merge", {"into": third.pk}, content_type=JSON
    )
    assert again.status_code == 422
    assert "already merged" in again.json()["detail"][0]["msg"]
    into_tombstone = api.post(
        f"/api/v1/customers/{third.pk}/merge", {"into": other_customer.pk}, content_type=JSON
    )
    assert into_tombstone.status_code == 422


# --- Organisations ----------------------------------------------------------------------------


def test_list_and_search_organisations(api, organisation):
    create_organisation(name="Nordlys Regnskap", org_number=OTHER_VALID_ORG_NUMBER)
    everything = api.get("/api/v1/organisations").json()
    assert [o["name"] for o in everything["items"]] == ["Fjord Elektro AS", "Nordlys Regnskap"]
    by_name = api.get("/api/v1/organisations?q=nordlys").json()["items"]
    assert [o["org_number"] for o in by_name] == [OTHER_VALID_ORG_NUMBER]
    by_number = api.get("/api/v1/organisations?q=974 760").json()["items"]
    assert [o["name"] for o in by_number] == ["Fjord Elektro AS"]
    page = api.get("/api/v1/organisations?limit=1").json()
    assert len(page["items"]) == 1
    rest = api.get("/api/v1/organisations", {"limit": 1, "cursor": page["next"]}).json()
    assert [o["name"] for o in rest["items"]] == ["Nordlys Regnskap"]
    assert rest["next"] is None


def test_get_organisation(api, organisation):
    response = api.get(f"/api/v1/organisations/{organisation.pk}")
    assert response.status_code == 200
    assert response.json()["email_domains"] == ["fjordelektro.no"]
    assert api.get("/api/v1/organisations/99999").status_code == 404


def test_create_organisation(api):
    response = api.post(
        "/api/v1/organisations",
        {
            "name": "Nordlys Regnskap",
            "org_number": "923 609 016",
            "email_domains": ["@Nordlys.no"],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["org_number"] == OTHER_VALID_ORG_NUMBER
    assert body["email_domains"] == ["nordlys.no"]
    assert Organisation.objects.filter(pk=body["id"]).exists()


def test_invalid_org_number_is_422_with_a_clear_message(api):
    before = counts()
    response = api.post(
        "/api/v1/organisations",
        {"name": "Feil AS", "org_number": "974760674"},  # wrong check digit
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "org_number"],
                "msg": "974760674 is not a valid Norwegian organisation number "
                "(nine digits, the last a mod-11 check digit).",
                "type": "invalid_org_number",
                "ctx": {"value": "974760674"},
            }
        ]
    }
    assert counts() == before


def test_duplicate_org_number_is_422_from_the_action(api, organisation):
    before = counts()
    response = api.post(
        "/api/v1/organisations",
        {"name": "Kopi AS", "org_number": VALID_ORG_NUMBER},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "org_number"],
            "msg": "An organisation with this number exists.",
            "type": "invalid",
        }
    ]
    assert counts() == before


def test_update_organisation(api, organisation):
    response = api.patch(
        f"/api/v1/organisations/{organisation.pk}",
        {"name": "Fjord Elektro Vest AS", "email_domains": ["fjordelektro.no", "fev.no"]},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Fjord Elektro Vest AS"
    assert response.json()["email_domains"] == ["fjordelektro.no", "fev.no"]

    bad = api.patch(
        f"/api/v1/organisations/{organisation.pk}", {"org_number": "123456789"}, content_type=JSON
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "org_number"]
    organisation.refresh_from_db()
    assert organisation.org_number == VALID_ORG_NUMBER

    other = create_organisation(name="Annen AS")
    taken = api.patch(
        f"/api/v1/organisations/{other.pk}", {"org_number": VALID_ORG_NUMBER}, content_type=JSON
    )
    assert taken.status_code == 422
    assert taken.json()["detail"] == [
        {
            "loc": ["body", "org_number"],
            "msg": "An organisation with this number exists.",
            "type": "invalid",
        }
    ]
