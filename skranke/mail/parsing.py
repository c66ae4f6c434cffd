"""Raw RFC 5322 bytes → ``ParsedMessage``: the pure core of email intake (no database).

Design choices:

* We parse with the ``compat32`` policy and decode headers ourselves. ``email.policy.default``
  is several times slower (it builds a header object per access) and replaces raw 8-bit bytes
  it cannot decode, which loses æøå from Norwegian clients that send unlabelled Latin-1.
* ``parse_message`` never raises for bytes that hold something an agent could read. It raises
  ``UnparseableMessage`` only when there is nothing at all: empty input, or no sender, subject,
  body or attachment after parsing. Everything else comes back as a ``ParsedMessage`` with
  ``defects`` (structural problems found by the parser) and ``warnings`` (our fallbacks).
* Limits are parameters, not settings lookups, so the function stays pure and testable.
"""

from __future__ import annotations

import binascii
import hashlib
import html as html_lib
import logging
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email._policybase import Compat32
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import nh3

from skranke.mail import classify
from skranke.mail.charsets import decode_bytes, decode_header_value, fix_raw_8bit
from skranke.mail.classify import BounceInfo
from skranke.mail.quoting import split_reply
from skranke.mail.threading_keys import (
    ThreadIndex,
    decode_thread_index,
    normalise_message_id,
    parse_references,
)

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "Address",
    "Attachment",
    "ParsedMessage",
    "Refusal",
    "UnparseableMessage",
    "html_to_text",
    "parse_message",
    "sanitise_html",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024

# Hostile nesting (multipart inside multipart ten thousand deep) must not cost unbounded time.
_MAX_DEPTH = 30
_MAX_PARTS = 500

Address = tuple[str, str]  # (display name, address); name is "" when absent


class UnparseableMessage(ValueError):
    """The input holds nothing usable: no sender, subject, body or attachment."""


@dataclass(slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes = field(repr=False)
    content_id: str | None = None  # without <>, for resolving cid: references in the HTML
    inline: bool = False  # shown inside the HTML body rather than in the attachment list
    embedded_subject: str | None = None  # for attached messages (message/rfc822, Outlook .msg)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    """Something we deliberately did not keep, with a reason an agent can read."""

    filename: str | None
    content_type: str | None
    size: int
    reason: str


@dataclass(slots=True)
class ParsedMessage:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_address: str | None
    from_name: str
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    subject: str
    date: datetime | None
    text_body: str
    html_body: str | None  # sanitised; remote images moved to data-remote-src
    visible_text: str
    quoted_text: str
    attachments: list[Attachment]
    refused: list[Refusal]
    is_auto_reply: bool
    is_bounce: bool
    bounce: BounceInfo | None
    is_mailing_list: bool
    # True when we must not send an automatic acknowledgement (auto-reply, bounce, list, or the
    # sender asked via X-Auto-Response-Suppress).
    suppress_auto_response: bool
    thread_index: ThreadIndex | None
    thread_topic: str | None
    headers: list[tuple[str, str]]  # every header, decoded, in wire order
    raw_size: int
    fingerprint: str  # SHA-256 of the raw bytes: dedupes redelivered mail without Message-ID
    truncated: bool = False  # over the message size limit: only headers and first text part
    defects: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def get_header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def to_json_dict(self) -> dict[str, Any]:
        """The stable keys ``skranke mail ingest --json`` prints; tests compare against them."""
        return {
            "from_address": self.from_address,
            "from_name": self.from_name,
            "subject": self.subject,
            "text_body": self.text_body,
            "attachments": [attachment.to_json_dict() for attachment in self.attachments],
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "is_auto_reply": self.is_auto_reply,
            "is_bounce": self.is_bounce,
        }


class _RawPolicy(Compat32):
    """compat32, but header values come back exactly as read (8-bit bytes as surrogates).

    compat32 would wrap such values in ``Header`` objects with an "unknown-8bit" charset; we
    want the raw bytes so ``charsets`` can detect what they really are.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_POLICY = _RawPolicy()


# --- HTML --------------------------------------------------------------------------------------

_SAFE_STYLE = frozenset(
    {
        "color",
        "background-color",
        "font",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "text-align",
        "text-decoration",
        "text-indent",
        "line-height",
        "letter-spacing",
        "vertical-align",
        "white-space",
        "margin",
        "margin-top",
        "margin-bottom",
        "margin-left",
        "margin-right",
        "padding",
        "padding-top",
        "padding-bottom",
        "padding-left",
        "padding-right",
        "border",
        "border-top",
        "border-bottom",
        "border-left",
        "border-right",
        "border-color",
        "border-style",
        "border-width",
        "border-collapse",
        "width",
        "height",
        "max-width",
        "min-width",
        "list-style-type",
        "direction",
    }
)  # no background/background-image/list-style-image/content: they can load remote URLs

_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
for _tag, _attrs in {
    "*": {"style", "dir", "lang", "title", "align"},
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor"},
    "td": {"width", "valign", "bgcolor", "nowrap"},
    "th": {"width", "valign", "bgcolor"},
    "font": {"color", "face", "size"},
}.items():
    _ATTRIBUTES.setdefault(_tag, set()).update(_attrs)

# One reusable cleaner: building the ammonia configuration per message would dominate the cost.
_CLEANER = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS) | {"font", "span", "tfoot"},
    clean_content_tags={"script", "style", "title"},
    attributes=_ATTRIBUTES,
    url_schemes={"http", "https", "mailto", "tel", "cid"},
    # Relative URLs would point at Skranke itself (a GET the agent's browser makes on our
    # origin), so they are dropped rather than passed through.
    url_relative="deny",
    filter_style_properties=set(_SAFE_STYLE),
    link_rel="noopener noreferrer nofollow",
)

_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_IMG_REMOTE_SRC = re.compile(r'\ssrc="(?!cid:)([^"]*)"', re.IGNORECASE)


def _hold_remote_images(match: re.Match[str]) -> str:
    # Loading a remote image tells the sender (or a tracker) that an agent opened the mail.
    # The UI swaps data-remote-src back to src only when the agent asks to show images.
    return _IMG_REMOTE_SRC.sub(r' data-remote-src="\1"', match.group(0))


def sanitise_html(html: str) -> str:
    """Sanitise email HTML for display: no scripts or handlers, no remote loads, cid: kept."""
    cleaned = _CLEANER.clean(html)
    if "<img" in cleaned:
        # nh3 serialises attributes canonically (lower-case names, double quotes, &quot;
        # inside values), so a regex over its output cannot be fooled by odd quoting.
        cleaned = _IMG_TAG.sub(_hold_remote_images, cleaned)
    return cleaned


_HTML_DROP = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_LINE = re.compile(
    r"<br\b[^>]*>|</?(?:p|div|tr|li|h[1-6]|table|ul|ol|pre|hr|dt|dd|address|center)\b[^>]*>",
    re.IGNORECASE,
)
_HTML_CELL = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>")
_HTML_BLOCKQUOTE = re.compile(r"(<blockquote\b[^>]*>|</blockquote\s*>)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v\u00a0\u200b]+")
_BLANK_RUNS = re.compile(r"\n\s*\n(?:\s*\n)+")


def _html_fragment_to_text(fragment: str) -> str:
    text = _HTML_LINE.sub("\n", fragment)
    text = _HTML_CELL.sub(" ", text)
    text = _HTML_TAG.sub("", text)
    text = html_lib.unescape(text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def html_to_text(html: str) -> str:
    """A readable plain-text rendering of email HTML; blockquotes become "> " lines.

    Regex-based on purpose: an HTML parser in Python costs milliseconds per message, and the
    text view only needs paragraphs, line breaks and quote depth.
    """
    html = _HTML_COMMENT.sub("", html)
    html = _HTML_DROP.sub("", html)
    depth = 0
    chunks: list[str] = []
    for piece in _HTML_BLOCKQUOTE.split(html):
        if piece[:11].lower() == "<blockquote":
            depth += 1
            chunks.append("\n")
            continue
        if piece[:12].lower() == "</blockquote":
            depth = max(0, depth - 1)
            chunks.append("\n")
            continue
        text = _html_fragment_to_text(piece)
        if depth:
            prefix = ">" * depth + " "
            text = "\n".join(prefix + line if line else line for line in text.split("\n"))
        chunks.append(text)
    result = _BLANK_RUNS.sub("\n\n", "".join(chunks))
    return result.strip()


# --- helpers -----------------------------------------------------------------------------------


def _clean_address(address: str) -> str | None:
    address = address.strip().strip("<>").strip()
    if "@" not in address or any(ch.isspace() for ch in address) or len(address) > 320:
        return None
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return None
    # Domains are case-insensitive; local parts formally are not, so only the domain is folded.
    return f"{local}@{domain.lower()}"


def _addresses(values: Iterable[str]) -> list[Address]:
    result: list[Address] = []
    for value in values:
        try:
            pairs = getaddresses([fix_raw_8bit(value)])
        except Exception:  # getaddresses has raised on hostile input in past CPython versions
            continue
        for name, address in pairs:
            clean = _clean_address(address)
            if clean:
                result.append((decode_header_value(name).strip().strip('"').strip(), clean))
    return result


def _decoded_param(part: Message, name: str, header: str) -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        # RFC 2231: (charset, language, text) where text holds the bytes as Latin-1 code points.
        charset, _language, text = value
        raw = text.encode("latin-1", "surrogateescape") if text else b""
        return decode_bytes(raw, charset or None).text
    if not isinstance(value, str):
        return None
    return decode_header_value(value.strip('"'))


_PATH_SEPARATORS = re.compile(r"[\\/]")
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    # Never let a sender choose a path: keep only the last component.
    name = _PATH_SEPARATORS.split(name)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    if not name:
        return None
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:200]
    return name


def _default_filename(content_type: str, index: int) -> str:
    ext = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"attachment-{index}{ext}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _raw_payload(part: Message) -> Any:
    """The undecoded payload: a str, or a list of sub-messages for multiparts and message/*."""
    try:
        return part.get_payload()
    except Exception:
        # get_payload() decodes 8-bit text with the part's charset parameter, and raises when
        # that parameter itself holds raw 8-bit bytes.
        return getattr(part, "_payload", None)


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = _raw_payload(part)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed soft line breaks so paragraphs read as paragraphs."""
    out: list[str] = []
    buffer = ""
    buffer_depth = -1
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if buffer and depth != buffer_depth:
            out.append(">" * buffer_depth + (" " if buffer_depth else "") + buffer)
            buffer = ""
        if content.endswith(" ") and content != "-- ":
            buffer += content[:-1] if delsp else content
            buffer_depth = depth
            continue
        full = buffer + content
        buffer = ""
        out.append((">" * depth + " " + full) if depth else full)
    if buffer:
        out.append(">" * buffer_depth + (" " if buffer_depth else "") + buffer)
    return "\n".join(out)


_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} ([^\n]+)\n(.*?)^end[ \t]*$\n?", re.M | re.DOTALL)


def _uudecode(body: str) -> bytes:
    chunks: list[bytes] = []
    for line in body.split("\n"):
        line = line.rstrip("\r")
        if not line or line == "`":
            continue
        try:
            chunks.append(binascii.a2b_uu(line))
        except (binascii.Error, ValueError):
            # Same workaround as the email package: some encoders pad lines wrongly.
            nbytes = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
            try:
                chunks.append(binascii.a2b_uu(line[:nbytes]))
            except (binascii.Error, ValueError):
                continue
    return b"".join(chunks)


# --- the walk ----------------------------------------------------------------------------------


class _Collector:
    def __init__(self, max_attachment_bytes: int, text_only: bool) -> None:
        self.max_attachment_bytes = max_attachment_bytes
        self.text_only = text_only
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []
        self.attachments: list[Attachment] = []
        self.refused: list[Refusal] = []
        self.warnings: list[str] = []
        self.defects: list[str] = []
        self.delivery_status: str | None = None
        self.original_message_id: str | None = None
        self.tnef_text: str | None = None
        self.tnef_html: str | None = None
        self.part_count = 0

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # Attachments ------------------------------------------------------------------------------

    def add_attachment(
        self,
        data: bytes,
        *,
        filename: str | None,
        content_type: str,
        content_id: str | None = None,
        inline: bool = False,
        embedded_subject: str | None = None,
    ) -> None:
        content_type = content_type.lower()
        name = _safe_filename(filename) or _default_filename(
            content_type, len(self.attachments) + 1
        )
        if len(data) > self.max_attachment_bytes:
            self.refused.append(
                Refusal(
                    filename=name,
                    content_type=content_type,
                    size=len(data),
                    reason=(
                        f"Attachment {name!r} is {_human_size(len(data))}, over the limit of "
                        f"{_human_size(self.max_attachment_bytes)}; it was not stored."
                    ),
                )
            )
            return
        if name.lower().endswith(".msg") and content_type == "application/octet-stream":
            content_type = "application/vnd.ms-outlook"
        if content_type == "application/vnd.ms-outlook" or name.lower().endswith(".msg"):
            embedded_subject = embedded_subject or _outlook_msg_subject(data)
        self.attachments.append(
            Attachment(
                filename=name,
                content_type=content_type,
                size=len(data),
                sha256=_sha256(data),
                content=data,
                content_id=content_id,
                inline=inline,
                embedded_subject=embedded_subject,
            )
        )

    def refuse_oversize_encoded(self, part: Message, name: str | None, content_type: str) -> bool:
        """Refuse a part from its encoded length, before spending time decoding it."""
        payload = _raw_payload(part)
        if not isinstance(payload, str):
            return False
        encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
        estimate = len(payload) * 3 // 4 if encoding == "base64" else len(payload)
        if estimate <= self.max_attachment_bytes * 1.1:
            return False
        shown = _safe_filename(name) or content_type
        self.refused.append(
            Refusal(
                filename=_safe_filename(name),
                content_type=content_type,
                size=estimate,
                reason=(
                    f"Attachment {shown!r} is about {_human_size(estimate)}, over the limit of "
                    f"{_human_size(self.max_attachment_bytes)}; it was not stored."
                ),
            )
        )
        return True

    # Walking ----------------------------------------------------------------------------------

    def walk(self, part: Message, depth: int = 0) -> None:
        self.part_count += 1
        if self.part_count > _MAX_PARTS:
            self.warn(f"more than {_MAX_PARTS} MIME parts; the rest were ignored")
            return
        for defect in getattr(part, "defects", ()):
            name = type(defect).__name__
            if name not in self.defects:
                self.defects.append(name)
        try:
            content_type = part.get_content_type()
        except Exception:
            content_type = "text/plain"
        # compat32 stores message/rfc822 and message/delivery-status payloads as lists of
        # Message objects, so is_multipart() is true for them; they are leaves to us.
        if part.is_multipart() and not content_type.startswith("message/"):
            if depth >= _MAX_DEPTH:
                self.warn("MIME structure nested too deep; inner parts were ignored")
                return
            payload = _raw_payload(part)
            if content_type == "multipart/alternative" and isinstance(payload, list):
                self.walk_alternative(payload, depth + 1)
                return
            if isinstance(payload, list):
                for child in payload:
                    if isinstance(child, Message):
                        self.walk(child, depth + 1)
            return
        self.walk_leaf(part, content_type)

    def walk_alternative(self, children: list[Any], depth: int) -> None:
        # Every child is the same content; take the first plain and the last (richest) HTML.
        text_done = html_done = False
        for child in children:
            if not isinstance(child, Message):
                continue
            ctype = child.get_content_type()
            if ctype == "text/plain" and not text_done and not _is_attachment(child):
                text_done = True
                self.walk(child, depth)
            elif ctype == "text/html" and not _is_attachment(child):
                if html_done and self.html_parts:
                    self.html_parts.pop()
                html_done = True
                self.walk(child, depth)
            elif child.is_multipart():
                self.walk(child, depth)  # e.g. multipart/related holding the HTML
            elif ctype not in ("text/plain", "text/html", "text/enriched", "text/calendar"):
                self.walk(child, depth)

    def walk_leaf(self, part: Message, content_type: str) -> None:
        filename = _decoded_param(part, "filename", "content-disposition") or _decoded_param(
            part, "name", "content-type"
        )
        disposition = (part.get("content-disposition") or "").split(";", 1)[0].strip().lower()
        if content_type.startswith("multipart/"):
            # A multipart without a usable boundary: its body is all we have, so show it.
            content_type = "text/plain"
        if content_type in ("text/plain", "text/html") and not _is_attachment(part):
            self.add_text(part, content_type)
            return
        if self.text_only:
            return
        if content_type == "message/delivery-status":
            self.delivery_status = _delivery_status_text(part)
            return
        if content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            text = decode_bytes(_payload_bytes(part)).text
            match = re.search(r"^message-id:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
            if match:
                self.original_message_id = normalise_message_id(match.group(1))
            return
        if self.refuse_oversize_encoded(part, filename, content_type):
            return
        if content_type == "message/rfc822" or (
            content_type == "message/global" and isinstance(_raw_payload(part), list)
        ):
            self.add_embedded_message(part, filename)
            return
        data = _payload_bytes(part)
        if (
            content_type in ("application/ms-tnef", "application/vnd.ms-tnef")
            or (filename or "").lower() == "winmail.dat"
        ):
            if self.add_tnef(data):
                return
        content_id = normalise_message_id(part.get("content-id"))
        self.add_attachment(
            data,
            filename=filename,
            content_type=content_type,
            content_id=content_id,
            inline=disposition == "inline" and content_type.startswith("image/"),
        )

    def add_text(self, part: Message, content_type: str) -> None:
        if self.text_only and (self.text_parts or self.html_parts):
            return
        data = _payload_bytes(part)
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        if content_type == "text/html" and not charset:
            meta = _META_CHARSET.search(data[:4096])
            charset = meta.group(1).decode("ascii") if meta else None
        decoded = decode_bytes(data, charset)
        if decoded.warning:
            self.warn(decoded.warning)
        text = decoded.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if content_type == "text/html":
            self.html_parts.append(text)
            return
        if (part.get_param("format") or "").__str__().lower() == "flowed":
            delsp = str(part.get_param("delsp") or "").lower() == "yes"
            text = _unflow(text, delsp)
        if "begin " in text and not self.text_only:
            text = self.extract_uuencoded(text)
        self.text_parts.append(text)

    def extract_uuencoded(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            self.add_attachment(
                _uudecode(match.group(2)),
                filename=match.group(1).strip(),
                content_type=mimetypes.guess_type(match.group(1).strip(), strict=False)[0]
                or "application/octet-stream",
            )
            return ""

        return _UU_BEGIN.sub(replace, text)

    def add_embedded_message(self, part: Message, filename: str | None) -> None:
        payload = _raw_payload(part)
        inner: Message | None = None
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            inner = payload[0]
            try:
                data = inner.as_bytes(policy=_POLICY)
            except Exception:
                data = inner.as_string().encode("utf-8", "surrogateescape")
        else:
            data = _payload_bytes(part)
            try:
                inner = message_from_bytes(data, policy=_POLICY)
            except Exception:
                inner = None
        subject = decode_header_value(inner.get("subject")) if inner is not None else ""
        if inner is not None and self.original_message_id is None:
            self.original_message_id = normalise_message_id(inner.get("message-id"))
        name = filename or (f"{subject[:100]}.eml" if subject else "message.eml")
        self.add_attachment(
            data, filename=name, content_type="message/rfc822", embedded_subject=subject or None
        )

    def add_tnef(self, data: bytes) -> bool:
        """Replace winmail.dat with the files and body inside it. False if it isn't TNEF."""
        try:
            from tnefparse import TNEF

            tnef = TNEF(data, do_checksum=False)
        except Exception as error:  # tnefparse raises assorted errors on damaged data
            self.warn(f"winmail.dat could not be decoded ({type(error).__name__}); kept as is")
            return False
        for item in tnef.attachments:
            try:
                name = item.long_filename()
                if isinstance(name, bytes):
                    name = decode_bytes(name.rstrip(b"\x00")).text
                content = item.data if isinstance(item.data, bytes) else b""
            except Exception:
                self.warn("an attachment inside winmail.dat could not be read")
                continue
            ctype = mimetypes.guess_type(name or "", strict=False)[0] or "application/octet-stream"
            self.add_attachment(content, filename=name, content_type=ctype)
        for attr, target in (("body", "tnef_text"), ("htmlbody", "tnef_html")):
            value = getattr(tnef, attr, None)
            if isinstance(value, bytes):
                value = decode_bytes(value.rstrip(b"\x00")).text
            if isinstance(value, str) and value.strip():
                setattr(self, target, value.replace("\r\n", "\n").rstrip("\x00"))
        if not tnef.attachments and not (self.tnef_text or self.tnef_html):
            return False
        return True


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("content-disposition") or "").split(";", 1)[0].strip().lower()
    if disposition == "attachment":
        return True
    # A named text part is a file the sender attached (Apple Mail marks these "inline").
    return bool(part.get_param("filename", header="content-disposition") or part.get_param("name"))


def _delivery_status_text(part: Message) -> str:
    payload = _raw_payload(part)
    if isinstance(payload, list):
        # compat32 parses each field group of a delivery-status body into its own Message.
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                blocks.append("\n".join(f"{k}: {fix_raw_8bit(str(v))}" for k, v in block.items()))
        return "\n\n".join(blocks)
    return decode_bytes(_payload_bytes(part)).text


def _outlook_msg_subject(data: bytes) -> str | None:
    """Read PR_SUBJECT from an Outlook .msg (OLE compound file), if olefile is available."""
    if not data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return None
    try:
        import olefile

        with olefile.OleFileIO(data) as ole:
            for stream, codec in (
                ("__substg1.0_0037001F", "utf-16-le"),
                ("__substg1.0_0037001E", None),
            ):
                if ole.exists(stream):
                    raw = ole.openstream(stream).read()
                    if codec:
                        return raw.decode(codec, "replace").rstrip("\x00") or None
                    return decode_bytes(raw.rstrip(b"\x00")).text or None
    except Exception:  # a damaged .msg is still listed, just without its subject
        return None
    return None


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        # "-0000" means "UTC, local zone unknown" (RFC 5322 section 3.3).
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _truncate_raw(raw: bytes, limit: int) -> bytes:
    cut = raw[:limit]
    newline = cut.rfind(b"\n")
    return cut[: newline + 1] if newline > 0 else cut


def parse_message(
    raw: bytes,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
) -> ParsedMessage:
    """Parse one raw message. Raises only ``UnparseableMessage`` (see module docstring)."""
    raw = bytes(raw)
    if not raw.strip():
        raise UnparseableMessage("the message is empty")
    try:
        return _parse(raw, max_message_bytes, max_attachment_bytes)
    except UnparseableMessage:
        raise
    except RecursionError:
        return _fallback(raw, "message structure too deeply nested to parse")
    except Exception as error:
        # A parser bug must not lose a customer's mail: keep the bytes as text and say why.
        logger.exception("mail parser failed; falling back to raw text")
        return _fallback(raw, f"parser error ({type(error).__name__}); showing raw text")


def _fallback(raw: bytes, reason: str) -> ParsedMessage:
    text = decode_bytes(raw[: 1024 * 1024]).text.replace("\r\n", "\n")
    visible, quoted = split_reply(text)
    return ParsedMessage(
        message_id=None, in_reply_to=None, references=[], from_address=None, from_name="",
        reply_to=[], to=[], cc=[], subject="", date=None, text_body=text, html_body=None,
        visible_text=visible, quoted_text=quoted, attachments=[], refused=[],
        is_auto_reply=False, is_bounce=False, bounce=None, is_mailing_list=False,
        suppress_auto_response=True, thread_index=None, thread_topic=None, headers=[],
        raw_size=len(raw), fingerprint=_sha256(raw), warnings=[reason],
    )  # fmt: skip


def _parse(raw: bytes, max_message_bytes: int, max_attachment_bytes: int) -> ParsedMessage:
    truncated = len(raw) > max_message_bytes
    source = _truncate_raw(raw, max_message_bytes) if truncated else raw
    message = message_from_bytes(source, policy=_POLICY)

    headers: list[tuple[str, str]] = []
    by_name: dict[str, list[str]] = {}
    for name, value in message.items():
        if not isinstance(value, str):
            value = str(value)
        decoded = decode_header_value(value)
        key = fix_raw_8bit(name).strip().lower()
        headers.append((fix_raw_8bit(name).strip(), decoded))
        by_name.setdefault(key, []).append(decoded)
    raw_values: dict[str, list[str]] = {}
    for name, value in message.items():
        raw_values.setdefault(name.strip().lower(), []).append(value)

    collector = _Collector(max_attachment_bytes, text_only=truncated)
    collector.walk(message)
    warnings = collector.warnings
    if truncated:
        collector.refused.append(
            Refusal(
                filename=None,
                content_type=None,
                size=len(raw),
                reason=(
                    f"The message is {_human_size(len(raw))}, over the limit of "
                    f"{_human_size(max_message_bytes)}; only its headers and first text part "
                    "were kept."
                ),
            )
        )

    # Sender, with fallbacks for broken From headers (bare names, missing header, spam tools).
    from_pairs = _addresses(raw_values.get("from", []))
    from_name = from_pairs[0][0] if from_pairs else ""
    from_address = from_pairs[0][1] if from_pairs else None
    if from_address is None:
        if not from_name and by_name.get("from"):
            from_name = by_name["from"][0].strip().strip('"')
        for fallback in ("reply-to", "sender", "return-path"):
            pairs = _addresses(raw_values.get(fallback, []))
            if pairs:
                from_address = pairs[0][1]
                from_name = from_name or pairs[0][0]
                warnings.append(f"no usable From address; used {fallback.title()}")
                break

    subject = by_name.get("subject", [""])[0]
    text_body = "\n".join(part.strip("\n") for part in collector.text_parts if part.strip())
    html_source = "\n".join(collector.html_parts)
    if not text_body.strip() and collector.tnef_text:
        text_body = collector.tnef_text
    if not html_source and collector.tnef_html:
        html_source = collector.tnef_html
    html_body = sanitise_html(html_source) if html_source.strip() else None
    if not text_body.strip() and html_source.strip():
        text_body = html_to_text(html_source)
    text_body = text_body.rstrip()

    # Mark images that the HTML shows in place, so the UI lists only real attachments.
    if html_body:
        for attachment in collector.attachments:
            if attachment.content_id and f"cid:{attachment.content_id}" in html_body:
                attachment.inline = True

    if not (from_address or subject or text_body.strip() or collector.attachments):
        raise UnparseableMessage("no sender, subject, body or attachment could be found")

    visible_text, quoted_text = split_reply(text_body)

    content_type = message.get_content_type()
    report_type = message.get_param("report-type")
    report_type = report_type if isinstance(report_type, str) else None
    is_bounce = classify.looks_like_bounce(
        by_name,
        content_type=content_type,
        report_type=report_type,
        from_address=from_address,
        subject=subject,
    )
    bounce: BounceInfo | None = None
    if is_bounce:
        if collector.delivery_status:
            bounce = classify.parse_delivery_status(
                collector.delivery_status, original_message_id=collector.original_message_id
            )
        if bounce is None:
            bounce = classify.parse_plain_bounce(text_body, by_name)
            if bounce.original_message_id is None and collector.original_message_id:
                bounce = _with_original(bounce, collector.original_message_id)
    is_mdn = content_type == "multipart/report" and (report_type or "").lower().startswith(
        "disposition-notification"
    )
    is_auto_reply = not is_bounce and (
        is_mdn or classify.detect_auto_reply(by_name, subject=subject)
    )
    is_mailing_list = classify.detect_mailing_list(by_name)

    message_id = normalise_message_id(by_name.get("message-id", [None])[0])
    in_reply_to_value = by_name.get("in-reply-to", [None])[0]
    in_reply_to = normalise_message_id(in_reply_to_value)
    references = parse_references(by_name.get("references", [None])[0])
    if not references and in_reply_to:
        references = [in_reply_to]

    return ParsedMessage(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        from_address=from_address,
        from_name=from_name,
        reply_to=_addresses(raw_values.get("reply-to", [])),
        to=_addresses(raw_values.get("to", [])),
        cc=_addresses(raw_values.get("cc", [])),
        subject=subject,
        date=_parse_date(by_name.get("date", [None])[0]),
        text_body=text_body,
        html_body=html_body,
        visible_text=visible_text,
        quoted_text=quoted_text,
        attachments=collector.attachments,
        refused=collector.refused,
        is_auto_reply=is_auto_reply,
        is_bounce=is_bounce,
        bounce=bounce,
        is_mailing_list=is_mailing_list,
        suppress_auto_response=(
            is_auto_reply
            or is_bounce
            or is_mailing_list
            or classify.suppresses_auto_response(by_name)
            or from_address is None
        ),
        thread_index=decode_thread_index(by_name.get("thread-index", [None])[0]),
        thread_topic=by_name.get("thread-topic", [None])[0],
        headers=headers,
        raw_size=len(raw),
        fingerprint=_sha256(raw),
        truncated=truncated,
        defects=collector.defects,
        warnings=warnings,
    )


def _with_original(bounce: BounceInfo, original_message_id: str) -> BounceInfo:
    return replace(bounce, original_message_id=original_message_id)
