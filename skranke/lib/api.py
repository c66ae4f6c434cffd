"""Small helpers shared by the API handlers in each app (the NinjaAPI itself is in
``skranke/config/api.py``, which turns these exceptions into responses)."""

from __future__ import annotations

import re
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from skranke.accounts.models import User

Loc = list[str | int]


class InvalidInput(Exception):
    """A well-formed request that names something that doesn't exist (an unknown team slug,
    an agent id that isn't an agent): 422 at ``loc``."""

    def __init__(self, loc: Loc, msg: str, type_: str = "invalid") -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg
        self.type = type_


def user_of(request: HttpRequest) -> User:
    """The authenticated agent, whichever auth method let the request in."""
    return cast(User, request.auth)  # type: ignore[attr-defined]


def error_item(loc: Loc, msg: str, type_: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": type_}


def validation_errors(exc: ValidationError, prefix: str = "body") -> list[dict[str, Any]]:
    """Turn a Django ValidationError raised by an action into ``{"loc", "msg", "type"}`` items,
    keeping the field names the action reported. A dotted field (``customer.email``) becomes a
    nested location."""
    items: list[dict[str, Any]] = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            loc: Loc = [prefix]
            if field != "__all__":
                loc += [int(p) if p.isdigit() else p for p in field.split(".")]
            items += [error_item(loc, _message(e), e.code or "invalid") for e in errors]
    else:
        items += [error_item([prefix], _message(e), e.code or "invalid") for e in exc.error_list]
    return items


def _message(error: ValidationError) -> str:
    message = str(error.message)
    return message % error.params if error.params else message


_MAX_DB_ID = 2**63 - 1


def as_db_id(ref: int | str) -> int | None:
    """The id a reference names, or None when it is not a plausible database id.

    ``"²".isdigit()`` is true and SQLite overflows on ids past 64 bits; both must give the
    caller's clear 4xx, never a 500.
    """
    if isinstance(ref, int):
        return ref if 0 < ref <= _MAX_DB_ID else None
    text = ref.strip()
    if re.fullmatch(r"[0-9]{1,18}", text):
        return int(text)
    return None
