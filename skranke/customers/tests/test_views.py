"""Customer database pages: search, history, edit, merge, organisations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from skranke.cases.actions import create_case
from skranke.customers.actions import create_organisation
from skranke.customers.models import Customer, CustomerEmail, Organisation


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


@pytest.mark.parametrize("name", ["customers:list"])
def test_anonymous_is_sent_to_login(client, db, name):
    assert client.get(reverse(name)).status_code == 302


def test_anonymous_customer_page_redirects(client, customer):
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_missing_customer_is_404(logged_in, db):
    assert logged_in.get(reverse("customers:detail", args=[999])).status_code == 404
    assert logged_in.get(reverse("customers:organisation", args=[999])).status_code == 404


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("per", True),
        ("PER K", True),
        ("kunde", True),
        ("per@kunde.no", True),
        ("91234567", True),
        ("+4791234567", True),
        ("912 34", True),  # a phone number while it is being typed
        ("kundene", False),  # customer names are not stemmed
        ("anne", False),
    ],
)
def test_search(logged_in, customer, search_index, query, found):
    search_index()
    response = logged_in.get(reverse("customers:list"), {"q": query})
    assert ("Per Kunde" in response.content.decode()) is found


def test_search_htmx_partial(logged_in, customer, search_index):
    search_index()
    response = logged_in.get(
        reverse("customers:list"),
        {"q": "per"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="customer-results",
    )
    content = response.content.decode()
    assert "Per Kunde" in content and "<html" not in content


def test_search_empty_state(logged_in, db):
    assert "empty" in logged_in.get(reverse("customers:list"), {"q": "ingen"}).content.decode()


def test_customer_page_shows_only_visible_cases(logged_in, customer, team, other_team):
    create_case(customer=customer, subject="Synlig sak", team=team)
    create_case(customer=customer, subject="Skjult sak", team=other_team)
    content = logged_in.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Synlig sak" in content
    assert "Skjult sak" not in content
    assert "per@kunde.no" in content


def test_edit_customer_with_several_contacts(logged_in, customer):
    data = {
        "name": "Per Kunde Jr.",
        "emails": "per@kunde.no\nper.jobb@firma.no",
        "phones": "912 34 567\n+46 70 123 45 67",
        "preferred_language": "en",
        "organisation": "",
        "address": "Storgata 1",
        "postal_code": "0155",
        "city": "Oslo",
        "notes": "Ring etter kl. 10",
    }
    response = logged_in.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Per Kunde Jr." and customer.city == "Oslo"
    assert sorted(customer.emails.values_list("address", flat=True)) == [
        "per.jobb@firma.no",
        "per@kunde.no",
    ]
    assert customer.phones.count() == 2


def test_edit_customer_bad_input_writes_nothing(logged_in, customer, other_customer):
    base = {"name": "Nytt navn", "preferred_language": "nb", "emails": "", "phones": ""}
    for bad in (
        {"emails": "ikke-en-adresse"},
        {"phones": "abc"},
        {"emails": "anne@annen.no"},
        {"name": ""},
    ):
        response = logged_in.post(reverse("customers:edit", args=[customer.pk]), {**base, **bad})
        assert response.status_code == 400
        assert (
            'class="error"' in response.content.decode()
            or "form-errors" in response.content.decode()
        )
    customer.refresh_from_db()
    assert customer.name == "Per Kunde"
    assert CustomerEmail.objects.get(address="anne@annen.no").customer == other_customer
    assert customer.emails.filter(address="per@kunde.no").exists()


def test_merge_customers(logged_in, customer, other_customer, team):
    case = create_case(customer=other_customer, subject="Annens sak", team=team)
    response = logged_in.post(
        reverse("customers:merge", args=[customer.pk]), {"other": "anne@annen.no"}
    )
    assert response.status_code == 302
    other_customer.refresh_from_db()
    case.refresh_from_db()
    assert other_customer.merged_into == customer
    assert case.customer == customer
    # The old record redirects to the surviving one.
    old = logged_in.get(reverse("customers:detail", args=[other_customer.pk]))
    assert old.status_code == 302 and old["Location"] == reverse(
        "customers:detail", args=[customer.pk]
    )


def test_merge_with_unknown_or_self_is_refused(logged_in, customer):
    for other in ("finnes@ikke.no", str(customer.pk), "999999"):
        response = logged_in.post(reverse("customers:merge", args=[customer.pk]), {"other": other})
        assert response.status_code == 400
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


def test_organisation_page_and_edit(logged_in, customer, team, other_team):
    org = create_organisation(name="Fjord AS", org_number="923609016")
    customer.organisation = org
    customer.save()
    create_case(customer=customer, subject="Firmasak", team=team)
    create_case(customer=customer, subject="Annet team", team=other_team)
    content = logged_in.get(reverse("customers:organisation", args=[org.pk])).content.decode()
    assert "Per Kunde" in content and "Firmasak" in content and "Annet team" not in content
    response = logged_in.post(
        reverse("customers:organisation_edit", args=[org.pk]),
        {"name": "Fjord AS", "org_number": "923 609 016", "email_domains": "fjord.no", "notes": ""},
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.email_domains == ["fjord.no"]


def test_organisation_bad_org_number_is_refused(logged_in, db):
    org = create_organisation(name="Fjord AS")
    response = logged_in.post(
        reverse("customers:organisation_edit", args=[org.pk]),
        {"name": "Fjord AS", "org_number": "923609017", "email_domains": "", "notes": ""},
    )
    assert response.status_code == 400
    assert "923609017" in response.content.decode()
    assert Organisation.objects.get(pk=org.pk).org_number == ""


def test_customer_list_query_count(client, agent, django_assert_max_num_queries):
    from skranke.customers.actions import create_customer

    for i in range(20):
        create_customer(name=f"Kunde {i}", emails=[f"k{i}@x.no"], phones=[f"9{i:07d}"])
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("customers:list")).status_code == 200
