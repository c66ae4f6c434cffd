"""Keeping the search index current.

The case and customer actions call :func:`case_changed` / :func:`customer_changed` inside their
transaction. Nothing is read or written then: the ids are collected per transaction and indexed
once, after commit, so a rolled-back change never reaches the index and a transaction that adds
ten messages reindexes its case once. A writer that owns a short transaction (email intake) calls
:func:`index_in_transaction` before it commits instead: same result, one transaction fewer.
Bulk loaders call :func:`rebuild` afterwards instead.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from django.db import transaction

from skranke.cases.models import Case, Message
from skranke.customers.models import Customer, CustomerEmail, CustomerPhone
from skranke.lib.aftercommit import batch_for_transaction, current_batch
from skranke.search.backends import CaseDocument, CustomerDocument, backend
from skranke.search.text import html_to_text

logger = logging.getLogger(__name__)

# A case's text beyond this many characters (long pasted logs, forwarded threads) is not
# indexed; PostgreSQL also refuses tsvectors over 1 MB.
MAX_BODY_CHARS = 200_000
DEFAULT_BATCH = 2000


# --- After-commit batching ----------------------------------------------------------------------


@dataclass
class _Pending:
    # Rebuilt from the database: whatever changed in ways only a fresh read can tell.
    cases: set[int] = field(default_factory=set)
    customers: set[int] = field(default_factory=set)
    organisations: set[int] = field(default_factory=set)
    # Written without reading anything back: documents of cases and customers created in
    # this transaction, built from what their creator had in hand, and the text of messages
    # added to existing cases (appended to the stored document). A case that is also in
    # ``cases`` is rebuilt instead.
    new_cases: dict[int, CaseDocument] = field(default_factory=dict)
    new_customers: dict[int, CustomerDocument] = field(default_factory=dict)
    appended: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Email addresses of the customers created in this transaction, for their new cases.
    addresses: dict[int, list[str]] = field(default_factory=dict)
    # The savepoints open when the batch began. A savepoint rolled back later drops the batch
    # only if it began inside it, so what is kept in memory must come from this same level.
    savepoints: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.cases
            or self.customers
            or self.organisations
            or self.new_cases
            or self.new_customers
            or self.appended
        )

    def take(self) -> _Pending:
        """Move everything pending into a new batch and leave this one empty."""
        taken = _Pending(
            set(self.cases),
            set(self.customers),
            set(self.organisations),
            dict(self.new_cases),
            dict(self.new_customers),
            defaultdict(list, {k: list(v) for k, v in self.appended.items()}),
            dict(self.addresses),
            self.savepoints,
        )
        self.cases.clear()
        self.customers.clear()
        self.organisations.clear()
        self.new_cases.clear()
        self.new_customers.clear()
        self.appended.clear()
        return taken

    def restore(self, taken: _Pending) -> None:
        """Put a batch that could not be written back, to be rebuilt after commit."""
        self.cases |= taken.cases | set(taken.new_cases) | set(taken.appended)
        self.customers |= taken.customers | set(taken.new_customers)
        self.organisations |= taken.organisations


def _new_batch() -> _Pending:
    return _Pending(savepoints=tuple(transaction.get_connection().savepoint_ids))


def _batch() -> tuple[_Pending, bool]:
    return batch_for_transaction("search", _new_batch, write_pending)


def _in_memory(batch: _Pending, deferred: bool) -> bool:
    """Whether what the caller has in hand may be kept for the flush: not inside a savepoint
    that began after the batch (its rollback would leave the batch, with the rolled-back
    text, in place). Otherwise the change is rebuilt from the database, which is always
    right."""
    return not deferred or tuple(transaction.get_connection().savepoint_ids) == batch.savepoints


def _changed(kind: str, object_id: int) -> None:
    batch, deferred = _batch()
    getattr(batch, kind).add(object_id)
    if not deferred:
        write_pending(batch)


def case_changed(case_id: int) -> None:
    """Reindex this case after the current transaction commits (at once, outside one)."""
    _changed("cases", case_id)


def case_created(document: CaseDocument) -> None:
    """Index a new case from its creator's own data: nothing is read back."""
    batch, deferred = _batch()
    if _in_memory(batch, deferred):
        batch.new_cases[document.case_id] = document
    else:
        batch.cases.add(document.case_id)
    if not deferred:
        write_pending(batch)


def message_added(case_id: int, body_text: str, body_html: str = "") -> None:
    """Add a message's words to its case's document (no read of the case's other messages)."""
    text = (body_text or (html_to_text(body_html) if body_html else ""))[:MAX_BODY_CHARS]
    if not text.strip():
        return
    batch, deferred = _batch()
    new = batch.new_cases.get(case_id)
    if not _in_memory(batch, deferred):
        batch.cases.add(case_id)
    elif new is not None:
        body = f"{new.body}\n{text}" if new.body else text
        batch.new_cases[case_id] = replace(new, body=body[:MAX_BODY_CHARS])
    else:
        batch.appended[case_id].append(text)
    if not deferred:
        write_pending(batch)


def customer_created(document: CustomerDocument, addresses: Sequence[str] = ()) -> None:
    """Index a new customer from the creator's data. ``addresses`` (their email addresses)
    are remembered for this transaction, so a case created for them next needs no query."""
    batch, deferred = _batch()
    if _in_memory(batch, deferred):
        batch.new_customers[document.customer_id] = document
        batch.addresses[document.customer_id] = list(addresses)
    else:
        batch.customers.add(document.customer_id)
    if not deferred:
        write_pending(batch)


def customer_search_text(customer_id: int, name: str) -> str:
    """The customer part of a case document: name and email addresses, primary first (one
    query, or none for a customer created in this transaction)."""
    batch = current_batch("search")
    addresses = batch.addresses.get(customer_id) if isinstance(batch, _Pending) else None
    if addresses is None:
        addresses = list(
            CustomerEmail.objects.filter(customer_id=customer_id)
            .order_by("-is_primary", "address")
            .values_list("address", flat=True)
        )
    return " ".join([name, *addresses])


def index_in_transaction() -> None:
    """Do the reindexing this transaction has asked for so far now, inside it.

    For a writer that owns a short transaction (email intake): the index rows are written
    under the same locks and commit (or roll back) with the change, which saves the extra
    transaction (and its commit) per flush, and two writers can no longer overwrite a newer
    document with an older one. A failure is logged and left to the after-commit flush, so
    indexing never costs the write it belongs to."""
    batch = current_batch("search")
    if not isinstance(batch, _Pending) or not batch:
        return
    taken = batch.take()
    try:
        with transaction.atomic():
            write_pending(taken)
    except Exception:
        logger.exception("Indexing inside the transaction failed; retrying after commit")
        batch.restore(taken)


def customer_changed(customer_id: int) -> None:
    """Reindex this customer, and the cases showing their name and email, after commit."""
    _changed("customers", customer_id)


def organisation_changed(organisation_id: int) -> None:
    """Reindex the organisation's customers (their documents hold its name and number)."""
    _changed("organisations", organisation_id)


def write_pending(batch: _Pending) -> None:
    """Write one transaction's worth of index changes: rebuilds first, then the documents
    built from memory, then appended messages (a case whose stored document cannot take
    them — missing, or at its size limit — is rebuilt instead)."""
    engine = backend()
    case_ids = set(batch.cases)
    # Whatever is rebuilt below is written after these, so a rebuild always has the last word
    # (also for a new case whose customer changed in the same transaction).
    # A document built from memory is only ever the first one: if a row exists already, a
    # later change rebuilt it from the database (between this commit and a late flush) and
    # it is newer.
    new_customers = [d for pk, d in batch.new_customers.items() if pk not in batch.customers]
    if new_customers:
        engine.add_customers(new_customers)
    new_cases = [d for pk, d in batch.new_cases.items() if pk not in case_ids]
    if new_cases:
        engine.add_cases(new_cases)
    for case_id, texts in batch.appended.items():
        if case_id in case_ids:
            continue
        if not engine.append_case_body(case_id, "\n".join(texts)):
            case_ids.add(case_id)
    reindex(cases=case_ids, customers=batch.customers, organisations=batch.organisations)


# --- Reindexing ---------------------------------------------------------------------------------


def reindex(
    *, cases: Iterable[int] = (), customers: Iterable[int] = (), organisations: Iterable[int] = ()
) -> None:
    """Bring the index up to date for these cases, customers (and their cases, which show the
    customer's name and addresses) and organisations (their customers)."""
    customer_ids = set(customers)
    case_ids = set(cases)
    if customer_ids:
        case_ids.update(
            Case.objects.filter(customer_id__in=customer_ids).values_list("pk", flat=True)
        )
    if organisations:
        customer_ids.update(
            Customer.objects.filter(organisation_id__in=list(organisations)).values_list(
                "pk", flat=True
            )
        )
    if customer_ids:
        reindex_customers(sorted(customer_ids))
    if case_ids:
        reindex_cases(sorted(case_ids))


def reindex_case(case_id: int) -> None:
    reindex_cases([case_id])


def reindex_cases(case_ids: Sequence[int]) -> None:
    engine = backend()
    for start in range(0, len(case_ids), DEFAULT_BATCH):
        chunk = case_ids[start : start + DEFAULT_BATCH]
        # One snapshot and one write per chunk; inside a caller's transaction no savepoint.
        with transaction.atomic(savepoint=False):
            documents = case_documents(chunk)
            engine.write_cases(documents)
            found = {d.case_id for d in documents}
            missing = [pk for pk in chunk if pk not in found]
            if missing:
                engine.delete_cases(missing)


def reindex_customer(customer_id: int) -> None:
    reindex_customers([customer_id])


def reindex_customers(customer_ids: Sequence[int]) -> None:
    engine = backend()
    for start in range(0, len(customer_ids), DEFAULT_BATCH):
        chunk = customer_ids[start : start + DEFAULT_BATCH]
        with transaction.atomic(savepoint=False):
            # A merged customer is a tombstone: searches find the one it was merged into.
            documents = customer_documents(chunk)
            engine.write_customers(documents)
            found = {d.customer_id for d in documents}
            missing = [pk for pk in chunk if pk not in found]
            if missing:
                engine.delete_customers(missing)


def case_documents(case_ids: Sequence[int]) -> list[CaseDocument]:
    """The searchable text of each case: subject, customer name and addresses, and every
    message (customer messages, replies and internal notes — only agents search)."""
    # Case, customer name and addresses in one query (a row per address, primary first).
    rows: list[tuple[int, int, str, int, str]] = []
    addresses: dict[int, list[str]] = defaultdict(list)
    for pk, team_id, subject, customer_id, name, address in (
        Case.objects.filter(pk__in=case_ids)
        .order_by("pk", "-customer__emails__is_primary", "customer__emails__address")
        .values_list(
            "pk", "team_id", "subject", "customer_id", "customer__name", "customer__emails__address"
        )
    ):
        if not rows or rows[-1][0] != pk:
            rows.append((pk, team_id, subject, customer_id, name))
        if address:
            addresses[pk].append(address)
    if not rows:
        return []
    bodies: dict[int, list[str]] = defaultdict(list)
    sizes: dict[int, int] = defaultdict(int)
    messages = Message.objects.filter(case_id__in=[r[0] for r in rows]).values_list(
        "case_id", "body_text", "body_html"
    )
    for case_id, body_text, body_html in messages:
        text = body_text or (html_to_text(body_html) if body_html else "")
        room = MAX_BODY_CHARS - sizes[case_id]
        if text and room > 0:
            bodies[case_id].append(text[:room])
            sizes[case_id] += len(text[:room])
    return [
        CaseDocument(
            case_id=pk,
            team_id=team_id,
            subject=subject,
            customer=" ".join([name, *addresses.get(pk, ())]),
            body="\n".join(bodies.get(pk, ())),
        )
        for pk, team_id, subject, _customer_id, name in rows
    ]


def customer_documents(customer_ids: Sequence[int]) -> list[CustomerDocument]:
    """Name, organisation (name and number), addresses and phone numbers of each customer.
    Merged customers are tombstones and have no document: searches find the one they were
    merged into."""
    rows = list(
        Customer.objects.filter(pk__in=customer_ids, merged_into__isnull=True).values_list(
            "pk", "name", "organisation__name", "organisation__org_number"
        )
    )
    if not rows:
        return []
    ids = [r[0] for r in rows]
    contacts: dict[int, list[str]] = defaultdict(list)
    for customer_id, address in CustomerEmail.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "address"
    ):
        contacts[customer_id].append(address)
    for customer_id, number in CustomerPhone.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "number"
    ):
        contacts[customer_id].extend(phone_forms(number))
    return [
        CustomerDocument(
            customer_id=pk,
            name=name,
            organisation=f"{org_name or ''} {org_number or ''}".strip(),
            contact=" ".join(contacts.get(pk, ())),
        )
        for pk, name, org_name, org_number in rows
    ]


def phone_forms(e164: str) -> list[str]:
    """The digit strings a caller's number is typed as: with and without the country code."""
    digits = e164.lstrip("+")
    forms = [digits]
    if e164.startswith("+47"):
        forms.append(e164[3:])
    else:
        import phonenumbers

        try:
            forms.append(phonenumbers.national_significant_number(phonenumbers.parse(e164)))
        except phonenumbers.NumberParseException:
            pass
    return forms


# --- Full rebuild -------------------------------------------------------------------------------


def rebuild(*, batch: int = DEFAULT_BATCH, progress: Callable[[str], None] | None = None) -> int:
    """Index every case and customer from scratch; returns the number of cases indexed.

    Run after bulk inserts that bypass the actions (demo data, imports). Reads in id order,
    ``batch`` cases per transaction, so memory stays flat at any size.
    """
    engine = backend()
    started = time.monotonic()
    engine.begin_rebuild()
    total_customers = Customer.objects.filter(merged_into__isnull=True).count()
    done = 0
    for chunk in _id_chunks(Customer.objects.filter(merged_into__isnull=True), batch):
        with transaction.atomic():
            engine.write_customers(customer_documents(chunk), replace=False)
        done += len(chunk)
        _report(progress, "customers", done, total_customers, started)
    total = Case.objects.count()
    done = 0
    case_started = time.monotonic()
    for chunk in _id_chunks(Case.objects.all(), batch):
        with transaction.atomic():
            engine.write_cases(case_documents(chunk), replace=False)
        done += len(chunk)
        _report(progress, "cases", done, total, case_started)
    engine.end_rebuild()
    if progress:
        progress(f"search index rebuilt: {done} cases in {time.monotonic() - started:.0f} s\n")
    return done


def _id_chunks(queryset: object, size: int) -> Iterable[list[int]]:
    last = 0
    while True:
        ids = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size]  # type: ignore[attr-defined]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _report(
    progress: Callable[[str], None] | None, what: str, done: int, total: int, started: float
) -> None:
    if progress is None:
        return
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0.0
    progress(f"\rindexing {what}: {done}/{total} ({rate:,.0f}/s)")
    if done >= total:
        progress("\n")
