"""One module per database engine, chosen by the connection's vendor.

Both offer the same plain functions; :func:`backend` returns the module for a connection.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

# Given the SQL expression for the outer case id, return a correlated ``SELECT`` (and its
# parameters) that yields a row when the user may see that case.
Visibility = Callable[[str], tuple[str, tuple[Any, ...]]]


@dataclass(frozen=True)
class CaseDocument:
    case_id: int
    team_id: int
    subject: str
    customer: str
    body: str


@dataclass(frozen=True)
class CustomerDocument:
    customer_id: int
    name: str
    organisation: str
    contact: str


def backend(connection: BaseDatabaseWrapper | None = None) -> ModuleType:
    return _backend_for((connection or default_connection).vendor)


@functools.cache
def _backend_for(vendor: str) -> ModuleType:
    if vendor == "postgresql":
        from skranke.search.backends import postgres

        return postgres
    if vendor == "sqlite":
        from skranke.search.backends import sqlite

        return sqlite
    raise NotImplementedError(f"Search does not support the {vendor} database")
