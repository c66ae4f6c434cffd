"""Every change to a case goes through these verbs.

Each runs in one transaction, writes the event history and schedules the broadcast for after
commit. Views, the API, email intake, tasks and commands all call these: one path per change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from skranke.accounts.models import Team, User
from skranke.cases import broadcast
from skranke.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseLink,
    CaseType,
    Category,
    Channel,
    Counter,
    EventKind,
    LinkKind,
    Message,
    MessageKind,
    Priority,
    Status,
    Tag,
)
from skranke.customers.models import Customer
from skranke.search import index as search_index
from skranke.search.backends import CaseDocument

CASE_NUMBER_START = 10000


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    content_id: str = ""
    inline: bool = False


class AttachmentTooLarge(ValidationError):
    pass


def check_attachments(attachments: Sequence[NewAttachment]) -> None:
    """Refuse oversize files before anything is written, with a message the agent can act on."""
    limit = settings.SKRANKE_MAX_ATTACHMENT_BYTES
    for attachment in attachments:
        if len(attachment.content) > limit:
            raise AttachmentTooLarge(
                _("%(name)s is %(size)s; the largest file allowed is %(limit)s.")
                % {
                    "name": attachment.filename,
                    "size": filesizeformat(len(attachment.content)),
                    "limit": filesizeformat(limit),
                },
                code="attachment_too_large",
            )


# PostgreSQL's case numbers (migration cases.0004) and the advisory lock key that lets a bulk
# loader reserve a consecutive block (``int.from_bytes(b"skranke#")``).
CASE_NUMBER_SEQUENCE = "cases_case_number_seq"
_NUMBER_BLOCK_LOCK = 8316866452069065507


def next_numbers(count: int = 1) -> int:
    """Reserve ``count`` consecutive case numbers and return the first.

    PostgreSQL: from a sequence, which locks nothing, so email workers creating cases never
    wait for each other (a rolled-back creation leaves a gap in the numbers). Single numbers
    take a shared advisory lock until commit, and a block an exclusive one, so a block is never
    interleaved with single numbers. SQLite (one writer at a time anyway): the counter row,
    gap-free, inside the creating transaction.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _next_numbers_postgres(cursor, count)
        # One statement: the UPDATE takes the write lock and RETURNING hands back the new
        # value (SQLite since 3.35). Only the very first case creates the row.
        sql = f"UPDATE {Counter._meta.db_table} SET value = value + %s WHERE name = %s RETURNING value"
        cursor.execute(sql, [count, "case_number"])
        row = cursor.fetchone()
        if row is None:
            Counter.objects.get_or_create(name="case_number", defaults={"value": CASE_NUMBER_START})
            cursor.execute(sql, [count, "case_number"])
            row = cursor.fetchone()
    return int(row[0]) - count + 1


def _next_numbers_postgres(cursor: Any, count: int) -> int:
    if count == 1:
        # MATERIALIZED: the lock is taken before nextval runs.
        cursor.execute(
            "WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(%s))"
            " SELECT nextval(%s) FROM lock",
            [_NUMBER_BLOCK_LOCK, CASE_NUMBER_SEQUENCE],
        )
        return int(cursor.fetchone()[0])
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NUMBER_BLOCK_LOCK])
    cursor.execute(
        "SELECT setval(%s, nextval(%s) + %s - 1)",
        [CASE_NUMBER_SEQUENCE, CASE_NUMBER_SEQUENCE, count],
    )
    return int(cursor.fetchone()[0]) - count + 1


def _lock(case: Case) -> None:
    """Lock the row and reload it, so a change is made against what is stored now and never
    writes back stale values another request saved since ``case`` was loaded.

    One ``SELECT … FOR UPDATE`` of the whole row; fields the caller had deferred (threading
    loads cases with ``only()``) are filled in too, so nothing is fetched again later."""
    stored = Case.objects.select_for_update().get(pk=case.pk)
    for field in Case._meta.concrete_fields:
        setattr(case, field.attname, getattr(stored, field.attname))
    # As refresh_from_db does: prefetched messages etc. would be stale after this change.
    case.__dict__.pop("_prefetched_objects_cache", None)


def opening_message(case: Case) -> Message | None:
    """The first message of ``case``: the one ``create_case`` just wrote, without a query."""
    message: Message | None = getattr(case, "_opening_message", None)
    if message is None:
        message = case.messages.order_by("id").first()
    return message


def sanitise_html(html: str) -> str:
    return nh3.clean(html, link_rel="noopener noreferrer nofollow") if html else ""


def _event(
    case: Case,
    kind: str,
    actor: User | None,
    *,
    old: object = "",
    new: object = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        old_value="" if old is None else str(old)[:300],
        new_value="" if new is None else str(new)[:300],
        data=data or {},
        created_at=at or timezone.now(),
    )


def _store_attachments(message: Message, attachments: Sequence[NewAttachment]) -> None:
    for item in attachments:
        digest = hashlib.sha256(item.content).hexdigest()
        attachment = Attachment(
            message=message,
            filename=item.filename[:255] or "attachment",
            content_type=item.content_type[:150] or "application/octet-stream",
            size=len(item.content),
            sha256=digest,
            content_id=item.content_id[:255],
            inline=item.inline,
        )
        storage = Attachment._meta.get_field("file").storage
        path = f"attachments/{digest[:2]}/{digest[2:4]}/{digest}"
        if storage.exists(path):
            attachment.file.name = path
        else:
            attachment.file.save(path, ContentFile(item.content), save=False)
        attachment.save()


def create_case(
    *,
    customer: Customer,
    subject: str,
    team: Team,
    actor: User | None = None,
    body_text: str = "",
    body_html: str = "",
    message_kind: str = MessageKind.CUSTOMER,
    channel: str = Channel.EMAIL,
    priority: str = Priority.NORMAL,
    type: str = CaseType.QUESTION,
    category: Category | None = None,
    tags: Iterable[str] = (),
    assignee: User | None = None,
    language: str | None = None,
    attachments: Sequence[NewAttachment] = (),
    external_id: str = "",
    metadata: dict[str, Any] | None = None,
    message_metadata: dict[str, Any] | None = None,
    html_is_sanitised: bool = False,
) -> Case:
    """Open a case, with its opening message when there is one.

    Everything that can refuse the input is checked before the first write, so the block
    below needs no savepoint of its own inside a caller's transaction (email intake creates a
    case per mail): if anything in it fails, the caller's whole transaction rolls back."""
    check_attachments(attachments)
    has_message = bool(body_text or body_html or attachments)
    if has_message and not (body_text.strip() or body_html.strip() or attachments):
        raise ValidationError(_("The message is empty."), code="empty_message")
    with transaction.atomic(savepoint=False):
        subject = subject.strip()[:300] or _("(no subject)")
        now = timezone.now()
        case = Case.objects.create(
            number=next_numbers(),
            subject=subject,
            status=Status.OPEN if assignee else Status.NEW,
            priority=priority,
            type=type,
            channel=channel,
            category=category,
            team=team,
            assignee=assignee,
            customer=customer,
            organisation_id=customer.organisation_id,
            language=language or customer.preferred_language,
            created_at=now,
            updated_at=now,
            # The opening message is counted here rather than by an UPDATE after it is written.
            message_count=1 if has_message else 0,
            last_customer_message_at=now
            if has_message and message_kind == MessageKind.CUSTOMER
            else None,
            metadata=metadata or {},
        )
        _event(case, EventKind.CREATED, actor, new=case.status, data={"channel": channel}, at=now)
        # Indexed from what is in hand; the opening message's words are added by _add_message.
        search_index.case_created(
            CaseDocument(
                case_id=case.pk,
                team_id=team.pk,
                subject=subject,
                customer=search_index.customer_search_text(customer.pk, customer.name),
                body="",
            )
        )
        if assignee:
            _event(case, EventKind.ASSIGNEE, actor, new=assignee.pk, at=now)
        if tags:
            _set_tags(case, tags, actor)
        if has_message:
            case._opening_message = _add_message(  # type: ignore[attr-defined]
                case,
                kind=message_kind,
                actor=actor if message_kind != MessageKind.CUSTOMER else None,
                customer=customer if message_kind == MessageKind.CUSTOMER else None,
                body_text=body_text,
                body_html=body_html,
                channel=channel,
                attachments=attachments,
                external_id=external_id,
                metadata=message_metadata,
                html_is_sanitised=html_is_sanitised,
                _new_case=True,
            )
        broadcast.case_changed(case.pk, case.number, {team.pk}, kind="created")
        return case


def add_message(
    case: Case,
    *,
    kind: str,
    body_text: str = "",
    body_html: str = "",
    actor: User | None = None,
    customer: Customer | None = None,
    channel: str | None = None,
    attachments: Sequence[NewAttachment] = (),
    external_id: str = "",
    new_status: str | None = None,
    metadata: dict[str, Any] | None = None,
    html_is_sanitised: bool = False,
) -> Message:
    """Add a customer message, public reply or internal note.

    A public reply records the first response time; a customer writing to a waiting or solved
    case brings it back to the agents' attention. ``html_is_sanitised``: email intake cleans
    HTML with its own stricter policy (remote images held back, cid: images kept).

    The input is checked before the first write, so no savepoint is needed inside a caller's
    transaction; a failure after it rolls the caller's whole transaction back.
    """
    _check_message(body_text, body_html, attachments)
    if new_status is not None:
        _validate_changes({"status": new_status})
    with transaction.atomic(savepoint=False):
        return _add_message(
            case,
            kind=kind,
            body_text=body_text,
            body_html=body_html,
            actor=actor,
            customer=customer,
            channel=channel,
            attachments=attachments,
            external_id=external_id,
            new_status=new_status,
            metadata=metadata,
            html_is_sanitised=html_is_sanitised,
        )


def _check_message(body_text: str, body_html: str, attachments: Sequence[NewAttachment]) -> None:
    check_attachments(attachments)
    if not (body_text.strip() or body_html.strip() or attachments):
        raise ValidationError(_("The message is empty."), code="empty_message")


def _add_message(
    case: Case,
    *,
    kind: str,
    body_text: str = "",
    body_html: str = "",
    actor: User | None = None,
    customer: Customer | None = None,
    channel: str | None = None,
    attachments: Sequence[NewAttachment] = (),
    external_id: str = "",
    new_status: str | None = None,
    metadata: dict[str, Any] | None = None,
    html_is_sanitised: bool = False,
    _new_case: bool = False,
) -> Message:
    """``add_message``'s work, also for ``create_case``'s opening message.

    ``_new_case``: the opening message of a case ``create_case`` has just inserted, with
    ``message_count`` and the timestamps already set and the row already ours. Callers have
    checked the input (``_check_message``) before their first write."""
    if not _new_case:
        _lock(case)
    now = timezone.now()
    message = Message.objects.create(
        case=case,
        kind=kind,
        channel=channel or case.channel,
        author=actor if kind != MessageKind.CUSTOMER else None,
        customer=customer if kind == MessageKind.CUSTOMER else None,
        body_text=body_text,
        body_html=body_html if html_is_sanitised else sanitise_html(body_html),
        external_id=external_id[:500],
        created_at=now,
        metadata=metadata or {},
    )
    _store_attachments(message, attachments)
    changed = ["updated_at", "message_count"]
    if not _new_case:
        case.updated_at = now
        # The row is locked (``_lock``), so the count just read is the stored one.
        case.message_count += 1
        _event(case, EventKind.MESSAGE, actor, new=kind, data={"message_id": message.pk}, at=now)
    if kind == MessageKind.REPLY and case.first_response_at is None:
        case.first_response_at = now
        changed.append("first_response_at")
    if kind == MessageKind.CUSTOMER and not _new_case:
        case.last_customer_message_at = now
        changed.append("last_customer_message_at")
    if not _new_case or len(changed) > 2:
        case.save(update_fields=changed)
    status = new_status
    if status is None and kind == MessageKind.CUSTOMER and not _new_case:
        if case.status in (Status.PENDING, Status.SOLVED, Status.ON_HOLD):
            status = Status.OPEN
    if status is None and kind == MessageKind.REPLY and case.status == Status.NEW:
        status = Status.OPEN
    if status and status != case.status:
        update_case(case, actor=actor, status=status)
    search_index.message_added(case.pk, message.body_text, message.body_html)
    if not _new_case:
        broadcast.case_changed(case.pk, case.number, {case.team_id}, kind="message")
    return message


@transaction.atomic
def update_case_metadata(case: Case, updates: dict[str, Any]) -> None:
    """Merge channel details (e.g. the people CC'd on an email case) into ``Case.metadata``."""
    case.refresh_from_db(fields=["metadata"])
    case.metadata = {**case.metadata, **updates}
    case.save(update_fields=["metadata"])


_SIMPLE_FIELDS = {
    "status": EventKind.STATUS,
    "priority": EventKind.PRIORITY,
    "type": EventKind.TYPE,
    "subject": EventKind.SUBJECT,
    "follow_up_at": EventKind.FOLLOW_UP,
}
_FK_FIELDS = {
    "team": EventKind.TEAM,
    "assignee": EventKind.ASSIGNEE,
    "category": EventKind.CATEGORY,
}


@transaction.atomic
def update_case(case: Case, *, actor: User | None = None, **changes: Any) -> list[CaseEvent]:
    """Change any of status, priority, type, subject, follow_up_at, team, assignee, category
    and tags. Only real changes write events; the list of events written is returned."""
    unknown = set(changes) - set(_SIMPLE_FIELDS) - set(_FK_FIELDS) - {"tags"}
    if unknown:
        raise ValueError(f"Unknown case fields: {', '.join(sorted(unknown))}")
    _validate_changes(changes)
    _lock(case)
    now = timezone.now()
    events: list[CaseEvent] = []
    changed: set[str] = set()
    old_team_id = case.team_id
    old_status = case.status
    for field, kind in _SIMPLE_FIELDS.items():
        if field not in changes:
            continue
        old, new = getattr(case, field), changes[field]
        if old == new:
            continue
        setattr(case, field, new)
        changed.add(field)
        events.append(_event(case, kind, actor, old=_fmt(old), new=_fmt(new), at=now))
    for field, kind in _FK_FIELDS.items():
        if field not in changes:
            continue
        new_obj = changes[field]
        old_id = getattr(case, f"{field}_id")
        new_id = new_obj.pk if new_obj is not None else None
        if old_id == new_id:
            continue
        setattr(case, field, new_obj)
        changed.add(field)
        events.append(_event(case, kind, actor, old=old_id, new=new_id, at=now))
    # Taking a new case, or handing it on, puts it in work.
    if "assignee" in changes and changes["assignee"] is not None and case.status == Status.NEW:
        case.status = Status.OPEN
        changed.add("status")
        events.append(
            _event(case, EventKind.STATUS, actor, old=Status.NEW, new=Status.OPEN, at=now)
        )
    if case.status != old_status:
        changed |= _stamp_status(case, old_status, now)
        # A follow-up time belongs to waiting; leaving it clears the time (with an event),
        # unless the same change set a new one explicitly.
        if (
            case.status not in (Status.PENDING, Status.ON_HOLD)
            and case.follow_up_at is not None
            and "follow_up_at" not in changes
        ):
            events.append(
                _event(case, EventKind.FOLLOW_UP, actor, old=_fmt(case.follow_up_at), at=now)
            )
            case.follow_up_at = None
            changed.add("follow_up_at")
    if "tags" in changes:
        tag_event = _set_tags(case, changes["tags"], actor, at=now)
        if tag_event:
            events.append(tag_event)
    if events:
        case.updated_at = now
        changed.add("updated_at")
        case.save(update_fields=sorted(changed))
        broadcast.case_changed(case.pk, case.number, {old_team_id, case.team_id}, kind="updated")
        if "subject" in changes or "team" in changes:
            search_index.case_changed(case.pk)
    return events


def _fmt(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _validate_changes(changes: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    checks = {"status": Status, "priority": Priority, "type": CaseType}
    for field, choices in checks.items():
        if field in changes and changes[field] not in choices.values:
            errors[field] = _("%(value)s is not a valid choice.") % {"value": changes[field]}
    if "subject" in changes and not str(changes["subject"]).strip():
        errors["subject"] = _("The subject cannot be empty.")
    if "team" in changes and changes["team"] is None:
        errors["team"] = _("A case must belong to a team.")
    if errors:
        raise ValidationError(errors)


def _stamp_status(case: Case, old_status: str, now: datetime) -> set[str]:
    """Keep solved_at/closed_at true to the status; return the fields changed."""
    status = case.status
    if status == Status.SOLVED:
        # Reopening a closed case as solved keeps the time it was first solved.
        if not (old_status == Status.CLOSED and case.solved_at):
            case.solved_at = now
        case.closed_at = None
    elif status == Status.CLOSED:
        case.closed_at = now
        case.solved_at = case.solved_at or now
    else:
        case.solved_at = None
        case.closed_at = None
    return {"solved_at", "closed_at"}


def _set_tags(
    case: Case, names: Iterable[str], actor: User | None, *, at: datetime | None = None
) -> CaseEvent | None:
    wanted = sorted({n.strip().lower()[:50] for n in names if n and n.strip()})
    current = sorted(case.tags.values_list("name", flat=True)) if case.pk else []
    if wanted == current:
        return None
    existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    missing = [Tag(name=n) for n in wanted if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    case.tags.set([existing[n] for n in wanted])
    return _event(case, EventKind.TAGS, actor, old=",".join(current), new=",".join(wanted), at=at)


def assign_case(case: Case, assignee: User | None, *, actor: User | None = None) -> list[CaseEvent]:
    return update_case(case, actor=actor, assignee=assignee)


@transaction.atomic
def bulk_update_cases(cases: Iterable[Case], *, actor: User | None = None, **changes: Any) -> int:
    """Apply the same change to many cases; each still gets its own events and broadcast."""
    count = 0
    for case in cases:
        if update_case(case, actor=actor, **changes):
            count += 1
    return count


@transaction.atomic
def merge_cases(source: Case, target: Case, *, actor: User | None = None) -> Case:
    """Move the conversation of ``source`` into ``target`` and close ``source``."""
    if source.pk == target.pk:
        raise ValidationError(_("A case cannot be merged into itself."))
    # Lock both (in a fixed order, so two crossing merges wait instead of deadlocking) and
    # decide on what is stored now: two crossing merges must not make a cycle.
    list(Case.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk"))
    source.refresh_from_db()
    target.refresh_from_db()
    for case in (source, target):
        if case.merged_into_id:
            raise ValidationError(
                _("Case #%(number)s is already merged into another case.") % {"number": case.number}
            )
    if target.status == Status.CLOSED:
        raise ValidationError(
            _("Case #%(number)s is closed; merge into an open case instead.")
            % {"number": target.number}
        )
    if target.status == Status.SOLVED:
        # The conversation moves into a live case, or nobody would see it.
        update_case(target, actor=actor, status=Status.OPEN)
    moved = Message.objects.filter(case=source).update(case=target)
    now = timezone.now()
    target.message_count = Message.objects.filter(case=target).count()
    target.updated_at = now
    target.save(update_fields=["message_count", "updated_at"])
    source.message_count = 0
    source.merged_into = target
    source.save(update_fields=["message_count", "merged_into"])
    _event(target, EventKind.MERGED, actor, new=source.number, data={"messages": moved}, at=now)
    _event(source, EventKind.MERGED_INTO, actor, new=target.number, at=now)
    if source.status != Status.CLOSED:
        update_case(source, actor=actor, status=Status.CLOSED)
    CaseLink.objects.get_or_create(
        from_case=source, to_case=target, defaults={"kind": LinkKind.RELATED}
    )
    broadcast.case_changed(target.pk, target.number, {target.team_id}, kind="merged")
    broadcast.case_changed(source.pk, source.number, {source.team_id}, kind="merged")
    search_index.case_changed(source.pk)
    search_index.case_changed(target.pk)
    return target


@transaction.atomic
def link_cases(
    case: Case, other: Case, *, actor: User | None = None, kind: str = LinkKind.RELATED
) -> CaseLink:
    if case.pk == other.pk:
        raise ValidationError(_("A case cannot be linked to itself."))
    link, created = CaseLink.objects.get_or_create(
        from_case=case, to_case=other, defaults={"kind": kind}
    )
    if created:
        _event(case, EventKind.LINKED, actor, new=other.number, data={"kind": kind})
        _event(other, EventKind.LINKED, actor, new=case.number, data={"kind": kind})
    return link


@transaction.atomic
def move_cases_to_customer(source: Customer, target: Customer, *, actor: Any = None) -> int:
    """Used when customers are merged: the cases follow, each with an event."""
    now = timezone.now()
    moved = 0
    for case in Case.objects.filter(customer=source).select_for_update():
        case.customer = target
        case.organisation_id = case.organisation_id or target.organisation_id
        case.updated_at = now
        case.save(update_fields=["customer", "organisation", "updated_at"])
        _event(case, EventKind.CUSTOMER, actor, old=source.pk, new=target.pk, at=now)
        moved += 1
    Message.objects.filter(customer=source).update(customer=target)
    return moved
