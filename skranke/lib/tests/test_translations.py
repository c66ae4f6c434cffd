"""Norwegian first: every string in the bokmål catalogue is translated and none is fuzzy.

After adding strings: ``cd skranke && ../.venv/bin/django-admin makemessages -l nb --ignore
'tests/*'``, translate the empty and fuzzy entries, then ``compilemessages``.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"
CATALOGUE = LOCALE / "nb" / "LC_MESSAGES" / "django.po"
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def parse_po(text: str) -> list[Entry]:
    """Just enough of the .po format for these checks: flags, msgid, msgstr/msgstr[n], and
    continuation lines. Obsolete (``#~``) entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: str | None = None  # "msgid", "msgstr" or None (msgctxt, msgid_plural)

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if current is not None and current.msgstrs:
                current = None
            if current is None:
                current = Entry(line=number)
                entries.append(current)
            if line.startswith("#,"):
                current.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        keyword, _space, rest = line.partition(" ")
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if current is not None and target == "msgid":
                current.msgid += value
            elif current is not None and target == "msgstr":
                current.msgstrs[-1] += value
            continue
        if keyword == "msgid" and (current is None or current.msgstrs):
            current = Entry(line=number)
            entries.append(current)
        assert current is not None, f"line {number}: {raw!r}"
        if keyword == "msgid":
            current.msgid = ast.literal_eval(rest)
            target = "msgid"
        elif keyword.startswith("msgstr"):
            current.msgstrs.append(ast.literal_eval(rest))
            target = "msgstr"
        else:
            target = None
    return [e for e in entries if e.msgid]  # the header has an empty msgid


def test_parser_reads_flags_continuations_and_plurals():
    entries = parse_po(
        '#, fuzzy, python-format\nmsgid "a %(n)s"\nmsgstr ""\n"b %(n)s"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "én"\nmsgstr[1] ""\n\n'
        '#~ msgid "gone"\n#~ msgstr ""\n'
    )
    assert [(e.msgid, e.msgstrs, "fuzzy" in e.flags) for e in entries] == [
        ("a %(n)s", ["b %(n)s"], True),
        ("one", ["én", ""], False),
    ]


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    return parse_po(CATALOGUE.read_text(encoding="utf-8"))


def test_every_bokmal_string_is_translated(catalogue):
    missing = [f"line {e.line}: {e.msgid!r}" for e in catalogue if not all(e.msgstrs)]
    assert not missing, "Untranslated in nb/django.po:\n" + "\n".join(missing)


def test_no_bokmal_string_is_fuzzy(catalogue):
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in catalogue if "fuzzy" in e.flags]
    assert not fuzzy, "Fuzzy (guessed) in nb/django.po:\n" + "\n".join(fuzzy)


def test_translations_keep_their_placeholders(catalogue):
    wrong = [
        f"line {e.line}: {e.msgid!r}"
        for e in catalogue
        if e.msgstrs
        and e.msgstrs[0]
        and sorted(_PLACEHOLDER.findall(e.msgid)) != sorted(_PLACEHOLDER.findall(e.msgstrs[0]))
    ]
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)


def test_compiled_catalogue_matches_the_source(catalogue):
    """A .po edited without ``compilemessages`` leaves the app showing the old (or no) text."""
    with CATALOGUE.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        f"line {e.line}: {e.msgid!r}"
        for e in catalogue
        if len(e.msgstrs) == 1 and compiled.gettext(e.msgid) != e.msgstrs[0]
    ]
    assert not stale, "Run compilemessages; the .mo differs for:\n" + "\n".join(stale)
