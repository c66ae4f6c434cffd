"""Split a reply's plain text into what the sender wrote now and the history below it.

Agents read the visible part in the case timeline; the quoted part (earlier messages, the
signature, "Sent from my iPhone") is kept and shown collapsed. The splitter errs on the side of
showing too much: when a cut would leave nothing visible, or quotes are interleaved with
answers, everything stays visible.
"""

from __future__ import annotations

import re

__all__ = ["split_reply"]

# English puts the name before the verb ("Ola <ola@x.no> wrote:"); Norwegian, German and
# others usually after it ("… kl. 10:15 skrev Ola Nordmann <ola@x.no>:").
_ATTRIBUTION_END = re.compile(
    r"(?:\b(?:wrote|skrev(?: følgende)?|kirjoitti|scripsit)\s*:|"
    r"\b(?:skrev|schrieb|escribió|a écrit|ha scritto|schreef|napisał|skrivit|kirjoitti)\b"
    r"[^\n]{0,150}:)\s*$",
    re.IGNORECASE,
)
# Clients always put a time, a year or an address in the attribution; requiring one keeps
# sentences like "Han skrev:" in the customer's own text from being cut.
_ATTRIBUTION_DETAIL = re.compile(r"\d{1,2}[:.]\d{2}|@|\b\d{4}\b")
# Where an attribution may start when a client wrapped it over several lines: "On …",
# "Den …" (Norwegian), "Am …", "Le …", or a date such as "5. mar. 2024 kl. 10:15 skrev …".
_ATTRIBUTION_START = re.compile(
    r"^\s*(?:(?:On|Den|Am|Le|El|Il|Op|På|Den)\s|\S{0,6}\s*\d{1,4}[./ -])", re.IGNORECASE
)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Opprinnelig melding|Opprinnelig e-post|"
    r"Ursprüngliche Nachricht|Ursprungligt meddelande|Originalmeddelande|"
    r"Oprindelig meddelelse|Message d'origine|Mensaje original|Alkuperäinen viesti)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(
    r"^\s*\*?(?:From|Fra|Från|Von|De|Van|Lähettäjä|Afsender)\s*:\*?\s*\S", re.IGNORECASE
)
_HEADER_DATE = re.compile(
    r"^\s*\*?(?:Sent|Sendt|Skickat|Gesendet|Envoyé|Enviado|Date|Dato|Datum|Lähetetty)\s*:",
    re.IGNORECASE,
)
_HEADER_OTHER = re.compile(
    r"^\s*\*?(?:To|Til|Till|An|À|Para|Aan|Vastaanottaja|Subject|Emne|Ämne|Betreff|Objet|"
    r"Asunto|Onderwerp|Aihe)\s*:",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:Sendt fra min|Sent from my|Skickat från min|Sendt fra Outlook|Sent from Outlook|"
    r"Hent Outlook for|Get Outlook for|Hentet fra|Sendt fra Mail for|Sent from Mail for|"
    r"Sent from Yahoo Mail|Von meinem\s.*\sgesendet)",
    re.IGNORECASE,
)

# An attribution is short; bounding the joined text keeps a long paragraph from matching.
_MAX_ATTRIBUTION = 300


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _blank(line: str) -> bool:
    return not line.strip()


def _attribution_span(lines: list[str], i: int) -> int | None:
    """If an attribution starts at line i, return the index of its last line."""
    line = lines[i]
    if _is_quoted(line) or len(line) > _MAX_ATTRIBUTION:
        return None
    if _ATTRIBUTION_END.search(line) and _ATTRIBUTION_DETAIL.search(line):
        return i
    if not _ATTRIBUTION_START.match(line):
        return None
    joined = line
    for j in range(i + 1, min(i + 3, len(lines))):
        if _blank(lines[j]) or _is_quoted(lines[j]):
            return None
        joined += " " + lines[j].strip()
        if len(joined) > _MAX_ATTRIBUTION:
            return None
        if _ATTRIBUTION_END.search(joined) and _ATTRIBUTION_DETAIL.search(joined):
            return j
    return None


def _outlook_header_block(lines: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(lines[i]):
        return False
    window = lines[i + 1 : i + 7]
    return any(_HEADER_DATE.match(line) for line in window) and any(
        _HEADER_OTHER.match(line) for line in window
    )


def _only_quotes_after(lines: list[str], start: int) -> bool:
    return all(_blank(line) or _is_quoted(line) for line in lines[start:])


def _find_history_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _blank(line):
            continue
        if _SEPARATOR.match(line):
            return i
        if _UNDERSCORES.match(line) and i + 1 < len(lines) and _HEADER_FROM.match(lines[i + 1]):
            return i
        if _outlook_header_block(lines, i):
            return i
        end = _attribution_span(lines, i)
        if end is not None:
            following = next((n for n in range(end + 1, len(lines)) if not _blank(lines[n])), None)
            if following is None:
                return i
            if _is_quoted(lines[following]) and not _only_quotes_after(lines, following):
                # Inline answers between quoted lines: the agent needs both, so don't cut.
                continue
            return i
    # A trailing block of "> " lines with no attribution above it.
    end = len(lines)
    while end > 0 and (_blank(lines[end - 1]) or _is_quoted(lines[end - 1])):
        end -= 1
    if end < len(lines) and any(_is_quoted(line) for line in lines[end:]):
        return end
    return None


def _find_signature(lines: list[str]) -> int | None:
    for i in range(len(lines) - 1, 0, -1):
        if _SIGNATURE.match(lines[i]) and any(not _blank(line) for line in lines[:i]):
            return i
    # Mobile footers only count near the end, so a sentence quoting one is left alone.
    tail = [n for n in range(len(lines)) if not _blank(lines[n])][-3:]
    for n in tail:
        if n > 0 and _MOBILE_FOOTER.match(lines[n]):
            return n
    return None


def split_reply(text: str) -> tuple[str, str]:
    """Return ``(visible_text, quoted_text)`` for a plain-text message body.

    ``visible_text + quoted_text`` holds every line of the input (line endings normalised to
    ``\\n``); only the cut point is decided here.
    """
    if not text:
        return "", ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _find_history_start(lines)
    visible = lines if cut is None else lines[:cut]
    quoted = [] if cut is None else lines[cut:]
    signature = _find_signature(visible)
    if signature is not None:
        quoted = visible[signature:] + quoted
        visible = visible[:signature]
    visible_text = "\n".join(visible).strip("\n").rstrip()
    if not visible_text.strip():
        # Nothing new was written (e.g. a bare forward): the history is the content.
        return "\n".join(lines).strip("\n").rstrip(), ""
    return visible_text, "\n".join(quoted).strip("\n").rstrip()
