"""How an email message is shown in the conversation: its HTML with inline images resolved,
the quoted history, how it was threaded, and where a reply's delivery stands.

Plain functions over a ``Message`` whose attachments are already prefetched (``timeline``
does that), so drawing a long conversation costs no query per message.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from skranke.cases.models import Attachment, Message, MessageKind

# The stored HTML was serialised by nh3: attributes are lower-case and double-quoted, so a
# regex over it cannot be fooled by odd quoting (the same reasoning as in mail/parsing.py).
_CID_SRC = re.compile(r'\ssrc="cid:([^"]*)"', re.IGNORECASE)


def _threading_labels() -> dict[str, str]:
    return {
        "case_number": _("Linked to the case by the case number in the subject"),
        "reply_address": _("Linked to the case by its reply address"),
        "in_reply_to": _("Linked to the case via In-Reply-To"),
        "references": _("Linked to the case via References"),
        "thread_index": _("Linked to the case via Outlook's Thread-Index"),
        "subject": _("Linked to the case by sender and subject"),
    }


@dataclass
class EmailDisplay:
    html: SafeString
    has_remote_images: bool
    has_quoted_html: bool
    quoted_text: str
    threading: str
    threading_detail: str
    attachments: list[Attachment]  # those not already shown in place in the HTML


def _email_meta(message: Message) -> dict[str, Any]:
    meta = (message.metadata or {}).get("email")
    return meta if isinstance(meta, dict) else {}


def resolve_inline_images(body_html: str, case_number: int, attachments: list[Attachment]) -> str:
    """Point ``cid:`` images at the message's own attachments, served by the access-checked
    attachment view. A reference to no attachment of this message loses its ``src``: it
    must never resolve to another message's file."""
    by_cid = {a.content_id.strip("<>"): a for a in attachments if a.content_id}

    def replace(match: re.Match[str]) -> str:
        wanted = html.unescape(match.group(1))
        item = by_cid.get(wanted) or by_cid.get(unquote(wanted))
        if item is None:
            return " data-missing-cid"
        url = reverse("cases:attachment", args=[case_number, item.pk])
        return f' src="{html.escape(url)}"'

    return _CID_SRC.sub(replace, body_html)


def email_display(message: Message, case_number: int) -> EmailDisplay:
    meta = _email_meta(message)
    attachments = list(message.attachments.all())
    body_html = message.body_html or ""
    if "cid:" in body_html:
        body_html = resolve_inline_images(body_html, case_number, attachments)
    threading = threading_detail = ""
    if message.kind == MessageKind.CUSTOMER and meta:
        threaded_by = meta.get("threaded_by")
        threading_detail = str(meta.get("reason") or "")
        if threaded_by:
            threading = _threading_labels().get(str(threaded_by), "")
        elif meta.get("follow_up_of"):
            threading = _("New case: a follow-up to the closed case #%(number)s") % {
                "number": meta["follow_up_of"]
            }
    # Images the HTML shows in place are not listed again under the message.
    listed = [a for a in attachments if not (a.inline and a.content_id and message.body_html)]
    return EmailDisplay(
        # body_html is sanitised before it is stored (Message.body_html); only our own
        # attachment URLs were put in above.
        html=mark_safe(body_html),
        has_remote_images="data-remote-src=" in body_html,
        has_quoted_html="<blockquote" in body_html,
        quoted_text=str(meta.get("quoted_text") or "").strip(),
        threading=threading,
        threading_detail=threading_detail,
        attachments=listed,
    )
