"""Fast inserts for generated data: rows as tuples, ids reserved up front.

``bulk_create`` spends most of its time building model instances and preparing each value
through its field; for millions of rows that is the bottleneck. The generator already has
database-ready values, so it writes tuples with ``executemany``. Columns it does not provide
get the model field's default, prepared once, so a field another app adds later (with a
default) does not break the generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Model


class TableWriter:
    def __init__(self, model: type[Model], provided: Sequence[str]) -> None:
        meta = model._meta
        fields = {f.attname: f for f in meta.concrete_fields}
        unknown = set(provided) - set(fields)
        if unknown:
            raise ValueError(f"{meta.label} has no fields {sorted(unknown)}")
        rest = [f for name, f in fields.items() if name not in provided and not f.primary_key]
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        table = meta.db_table
        columns = [str(fields[name].column) for name in provided] + [str(f.column) for f in rest]
        quote = connection.ops.quote_name
        column_list = ", ".join(quote(c) for c in columns)
        self.sql = (
            f"INSERT INTO {quote(table)} ({column_list}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.copy_sql = f"COPY {quote(table)} ({column_list}) FROM STDIN"

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        defaults = self.defaults
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY is several times faster than INSERT for bulk loads on PostgreSQL.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row + defaults)
            else:
                cursor.executemany(self.sql, [row + defaults for row in rows])
        return len(rows)


def reserve_ids(model: type[Model], count: int) -> int:
    """Reserve ``count`` consecutive primary keys and return the first.

    Must run inside a transaction. PostgreSQL: the table is locked against other inserts and
    the identity sequence moved past the block. SQLite: the write lock is already held
    (transactions start IMMEDIATE), and ids are never reused (AUTOINCREMENT).
    """
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {quote(table)} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = int(cursor.fetchone()[0])
            if count > 1:
                cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            return first
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote(table)}")
        highest = int(cursor.fetchone()[0])
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            highest = max(highest, int(row[0]) if row else 0)
        return highest + 1


def datetime_adapter() -> Callable[[float], Any]:
    """Epoch seconds → what the database driver takes for a ``DateTimeField``."""
    if connection.vendor == "sqlite":
        # What Django's SQLite backend stores: naive UTC in ISO format.
        def to_sqlite(ts: float) -> str:
            return str(datetime.fromtimestamp(round(ts, 3), UTC).replace(tzinfo=None))

        return to_sqlite

    def to_aware(ts: float) -> datetime:
        return datetime.fromtimestamp(round(ts, 3), UTC)

    return to_aware


def json_adapter() -> Callable[[Any], Any]:
    return lambda value: connection.ops.adapt_json_value(value, None)
