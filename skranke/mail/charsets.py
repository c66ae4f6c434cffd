"""Turning the bytes of real-world mail into text without ever raising.

Mail declares its charset, but the declaration is often missing, wrong (Windows-1252 labelled
ISO-8859-1, UTF-8 labelled ISO-8859-1 by a relay, raw 8-bit headers with no label at all) or
names a codec Python does not have. Every function here returns text; when the declared charset
cannot be trusted we fall back in an order tuned for Nordic mail: UTF-8, a statistical guess for
long non-Western text, then Windows-1252 (which covers æøå and the "smart quotes" that make
ISO-8859-1 labels lie).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

try:  # Optional: only consulted for long text that is neither UTF-8 nor plausibly Western.
    from charset_normalizer import from_bytes as _detect
except ImportError:  # pragma: no cover - the dependency is declared, but never crash mail intake
    _detect = None  # type: ignore[assignment]

__all__ = [
    "DecodedText",
    "decode_bytes",
    "decode_header_value",
    "lookup_codec",
    "surrogates_to_bytes",
]

# Labels that in practice mean "Windows-1252": the WHATWG encoding standard treats them so, and
# Outlook on Windows sends cp1252 bytes (0x80-0x9f: €, “ ”, –) under an ISO-8859-1 label.
_WESTERN_LABELS = frozenset({"ascii", "iso8859_1", "cp1252", "iso8859_15"})

# Codecs that decode bytes to text but are not charsets; a hostile label must not reach them.
_NOT_CHARSETS = frozenset(
    {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)

# Detection is slow and unreliable on short strings; below this we go straight to cp1252.
_DETECT_MIN_BYTES = 64

# Encodings we accept from the detector; anything else (it sometimes proposes cp1250 or
# mac_roman for Norwegian) is less likely than cp1252 for our users.
_DETECTABLE = frozenset(
    {
        "shift_jis",
        "euc_jp",
        "iso2022_jp",
        "gb2312",
        "gb18030",
        "big5",
        "euc_kr",
        "cp949",
        "koi8_r",
        "koi8_u",
        "cp1251",
        "iso8859_5",
        "cp1253",
        "iso8859_7",
        "cp1254",
        "iso8859_9",
        "cp1256",
        "iso8859_6",
        "cp1255",
        "iso8859_8",
        "tis_620",
        "cp874",
        "utf_16",
        "utf_32",
    }
)

_ESC_ISO2022 = re.compile(rb"\x1b(?:\$[@B()]|\(J|\(B|\$\(D)")


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    charset: str  # the codec actually used, e.g. "utf_8" or "cp1252"
    warning: str | None = None  # set when the declared charset was missing, unknown or wrong


@lru_cache(maxsize=256)
def lookup_codec(label: str | None) -> str | None:
    """Return Python's canonical codec name for a MIME charset label, or None if unusable."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    # RFC 2231 allows "utf-8*no" (charset*language) in encoded words.
    name = name.split("*", 1)[0]
    if name in ("", "unknown-8bit", "x-unknown", "unknown", "8bit", "x-user-defined", "default"):
        return None
    # Common misspellings seen in the wild that Python does not alias.
    name = {"utf8mb4": "utf-8", "ansi": "cp1252", "iso-8859-8-i": "iso-8859-8"}.get(name, name)
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    canonical = codec.name.replace("-", "_")
    if not getattr(codec, "_is_text_encoding", True) or canonical in _NOT_CHARSETS:
        return None
    return canonical


def _decode_western(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so nothing is lost.
        return data.decode("latin-1")


def _looks_like_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess(data: bytes) -> tuple[str, str]:
    """Decode bytes whose charset is unknown. Returns (text, codec)."""
    if _ESC_ISO2022.search(data):
        try:
            return data.decode("iso2022_jp_2"), "iso2022_jp_2"
        except UnicodeDecodeError:
            pass
    if _looks_like_utf8(data):
        return data.decode("utf-8"), "utf_8"
    if _detect is not None and len(data) >= _DETECT_MIN_BYTES:
        try:
            best = _detect(data[:16384]).best()
        except Exception:  # the detector is third-party code; a bug there must not drop mail
            best = None
        if best is not None:
            codec = lookup_codec(best.encoding)
            if codec in _DETECTABLE:
                try:
                    return data.decode(codec), codec
                except (UnicodeDecodeError, LookupError):
                    pass
    return _decode_western(data), "cp1252"


def decode_bytes(data: bytes, declared: str | None = None) -> DecodedText:
    """Decode ``data`` using the declared charset when it can be trusted, else a best guess."""
    if data.isascii():
        # Even "ascii" may be UTF-7 or ISO-2022-JP, which are 7-bit encodings.
        codec = lookup_codec(declared)
        if codec is None or codec == "utf_8" or codec in _WESTERN_LABELS:
            if _ESC_ISO2022.search(data):
                text, used = _guess(data)
                return DecodedText(text, used, f"undeclared {used} escape sequences")
            return DecodedText(data.decode("ascii"), "ascii")
    else:
        codec = lookup_codec(declared)
    if codec is None:
        text, used = _guess(data)
        warning = f"unknown charset {declared!r}, decoded as {used}" if declared else None
        return DecodedText(text, used, warning)
    if codec in _WESTERN_LABELS:
        # A relay that re-labels UTF-8 as Latin-1 is common; valid multi-byte UTF-8 sequences
        # are vanishingly unlikely in real cp1252 text, so trust the bytes over the label.
        if not data.isascii() and _looks_like_utf8(data):
            return DecodedText(data.decode("utf-8"), "utf_8", f"labelled {declared}, was utf-8")
        if codec == "iso8859_15":
            return DecodedText(data.decode("iso8859_15"), codec)  # € is 0xA4 here, not 0x80
        return DecodedText(_decode_western(data), "cp1252")
    try:
        return DecodedText(data.decode(codec), codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        pass
    text, used = _guess(data)
    if used == "cp1252" and codec.startswith(("utf", "iso2022", "shift_jis", "euc", "gb", "big5")):
        # The label was right about the charset but the bytes are damaged: keep what decodes.
        try:
            text = data.decode(codec, errors="replace")
            used = codec
        except (LookupError, ValueError):
            pass
    return DecodedText(text, used, f"bytes invalid for declared {declared}, decoded as {used}")


def surrogates_to_bytes(value: str) -> bytes | None:
    """Recover raw bytes that the email parser smuggled through as surrogate escapes."""
    if value.isascii():
        return None
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None


def fix_raw_8bit(value: str) -> str:
    """Decode a header the parser read with ``surrogateescape`` (raw 8-bit bytes, no label)."""
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = surrogates_to_bytes(value)
    if raw is None:
        return value.encode("utf-8", "replace").decode("utf-8", "replace")
    return decode_bytes(raw).text


# RFC 2047 encoded word. Q-encoded text may not contain "?" or whitespace, but we accept a
# missing whitespace separator before/after words, which many mailers get wrong.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_WS_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?)")


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        if len(cleaned) % 4 == 1:
            cleaned = cleaned[:-1]  # a lone trailing sextet carries no whole byte
        try:
            return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            return b""
    # The payload may already hold decoded raw 8-bit text; keep it rather than fail.
    raw = payload.replace("_", " ").encode("utf-8", "replace")
    try:
        return binascii.a2b_qp(raw)
    except (binascii.Error, ValueError):
        return raw


def decode_header_value(value: str | None) -> str:
    """Decode RFC 2047 encoded words and raw 8-bit bytes in a header value into clean text.

    Adjacent encoded words in the same charset are joined at the byte level first, because
    mailers split multi-byte UTF-8 characters across words.
    """
    if not value:
        return ""
    value = fix_raw_8bit(value)
    if "=?" not in value:
        return _unfold(value)
    # Whitespace between two encoded words is not part of the text (RFC 2047 section 6.2).
    value = _WS_BETWEEN_WORDS.sub(r"\1", value)
    out: list[str] = []
    pending: bytearray = bytearray()
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(bytes(pending), pending_charset).text)
        pending = bytearray()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(value):
        if match.start() > pos:
            flush()
            out.append(value[pos : match.start()])
        charset = match.group(1).split("*", 1)[0].lower()
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending += _word_bytes(match.group(2), match.group(3))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return _unfold("".join(out))


_FOLD = re.compile(r"\r?\n[ \t]*")


def _unfold(value: str) -> str:
    # Control characters in a subject or name would corrupt logs and the UI; NUL in particular
    # is refused by PostgreSQL text columns.
    text = _FOLD.sub(" ", value)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() or ch == " " else " " for ch in text)
    return text.strip()
