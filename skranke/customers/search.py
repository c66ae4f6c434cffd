"""Customer look-up by name, email or phone on indexed columns.

A full-text engine comes later; until then every branch here is an exact or prefix match on a
unique or expression index, so the look-up stays fast at 200k customers.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Lower

from skranke.customers.models import Customer
from skranke.lib.validators import normalise_email, normalise_phone


def search_customers(
    customers: QuerySet[Customer], text: str, *, limit: int = 50
) -> list[Customer]:
    text = text.strip()
    if not text:
        return []
    found: dict[int, Customer] = {}
    base = customers.select_related("organisation").prefetch_related("emails", "phones")

    def add(queryset: QuerySet[Customer]) -> None:
        for customer in queryset[: limit - len(found)]:
            found.setdefault(customer.pk, customer)

    if "@" in text:
        address = normalise_email(text)
        add(base.filter(emails__address=address))
        if len(found) < limit:
            add(base.filter(emails__address__startswith=address).order_by("name", "pk"))
        return list(found.values())
    digits = "".join(c for c in text if c.isdigit())
    if digits and len(digits) >= 5 and len(digits) >= len(text.replace(" ", "")) - 1:
        try:
            number = normalise_phone(text)
        except ValidationError:
            number = ""
        if number:
            add(base.filter(phones__number=number))
        if len(found) < limit:
            add(base.filter(phones__number__startswith="+47" + digits).order_by("name", "pk"))
        return list(found.values())
    for part in text.split():
        if "@" in part:
            return search_customers(customers, part, limit=limit)
    add(
        base.annotate(lower_name=Lower("name"))
        .filter(lower_name__startswith=text.lower())
        .order_by("lower_name", "pk")
    )
    if len(found) < limit and " " not in text and len(text) >= 3:
        # Family names: "hansen" should find "Ola Hansen". A contains-scan, bounded by the limit.
        add(
            base.annotate(lower_name=Lower("name"))
            .filter(lower_name__contains=" " + text.lower())
            .order_by("lower_name", "pk")
        )
    return list(found.values())
