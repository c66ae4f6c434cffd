"""Customers and organisations in the JSON API: parse → ``access_*`` → action → schema."""

from __future__ import annotations

from enum import Enum
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from skranke.accounts.models import User
from skranke.customers.access import (
    access_customer,
    access_organisation,
    visible_customers,
    visible_organisations,
)
from skranke.customers.actions import (
    create_customer,
    create_organisation,
    merge_customers,
    update_customer,
    update_organisation,
)
from skranke.customers.models import Customer, Organisation
from skranke.customers.schemas import (
    CustomerCreate,
    CustomerFilters,
    CustomerMerge,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
    OrganisationCreate,
    OrganisationFilters,
    OrganisationOut,
    OrganisationPage,
    OrganisationUpdate,
)
from skranke.lib.api import InvalidInput, Loc, user_of
from skranke.lib.cursors import Page, paginate, paginate_ranked
from skranke.search import query as search

router = Router(tags=["customers"])
organisations_router = Router(tags=["organisations"])


# --- Customers --------------------------------------------------------------------------------


@router.get("", response=CustomerPage, url_name="customer_list")
def list_customers(request: HttpRequest, filters: Query[CustomerFilters]) -> Page[Customer]:
    """Customers (merged-away records excluded), oldest first; with ``q``, search hits best
    first."""
    user = user_of(request)
    if filters.q.strip():
        return _search(user, filters)
    customers = visible_customers(user)
    if filters.organisation is not None:
        customers = customers.filter(organisation_id=filters.organisation)
    customers = customers.select_related("organisation").prefetch_related("emails", "phones")
    return paginate(customers, order="id", limit=filters.limit, cursor=filters.cursor)


def _search(user: User, filters: CustomerFilters) -> Page[Customer]:
    page = paginate_ranked(
        lambda offset, count: search.search_customers(user, filters.q, limit=count, offset=offset),
        limit=filters.limit,
        cursor=filters.cursor,
        depth=search.CANDIDATES,
        fetch_cap=search.MAX_LIMIT,
    )
    if filters.organisation is None:
        return page
    # Filtered after ranking, so the cursor still moves by whole pages of the ranking; a page
    # may hold fewer than ``limit`` customers (docs/api.md says so).
    kept = [c for c in page.items if c.organisation_id == filters.organisation]
    return Page(items=kept, next=page.next)


@router.get("/{customer_id}", response=CustomerOut, url_name="customer_detail")
def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    return access_customer(user_of(request), customer_id)


@router.post("", response={201: CustomerOut}, url_name="customer_create")
def create(request: HttpRequest, payload: CustomerCreate) -> Status[Customer]:
    user = user_of(request)
    fields = _values(payload.model_dump())
    fields["organisation"] = organisation_from_ref(
        user, fields["organisation"], ["body", "organisation"]
    )
    customer = create_customer(**fields)
    return Status(201, access_customer(user, customer.pk))


@router.patch("/{customer_id}", response=CustomerOut, url_name="customer_update")
def update(request: HttpRequest, customer_id: int, payload: CustomerUpdate) -> Customer:
    user = user_of(request)
    customer = access_customer(user, customer_id, write=True)
    fields = _values(payload.model_dump(exclude_unset=True))
    if "organisation" in fields:
        fields["organisation"] = organisation_from_ref(
            user, fields["organisation"], ["body", "organisation"]
        )
    update_customer(customer, **fields)
    return access_customer(user, customer.pk)


@router.post("/{customer_id}/merge", response=CustomerOut, url_name="customer_merge")
def merge(request: HttpRequest, customer_id: int, payload: CustomerMerge) -> Customer:
    """Fold this customer into ``into``: contact details and cases move; this record remains
    as a tombstone pointing at the other (``merged_into``). Returns the remaining customer."""
    user = user_of(request)
    source = access_customer(user, customer_id, write=True)
    try:
        target = access_customer(user, payload.into, write=True)
    except Http404:
        raise InvalidInput(
            ["body", "into"], f"No customer with id {payload.into}.", "unknown_customer"
        ) from None
    merge_customers(source, target, actor=user)
    return access_customer(user, target.pk)


def organisation_from_ref(user: User, ref: int | None, loc: Loc) -> Organisation | None:
    if ref is None:
        return None
    try:
        return access_organisation(user, ref)
    except Http404:
        raise InvalidInput(loc, f"No organisation with id {ref}.", "unknown_organisation") from None


def _values(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


# --- Organisations ----------------------------------------------------------------------------


@organisations_router.get("", response=OrganisationPage, url_name="organisation_list")
def list_organisations(
    request: HttpRequest, filters: Query[OrganisationFilters]
) -> Page[Organisation]:
    organisations: QuerySet[Organisation] = visible_organisations(user_of(request))
    q = filters.q.strip()
    if q:
        by = Q(name__icontains=q)
        if q.replace(" ", "").isdigit():
            by |= Q(org_number__startswith=q.replace(" ", ""))
        organisations = organisations.filter(by)
    return paginate(organisations, order="id", limit=filters.limit, cursor=filters.cursor)


@organisations_router.get(
    "/{organisation_id}", response=OrganisationOut, url_name="organisation_detail"
)
def get_organisation(request: HttpRequest, organisation_id: int) -> Organisation:
    return access_organisation(user_of(request), organisation_id)


@organisations_router.post("", response={201: OrganisationOut}, url_name="organisation_create")
def create_org(request: HttpRequest, payload: OrganisationCreate) -> Status[Organisation]:
    return Status(201, create_organisation(**payload.model_dump()))


@organisations_router.patch(
    "/{organisation_id}", response=OrganisationOut, url_name="organisation_update"
)
def update_org(
    request: HttpRequest, organisation_id: int, payload: OrganisationUpdate
) -> Organisation:
    organisation = access_organisation(user_of(request), organisation_id, write=True)
    return update_organisation(organisation, **payload.model_dump(exclude_unset=True))
