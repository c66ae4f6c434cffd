"""Reads of customer records. Every agent works with the shared customer database; the cases
listed on a customer's page still go through ``visible_cases``."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from skranke.accounts.models import User
from skranke.customers.models import Customer, Organisation


def visible_customers(user: User) -> QuerySet[Customer]:
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    return Customer.objects.filter(merged_into__isnull=True)


def access_customer(user: User, customer_id: int, *, write: bool = False) -> Customer:
    customer = (
        Customer.objects.filter(pk=customer_id)
        .select_related("organisation", "merged_into")
        .prefetch_related("emails", "phones")
        .first()
    )
    if customer is None or not user.is_authenticated or not user.is_active:
        raise Http404("No such customer")
    return customer


def visible_organisations(user: User) -> QuerySet[Organisation]:
    if not user.is_authenticated or not user.is_active:
        return Organisation.objects.none()
    return Organisation.objects.all()


def access_organisation(user: User, organisation_id: int, *, write: bool = False) -> Organisation:
    organisation = visible_organisations(user).filter(pk=organisation_id).first()
    if organisation is None:
        raise Http404("No such organisation")
    return organisation
