"""Searching cases and customers. Every result passes through the access helpers, so search
never shows a case the user could not open.

Typical use in a view::

    if (case := find_case_by_number(request.user, q)) is not None:
        return redirect(case)
    ids = search_cases(request.user, q, limit=50, offset=offset)
    cases = cases_in_order(request.user, ids)
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from skranke.accounts.models import User
from skranke.cases.access import visible_cases
from skranke.cases.models import Case
from skranke.customers.access import visible_customers
from skranke.customers.models import Customer, CustomerEmail, CustomerPhone
from skranke.lib.validators import normalise_email, normalise_phone
from skranke.search.backends import Visibility, backend
from skranke.search.text import case_number, parse_query

# Only the newest this-many matches are ranked (see docs/search.md): it bounds the cost of a
# search for a common word, and for a help desk the recent cases are the ones people look for.
CANDIDATES = 1000
MAX_LIMIT = 200


def find_case_by_number(
    user: User, query: str, *, within: QuerySet[Case] | None = None
) -> Case | None:
    """The visible case whose number is ``query`` (``#12345`` or ``12345``), if any.

    ``within`` narrows the look-up as for :func:`search_cases`.
    """
    number = case_number(query)
    if number is None:
        return None
    return _searchable(user, within).filter(number=number).first()


def search_cases(
    user: User,
    query: str,
    *,
    limit: int = 50,
    offset: int = 0,
    within: QuerySet[Case] | None = None,
) -> list[int]:
    """Ids of the cases ``user`` may see that match ``query``, best first.

    Matches the subject, every message (customer messages, replies, internal notes) and the
    customer's name and email addresses. Bokmål words match their inflected forms, the last
    word matches as a prefix, and a case number (``#12345``) puts that case first. Input that
    is not a search (empty, only punctuation) gives an empty list, never an error.

    ``within`` (a queue, the API's filters) narrows the search inside the ranking, so a
    filtered search returns the best matches that pass the filters rather than the best
    matches overall with the failures dropped. It is always intersected with
    ``visible_cases(user)``.
    """
    limit = max(0, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    found: list[int] = []
    if offset == 0 and (case := find_case_by_number(user, query, within=within)) is not None:
        found.append(case.pk)
    terms = parse_query(query)
    teams = _visible_team_ids(user)
    if terms and limit and teams != []:
        ids = backend().search_cases(
            terms,
            _case_visibility(user, within),
            teams=teams,
            candidates=max(CANDIDATES, offset + limit),
            limit=limit,
            offset=offset,
        )
        found.extend(pk for pk in ids if pk not in found)
    return found[:limit]


def _visible_team_ids(user: User) -> list[int] | None:
    """The teams whose cases the user may see, or None for all teams.

    Only a pre-filter, so the index can narrow the matches cheaply: every result still passes
    ``visible_cases``, which is the rule.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    if user.sees_all_teams:
        return None
    return list(user.teams.values_list("pk", flat=True))


def _searchable(user: User, within: QuerySet[Case] | None) -> QuerySet[Case]:
    cases = visible_cases(user)
    if within is None:
        return cases
    # ``&`` rather than trusting the caller: a queryset that did not start from
    # ``visible_cases`` still cannot widen what the user sees.
    return cases & within.order_by()


def _case_visibility(user: User, within: QuerySet[Case] | None = None) -> Visibility:
    """A correlated ``SELECT`` built from ``visible_cases`` (and ``within``), so search
    applies exactly the rules the rest of Skranke does."""

    def visibility(outer_id: str) -> tuple[str, tuple[Any, ...]]:
        queryset = _searchable(user, within).filter(pk=RawSQL(outer_id, ())).values("pk")
        if queryset.query.is_empty():
            return "SELECT 1 WHERE 1 = 0", ()
        sql, params = queryset.query.sql_with_params()
        return sql, tuple(params)

    return visibility


def cases_in_order(
    user: User, ids: list[int], queryset: QuerySet[Case] | None = None
) -> list[Case]:
    """The cases for ``ids`` in the same order, re-checked against ``visible_cases``."""
    base = queryset if queryset is not None else visible_cases(user)
    base = base.select_related("team", "assignee", "customer")
    by_id = {case.pk: case for case in base.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def search_customers(user: User, query: str, *, limit: int = 20, offset: int = 0) -> list[Customer]:
    """Customers matching ``query`` by name, email address, phone number (any format:
    "912 34 567", "+47 91234567", "0047…"), organisation name or organisation number.

    Exact email and phone matches come first, then full-text matches with every word a prefix,
    so "ola h" finds Ola Hansen. Merged customers are not returned; their successor is.
    """
    limit = max(0, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    visible = visible_customers(user)
    if not limit or visible.query.is_empty():
        return []
    ids: list[int] = []
    if offset == 0:
        ids.extend(_exact_contact_matches(query))
    terms = parse_query(_phone_digits(query) or query, stemmed=False)
    if terms:
        more = backend().search_customers(
            terms, candidates=max(CANDIDATES, offset + limit), limit=limit, offset=offset
        )
        ids.extend(pk for pk in more if pk not in ids)
    ids = ids[:limit]
    customers = (
        visible.filter(pk__in=ids)
        .select_related("organisation")
        .prefetch_related("emails", "phones")
    )
    by_id = {c.pk: c for c in customers}
    return [by_id[pk] for pk in ids if pk in by_id]


def _exact_contact_matches(query: str) -> list[int]:
    text = query.strip()
    if "@" in text and " " not in text:
        return list(
            CustomerEmail.objects.filter(address=normalise_email(text)).values_list(
                "customer_id", flat=True
            )
        )
    if _phone_digits(text):
        try:
            number = normalise_phone(text)
        except ValidationError:
            return []
        return list(
            CustomerPhone.objects.filter(number=number).values_list("customer_id", flat=True)
        )
    return []


def _phone_digits(query: str) -> str:
    """The digits of a query that looks like a phone or organisation number, else ''.

    "+47 912 34 567", "(0047) 912-34-567" and "912 34 567" all become one word of digits, so
    a prefix of the number finds it however it was written.
    """
    text = query.strip()
    if any(c.isalpha() for c in text):
        return ""
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < 3:
        return ""
    return digits[2:] if digits.startswith("00") else digits
