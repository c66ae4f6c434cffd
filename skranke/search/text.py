"""Turning text into index words and a user's query into search terms, the same way on both
database engines.

Documents are indexed with one pass of the Snowball Norwegian stemmer (PostgreSQL's
``norwegian`` configuration does exactly this; on SQLite we do it here). Snowball strips one
suffix per pass, so "fakturaen" becomes "faktura" while "faktura" becomes "faktur". A query word
is therefore stemmed twice and matched as a prefix: "fakturaen" → "faktur*" finds "faktura",
"fakturaen", "fakturaer" and "fakturering"; "retur" → "retur*" finds "returen" and "returnere".
Because Snowball Norwegian only ever removes endings, the twice-stemmed word is always a prefix
of every once-stemmed form of the same word.
"""

from __future__ import annotations

import functools
import html
import re
import threading
import unicodedata
from dataclasses import dataclass

import snowballstemmer

# Letters and digits in any script; the underscore is punctuation here, as it is to both
# PostgreSQL's parser and FTS5's unicode61 tokenizer.
WORD_RE = re.compile(r"[^\W_]+")
TAG_RE = re.compile(r"<[^>]*>")
CASE_NUMBER_RE = re.compile(r"^\s*#?\s*(\d{1,18})\s*$")

# PostgreSQL's tsearch_data/norwegian.stop (the Snowball list), so both engines drop the same
# words from documents.
STOP_WORDS = frozenset(
    """
    og i jeg det at en et den til er som på de med han av ikke ikkje der så var meg seg men ett
    har om vi min mitt ha hadde hun nå over da ved fra du ut sin dem oss opp man kan hans hvor
    eller hva skal selv sjøl her alle vil bli ble blei blitt kunne inn når være kom noen noe
    ville dere deres kun ja etter ned skulle denne for deg si sine sitt mot å meget hvorfor
    dette disse uten hvordan ingen din ditt blir samme hvilken hvilke sånn inni mellom vår hver
    hvem vors hvis både bare enn fordi før mange også slik vært båe begge siden dykk dykkar dei
    deira deires deim di då eg ein eit eitt elles honom hjå ho hoe henne hennar hennes hoss
    hossen ingi inkje korleis korso kva kvar kvarhelst kven kvi kvifor me medan mi mine mykje no
    nokon noka nokor noko nokre sia sidan so somt somme um upp vere vore verte vort varte vart
    """.split()
)

# A search is a conjunction of at most this many words; longer queries add cost, not precision.
MAX_TERMS = 8
# Shorter prefixes match too much of the vocabulary to be useful (or fast).
MIN_PREFIX = 2
# Words above this length are not words (base64, hashes); PostgreSQL drops them too.
MAX_WORD = 100

_local = threading.local()


def _stemmer() -> snowballstemmer.Stemmer:
    # Snowball stemmer objects keep state between calls; one per thread.
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("norwegian")
    return stemmer


@functools.lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """One pass of Snowball Norwegian on a lower-case word (what PostgreSQL indexes)."""
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """Lower-case words of ``text``: Unicode letters and digits, æøå kept as they are."""
    text = unicodedata.normalize("NFC", text).lower()
    return [w for w in WORD_RE.findall(text) if len(w) <= MAX_WORD]


def html_to_text(body_html: str) -> str:
    return html.unescape(TAG_RE.sub(" ", body_html))


def plain_words(text: str) -> str:
    """The words of ``text`` joined by spaces: punctuation is gone, so PostgreSQL's parser and
    ours agree on where words start and end ("per@kunde.no" is three words on both)."""
    return " ".join(words(text))


def stemmed_words(text: str) -> str:
    """Index text for FTS5: stop words dropped, every other word stemmed once."""
    return " ".join(stem(w) for w in words(text) if w not in STOP_WORDS)


@dataclass(frozen=True)
class Term:
    """One word of a query: ``text`` is matched exactly, or as a prefix when ``prefix``."""

    text: str
    prefix: bool


def parse_query(query: str, *, stemmed: bool = True) -> list[Term]:
    """The user's query as terms that must all match.

    Operators and quotes are not syntax here: everything that is not a letter or digit
    separates words, so no input can produce an invalid query. The last word is a prefix so
    results follow the user's typing; with ``stemmed`` (case search) every word is reduced to
    its shortest stem and matched as a prefix, without (names, numbers) words are prefixes as
    typed.
    """
    tokens = words(query)
    if not tokens:
        return []
    last = len(tokens) - 1
    terms: list[Term] = []
    for i, token in enumerate(tokens):
        if stemmed and token in STOP_WORDS:
            if i != last:
                continue
            # Alone, the user may be half-way through a longer word ("de" → "defekt"); after
            # other words it is more likely the stop word itself ("per@kunde.no").
            if last == 0 and len(token) >= MIN_PREFIX:
                terms.append(Term(token, prefix=True))
            continue
        if stemmed:
            shortest = stem(stem(token))
            if len(shortest) >= 3 or (i == last and len(shortest) >= MIN_PREFIX):
                terms.append(Term(shortest, prefix=True))
            else:
                terms.append(Term(stem(token), prefix=False))
        else:
            terms.append(Term(token, prefix=len(token) >= MIN_PREFIX or i == last))
    unique = list(dict.fromkeys(terms))
    return unique[:MAX_TERMS]


def case_number(query: str) -> int | None:
    """``#12345`` or ``12345`` as a case number, else None."""
    match = CASE_NUMBER_RE.match(query)
    return int(match.group(1)) if match else None


def fts5_match(terms: list[Term]) -> str:
    """An FTS5 MATCH expression. Terms hold only letters and digits, so quoting is safe."""
    return " AND ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in terms)


def tsquery(terms: list[Term]) -> str:
    """A ``to_tsquery('simple', …)`` expression for PostgreSQL; terms are already stemmed,
    so the 'simple' configuration only has to keep them as they are."""
    return " & ".join(f"'{t.text}'" + (":*" if t.prefix else "") for t in terms)
