"""Every write to customers and organisations goes through these functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from skranke.customers.models import Customer, CustomerEmail, CustomerPhone, Organisation
from skranke.lib.validators import normalise_email, normalise_org_number, normalise_phone
from skranke.search import index as search_index
from skranke.search.backends import CustomerDocument


def find_customer(*, email: str = "", phone: str = "") -> Customer | None:
    """Unique look-up by email address or phone number (either may be given)."""
    if email:
        found = _customer_by_contact(CustomerEmail, "address", normalise_email(email))
        if found:
            return _follow_merge(found)
    if phone:
        try:
            number = normalise_phone(phone)
        except ValidationError:
            return None
        found = _customer_by_contact(CustomerPhone, "number", number)
        if found:
            return _follow_merge(found)
    return None


def _customer_by_contact(
    contact: type[CustomerEmail] | type[CustomerPhone], column: str, value: str
) -> Customer | None:
    # Every email and call starts here. A raw query (still turned into a model with the
    # ORM's converters) costs a third of the same query built through a QuerySet.
    table = contact._meta.db_table
    sql = (
        f"SELECT c.* FROM {Customer._meta.db_table} c"
        f" JOIN {table} x ON x.customer_id = c.id WHERE x.{column} = %s"
    )
    return next(iter(Customer.objects.raw(sql, [value])), None)


def _follow_merge(customer: Customer) -> Customer:
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def organisation_for_email(email: str) -> Organisation | None:
    domain = normalise_email(email).rpartition("@")[2]
    if not domain:
        return None
    # email_domains is a short JSON list; the set of organisations with domains is small
    # enough to scan, and this keeps the look-up portable across SQLite and PostgreSQL.
    for org in Organisation.objects.exclude(email_domains=[]).only("id", "email_domains"):
        if domain in [d.lower() for d in org.email_domains]:
            return org
    return None


def create_customer(
    *,
    name: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    organisation: Organisation | None = None,
    preferred_language: str = "nb",
    **fields: Any,
) -> Customer:
    """Register a customer. Addresses and numbers are checked before the first write, so
    the writes need no savepoint inside a caller's transaction (email intake): a clash found
    by the unique constraints rolls the caller's whole transaction back."""
    email_list = [normalise_email(e) for e in emails if e.strip()]
    phone_list = [normalise_phone(p) for p in phones if p.strip()]
    _check_contacts_free(email_list, phone_list)
    if organisation is None and email_list:
        organisation = organisation_for_email(email_list[0])
    with transaction.atomic(savepoint=False):
        customer = Customer.objects.create(
            name=name.strip()
            or (email_list[0] if email_list else phone_list[0] if phone_list else ""),
            organisation=organisation,
            preferred_language=preferred_language,
            **fields,
        )
        CustomerEmail.objects.bulk_create(
            CustomerEmail(customer=customer, address=a, is_primary=i == 0)
            for i, a in enumerate(email_list)
        )
        CustomerPhone.objects.bulk_create(
            CustomerPhone(customer=customer, number=n, is_primary=i == 0)
            for i, n in enumerate(phone_list)
        )
        # A new customer has no cases yet: their own document is all there is to index.
        contact = [*email_list, *(form for n in phone_list for form in search_index.phone_forms(n))]
        search_index.customer_created(
            CustomerDocument(
                customer_id=customer.pk,
                name=customer.name,
                organisation=(
                    f"{organisation.name} {organisation.org_number or ''}".strip()
                    if organisation
                    else ""
                ),
                contact=" ".join(contact),
            ),
            addresses=email_list,
        )
        return customer


def _refuse_merged(customer: Customer) -> None:
    """A merged customer is a pointer to the survivor; writing to it would hide the data."""
    if customer.merged_into_id:
        raise ValidationError(
            _("This customer was merged into customer %(target)s; edit that one instead.")
            % {"target": customer.merged_into_id},
            code="merged_customer",
        )


def _check_contacts_free(
    emails: list[str], phones: list[str], *, owner: Customer | None = None
) -> None:
    errors: dict[str, list[str]] = {}
    checks: list[tuple[str, type[CustomerEmail] | type[CustomerPhone], str, list[str]]] = [
        ("emails", CustomerEmail, "address", emails),
        ("phones", CustomerPhone, "number", phones),
    ]
    for key, contact, column, values in checks:
        if not values:
            continue  # nothing to look up: no query
        taken = contact.objects.filter(**{f"{column}__in": values})
        if owner is not None:
            taken = taken.exclude(customer=owner)
        for value, name in taken.values_list(column, "customer__name"):
            errors.setdefault(key, []).append(f"{value} already belongs to {name}")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def find_or_create_customer(*, email: str = "", phone: str = "", name: str = "") -> Customer:
    existing = find_customer(email=email, phone=phone)
    if existing:
        # A known caller giving a new address or number: remember it.
        add_contact_details(
            existing, emails=[email] if email else [], phones=[phone] if phone else []
        )
        return existing
    return create_customer(
        name=name, emails=[email] if email else [], phones=[phone] if phone else []
    )


@transaction.atomic
def add_contact_details(
    customer: Customer, *, emails: Iterable[str] = (), phones: Iterable[str] = ()
) -> None:
    _refuse_merged(customer)
    email_list = [normalise_email(e) for e in emails if e.strip()]
    phone_list = []
    for p in phones:
        if p.strip():
            phone_list.append(normalise_phone(p))
    email_list = [e for e in email_list if not customer.emails.filter(address=e).exists()]
    phone_list = [n for n in phone_list if not customer.phones.filter(number=n).exists()]
    _check_contacts_free(email_list, phone_list, owner=customer)
    has_email = customer.emails.exists()
    has_phone = customer.phones.exists()
    for i, address in enumerate(email_list):
        CustomerEmail.objects.create(
            customer=customer, address=address, is_primary=not has_email and i == 0
        )
    for i, number in enumerate(phone_list):
        CustomerPhone.objects.create(
            customer=customer, number=number, is_primary=not has_phone and i == 0
        )
    search_index.customer_changed(customer.pk)


@transaction.atomic
def update_customer(
    customer: Customer,
    *,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    **fields: Any,
) -> Customer:
    """Update fields; ``emails``/``phones`` given replace the lists (first is primary)."""
    _refuse_merged(customer)
    for key, value in fields.items():
        setattr(customer, key, value)
    customer.updated_at = timezone.now()
    customer.full_clean(exclude=["merged_into"])
    customer.save()
    if emails is not None:
        email_list = list(dict.fromkeys(normalise_email(e) for e in emails if e.strip()))
        _check_contacts_free(email_list, [], owner=customer)
        customer.emails.exclude(address__in=email_list).delete()
        for i, address in enumerate(email_list):
            CustomerEmail.objects.update_or_create(
                address=address, defaults={"customer": customer, "is_primary": i == 0}
            )
    if phones is not None:
        phone_list = list(dict.fromkeys(normalise_phone(p) for p in phones if p.strip()))
        _check_contacts_free([], phone_list, owner=customer)
        customer.phones.exclude(number__in=phone_list).delete()
        for i, number in enumerate(phone_list):
            CustomerPhone.objects.update_or_create(
                number=number, defaults={"customer": customer, "is_primary": i == 0}
            )
    search_index.customer_changed(customer.pk)
    return customer


@transaction.atomic
def merge_customers(source: Customer, target: Customer, *, actor: Any = None) -> Customer:
    """Fold ``source`` into ``target``: contacts and cases move, the source stays as a tombstone."""
    from skranke.cases.actions import move_cases_to_customer

    if source.pk == target.pk:
        raise ValidationError("A customer cannot be merged into itself.")
    # Lock both in a fixed order and decide on the stored rows: two crossing merges (A into B,
    # B into A) must not both succeed and leave two tombstones.
    list(Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk"))
    source.refresh_from_db()
    target.refresh_from_db()
    for customer in (source, target):
        if customer.merged_into_id:
            raise ValidationError(
                f"Customer {customer.pk} is already merged into customer {customer.merged_into_id}."
            )
    CustomerEmail.objects.filter(customer=source).update(customer=target, is_primary=False)
    CustomerPhone.objects.filter(customer=source).update(customer=target, is_primary=False)
    move_cases_to_customer(source, target, actor=actor)
    for key, value in source.custom_fields.items():
        target.custom_fields.setdefault(key, value)
    if source.notes:
        target.notes = (target.notes + "\n\n" + source.notes).strip()
    if target.organisation_id is None and source.organisation_id:
        target.organisation_id = source.organisation_id
    target.updated_at = timezone.now()
    target.save()
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    search_index.customer_changed(source.pk)
    search_index.customer_changed(target.pk)
    return target


@transaction.atomic
def create_organisation(*, name: str, org_number: str = "", **fields: Any) -> Organisation:
    number = normalise_org_number(org_number) if org_number.strip() else ""
    if number and Organisation.objects.filter(org_number=number).exists():
        raise ValidationError({"org_number": ["An organisation with this number exists."]})
    return Organisation.objects.create(name=name.strip(), org_number=number, **fields)


@transaction.atomic
def update_organisation(organisation: Organisation, **fields: Any) -> Organisation:
    if "org_number" in fields and fields["org_number"]:
        fields["org_number"] = normalise_org_number(fields["org_number"])
        taken = Organisation.objects.filter(org_number=fields["org_number"])
        if taken.exclude(pk=organisation.pk).exists():
            raise ValidationError({"org_number": ["An organisation with this number exists."]})
    for key, value in fields.items():
        setattr(organisation, key, value)
    organisation.full_clean()
    organisation.save()
    search_index.organisation_changed(organisation.pk)
    return organisation


@transaction.atomic
def mark_email_undeliverable(address: str, *, undeliverable: bool = True) -> bool:
    """Flag (or clear) an address that bounced permanently; True if a known address changed."""
    changed = CustomerEmail.objects.filter(
        address=normalise_email(address), undeliverable=not undeliverable
    ).update(undeliverable=undeliverable)
    return changed > 0
