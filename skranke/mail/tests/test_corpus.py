"""Every message in corpus/ parses to the facts recorded for it in corpus/expected.json."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from skranke.mail.parsing import ParsedMessage, parse_message
from skranke.mail.threading_keys import extract_case_number, normalise_subject

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8")
)

# Facts compared directly with the ParsedMessage attribute of the same name.
_DIRECT = {
    "from_address",
    "from_name",
    "subject",
    "text_body",
    "visible_text",
    "quoted_text",
    "message_id",
    "in_reply_to",
    "references",
    "is_auto_reply",
    "is_bounce",
    "is_mailing_list",
    "suppress_auto_response",
    "truncated",
    "thread_topic",
}


def _check(parsed: ParsedMessage, key: str, want: Any) -> None:
    if key in _DIRECT:
        assert getattr(parsed, key) == want, key
    elif key == "params":
        pass
    elif key in ("to", "cc"):
        assert [list(pair) for pair in getattr(parsed, key)] == want
    elif key == "date":
        assert (parsed.date.isoformat() if parsed.date else None) == want
    elif key.endswith(("_contains", "_not_contains")):
        field, _, mode = key.partition("_")
        haystack = {
            "text": parsed.text_body,
            "visible": parsed.visible_text,
            "quoted": parsed.quoted_text,
            "html": parsed.html_body or "",
            "warnings": " | ".join(parsed.warnings),
        }[field]
        for needle in want:
            if mode.startswith("not"):
                assert needle not in haystack, f"{needle!r} should not be in {field}"
            else:
                assert needle in haystack, f"{needle!r} missing from {field}: {haystack!r}"
    elif key == "html_body":
        assert parsed.html_body == want
    elif key == "attachments":
        assert len(parsed.attachments) == len(want), [a.filename for a in parsed.attachments]
        for attachment, facts in zip(parsed.attachments, want, strict=True):
            for name, value in facts.items():
                assert getattr(attachment, name) == value, (attachment.filename, name)
    elif key == "refused":
        assert len(parsed.refused) == len(want)
        for refusal, facts in zip(parsed.refused, want, strict=True):
            if "filename" in facts:
                assert refusal.filename == facts["filename"]
            assert facts["reason_contains"] in refusal.reason
    elif key == "bounce":
        assert parsed.bounce is not None
        for name, value in want.items():
            assert getattr(parsed.bounce, name) == value, name
    elif key == "thread_index":
        assert parsed.thread_index is not None
        assert parsed.thread_index.conversation_id == want["conversation_id"]
        assert parsed.thread_index.depth == want["depth"]
        created = datetime.fromisoformat(want["created"])
        assert parsed.thread_index.created is not None
        assert abs((parsed.thread_index.created - created).total_seconds()) < 1
    elif key == "case_number":
        assert extract_case_number(parsed.subject) == want
    elif key == "normalised_subject":
        assert normalise_subject(parsed.subject) == want
    elif key == "defects_nonempty":
        assert bool(parsed.defects) == want
    else:
        raise AssertionError(f"unknown expectation {key!r}")


def test_corpus_is_large_enough() -> None:
    assert len(EXPECTED) >= 60
    assert {p.stem for p in CORPUS.glob("*.eml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str) -> None:
    facts = EXPECTED[name]
    raw = (CORPUS / f"{name}.eml").read_bytes()
    parsed = parse_message(raw, **facts.get("params", {}))
    for key, want in facts.items():
        _check(parsed, key, want)
    # Invariants that hold for every message.
    assert parsed.raw_size == len(raw)
    assert len(parsed.fingerprint) == 64
    assert parsed.date is None or parsed.date.tzinfo is not None
    assert parsed.message_id is None or "<" not in parsed.message_id
    assert "\x00" not in parsed.subject + parsed.text_body
    for attachment in parsed.attachments:
        assert attachment.size == len(attachment.content)
        assert "/" not in attachment.filename and "\\" not in attachment.filename
    json.dumps(parsed.to_json_dict())
