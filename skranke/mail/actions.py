"""Verbs for outgoing mail: queue a reply, record how delivery went, retry a failed send.

Delivery state lives on ``cases.Message`` (``delivery_status``/``delivery_error``); these verbs
are the one place it changes, and each change is broadcast so the conversation shows
"sending / sent / failed" without a reload.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from skranke.cases import broadcast
from skranke.cases.models import DeliveryStatus, Message
from skranke.mail.outbound import mailbox_for_case, new_message_id, should_send


def _email_meta(message: Message, **changes: Any) -> dict[str, Any]:
    metadata = dict(message.metadata or {})
    metadata["email"] = {**metadata.get("email", {}), **changes}
    return metadata


def queue_reply(message: Message) -> bool:
    """Give a new public reply its Message-ID and queue it; sent after the transaction commits.

    Called for every new message (see ``signals``); returns False for messages that are not
    email replies or whose case has no mailbox to send from.
    """
    if not should_send(message):
        return False
    case = message.case
    mailbox = mailbox_for_case(case)
    if mailbox is None:
        return False
    message.external_id = message.external_id or new_message_id(mailbox, case.number)
    message.delivery_status = DeliveryStatus.QUEUED
    message.delivery_error = ""
    message.metadata = _email_meta(message, mailbox=mailbox.pk, attempts=0)
    Message.objects.filter(pk=message.pk).update(
        external_id=message.external_id,
        delivery_status=message.delivery_status,
        delivery_error="",
        metadata=message.metadata,
    )
    _enqueue_after_commit(message.pk)
    return True


def _enqueue_after_commit(message_id: int) -> None:
    from skranke.mail.tasks import send_reply

    transaction.on_commit(lambda: send_reply.enqueue(message_id))


@transaction.atomic
def set_delivery_status(
    message: Message, status: str, *, error: str = "", attempts: int | None = None
) -> None:
    message.delivery_status = status
    message.delivery_error = error[:2000]
    fields = ["delivery_status", "delivery_error"]
    if attempts is not None:
        message.metadata = _email_meta(message, attempts=attempts)
        fields.append("metadata")
    message.save(update_fields=fields)
    case = message.case
    broadcast.case_changed(case.pk, case.number, {case.team_id}, kind="message")


def acknowledgement_sent(message_id: int) -> bool:
    """Whether the receipt for this customer message has gone out."""
    meta = Message.objects.filter(pk=message_id).values_list("metadata", flat=True).first()
    return bool(((meta or {}).get("email") or {}).get("acknowledgement"))


@transaction.atomic
def record_acknowledgement(message_id: int, ack_message_id: str) -> None:
    """Note the sent receipt on the customer's message it answers: a retry (or a second run
    of the same task) then knows the customer already has it."""
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        return
    message.metadata = _email_meta(
        message,
        acknowledgement={"sent_at": timezone.now().isoformat(), "id": ack_message_id},
    )
    message.save(update_fields=["metadata"])


@transaction.atomic
def retry_delivery(message: Message) -> None:
    """Send a failed reply again (the agent's "retry" button)."""
    message = Message.objects.select_for_update().select_related("case").get(pk=message.pk)
    if message.delivery_status != DeliveryStatus.FAILED:
        raise ValidationError(_("Only a reply that failed to send can be retried."))
    set_delivery_status(message, DeliveryStatus.QUEUED, attempts=0)
    _enqueue_after_commit(message.pk)
