"""Keyset ("cursor") pagination for the API.

A cursor is the position of the last item of a page: the values of the ordering fields plus the
primary key as a tie-breaker, JSON-encoded and base64url'd so clients treat it as opaque. Unlike
offsets, a cursor neither skips nor repeats rows when rows are added before it, and each page
costs one indexed range query however deep the client has paged.

Search results are ranked, not ordered by a column, so :func:`paginate_ranked` pages them by
position instead, with the same opaque cursor shape for clients.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet


class InvalidCursor(ValueError):
    """The cursor was not produced by this endpoint (or was tampered with)."""


@dataclass(frozen=True)
class Page[T: models.Model]:
    items: list[T]
    next: str | None


def _encode(values: list[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, fields: list[models.Field[Any, Any]]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(values, list) or len(values) != len(fields):
        raise InvalidCursor(cursor)
    decoded: list[Any] = []
    for field, value in zip(fields, values, strict=True):
        try:
            if isinstance(field, models.DateTimeField):
                decoded.append(datetime.fromisoformat(value))
            elif isinstance(field, models.IntegerField | models.AutoField):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise TypeError(value)
                decoded.append(value)
            else:
                decoded.append(str(value))
        except (TypeError, ValueError) as exc:
            raise InvalidCursor(cursor) from exc
    return decoded


def paginate[T: models.Model](
    queryset: QuerySet[T], *, order: str, limit: int, cursor: str | None
) -> Page[T]:
    """Return one page of ``queryset`` ordered by ``order`` (a field name, ``-`` for descending)
    and then by primary key in the same direction.

    The caller applies filters, ``select_related`` and ``prefetch_related`` first; this adds the
    ordering and the range condition and runs one query (plus the caller's prefetches).
    """
    descending = order.startswith("-")
    name = order.lstrip("-")
    keys = [name, "pk"] if name not in ("pk", "id") else ["pk"]
    model_fields = [
        queryset.model._meta.pk if k == "pk" else queryset.model._meta.get_field(k) for k in keys
    ]
    sign = "-" if descending else ""
    queryset = queryset.order_by(*(sign + k for k in keys))
    if cursor:
        values = _decode(cursor, model_fields)  # type: ignore[arg-type]
        lookup = "lt" if descending else "gt"
        # (a, b) > (va, vb)  ⇔  a > va OR (a = va AND b > vb); written out because row-value
        # comparisons aren't portable across the databases Skranke supports.
        condition = Q()
        for i, key in enumerate(keys):
            equal = {k: v for k, v in zip(keys[:i], values[:i], strict=True)}
            condition |= Q(**equal, **{f"{key}__{lookup}": values[i]})
        queryset = queryset.filter(condition)
    rows = list(queryset[: limit + 1])
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = _encode([getattr(last, k) for k in keys])
    return Page(items=items, next=next_cursor)


def paginate_ranked[T: models.Model](
    search: Callable[[int, int], list[T]],
    *,
    limit: int,
    cursor: str | None,
    depth: int,
    fetch_cap: int | None = None,
) -> Page[T]:
    """One page of a ranked result (a search), which has no column to resume from: the cursor
    is the position in the ranking.

    ``search(offset, count)`` returns up to ``count`` results from ``offset`` on, best first.
    Paging stops after ``depth`` results, which bounds what a deep page costs. ``fetch_cap`` is
    the most ``search`` returns per call; when ``limit + 1`` would exceed it the page cannot
    look ahead, so a full page gets a ``next`` that may lead to an empty last page.
    """
    offset = _decode_offset(cursor) if cursor else 0
    count = max(0, min(limit, depth - offset))
    if not count:
        return Page(items=[], next=None)
    probe = count + 1 if fetch_cap is None or count < fetch_cap else count
    rows = search(offset, probe)
    items = rows[:count]
    more = len(rows) > count if probe > count else len(rows) == count
    more = more and offset + count < depth
    return Page(items=items, next=_encode_offset(offset + count) if more else None)


def _encode_offset(offset: int) -> str:
    # An object, where keyset cursors are lists: neither kind is accepted in place of the other.
    raw = json.dumps({"offset": offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_offset(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidCursor(cursor) from exc
    offset = value.get("offset") if isinstance(value, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidCursor(cursor)
    return offset
