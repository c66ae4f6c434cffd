"""Build and send the mail Skranke writes: agent replies and acknowledgements.

Every mail we send carries what threads the answer back to its case, so the customer's
reply lands right whichever header their client keeps: a Message-ID we store on the message,
In-Reply-To/References to the conversation, the ``[#12345]`` token in the subject and a
per-case Reply-To (``support+c12345@…``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formataddr
from functools import partial
from typing import Any

from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.template.loader import select_template
from django.utils import translation

from skranke.cases.models import Case, Channel, Message, MessageKind
from skranke.mail.models import InboundEmail, Mailbox, Security, SMTPAuth
from skranke.mail.oauth import access_token
from skranke.mail.smtp import OAuth2EmailBackend
from skranke.mail.threading_keys import extract_case_number, format_case_token

# References are pruned to the thread root and the newest ids, as mail clients do.
_MAX_REFERENCES = 20


class NoRecipient(Exception):
    """The case has no address to send to."""


def mailbox_for_case(case: Case) -> Mailbox | None:
    """The mailbox the case came in through, else the first enabled one of its team."""
    mailbox_id = (case.metadata or {}).get("email", {}).get("mailbox")
    if mailbox_id:
        mailbox = Mailbox.objects.filter(pk=mailbox_id).select_related("team").first()
        if mailbox is not None:
            return mailbox
    return (
        Mailbox.objects.filter(team_id=case.team_id, enabled=True)
        .select_related("team")
        .order_by("pk")
        .first()
    )


def new_message_id(mailbox: Mailbox, case_number: int) -> str:
    """Without angle brackets, like the ids we store for incoming mail."""
    return f"skranke.{case_number}.{secrets.token_hex(8)}@{mailbox.domain}"


def should_send(message: Message) -> bool:
    """Public email replies on a case that has a mailbox to send from."""
    if message.kind != MessageKind.REPLY or message.channel != Channel.EMAIL:
        return False
    return (message.metadata or {}).get("email", {}).get("send", True) is not False


def connection_for(mailbox: Mailbox, *, timeout: float = 30) -> BaseEmailBackend:
    """The mailbox's own SMTP server if it has one, else the site's default mailer."""
    if not mailbox.smtp_host:
        return mailers.default
    server: dict[str, Any] = {
        # Named like a MAILERS entry: the backend then takes only these options, never the
        # site's default relay settings.
        "alias": f"mailbox-{mailbox.pk}",
        "host": mailbox.smtp_host,
        "port": mailbox.smtp_port,
        "use_tls": mailbox.smtp_security == Security.STARTTLS,
        "use_ssl": mailbox.smtp_security == Security.SSL,
        "timeout": timeout,
    }
    if mailbox.smtp_auth == SMTPAuth.OAUTH2:
        return OAuth2EmailBackend(
            username=mailbox.smtp_username or mailbox.address,
            token=partial(access_token, mailbox),
            **server,
        )
    return SMTPBackend(
        username=mailbox.smtp_username or None,
        password=mailbox.smtp_password or None,
        **server,
    )


def _sender(mailbox: Mailbox) -> str:
    return formataddr((mailbox.display_name or mailbox.team.name, mailbox.address))


def _render(name: str, language: str, context: Mapping[str, object]) -> tuple[str, str, str]:
    """Subject, text and HTML of ``templates/mail/emails/<lang>/<name>-*``."""
    parts = []
    with translation.override(language):
        for suffix in ("subject.txt", "body.txt", "body.html"):
            template = select_template(
                [f"mail/emails/{language}/{name}-{suffix}", f"mail/emails/nb/{name}-{suffix}"]
            )
            parts.append(template.render(context))
    subject = " ".join(parts[0].split())
    return subject, parts[1].strip() + "\n", parts[2]


def _token(case: Case) -> str:
    """The subject token, unless the case's subject already carries it."""
    if extract_case_number(case.subject) == case.number:
        return ""
    return format_case_token(case.number)


def _angle(message_id: str) -> str:
    return f"<{message_id}>"


def _thread_ids(case: Case, before: Message) -> tuple[str | None, list[str]]:
    """In-Reply-To (the customer's latest mail) and References for a reply on ``case``."""
    rows = list(
        case.messages.filter(id__lt=before.pk)
        .exclude(kind=MessageKind.NOTE)
        .exclude(external_id="")
        .order_by("id")
        .values_list("external_id", "kind")
    )
    ids = list(dict.fromkeys(external_id for external_id, _kind in rows))
    customer_ids = [external_id for external_id, kind in rows if kind == MessageKind.CUSTOMER]
    in_reply_to = customer_ids[-1] if customer_ids else (ids[-1] if ids else None)
    if len(ids) > _MAX_REFERENCES:
        ids = ids[:1] + ids[-(_MAX_REFERENCES - 1) :]
    return in_reply_to, ids


def _recipients(case: Case, before: Message) -> tuple[list[str], list[str]]:
    """To: whoever wrote last (their Reply-To if given), else the customer. Cc: the case's CCs."""
    to: list[str] = []
    last = (
        case.messages.filter(kind=MessageKind.CUSTOMER, id__lt=before.pk)
        .order_by("-id")
        .only("metadata")
        .first()
    )
    if last is not None:
        email_meta = (last.metadata or {}).get("email", {})
        to = list(email_meta.get("reply_to") or []) or (
            [email_meta["from"]] if email_meta.get("from") else []
        )
    if not to and case.customer.primary_email:
        to = [case.customer.primary_email]
    if not to:
        raise NoRecipient(f"case #{case.number} has no email address to reply to")
    lowered = {a.lower() for a in to}
    cc = [
        entry["address"]
        for entry in (case.metadata or {}).get("email", {}).get("cc", [])
        if entry.get("address") and entry["address"].lower() not in lowered
    ]
    return to, cc


@dataclass
class Outgoing:
    email: EmailMultiAlternatives
    message_id: str


def build_reply(message: Message, mailbox: Mailbox) -> Outgoing:
    case = message.case
    to, cc = _recipients(case, message)
    in_reply_to, references = _thread_ids(case, message)
    context = {
        "case": case,
        "message": message,
        "agent": message.author,
        "team": mailbox.team,
        "signature": mailbox.signature,
        "token": _token(case),
    }
    subject, text, html = _render("reply", case.language, context)
    message_id = message.external_id or new_message_id(mailbox, case.number)
    headers = {
        "Message-ID": _angle(message_id),
        "Reply-To": mailbox.reply_address(case.number),
        "Auto-Submitted": "no",
        "X-Skranke-Case": str(case.number),
    }
    if in_reply_to:
        headers["In-Reply-To"] = _angle(in_reply_to)
    if references:
        headers["References"] = " ".join(_angle(i) for i in references)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=_sender(mailbox),
        to=to,
        cc=cc,
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return Outgoing(email, message_id)


def build_acknowledgement(inbound: InboundEmail) -> Outgoing:
    case = inbound.case
    mailbox = inbound.mailbox
    assert case is not None and mailbox is not None
    context = {
        "case": case,
        "team": mailbox.team,
        "opening_hours": mailbox.opening_hours,
        "original_subject": inbound.subject,
        "token": _token(case),
    }
    subject, text, html = _render("ack", case.language, context)
    message_id = new_message_id(mailbox, case.number)
    headers = {
        "Message-ID": _angle(message_id),
        "Reply-To": mailbox.reply_address(case.number),
        # RFC 3834: mark it automatic, and ask Exchange not to answer it with an out-of-office.
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
        "X-Skranke-Case": str(case.number),
    }
    if inbound.message_id:
        headers["In-Reply-To"] = _angle(inbound.message_id)
        headers["References"] = _angle(inbound.message_id)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=_sender(mailbox),
        to=[inbound.from_address],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return Outgoing(email, message_id)
