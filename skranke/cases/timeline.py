"""The case page's conversation: messages and events interleaved, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from skranke.accounts.models import Team, User
from skranke.cases.email_display import EmailDisplay, email_display
from skranke.cases.models import (
    Case,
    CaseEvent,
    CaseType,
    Category,
    EventKind,
    Message,
    Priority,
    Status,
)


@dataclass
class Entry:
    at: datetime
    message: Message | None = None
    event: CaseEvent | None = None
    text: str = ""
    email: EmailDisplay | None = None

    @property
    def is_message(self) -> bool:
        return self.message is not None


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


def _ids(events: list[CaseEvent], kind: str) -> set[int]:
    ids = set()
    for event in events:
        if event.kind == kind:
            for value in (event.old_value, event.new_value):
                if value.isdigit():
                    ids.add(int(value))
    return ids


def describe(event: CaseEvent, names: dict[str, dict[int, str]]) -> str:
    """One short sentence per event, e.g. "Status: Ny → Åpen"."""
    kind = event.kind

    def name(table: str, value: str, empty: str) -> str:
        if not value:
            return empty
        return names[table].get(int(value), "?") if value.isdigit() else value

    if kind == EventKind.CREATED:
        return _("Case created")
    if kind == EventKind.STATUS:
        return _("Status: %(old)s → %(new)s") % {
            "old": _label(Status, event.old_value),
            "new": _label(Status, event.new_value),
        }
    if kind == EventKind.PRIORITY:
        return _("Priority: %(old)s → %(new)s") % {
            "old": _label(Priority, event.old_value),
            "new": _label(Priority, event.new_value),
        }
    if kind == EventKind.TYPE:
        return _("Type: %(old)s → %(new)s") % {
            "old": _label(CaseType, event.old_value),
            "new": _label(CaseType, event.new_value),
        }
    if kind == EventKind.ASSIGNEE:
        nobody = _("nobody")
        return _("Assignee: %(old)s → %(new)s") % {
            "old": name("users", event.old_value, nobody),
            "new": name("users", event.new_value, nobody),
        }
    if kind == EventKind.TEAM:
        return _("Team: %(old)s → %(new)s") % {
            "old": name("teams", event.old_value, "—"),
            "new": name("teams", event.new_value, "—"),
        }
    if kind == EventKind.CATEGORY:
        return _("Category: %(old)s → %(new)s") % {
            "old": name("categories", event.old_value, "—"),
            "new": name("categories", event.new_value, "—"),
        }
    if kind == EventKind.TAGS:
        return _("Tags: %(new)s") % {"new": event.new_value.replace(",", ", ") or "—"}
    if kind == EventKind.FOLLOW_UP:
        parsed = parse_datetime(event.new_value) if event.new_value else None
        when = date_format(localtime(parsed), "SHORT_DATETIME_FORMAT") if parsed else _("none")
        return _("Follow-up: %(when)s") % {"when": when}
    if kind == EventKind.SUBJECT:
        return _("Subject: %(new)s") % {"new": event.new_value}
    if kind == EventKind.CUSTOMER:
        return _("Moved to another customer (customers merged)")
    if kind == EventKind.MERGED:
        return _("Case #%(number)s was merged into this case") % {"number": event.new_value}
    if kind == EventKind.MERGED_INTO:
        return _("Merged into case #%(number)s") % {"number": event.new_value}
    if kind == EventKind.LINKED:
        return _("Linked to case #%(number)s") % {"number": event.new_value}
    return str(event.get_kind_display())


def message_entry(message: Message, case: Case) -> Entry:
    return Entry(at=message.created_at, message=message, email=email_display(message, case.number))


def timeline(case: Case) -> list[Entry]:
    """Three queries for the conversation, plus at most three small name look-ups."""
    messages = list(
        case.messages.select_related("author", "customer").prefetch_related("attachments")
    )
    events = list(case.events.exclude(kind=EventKind.MESSAGE).select_related("actor"))
    names: dict[str, dict[int, str]] = {"users": {}, "teams": {}, "categories": {}}
    if user_ids := _ids(events, EventKind.ASSIGNEE):
        names["users"] = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "name"))
    if team_ids := _ids(events, EventKind.TEAM):
        names["teams"] = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name"))
    if category_ids := _ids(events, EventKind.CATEGORY):
        names["categories"] = dict(
            Category.objects.filter(pk__in=category_ids).values_list("pk", "name")
        )
    entries = [message_entry(m, case) for m in messages]
    entries += [Entry(at=e.created_at, event=e, text=describe(e, names)) for e in events]
    # Events written in the same instant as a message (e.g. "reply and solve") sort after it.
    entries.sort(key=lambda e: (e.at, 0 if e.is_message else 1))
    return entries
