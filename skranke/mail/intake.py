"""Raw bytes in → case and message out: the one function every way in calls.

IMAP polling, the LMTP/SMTP listener and ``skranke mail ingest`` are thin edges around
``ingest``. It parses, decides the mailbox, customer and thread, and writes everything —
case, message, attachments and the ``InboundEmail`` dedupe row — in one transaction, so a
crash leaves either all of it or none of it, and a second delivery of the same mail finds the
row and changes nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from skranke.cases.actions import (
    NewAttachment,
    add_message,
    create_case,
    link_cases,
    opening_message,
    update_case_metadata,
)
from skranke.cases.models import Case, DeliveryStatus, LinkKind, Message, MessageKind
from skranke.customers.actions import (
    create_customer,
    find_customer,
    mark_email_undeliverable,
)
from skranke.customers.models import Customer
from skranke.mail.models import InboundEmail, InboundStatus, Mailbox
from skranke.mail.parsing import ParsedMessage, UnparseableMessage, parse_message
from skranke.mail.threading import ThreadDecision, resolve_thread
from skranke.mail.threading_keys import parse_plus_address
from skranke.search import index as search_index

__all__ = ["IngestResult", "IntakeError", "UnparseableMessage", "find_mailbox", "ingest"]

logger = logging.getLogger(__name__)

# Never acknowledge one address more often than this per hour, whatever its headers claim.
ACK_LIMIT_PER_HOUR = 3


class IntakeError(Exception):
    """The message could not be taken in. ``temporary``: try again later (database down)."""

    def __init__(self, reason: str, *, temporary: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


@dataclass
class IngestResult:
    parsed: ParsedMessage
    status: str  # created, appended, duplicate, bounce, bounce_unmatched, loop_held, dry_run
    mailbox: Mailbox | None = None
    case: Case | None = None
    message: Message | None = None
    inbound: InboundEmail | None = None
    decision: ThreadDecision | None = None

    @property
    def threaded_by(self) -> str | None:
        if self.decision is not None:
            return self.decision.threaded_by
        if self.inbound is not None:
            return self.inbound.threaded_by or None
        return None

    def to_json_dict(self) -> dict[str, Any]:
        """The stable keys of ``skranke mail ingest --json`` (operators script against them)."""
        data: dict[str, Any] = {"case_number": self.case.number if self.case else None}
        data.update(self.parsed.to_json_dict())
        data["threaded_by"] = self.threaded_by
        return data


def _limits() -> dict[str, int]:
    return {
        "max_message_bytes": settings.SKRANKE_MAIL_MAX_MESSAGE_BYTES,
        # Never above what the case store accepts, so add_message cannot refuse a part.
        "max_attachment_bytes": min(
            settings.SKRANKE_MAIL_MAX_ATTACHMENT_BYTES, settings.SKRANKE_MAX_ATTACHMENT_BYTES
        ),
    }


def _candidate_recipients(parsed: ParsedMessage, envelope: Sequence[str]) -> list[str]:
    found = list(envelope)
    for name in ("delivered-to", "x-original-to", "envelope-to"):
        value = parsed.get_header(name)
        if value:
            found.append(value.strip().strip("<>"))
    found.extend(address for _name, address in parsed.to + parsed.cc)
    return [a for a in dict.fromkeys(a.strip().lower() for a in found) if "@" in a]


def find_mailbox(addresses: Iterable[str]) -> Mailbox | None:
    """The enabled mailbox the first matching address (plus-address tags ignored) belongs to."""
    bases = [parse_plus_address(a).base_address for a in addresses]
    if not bases:
        return None
    by_address = {m.address: m for m in Mailbox.objects.filter(address__in=bases, enabled=True)}
    return next((by_address[b] for b in bases if b in by_address), None)


def store_raw(raw: bytes, fingerprint: str, *, sync: bool = True) -> str:
    """Write the raw message where nothing can lose it; content-addressed, so idempotent.

    On a local filesystem the file is written under a temporary name, fsynced and renamed,
    so a crash mid-write never leaves a truncated file that a retry would take as stored.
    ``sync=False`` skips the fsync (often the largest single cost of intake) where another
    copy survives a power cut anyway: IMAP, whose server keeps the original.
    """
    name = f"mail/raw/{fingerprint[:2]}/{fingerprint[2:4]}/{fingerprint}.eml"
    try:
        path = default_storage.path(name)
    except NotImplementedError:  # object storage: its own write is atomic
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(raw))
        return name
    if os.path.exists(path):
        return name
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(raw)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, path)
    return name


def ingest(
    raw: bytes,
    *,
    mailbox: Mailbox | None = None,
    recipients: Sequence[str] = (),
    source: str = "pipe",
    imap_uid: int | None = None,
    imap_uidvalidity: int | None = None,
    dry_run: bool = False,
) -> IngestResult:
    """Take one raw RFC 5322 message in. Raises ``UnparseableMessage`` or ``IntakeError``."""
    parsed = parse_message(raw, **_limits())
    addresses = _candidate_recipients(parsed, recipients)
    if mailbox is None:
        mailbox = find_mailbox(addresses)
    if mailbox is None and not dry_run:
        raise IntakeError(
            f"no enabled mailbox for the recipients ({', '.join(addresses) or 'none'})"
        )
    key = InboundEmail.key_for(
        mailbox.pk if mailbox else None, parsed.message_id, parsed.fingerprint
    )
    # One query for both questions asked of every mail: seen before, and how much has this
    # sender sent this hour. Almost every mail is new; the full row only for a duplicate.
    history = _history(key, parsed.from_address)
    if history.duplicate:
        existing = InboundEmail.objects.select_related("case").get(dedupe_key=key)
        return IngestResult(parsed, "duplicate", mailbox, existing.case, None, existing)
    if dry_run:
        customer = find_customer(email=parsed.from_address) if parsed.from_address else None
        decision = resolve_thread(parsed, mailbox=mailbox, recipients=addresses, customer=customer)
        return IngestResult(parsed, "dry_run", mailbox, decision.case, decision=decision)
    assert mailbox is not None

    # LMTP/SMTP and the pipe answer "stored" and the mail server deletes its copy, so the raw
    # file must be on disk before the commit; an IMAP server keeps the original.
    raw_path = store_raw(raw, parsed.fingerprint, sync=source != "imap")
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _ingest_in_transaction(
                    parsed,
                    mailbox,
                    addresses,
                    key,
                    raw_path,
                    source,
                    imap_uid,
                    imap_uidvalidity,
                    history=history,
                )
        except IntegrityError:
            # Another worker took the same mail in at the same moment: its row is the answer.
            winner = InboundEmail.objects.select_related("case").filter(dedupe_key=key).first()
            if winner is not None:
                return IngestResult(parsed, "duplicate", mailbox, winner.case, None, winner)
            # Or it created the same new customer first; the next attempt finds them.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest_in_transaction(
    parsed: ParsedMessage,
    mailbox: Mailbox,
    recipients: list[str],
    key: str,
    raw_path: str,
    source: str,
    imap_uid: int | None,
    imap_uidvalidity: int | None,
    *,
    history: _History,
) -> IngestResult:
    inbound = InboundEmail(
        mailbox=mailbox,
        dedupe_key=key,
        message_id=(parsed.message_id or "")[:500],
        fingerprint=parsed.fingerprint,
        imap_uid=imap_uid,
        imap_uidvalidity=imap_uidvalidity,
        source=source,
        raw_size=parsed.raw_size,
        from_address=(parsed.from_address or "")[:320],
        subject=parsed.subject[:300],
        conversation_id=parsed.thread_index.conversation_id if parsed.thread_index else "",
    )
    inbound.raw.name = raw_path

    if history.recent >= settings.SKRANKE_MAIL_LOOP_LIMIT:
        inbound.status = InboundStatus.LOOP_HELD
        inbound.reason = (
            f"more than {settings.SKRANKE_MAIL_LOOP_LIMIT} mails from this sender in an hour"
        )
        inbound.save()
        logger.warning("Mail loop suspected: held mail from %s", parsed.from_address)
        return IngestResult(parsed, "loop_held", mailbox, inbound=inbound)

    if parsed.is_bounce:
        return _ingest_bounce(parsed, mailbox, inbound)

    customer = _customer_for(parsed)
    decision = resolve_thread(parsed, mailbox=mailbox, recipients=recipients, customer=customer)
    if parsed.is_auto_reply and decision.follow_up_of is not None:
        # An out-of-office answering a closed case's mail is filed there, not made a new case.
        decision = ThreadDecision(
            decision.follow_up_of,
            decision.threaded_by,
            f"{decision.reason.split(';')[0]}; automatic reply filed on the closed case",
        )
    email_meta = _message_metadata(parsed, mailbox, decision)
    body_text = parsed.visible_text.strip() or parsed.text_body.strip()
    if not (body_text or parsed.html_body or parsed.attachments):
        body_text = _("(The email had no text.)")
    attachments = [
        NewAttachment(
            filename=a.filename,
            content=a.content,
            content_type=a.content_type,
            content_id=a.content_id or "",
            inline=a.inline,
        )
        for a in parsed.attachments
    ]
    cc = _cc_entries(parsed, mailbox)
    message: Message | None
    if decision.case is not None:
        case = decision.case
        message = add_message(
            case,
            kind=MessageKind.CUSTOMER,
            customer=customer,
            body_text=body_text,
            body_html=parsed.html_body or "",
            html_is_sanitised=True,
            attachments=attachments,
            external_id=parsed.message_id or "",
            # An out-of-office must not pull a waiting or solved case back into the queue.
            new_status=case.status if parsed.is_auto_reply else None,
            metadata={"email": email_meta},
        )
        known = {entry["address"] for entry in case.metadata.get("email", {}).get("cc", [])}
        new_cc = [entry for entry in cc if entry["address"] not in known]
        if new_cc:
            email_case_meta = dict(case.metadata.get("email", {}))
            email_case_meta["cc"] = [*email_case_meta.get("cc", []), *new_cc]
            update_case_metadata(case, {"email": email_case_meta})
        status = "appended"
    else:
        case = create_case(
            customer=customer,
            subject=parsed.subject,
            team=mailbox.team,
            body_text=body_text,
            body_html=parsed.html_body or "",
            html_is_sanitised=True,
            attachments=attachments,
            external_id=parsed.message_id or "",
            metadata={"email": {"mailbox": mailbox.pk, "cc": cc}},
            message_metadata={"email": email_meta},
        )
        message = opening_message(case)
        if decision.follow_up_of is not None:
            link_cases(case, decision.follow_up_of, kind=LinkKind.FOLLOW_UP)
        status = "created"
    if parsed.refused:
        _note_refusals(case, parsed)

    inbound.case = case
    inbound.case_message = message
    inbound.threaded_by = decision.threaded_by or ""
    inbound.reason = decision.reason
    if status == "created" and _should_acknowledge(parsed, mailbox, history):
        inbound.acknowledged = True
    inbound.save()
    # Index inside this transaction: it commits with the case, and saves a second
    # transaction (and its commit) per mail.
    search_index.index_in_transaction()
    if inbound.acknowledged:
        from skranke.mail.tasks import send_acknowledgement

        inbound_id = inbound.pk
        # Queued in the mail's transaction: the task row commits (or rolls back) with it, and
        # no worker can see it before the case exists.
        send_acknowledgement.enqueue(inbound_id)
    return IngestResult(parsed, status, mailbox, case, message, inbound, decision)


def _customer_for(parsed: ParsedMessage) -> Customer:
    name = parsed.from_name.strip()[:200]
    address = parsed.from_address or ""
    if address and len(address) <= 254:  # CustomerEmail.address is an EmailField
        # Look up first: find_or_create_customer would also "add" the known address again,
        # which costs queries and a search reindex of all the customer's cases per mail.
        found = find_customer(email=address)
        if found is not None:
            return found
        try:
            return create_customer(name=name, emails=[address])
        except ValidationError:
            pass  # not a storable address; fall through to a customer without one
    return create_customer(name=name or address[:200] or _("Unknown sender"))


@dataclass(frozen=True)
class _History:
    """What the desk already knows about a mail and its sender, asked once per mail."""

    duplicate: bool  # a mail with the same dedupe key was taken in
    recent: int  # mails from this sender in the last hour (counted up to the loop limit)
    acknowledged: int  # receipts sent to this sender in the last hour (up to the ack limit)
    own_address: bool  # the sender is one of our own mailboxes


def _history(key: str, address: str | None) -> _History:
    """One plain statement for the questions asked of every mail. Built through the ORM
    (filtered counts, an existence check) they cost several times what the database takes to
    answer them. Counts stop at their limits, so a flood costs no more than a trickle."""
    inbound = InboundEmail._meta.db_table
    mailbox = Mailbox._meta.db_table
    sender = (address or "")[:320]
    since = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(hours=1))
    recent = f"SELECT 1 FROM {inbound} WHERE from_address = %s AND received_at >= %s"
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {inbound} WHERE dedupe_key = %s),"
        f" (SELECT COUNT(*) FROM ({recent} LIMIT %s) r),"
        f" (SELECT COUNT(*) FROM ({recent} AND acknowledged LIMIT %s) a),"
        f" EXISTS (SELECT 1 FROM {mailbox} WHERE address = %s)"
    )
    params = [
        key,
        sender,
        since,
        settings.SKRANKE_MAIL_LOOP_LIMIT if sender else 0,
        sender,
        since,
        ACK_LIMIT_PER_HOUR if sender else 0,
        parse_plus_address(sender).base_address if sender else "",
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        duplicate, recent_count, acked, own = cursor.fetchone()
    return _History(bool(duplicate), int(recent_count), int(acked), bool(own))


def _should_acknowledge(parsed: ParsedMessage, mailbox: Mailbox, history: _History) -> bool:
    if not mailbox.send_acknowledgement or parsed.suppress_auto_response:
        return False
    if not parsed.from_address or history.own_address:
        return False
    return history.acknowledged < ACK_LIMIT_PER_HOUR


def _cc_entries(parsed: ParsedMessage, mailbox: Mailbox) -> list[dict[str, str]]:
    if not parsed.cc:
        return []
    own = set(Mailbox.objects.values_list("address", flat=True)) | {mailbox.address}
    sender = (parsed.from_address or "").lower()
    entries: list[dict[str, str]] = []
    seen: set[str] = set()
    for name, address in parsed.cc:
        lowered = address.lower()
        if lowered in seen or lowered == sender or parse_plus_address(lowered).base_address in own:
            continue
        seen.add(lowered)
        entries.append({"name": name, "address": lowered})
    return entries


def _message_metadata(
    parsed: ParsedMessage, mailbox: Mailbox, decision: ThreadDecision
) -> dict[str, Any]:
    return {
        **decision.as_metadata(),
        "mailbox": mailbox.pk,
        "from": parsed.from_address,
        "from_name": parsed.from_name,
        "to": [address for _name, address in parsed.to],
        "cc": [address for _name, address in parsed.cc],
        "reply_to": [address for _name, address in parsed.reply_to],
        "subject": parsed.subject,
        "date": parsed.date.isoformat() if parsed.date else None,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references[-20:],
        "quoted_text": parsed.quoted_text,
        "is_auto_reply": parsed.is_auto_reply,
        "is_mailing_list": parsed.is_mailing_list,
        "refused": [r.reason for r in parsed.refused],
        "warnings": parsed.warnings[:20],
    }


def _note_refusals(case: Case, parsed: ParsedMessage) -> None:
    lines = [_("Parts of this email were not kept:")]
    lines += [f"• {refusal.reason}" for refusal in parsed.refused]
    lines.append(
        _("The original message is stored in full and can be fetched by an administrator.")
    )
    add_message(case, kind=MessageKind.NOTE, body_text="\n".join(lines))


def _ingest_bounce(parsed: ParsedMessage, mailbox: Mailbox, inbound: InboundEmail) -> IngestResult:
    bounce = parsed.bounce
    ids = [
        i
        for i in (
            bounce.original_message_id if bounce else None,
            parsed.in_reply_to,
            *reversed(parsed.references),
        )
        if i
    ]
    original = (
        Message.objects.filter(external_id__in=ids).select_related("case").order_by("-id").first()
        if ids
        else None
    )
    if original is None:
        inbound.status = InboundStatus.BOUNCE_UNMATCHED
        inbound.reason = "bounce for a message Skranke did not send"
        inbound.save()
        return IngestResult(parsed, "bounce_unmatched", mailbox, inbound=inbound)
    case = original.case
    permanent = bool(bounce and bounce.permanent)
    recipient = bounce.failed_recipient if bounce else None
    detail = " ".join(
        part
        for part in (
            recipient or "",
            bounce.status if bounce and bounce.status else "",
            bounce.diagnostic if bounce and bounce.diagnostic else "",
        )
        if part
    )
    if permanent:
        text = _("The email could not be delivered (permanent failure): %(detail)s")
    else:
        text = _("Delivery of the email is delayed or failed temporarily: %(detail)s")
    note = add_message(
        case,
        kind=MessageKind.NOTE,
        body_text=(text % {"detail": detail or "-"}) + "\n\n" + parsed.text_body[:5000],
        metadata={
            "email": {
                "bounce": bounce.to_json_dict() if bounce else None,
                "bounced_message": original.pk,
            }
        },
    )
    if permanent and original.kind == MessageKind.REPLY:
        from skranke.mail.actions import set_delivery_status

        set_delivery_status(original, DeliveryStatus.FAILED, error=text % {"detail": detail})
    if permanent and recipient:
        mark_email_undeliverable(recipient)
    inbound.case = case
    inbound.case_message = note
    inbound.threaded_by = "bounce"
    inbound.reason = f"bounce of message <{original.external_id}>"
    inbound.save()
    return IngestResult(
        parsed,
        "bounce",
        mailbox,
        case,
        note,
        inbound,
        ThreadDecision(case, "bounce", inbound.reason),
    )
