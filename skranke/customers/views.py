"""The customer database: search, a customer's history across channels, edit and merge.

Customer records are shared by every agent; the cases listed on them still go through
``visible_cases`` so another team's cases never show.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from skranke.cases.access import visible_cases
from skranke.cases.queues import count
from skranke.customers import actions
from skranke.customers.access import access_customer, access_organisation, visible_customers
from skranke.customers.forms import CustomerForm, MergeCustomerForm, OrganisationForm
from skranke.customers.models import Customer
from skranke.search.query import search_customers

CASES_SHOWN = 50
SEARCH_RESULTS = 50


@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    if query:
        results = search_customers(request.user, query, limit=SEARCH_RESULTS)  # type: ignore[arg-type]
    else:
        # Newest first walks the primary key; no sort over the whole table.
        results = list(
            visible_customers(request.user)  # type: ignore[arg-type]
            .select_related("organisation")
            .prefetch_related("emails", "phones")
            .order_by("-pk")[:SEARCH_RESULTS]
        )
    context = {"customers": results, "query": query, "nav_section": "customers"}
    if request.htmx and request.htmx.target == "customer-results":  # type: ignore[attr-defined]
        return render(request, "customers/list.html#results", context)
    return render(request, "customers/list.html", context)


def _customer_context(request: HttpRequest, customer: Customer, **extra: Any) -> dict[str, Any]:
    cases = visible_cases(request.user).filter(customer=customer)  # type: ignore[arg-type]
    return {
        "customer": customer,
        "cases": cases.select_related("team", "assignee").order_by("-created_at")[:CASES_SHOWN],
        "case_count": count(cases),
        "merge_form": extra.get("merge_form") or MergeCustomerForm(),
        "nav_section": "customers",
    }


@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = access_customer(request.user, customer_id)  # type: ignore[arg-type]
    if customer.merged_into_id:
        messages.info(
            request, _("This customer was merged; showing the record it was merged into.")
        )
        return redirect("customers:detail", customer_id=customer.merged_into_id)
    return render(request, "customers/detail.html", _customer_context(request, customer))


def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = access_customer(request.user, customer_id, write=True)  # type: ignore[arg-type]
    if request.method == "POST":
        form = CustomerForm.for_customer(customer, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                actions.update_customer(customer, **data)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Customer saved."))
                return redirect("customers:detail", customer_id=customer.pk)
        status = 400
    else:
        form = CustomerForm.for_customer(customer)
        status = 200
    return render(
        request,
        "customers/edit.html",
        {"customer": customer, "form": form, "nav_section": "customers"},
        status=status,
    )


@require_POST
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    target = access_customer(request.user, customer_id, write=True)  # type: ignore[arg-type]
    form = MergeCustomerForm(request.POST)
    if form.is_valid():
        source = _find_duplicate(request, form.cleaned_data["other"])
        if source is None:
            form.add_error("other", _("No customer matches that."))
        elif source.pk == target.pk:
            form.add_error("other", _("That is this customer."))
        else:
            actions.merge_customers(source, target, actor=request.user)
            messages.success(
                request, _("%(name)s was merged into this customer.") % {"name": source.name}
            )
            return redirect("customers:detail", customer_id=target.pk)
    context = _customer_context(request, target, merge_form=form)
    return render(request, "customers/detail.html", context, status=400)


def _find_duplicate(request: HttpRequest, text: str) -> Customer | None:
    text = text.strip()
    if text.isdigit() and len(text) < 8:
        try:
            return access_customer(request.user, int(text))  # type: ignore[arg-type]
        except Http404:
            return None
    if "@" in text:
        return actions.find_customer(email=text)
    return actions.find_customer(phone=text)


@require_GET
def organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = access_organisation(request.user, organisation_id)  # type: ignore[arg-type]
    members = organisation.customers.filter(merged_into__isnull=True).prefetch_related(
        "emails", "phones"
    )
    cases = visible_cases(request.user).filter(organisation=organisation)  # type: ignore[arg-type]
    context = {
        "organisation": organisation,
        "members": members.order_by("name")[:100],
        "member_count": count(members),
        "cases": cases.select_related("customer", "team", "assignee").order_by("-created_at")[
            :CASES_SHOWN
        ],
        "case_count": count(cases),
        "nav_section": "customers",
    }
    return render(request, "customers/organisation.html", context)


def organisation_edit(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = access_organisation(request.user, organisation_id, write=True)  # type: ignore[arg-type]
    if request.method == "POST":
        form = OrganisationForm.for_organisation(organisation, request.POST)
        if form.is_valid():
            try:
                actions.update_organisation(organisation, **form.cleaned_data)
            except ValidationError as exc:
                organisation.refresh_from_db()
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Organisation saved."))
                return redirect("customers:organisation", organisation_id=organisation.pk)
        status = 400
    else:
        form = OrganisationForm.for_organisation(organisation)
        status = 200
    return render(
        request,
        "customers/organisation_edit.html",
        {"organisation": organisation, "form": form, "nav_section": "customers"},
        status=status,
    )


def _errors_to_form(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
