"""SQLite: FTS5 tables holding words already stemmed in Python (see ``skranke.search.text``).

``rowid`` is the case (or customer) id. The ``scope`` column holds the case's team as a word
("t12"), so an agent's search intersects with their teams inside FTS5 instead of checking every
match of a common word against ``cases_case``. ``detail=column`` keeps which column a word is in, for
bm25's column weights, but no positions: we never search phrases, and the index is much smaller.
The prefix indexes make the two- and three-letter prefixes typed first as cheap as whole words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from skranke.search.backends import CaseDocument, CustomerDocument, Visibility
from skranke.search.text import Term, fts5_match, plain_words, stemmed_words

CASE_TABLE = "search_case_fts"
CUSTOMER_TABLE = "search_customer_fts"
_OPTIONS = "tokenize='unicode61 remove_diacritics 0', detail=column, prefix='2 3'"
_SCHEMA = {
    CASE_TABLE: f"CREATE VIRTUAL TABLE {CASE_TABLE} USING fts5(subject, customer, body, scope, {_OPTIONS})",
    CUSTOMER_TABLE: (
        f"CREATE VIRTUAL TABLE {CUSTOMER_TABLE} USING fts5(name, organisation, contact, {_OPTIONS})"
    ),
}
# bm25 weights per column: a word in the subject (or name) counts most.
CASE_WEIGHTS = "4.0, 2.0, 1.0, 0.0"
CUSTOMER_WEIGHTS = "4.0, 2.0, 2.0"


# A document stops taking appended messages at this many characters of stemmed body text; the
# case is then rebuilt from its messages, which caps the text it indexes.
MAX_APPEND_BODY_CHARS = 400_000


def create_schema(conn: BaseDatabaseWrapper) -> None:
    with conn.cursor() as cursor:
        for sql in _SCHEMA.values():
            cursor.execute(sql)


def drop_schema(conn: BaseDatabaseWrapper) -> None:
    with conn.cursor() as cursor:
        for table in _SCHEMA:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def begin_rebuild() -> None:
    # Dropping the tables is far quicker than deleting a million rows from them.
    drop_schema(connection)
    create_schema(connection)


def end_rebuild() -> None:
    with connection.cursor() as cursor:
        for table in _SCHEMA:
            cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")


def _delete(table: str, ids: Sequence[int]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE rowid IN ({marks})", chunk)


def _case_rows(documents: Iterable[CaseDocument]) -> list[tuple[Any, ...]]:
    return [
        (
            d.case_id,
            stemmed_words(d.subject),
            stemmed_words(d.customer),
            stemmed_words(d.body),
            f"t{d.team_id}",
        )
        for d in documents
    ]


def write_cases(documents: Iterable[CaseDocument], *, replace: bool = True) -> None:
    # FTS5 honours OR REPLACE: a stored row with the same rowid is deleted first.
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    with connection.cursor() as cursor:
        cursor.executemany(
            f"{verb} INTO {CASE_TABLE}(rowid, subject, customer, body, scope) "
            "VALUES (%s, %s, %s, %s, %s)",
            _case_rows(documents),
        )


def add_cases(documents: Iterable[CaseDocument]) -> None:
    """Write documents for cases that have none; an existing row is left as it is."""
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {CASE_TABLE}(rowid, subject, customer, body, scope) "
            f"SELECT %s, %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM {CASE_TABLE} WHERE rowid = %s)",
            [(*row, row[0]) for row in _case_rows(documents)],
        )


def append_case_body(case_id: int, text: str) -> bool:
    """Add message text to a case's document; False when the case has no document or it is
    full (the caller rebuilds the case instead)."""
    words = stemmed_words(text)
    if not words:
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CASE_TABLE} SET body = body || ' ' || %s "
            "WHERE rowid = %s AND length(body) < %s",
            [words, case_id, MAX_APPEND_BODY_CHARS],
        )
        return bool(cursor.rowcount)


def delete_cases(ids: Sequence[int]) -> None:
    _delete(CASE_TABLE, ids)


def _customer_rows(documents: Iterable[CustomerDocument]) -> list[tuple[Any, ...]]:
    # Names are not stemmed: "Hansen" must not find "Hans".
    return [
        (d.customer_id, plain_words(d.name), plain_words(d.organisation), plain_words(d.contact))
        for d in documents
    ]


def write_customers(documents: Iterable[CustomerDocument], *, replace: bool = True) -> None:
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    with connection.cursor() as cursor:
        cursor.executemany(
            f"{verb} INTO {CUSTOMER_TABLE}(rowid, name, organisation, contact) "
            "VALUES (%s, %s, %s, %s)",
            _customer_rows(documents),
        )


def add_customers(documents: Iterable[CustomerDocument]) -> None:
    """Write documents for customers that have none; an existing row is left as it is."""
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {CUSTOMER_TABLE}(rowid, name, organisation, contact) "
            f"SELECT %s, %s, %s, %s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {CUSTOMER_TABLE} WHERE rowid = %s)",
            [(*row, row[0]) for row in _customer_rows(documents)],
        )


def delete_customers(ids: Sequence[int]) -> None:
    _delete(CUSTOMER_TABLE, ids)


def search_cases(
    terms: list[Term],
    visibility: Visibility,
    *,
    teams: list[int] | None,
    candidates: int,
    limit: int,
    offset: int,
) -> list[int]:
    # FTS5 walks matches newest first and stops after ``candidates`` visible ones; only those
    # are scored, so a common word costs the same as a rare one.
    visible_sql, visible_params = visibility(f"{CASE_TABLE}.rowid")
    sql = (
        "SELECT id FROM ("
        f" SELECT rowid AS id, bm25({CASE_TABLE}, {CASE_WEIGHTS}) AS score FROM {CASE_TABLE}"
        f" WHERE {CASE_TABLE} MATCH %s AND EXISTS ({visible_sql})"
        " ORDER BY rowid DESC LIMIT %s"
        ") ORDER BY score, id DESC LIMIT %s OFFSET %s"
    )
    match = "(" + fts5_match(terms) + ")"
    if teams is not None:
        match += " AND scope : (" + " OR ".join(f"t{int(pk)}" for pk in teams) + ")"
    params = (match, *visible_params, candidates, limit, offset)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def search_customers(terms: list[Term], *, candidates: int, limit: int, offset: int) -> list[int]:
    sql = (
        "SELECT id FROM ("
        f" SELECT rowid AS id, bm25({CUSTOMER_TABLE}, {CUSTOMER_WEIGHTS}) AS score"
        f" FROM {CUSTOMER_TABLE} WHERE {CUSTOMER_TABLE} MATCH %s"
        " ORDER BY rowid DESC LIMIT %s"
        ") ORDER BY score, id DESC LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (fts5_match(terms), candidates, limit, offset))
        return [row[0] for row in cursor.fetchall()]
