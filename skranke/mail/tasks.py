"""Background work for email: sending replies and acknowledgements, polling IMAP mailboxes."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from skranke.cases.models import DeliveryStatus, Message
from skranke.mail.actions import acknowledgement_sent, record_acknowledgement, set_delivery_status
from skranke.mail.models import InboundEmail, Mailbox
from skranke.mail.outbound import NoRecipient, build_acknowledgement, build_reply, connection_for

logger = logging.getLogger(__name__)

# Delay before attempt n+1 after n failures: 1 min, 5 min, 15 min, 1 h, 3 h, then give up.
RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180)]


def _is_permanent(error: Exception) -> bool:
    """5xx answers (unknown recipient, rejected content) will not get better by retrying."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPAuthenticationError)
    return isinstance(error, NoRecipient)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for address, (code, msg) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        msg = error.smtp_error
        text = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"


def _schedule_retry(message_id: int, attempts: int) -> None:
    delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
    backend = send_reply.get_backend()
    if backend.supports_defer:
        send_reply.using(run_after=timezone.now() + delay).enqueue(message_id)
    else:
        send_reply.enqueue(message_id)


@task()
def send_reply(message_id: int) -> str:
    """Send one agent reply; on failure retry with backoff, then mark it failed."""
    message = Message.objects.select_related("case", "case__customer").filter(pk=message_id).first()
    if message is None or message.delivery_status != DeliveryStatus.QUEUED:
        return "skipped"
    from skranke.mail.outbound import mailbox_for_case

    mailbox = mailbox_for_case(message.case)
    attempts = int((message.metadata or {}).get("email", {}).get("attempts", 0)) + 1
    if mailbox is None:
        set_delivery_status(message, DeliveryStatus.FAILED, error="no mailbox to send from")
        return "failed"
    try:
        outgoing = build_reply(message, mailbox)
        with connection_for(mailbox) as connection:
            connection.send_messages([outgoing.email])
    except Exception as error:
        reason = _describe(error)
        if _is_permanent(error) or attempts > len(RETRY_DELAYS):
            logger.warning("Reply %s failed for good: %s", message_id, reason)
            set_delivery_status(message, DeliveryStatus.FAILED, error=reason, attempts=attempts)
            return "failed"
        logger.info("Reply %s failed (attempt %d), will retry: %s", message_id, attempts, reason)
        set_delivery_status(message, DeliveryStatus.QUEUED, error=reason, attempts=attempts)
        _schedule_retry(message_id, attempts)
        return "retrying"
    set_delivery_status(message, DeliveryStatus.SENT, attempts=attempts)
    return "sent"


@task()
def send_acknowledgement(inbound_id: int, attempt: int = 1) -> str:
    inbound = (
        InboundEmail.objects.select_related("case", "mailbox", "mailbox__team")
        .filter(pk=inbound_id)
        .first()
    )
    if inbound is None or inbound.case is None or inbound.mailbox is None:
        return "skipped"
    answered = inbound.case_message_id  # the customer's message the receipt is for
    if answered is not None and acknowledgement_sent(answered):
        return "skipped"
    try:
        outgoing = build_acknowledgement(inbound)
        with connection_for(inbound.mailbox) as connection:
            connection.send_messages([outgoing.email])
    except Exception as error:
        if _is_permanent(error) or attempt > len(RETRY_DELAYS):
            logger.warning("Acknowledgement for %s not sent: %s", inbound_id, _describe(error))
            return "failed"
        delay = RETRY_DELAYS[attempt - 1]
        queued = send_acknowledgement
        if send_acknowledgement.get_backend().supports_defer:
            queued = send_acknowledgement.using(run_after=timezone.now() + delay)
        queued.enqueue(inbound_id, attempt + 1)
        return "retrying"
    if answered is not None:
        record_acknowledgement(answered, outgoing.message_id)
    return "sent"


@task()
def poll_mailboxes() -> int:
    """Fetch new mail from every enabled IMAP mailbox (the scheduler runs this every minute)."""
    from skranke.mail.imap import poll_mailbox

    total = 0
    for mailbox in Mailbox.objects.filter(enabled=True).exclude(imap_host=""):
        try:
            total += poll_mailbox(mailbox).imported
        except Exception:
            logger.exception("Polling %s failed", mailbox.address)
    return total
