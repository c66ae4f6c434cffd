"""Pure helpers that turn headers into keys for matching a message to an existing case.

The intake tries, in order of trust: our own Message-ID in In-Reply-To/References, the case
token in the subject (``[#12345]``), the plus-address (``support+c12345@``), and finally the
Outlook conversation (Thread-Index) or a normalised subject. These helpers only compute the
keys; deciding which case wins is the intake's job.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "PlusAddress",
    "ThreadIndex",
    "decode_thread_index",
    "extract_case_number",
    "format_case_token",
    "normalise_message_id",
    "normalise_subject",
    "parse_plus_address",
    "parse_references",
]

# "[#12345]" as we send it, plus "[Skranke #12345]" / "[Sak #12345]" variants that an
# administrator may configure as the prefix. Case numbers are bounded so a long digit run from
# some other system (an order number) is not mistaken for a case.
_CASE_TOKEN = re.compile(r"\[(?:[^\[\]#\n]{0,30}?\s*)?#\s?(\d{1,12})\]")


def format_case_token(case_number: int, prefix: str = "") -> str:
    """The token we put in outgoing subjects; ``extract_case_number`` reads it back."""
    return f"[{prefix + ' ' if prefix else ''}#{case_number}]"


def extract_case_number(subject: str | None) -> int | None:
    """Return the case number from the first ``[#12345]``-style token in a subject.

    The first token wins: when a customer forwards one case's mail into another conversation,
    the outermost (leftmost) token is the one our own reply subject carried.
    """
    if not subject:
        return None
    match = _CASE_TOKEN.search(subject)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class PlusAddress:
    base_address: str  # "support@example.no" — the mailbox the message was delivered to
    tag: str | None  # "c12345" — everything after the separator, or None
    case_number: int | None  # 12345 when the tag is a case tag


def parse_plus_address(
    address: str, *, separator: str = "+", case_prefix: str = "c"
) -> PlusAddress:
    """Split ``support+c12345@example.no`` into the mailbox and a case number.

    Comparison is case-insensitive because some MTAs upper-case the local part.
    """
    address = address.strip().strip("<>")
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""
    base_local, sep, tag = local.partition(separator)
    base = f"{base_local}@{domain}" if domain else base_local
    if not sep or not tag:
        return PlusAddress(base.lower(), None, None)
    number = None
    prefix = case_prefix.lower()
    if tag.lower().startswith(prefix) and tag[len(prefix) :].isdigit():
        digits = tag[len(prefix) :]
        if len(digits) <= 12 and digits.isascii():
            number = int(digits)
    return PlusAddress(base.lower(), tag, number)


# Reply and forward prefixes in the languages our customers' mail clients use (Norwegian
# SV/VS/Vs, Swedish/Danish VB/Fw, German AW/WG, Dutch Antw/Doorst, French TR/RE, Spanish RV...),
# optionally numbered ("Re[2]:", "Re(3):") and possibly in full-width colon.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|sv|vs|fw|fwd|aw|wg|antw|antwort|doorst|tr|rv|ref|odp|vb|enc|ynt|vl|"
    r"res|rif)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)",
    re.IGNORECASE,
)
_BRACKET_TAG = re.compile(r"^\s*\[[^\[\]]{0,40}\]\s*")
_WHITESPACE = re.compile(r"\s+")


def normalise_subject(subject: str | None) -> str:
    """Reduce a subject to the part that stays the same across a conversation.

    Strips reply/forward prefixes, case tokens and leading ``[tags]`` (list names, "[EKSTERN]"
    warnings added by gateways), collapses whitespace and case-folds. "(no subject)" style
    subjects become "", so callers must not thread on an empty key.
    """
    if not subject:
        return ""
    text = _CASE_TOKEN.sub(" ", subject)
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
        text = _BRACKET_TAG.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip().casefold()
    if text in ("(no subject)", "(uten emne)", "(inget ämne)", "(ingen emne)", "no subject"):
        return ""
    return text


_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_COMMENT = re.compile(r"\([^()]*\)")

# Long References chains are pruned by well-behaved clients; we do the same so one broken
# client cannot make us store and index thousands of ids. The first id (thread root) and the
# most recent ones matter for threading.
_MAX_REFERENCES = 50


def normalise_message_id(value: str | None) -> str | None:
    """``<abc@host>`` → ``abc@host``; ``None`` for a missing or empty id.

    Case is kept: the local part of a Message-ID is case-sensitive per RFC 5322.
    """
    if not value:
        return None
    match = _ANGLE_ID.search(value)
    if match:
        return match.group(1)
    cleaned = _COMMENT.sub(" ", value).strip().strip("<>").strip()
    if not cleaned:
        return None
    # Broken mailers send bare ids, sometimes with trailing junk after whitespace.
    return cleaned.split()[0]


def parse_references(*values: str | None) -> list[str]:
    """Collect Message-IDs from References (and In-Reply-To) values, in order, without repeats."""
    seen: dict[str, None] = {}
    for value in values:
        if not value:
            continue
        ids = _ANGLE_ID.findall(value)
        if not ids:
            ids = [part for part in _COMMENT.sub(" ", value).split() if "@" in part]
        for message_id in ids:
            seen.setdefault(message_id, None)
    refs = list(seen)
    if len(refs) > _MAX_REFERENCES:
        refs = refs[:1] + refs[-(_MAX_REFERENCES - 1) :]
    return refs


@dataclass(frozen=True, slots=True)
class ThreadIndex:
    conversation_id: str  # hex GUID shared by every message of the Outlook conversation
    root: str  # base64 of the 22-byte header; equal for all replies in the conversation
    created: datetime | None  # when the conversation was started
    depth: int  # number of replies/forwards after the first message


# FILETIME counts 100 ns intervals from 1601-01-01.
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def decode_thread_index(value: str | None) -> ThreadIndex | None:
    """Decode Outlook's Thread-Index header (MS-OXOMSG 2.2.1.3), or None if malformed.

    The first 22 bytes are the conversation header (6 bytes of FILETIME + 16-byte GUID); each
    reply appends a 5-byte child block, so the depth is the number of extra blocks.
    """
    if not value:
        return None
    compact = "".join(value.split())
    try:
        data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(data) < 22 or (len(data) - 22) % 5:
        return None
    header = data[:22]
    ticks = int.from_bytes(header[:6], "big") << 16
    try:
        created: datetime | None = _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except OverflowError:
        created = None
    return ThreadIndex(
        conversation_id=header[6:22].hex(),
        root=base64.b64encode(header).decode("ascii"),
        created=created,
        depth=(len(data) - 22) // 5,
    )
