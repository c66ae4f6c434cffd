"""Whatever bytes arrive, parse_message returns a ParsedMessage or raises UnparseableMessage."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skranke.mail.parsing import ParsedMessage, UnparseableMessage, parse_message

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.eml"))
SAMPLES = [path.read_bytes() for path in CORPUS]

# Bounded so the suite stays fast; the corpus mutations are where real bugs show up.
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Tokens that steer the parser into its interesting branches when spliced into a message.
TOKENS = [
    b"\r\n", b"\n\n", b"--b1", b"--b1--", b"=?utf-8?B?", b"=?iso-8859-1?Q?=E6", b"?=",
    b"Content-Type: multipart/mixed; boundary=b1\r\n", b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: x-uuencode\r\n", b"begin 644 x\n", b"\nend\n", b"charset=utf-7",
    b"filename*0*=utf-8''%C3", b"\xe6\xf8\xe5", b"\xc3", b"\x00", b"<blockquote>", b"<img src=",
    b"message/rfc822", b"message/delivery-status", b"application/ms-tnef", b"\x78\x9f\x3e\x22",
]  # fmt: skip


def _check(raw: bytes) -> None:
    try:
        parsed = parse_message(raw, max_message_bytes=200_000, max_attachment_bytes=50_000)
    except UnparseableMessage:
        return
    assert isinstance(parsed, ParsedMessage)
    # The last-resort fallback hides parser bugs from callers; the fuzzer must still see them.
    assert not any(w.startswith("parser error") for w in parsed.warnings), parsed.warnings
    parsed.to_json_dict()


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(raw: bytes) -> None:
    _check(raw)


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del raw[pos : pos + draw(st.integers(1, 200))]
        elif op == "insert":
            raw[pos:pos] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=16))
        elif op == "delete" and raw:
            del raw[pos]
        else:
            del raw[pos:]
    return bytes(raw)


@FUZZ
@given(mutated_sample())
def test_mutated_corpus(raw: bytes) -> None:
    _check(raw)
