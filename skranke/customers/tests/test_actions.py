from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from skranke.cases.actions import create_case
from skranke.cases.models import EventKind
from skranke.customers.actions import (
    create_customer,
    create_organisation,
    find_customer,
    find_or_create_customer,
    merge_customers,
    update_customer,
)
from skranke.customers.models import Customer, CustomerEmail


def test_lookup_by_email_and_phone(customer):
    assert find_customer(email="PER@kunde.no") == customer
    assert find_customer(phone="91234567") == customer
    assert find_customer(phone="garbage") is None


def test_email_unique_across_customers(customer):
    with pytest.raises(ValidationError):
        create_customer(name="Someone else", emails=["per@kunde.no"])
    assert Customer.objects.count() == 1


def test_find_or_create_adds_new_contact_to_known_caller(customer):
    found = find_or_create_customer(phone="+47 912 34 567", email="per.privat@example.no")
    assert found == customer
    assert set(customer.emails.values_list("address", flat=True)) == {
        "per@kunde.no",
        "per.privat@example.no",
    }


def test_organisation_by_email_domain(db):
    org = create_organisation(name="Fjord AS", org_number="923609016", email_domains=["fjord.no"])
    person = create_customer(name="Guro", emails=["guro@fjord.no"])
    assert person.organisation == org


def test_invalid_org_number_refused(db):
    with pytest.raises(ValidationError):
        create_organisation(name="Feil AS", org_number="923609017")


def test_merge_moves_cases_and_contacts(customer, other_customer, team):
    case = create_case(customer=other_customer, subject="x", team=team, body_text="y")
    merge_customers(other_customer, customer)
    case.refresh_from_db()
    other_customer.refresh_from_db()
    assert case.customer == customer
    assert case.events.filter(kind=EventKind.CUSTOMER).exists()
    assert other_customer.merged_into == customer
    assert CustomerEmail.objects.get(address="anne@annen.no").customer == customer
    # Look-ups of the merged record's address land on the survivor.
    assert find_customer(email="anne@annen.no") == customer


def test_crossing_customer_merges_do_not_make_a_cycle(customer, other_customer):
    stale_a = Customer.objects.get(pk=customer.pk)
    stale_b = Customer.objects.get(pk=other_customer.pk)
    merge_customers(other_customer, customer)
    with pytest.raises(ValidationError):
        merge_customers(stale_a, stale_b)
    customer.refresh_from_db()
    assert customer.merged_into is None


def test_merged_customer_refuses_edits(customer, other_customer):
    merge_customers(other_customer, customer)
    other_customer.refresh_from_db()
    with pytest.raises(ValidationError):
        update_customer(other_customer, emails=["ny@kunde.no"])
    assert not CustomerEmail.objects.filter(address="ny@kunde.no").exists()
