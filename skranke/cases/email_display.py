"""How an email message is shown in the conversation: its HTML with inline images resolved,
the quoted history collapsed, how it was threaded, and where a reply's delivery stands.

Plain functions over a ``Message`` whose attachments are already prefetched (``timeline``
does that), so drawing a long conversation costs no query per message.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from skranke.cases.models import Attachment, Message, MessageKind
from skranke.mail.quoting import split_reply

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


# --- quoted history in the HTML view -----------------------------------------------------------
# Gmail, Apple Mail and Thunderbird put the history in a <blockquote>, which the page collapses
# by itself. Outlook (desktop and OWA) does not: its history starts with a bold
# "Fra:/Sendt:/Til:/Emne:" block in a plain <div>, after an <hr> or a div with a top border.
# The sanitiser drops the id and class attributes that would name those divs (divRplyFwdMsg,
# gmail_quote, moz-cite-prefix), so the history is found by its text, with the same splitter
# that cut the plain text at intake (mail.quoting; so a trailing signature or "Sent from my
# iPhone" goes too, as in the text view), and everything from there to the end of the body
# gets QUOTED_CLASS, which the stylesheet hides until the agent asks for the quoted text.

QUOTED_CLASS = "quoted-history"
_QUOTED_OPEN = f'<span class="{QUOTED_CLASS}">'

# Elements that start a line of their own in the text searched for the history, much as in
# mail.parsing.html_to_text (which made the text the plain-text view was cut from).
_BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd details div dl dt figcaption figure footer "
    "h1 h2 h3 h4 h5 h6 header hr li nav ol p pre summary table tr ul".split()
)
_VOID_TAGS = frozenset("area base br col embed hr img input link meta source track wbr".split())
_SPACES_RE = re.compile(r"[\s\u200b]+")
# What an image contributes to its line: content, so a reply that is only a pasted screenshot
# still counts as something the customer wrote.
_IMAGE_MARK = "\ufffc"


def _blank(text: str) -> bool:
    return not text.replace("\u200b", "").strip()


class _Node:
    # A plain class with slots: a long Outlook thread has tens of thousands of nodes.
    __slots__ = ("children", "contents_before", "end", "first_content", "parent", "start", "tag")

    def __init__(self, tag: str, start: int, parent: _Node | None, contents_before: int) -> None:
        self.tag = tag  # "" for a run of text
        self.start = start  # offset of its "<" (or of its first character) in the HTML
        self.end = -1  # text only: where the markup after it begins
        self.parent = parent
        self.children: list[_Node] = []
        # The first non-blank text or image in it (or itself), and how many came before it.
        self.first_content: _Node | None = None
        self.contents_before = contents_before


class _Outline(HTMLParser):
    """One pass over the sanitised HTML: the element tree with source offsets, and the text
    in lines (with "> " for blockquote depth), each line knowing the node it starts with.

    nh3 serialised the HTML with html5ever, so every element is closed and nested properly,
    and the standard library's parser is enough to read it back."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.root = _Node("#root", 0, None, 0)
        self._stack = [self.root]
        self._contents: list[_Node] = []
        self._quote_depth = 0
        self._pre_depth = 0
        self.lines: list[str] = []
        self.line_nodes: list[_Node | None] = []
        self._parts: list[str] = []
        self._line_node: _Node | None = None
        self._line_depth = 0
        self.feed(source)
        self.close()
        while len(self._stack) > 1:
            self._pop()
        self._break(hard=False)
        self.root.first_content = self._contents[0] if self._contents else None

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _add(self, tag: str, offset: int) -> _Node:
        parent = self._stack[-1]
        node = _Node(tag, offset, parent, len(self._contents))
        parent.children.append(node)
        return node

    def _content(self, node: _Node, text: str) -> None:
        node.first_content = node
        self._contents.append(node)
        if self._line_node is None:
            self._line_node = node
            self._line_depth = self._quote_depth
        self._parts.append(text)

    def _break(self, *, hard: bool) -> None:
        text = _SPACES_RE.sub(" ", "".join(self._parts)).strip()
        if text or hard:
            self.lines.append("> " * self._line_depth + text if text else "")
            self.line_nodes.append(self._line_node if text else None)
        self._parts = []
        self._line_node = None

    def _pop(self) -> None:
        node = self._stack.pop()
        if len(self._contents) > node.contents_before:
            node.first_content = self._contents[node.contents_before]
        if node.tag == "blockquote":
            self._quote_depth -= 1
        elif node.tag == "pre":
            self._pre_depth -= 1
        if node.tag in _BLOCK_TAGS:
            self._break(hard=False)
        elif node.tag in ("td", "th"):
            self._parts.append(" ")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._break(hard=False)
        node = self._add(tag, self._offset())
        if tag == "br":
            self._break(hard=True)
        elif tag == "img":
            self._content(node, _IMAGE_MARK)
        if tag in _VOID_TAGS:
            return
        self._stack.append(node)
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        stack = self._stack
        if stack[-1].tag != tag:
            if tag in _VOID_TAGS or not any(node.tag == tag for node in stack[1:]):
                return
            while stack[-1].tag != tag:
                self._pop()
        self._pop()

    def handle_data(self, data: str) -> None:
        if not self._pre_depth and _blank(data):
            # Blank text hides nothing and shows nothing: no node for it.
            self._parts.append(" ")
            return
        start = self._offset()
        # nh3 escapes "<" in text, so the text runs to the next tag.
        end = self._source.find("<", start)
        end = len(self._source) if end < 0 else end
        if not self._pre_depth:
            self._text(start, end, data)
            return
        # Inside <pre> each line is a node of its own, so the history can start mid-text.
        for n, raw in enumerate(self._source[start:end].split("\n")):
            if n:
                self._break(hard=True)
            if raw:
                self._text(start, start + len(raw), html.unescape(raw))
            start += len(raw) + 1

    def _text(self, start: int, end: int, text: str) -> None:
        if _blank(text):
            self._parts.append(" ")
            return
        node = self._add("", start)
        node.end = end
        self._content(node, text)


def _history_start(outline: _Outline) -> _Node | None:
    """The first node of the quoted history, or None when there is none or it would leave
    nothing of the customer's own visible."""
    lines = outline.lines
    visible, quoted = split_reply("\n".join(lines))
    if not quoted or not visible.strip():
        return None
    # split_reply returns a suffix of the lines, without the blank ones at its ends.
    quoted_lines = quoted.split("\n")
    last = max(n for n, line in enumerate(lines) if line)
    first = last + 1 - len(quoted_lines)
    if first <= 0 or lines[first] != quoted_lines[0]:
        return None
    return outline.line_nodes[first]


_Marks = tuple[tuple[int, str], ...]  # (offset, markup to insert there), in order


def _history_marks(body_html: str) -> _Marks:
    """Where to insert what in ``body_html`` so its quoted history carries QUOTED_CLASS; empty
    when it has none."""
    outline = _Outline(body_html)
    leaf = _history_start(outline)
    if leaf is None or outline.root.first_content is leaf:
        return ()
    # From the outermost element the history opens, to the end of the body: its later
    # siblings, and the later siblings of each element around it.
    top, parent = leaf, leaf.parent
    while parent is not None and parent is not outline.root and parent.first_content is leaf:
        top, parent = parent, parent.parent
    if parent is None:
        return ()
    siblings = parent.children  # nodes compare by identity, so index() finds this one
    index = siblings.index(top)
    # Outlook's <hr> and empty <div id="appendonsend"> before the header block go with it.
    while index > 0 and siblings[index - 1].first_content is None:
        index -= 1
    hidden = siblings[index:]
    while parent.parent is not None:
        later = parent.parent.children
        hidden += later[later.index(parent) + 1 :]
        parent = parent.parent
    inserts: list[tuple[int, str]] = []
    for node in hidden:
        if node.tag:
            inserts.append((node.start + 1 + len(node.tag), f' class="{QUOTED_CLASS}"'))
        elif node.first_content is not None:
            inserts += [(node.start, _QUOTED_OPEN), (node.end, "</span>")]
    return tuple(sorted(inserts, key=lambda item: item[0]))


# Parsing costs about a millisecond per kilobyte, and the timeline is drawn again on every
# live refresh, so each process remembers the few offsets per message. Keyed by the HTML's
# hash too, since it changes with the case number (attachment URLs) after a merge.
_MARKS_CACHE: dict[tuple[int, int, int], _Marks] = {}
_MARKS_CACHE_SIZE = 4096


def collapse_history(body_html: str, message_pk: int | None = None) -> str | None:
    """``body_html`` with its quoted history marked with QUOTED_CLASS, or None if it has none."""
    key = (message_pk, len(body_html), hash(body_html)) if message_pk else None
    marks = _MARKS_CACHE.get(key) if key else None
    if marks is None:
        marks = _history_marks(body_html)
        if key:
            if len(_MARKS_CACHE) >= _MARKS_CACHE_SIZE:
                _MARKS_CACHE.clear()
            _MARKS_CACHE[key] = marks
    if not marks:
        return None
    pieces: list[str] = []
    done = 0
    for offset, markup in marks:
        pieces += [body_html[done:offset], markup]
        done = offset
    pieces.append(body_html[done:])
    return "".join(pieces)


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
    quoted_text = str(meta.get("quoted_text") or "").strip()
    collapsed = None
    if quoted_text and body_html:
        # Only where intake found history in the text: most messages are never parsed.
        collapsed = collapse_history(body_html, message.pk)
        body_html = collapsed or body_html
    # Images the HTML shows in place are not listed again under the message.
    listed = [a for a in attachments if not (a.inline and a.content_id and message.body_html)]
    return EmailDisplay(
        # body_html is sanitised before it is stored (Message.body_html); only our own
        # attachment URLs and QUOTED_CLASS markup were put in above.
        html=mark_safe(body_html),
        has_remote_images="data-remote-src=" in body_html,
        has_quoted_html=collapsed is not None or "<blockquote" in body_html,
        quoted_text=quoted_text,
        threading=threading,
        threading_detail=threading_detail,
        attachments=listed,
    )
