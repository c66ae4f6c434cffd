"""PostgreSQL: a ``tsvector`` per case built with the ``norwegian`` configuration, GIN-indexed.

The text handed to ``to_tsvector`` is first split into words by ``skranke.search.text`` so that
both engines agree on word boundaries; stop words and stemming are PostgreSQL's own. Query terms
arrive already stemmed (twice, as prefixes) and are parsed with the ``simple`` configuration so
PostgreSQL keeps them exactly as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from skranke.search.backends import CaseDocument, CustomerDocument, Visibility
from skranke.search.text import Term, plain_words, tsquery

CASE_TABLE = "search_case_document"
CUSTOMER_TABLE = "search_customer_document"
# No foreign keys: Django's test flush truncates only the tables it knows, and a reference to
# cases_case would make that fail. Rows of deleted cases are removed by reindexing them, and
# searches only return ids that still pass ``visible_cases``.
_TABLES = [
    f"""CREATE TABLE {CASE_TABLE} (
        case_id bigint PRIMARY KEY,
        team_id bigint NOT NULL,
        document tsvector NOT NULL
    )""",
    f"""CREATE TABLE {CUSTOMER_TABLE} (
        customer_id bigint PRIMARY KEY,
        document tsvector NOT NULL
    )""",
]
_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS search_case_document_gin ON {CASE_TABLE} USING gin (document)",
    f"CREATE INDEX IF NOT EXISTS search_customer_document_gin ON {CUSTOMER_TABLE} "
    "USING gin (document)",
]
_CASE_VECTOR = (
    "setweight(to_tsvector('norwegian', %s), 'A') || "
    "setweight(to_tsvector('norwegian', %s), 'B') || "
    "setweight(to_tsvector('norwegian', %s), 'C')"
)
# Names, addresses and numbers are matched as written, so the 'simple' configuration.
_CUSTOMER_VECTOR = (
    "setweight(to_tsvector('simple', %s), 'A') || "
    "setweight(to_tsvector('simple', %s), 'B') || "
    "setweight(to_tsvector('simple', %s), 'C')"
)


# A document stops taking appended messages at this size (PostgreSQL refuses tsvectors over
# 1 MB); the case is then rebuilt from its messages, which caps the text it indexes.
MAX_APPEND_DOCUMENT_BYTES = 512 * 1024


def create_schema(conn: BaseDatabaseWrapper) -> None:
    with conn.cursor() as cursor:
        for sql in [*_TABLES, *_INDEXES]:
            cursor.execute(sql)


def drop_schema(conn: BaseDatabaseWrapper) -> None:
    with conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CASE_TABLE}, {CUSTOMER_TABLE}")


def begin_rebuild() -> None:
    # Filling the tables and then building the GIN indexes once is several times quicker
    # than updating the indexes row by row.
    drop_schema(connection)
    with connection.cursor() as cursor:
        for sql in _TABLES:
            cursor.execute(sql)


def end_rebuild() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for sql in _INDEXES:
            cursor.execute(sql)
        cursor.execute(f"ANALYZE {CASE_TABLE}")
        cursor.execute(f"ANALYZE {CUSTOMER_TABLE}")


def write_cases(documents: Iterable[CaseDocument], *, replace: bool = True) -> None:
    conflict = (
        " ON CONFLICT (case_id) DO UPDATE"
        " SET team_id = EXCLUDED.team_id, document = EXCLUDED.document"
    )
    _write_case_rows(documents, conflict if replace else "")


def _write_case_rows(documents: Iterable[CaseDocument], conflict: str) -> None:
    rows = [
        (d.case_id, d.team_id, plain_words(d.subject), plain_words(d.customer), plain_words(d.body))
        for d in documents
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {CASE_TABLE} (case_id, team_id, document)"
            f" VALUES (%s, %s, {_CASE_VECTOR})" + conflict,
            rows,
        )


def add_cases(documents: Iterable[CaseDocument]) -> None:
    """Write documents for cases that have none; an existing row is left as it is."""
    _write_case_rows(documents, " ON CONFLICT (case_id) DO NOTHING")


def append_case_body(case_id: int, text: str) -> bool:
    """Add message text to a case's document; False when the case has no document or it is
    full (the caller rebuilds the case instead)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CASE_TABLE} SET document = document || "
            "setweight(to_tsvector('norwegian', %s), 'C') "
            "WHERE case_id = %s AND pg_column_size(document) < %s",
            [plain_words(text), case_id, MAX_APPEND_DOCUMENT_BYTES],
        )
        return bool(cursor.rowcount)


def delete_cases(ids: Sequence[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CASE_TABLE} WHERE case_id = ANY(%s)", [list(ids)])


def write_customers(documents: Iterable[CustomerDocument], *, replace: bool = True) -> None:
    conflict = " ON CONFLICT (customer_id) DO UPDATE SET document = EXCLUDED.document"
    _write_customer_rows(documents, conflict if replace else "")


def add_customers(documents: Iterable[CustomerDocument]) -> None:
    """Write documents for customers that have none; an existing row is left as it is."""
    _write_customer_rows(documents, " ON CONFLICT (customer_id) DO NOTHING")


def _write_customer_rows(documents: Iterable[CustomerDocument], conflict: str) -> None:
    rows = [
        (d.customer_id, plain_words(d.name), plain_words(d.organisation), plain_words(d.contact))
        for d in documents
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {CUSTOMER_TABLE} (customer_id, document) VALUES (%s, {_CUSTOMER_VECTOR})"
            + conflict,
            rows,
        )


def delete_customers(ids: Sequence[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CUSTOMER_TABLE} WHERE customer_id = ANY(%s)", [list(ids)])


def search_cases(
    terms: list[Term],
    visibility: Visibility,
    *,
    teams: list[int] | None,
    candidates: int,
    limit: int,
    offset: int,
) -> list[int]:
    # The inner query takes the newest ``candidates`` visible matches (the planner walks the
    # primary key backwards for common words, or uses the GIN index for rare ones); only those
    # are ranked.
    visible_sql, visible_params = visibility("d.case_id")
    sql = (
        "SELECT c.case_id FROM ("
        f" SELECT d.case_id, d.document FROM {CASE_TABLE} d"
        " WHERE d.document @@ to_tsquery('simple', %s)"
        + (" AND d.team_id = ANY(%s)" if teams is not None else "")
        + " AND EXISTS ("
        + visible_sql
        + ")"
        " ORDER BY d.case_id DESC LIMIT %s"
        ") c ORDER BY ts_rank(c.document, to_tsquery('simple', %s)) DESC, c.case_id DESC"
        " LIMIT %s OFFSET %s"
    )
    query = tsquery(terms)
    team_params = () if teams is None else (list(teams),)
    params = (query, *team_params, *visible_params, candidates, query, limit, offset)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def search_customers(terms: list[Term], *, candidates: int, limit: int, offset: int) -> list[int]:
    sql = (
        "SELECT c.customer_id FROM ("
        f" SELECT customer_id, document FROM {CUSTOMER_TABLE}"
        " WHERE document @@ to_tsquery('simple', %s)"
        " ORDER BY customer_id DESC LIMIT %s"
        ") c ORDER BY ts_rank(c.document, to_tsquery('simple', %s)) DESC, c.customer_id DESC"
        " LIMIT %s OFFSET %s"
    )
    query = tsquery(terms)
    with connection.cursor() as cursor:
        cursor.execute(sql, (query, candidates, query, limit, offset))
        return [row[0] for row in cursor.fetchall()]
