"""Full-text search over cases and customers.

PostgreSQL indexes with its ``norwegian`` text-search configuration; the embedded SQLite default
uses an FTS5 table filled with words stemmed by the same Snowball Norwegian stemmer in Python.
Callers use :mod:`skranke.search.query` to search and :mod:`skranke.search.index` to keep the
index current. See ``docs/search.md``.
"""
