"""Unit tests for the pure helpers behind the parser: keys, quoting, charsets, classification."""

from __future__ import annotations

import base64

import pytest

from skranke.mail.charsets import decode_bytes, decode_header_value, lookup_codec
from skranke.mail.classify import parse_delivery_status, parse_plain_bounce
from skranke.mail.parsing import (
    UnparseableMessage,
    html_to_text,
    parse_message,
    sanitise_html,
)
from skranke.mail.quoting import split_reply
from skranke.mail.threading_keys import (
    decode_thread_index,
    extract_case_number,
    format_case_token,
    normalise_message_id,
    normalise_subject,
    parse_plus_address,
    parse_references,
)


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("SV: [#12345] Faktura", 12345),
        ("Re: Fwd: [Skranke #7] Hei", 7),
        ("[#1] og [#2]", 1),
        ("Ordre #12345 uten klammer", None),
        ("[#1234567890123] for langt", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_case_number(subject: str | None, number: int | None) -> None:
    assert extract_case_number(subject) == number


def test_case_token_round_trip() -> None:
    assert extract_case_number(f"Re: {format_case_token(42, 'Sak')} Hei") == 42


def test_parse_plus_address() -> None:
    plus = parse_plus_address("Support+C12345@Skranke.Example")
    assert (plus.base_address, plus.tag, plus.case_number) == (
        "support@skranke.example",
        "C12345",
        12345,
    )
    assert parse_plus_address("support@x.no").case_number is None
    assert parse_plus_address("support+sales@x.no").tag == "sales"
    assert parse_plus_address("support+c12x@x.no").case_number is None
    assert parse_plus_address("garbage").base_address == "garbage"


@pytest.mark.parametrize(
    ("subject", "normalised"),
    [
        ("SV: VS: Re: [#12345] Faktura  for mars", "faktura for mars"),
        ("AW: WG: Rechnung", "rechnung"),
        ("Re[2]: Hei", "hei"),
        ("[EKSTERN] Sv: Tilbud", "tilbud"),
        ("(no subject)", ""),
        ("Svar på henvendelse", "svar på henvendelse"),
    ],
)
def test_normalise_subject(subject: str, normalised: str) -> None:
    assert normalise_subject(subject) == normalised


def test_message_ids() -> None:
    assert normalise_message_id(" <a.b@c> ") == "a.b@c"
    assert normalise_message_id("<>") is None
    assert normalise_message_id("") is None
    assert parse_references("<a@x> <b@x>\n\t<a@x>", "<c@x>") == ["a@x", "b@x", "c@x"]
    many = " ".join(f"<{i}@x>" for i in range(200))
    refs = parse_references(many)
    assert len(refs) == 50 and refs[0] == "0@x" and refs[-1] == "199@x"


def test_thread_index_rejects_garbage() -> None:
    assert decode_thread_index("not base64!!") is None
    assert decode_thread_index(base64.b64encode(b"short").decode()) is None
    assert decode_thread_index(None) is None


def test_split_reply_keeps_text_when_everything_is_quoted() -> None:
    assert split_reply("> only a quote\n> here") == ("> only a quote\n> here", "")


def test_split_reply_does_not_cut_on_sentence_with_skrev() -> None:
    text = "Han skrev:\nat pakken var borte."
    assert split_reply(text) == (text, "")


def test_split_reply_crlf() -> None:
    visible, quoted = split_reply("Ja.\r\n\r\n-----Original Message-----\r\nFrom: x\r\n")
    assert visible == "Ja." and quoted.startswith("-----Original Message-----")


def test_charset_fallbacks() -> None:
    assert decode_bytes("æøå".encode("cp1252"), "nonsense").text == "æøå"
    assert decode_bytes(b"\x81\x8d", "windows-1252").text  # undefined cp1252 bytes survive
    assert decode_bytes("æøå".encode(), None).charset == "utf_8"
    assert lookup_codec("rot13") is None and lookup_codec("zlib") is None
    assert lookup_codec("unicode_escape") is None
    assert decode_bytes(rb"\x41", "unicode_escape").text == "\\x41"


def test_header_decoding_tolerates_broken_words() -> None:
    assert decode_header_value("=?utf-8?B?w6bDuMOl?=") == "æøå"
    assert decode_header_value("=?utf-8?B?w6bDuMOl") == "=?utf-8?B?w6bDuMOl"
    assert decode_header_value("=?x-unknown?Q?bl=E5b=E6r?=") == "blåbær"
    assert decode_header_value("=?utf-8?B?!!!?=") == ""


def test_sanitise_html_blocks_active_content() -> None:
    html = (
        '<img src=x onerror=alert(1)><svg onload=alert(2)></svg><iframe src="https://x"></iframe>'
        '<a href="javascript:alert(3)">a</a><form action="https://x"><input></form>'
        '<p style="position:fixed;background:url(https://t.example/x)">p</p>'
        '<img srcset="https://t.example/a.png 2x" src="/relative.png">'
    )
    cleaned = sanitise_html(html)
    for bad in (
        "onerror",
        "onload",
        "iframe",
        "javascript",
        "<form",
        "<input",
        "position",
        "url(",
        "srcset",
        "https://x",
        'src="/relative',
    ):
        assert bad not in cleaned, bad


def test_html_to_text_blockquote_depth() -> None:
    text = html_to_text("<p>Svar</p><blockquote>Nivå 1<blockquote>Nivå 2</blockquote></blockquote>")
    assert "Svar" in text and "> Nivå 1" in text and ">> Nivå 2" in text


def test_dsn_without_status_uses_diagnostic() -> None:
    info = parse_delivery_status(
        "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; a@b.no\nAction: failed\n"
        "Diagnostic-Code: smtp; 552 mailbox full\n"
    )
    assert info is not None and info.failed_recipient == "a@b.no" and info.permanent
    assert parse_delivery_status("") is None


def test_plain_bounce_temporary() -> None:
    info = parse_plain_bounce("<x@y.no>: temporary failure, will retry. 4.2.2 mailbox full")
    assert info.failed_recipient == "x@y.no" and info.status == "4.2.2" and not info.permanent


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  ", b"X-Foo: bar\r\n\r\n"])
def test_unusable_input_raises_one_error(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage):
        parse_message(raw)


def test_json_dict_has_exactly_the_cli_keys() -> None:
    parsed = parse_message(b"From: a@b.no\r\nSubject: Hei\r\n\r\nTekst\r\n")
    assert set(parsed.to_json_dict()) == {
        "from_address", "from_name", "subject", "text_body", "attachments", "message_id",
        "in_reply_to", "references", "is_auto_reply", "is_bounce",
    }  # fmt: skip


def test_fingerprint_differs_per_message() -> None:
    a = parse_message(b"From: a@b.no\r\n\r\nA\r\n")
    b = parse_message(b"From: a@b.no\r\n\r\nB\r\n")
    assert a.fingerprint != b.fingerprint and a.message_id is None
