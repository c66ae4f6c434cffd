"""Write the email corpus: ``python -m skranke.mail.tests.make_corpus``.

Each message is built byte by byte (so charsets and encodings are exactly what real clients
send) and written as ``corpus/<name>.eml``; the facts we expect the parser to find go to
``corpus/expected.json``. The expectations come from what we put into each message, never from
running the parser. The .eml files are committed: the test reads them, not this script.
"""

from __future__ import annotations

import base64
import hashlib
import json
import quopri
import struct
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "corpus"
CASES: dict[str, tuple[bytes, dict[str, Any]]] = {}

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" * 3
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def qp(data: bytes) -> bytes:
    return quopri.encodestring(data).replace(b"\n", b"\r\n")


def crlf(text: str | bytes) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def head(
    extra: str = "",
    *,
    subject: str = "Test",
    frm: str = "Ola Nordmann <ola@example.no>",
    mid: str | None = "<{name}@example.no>",
    date: str = "Tue, 05 Mar 2024 10:15:00 +0100",
) -> str:
    lines = [
        f"From: {frm}",
        "To: Kundeservice <support@skranke.example>",
        f"Subject: {subject}",
        f"Date: {date}",
    ]
    if mid:
        lines.append(f"Message-ID: {mid}")
    lines.append("MIME-Version: 1.0")
    return "\n".join(lines) + ("\n" + extra.strip("\n") if extra.strip() else "") + "\n"


def add(name: str, raw: bytes, **expected: Any) -> None:
    raw = raw.replace(b"{name}", name.encode())
    CASES[name] = (raw, expected)


def simple(
    name: str,
    body: bytes | str,
    ctype: str = "text/plain; charset=utf-8",
    cte: str = "8bit",
    extra: str = "",
    subject: str = "Test",
    frm: str | None = None,
    date: str = "Tue, 05 Mar 2024 10:15:00 +0100",
    **expected: Any,
) -> None:
    headers = head(
        f"Content-Type: {ctype}\nContent-Transfer-Encoding: {cte}\n{extra}",
        subject=subject,
        frm=frm or "Ola Nordmann <ola@example.no>",
        date=date,
    )
    add(name, crlf(headers) + b"\r\n" + crlf(body), **expected)


def multipart(
    parts: list[bytes], subtype: str = "mixed", boundary: str = "b1", ctparams: str = ""
) -> bytes:
    out = b""
    for part in parts:
        out += b"--" + boundary.encode() + b"\r\n" + part + b"\r\n"
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{ctparams}\r\n\r\n'.encode()
        + b"This is a multi-part message in MIME format.\r\n"
        + out
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )


def part(ctype: str, body: bytes, cte: str = "base64", extra: str = "") -> bytes:
    encoded = b64(body) if cte == "base64" else qp(body) if cte == "quoted-printable" else body
    hdr = f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n"
    if extra:
        hdr += crlf(extra.strip("\n") + "\n").decode("utf-8", "surrogateescape")
    return hdr.encode("utf-8", "surrogateescape") + b"\r\n" + encoded


def mp_message(
    name: str,
    parts: list[bytes],
    subtype: str = "mixed",
    subject: str = "Test",
    extra: str = "",
    frm: str = "Ola Nordmann <ola@example.no>",
    ctparams: str = "",
    **expected: Any,
) -> None:
    add(
        name,
        crlf(head(extra, subject=subject, frm=frm)) + multipart(parts, subtype, ctparams=ctparams),
        **expected,
    )


NB = "Hei!\n\nJeg har et spørsmål om fakturaen. Blåbærsyltetøy koster 45 kr på Ærøy.\n\nHilsen Åse"


def charsets() -> None:
    simple(
        "utf8_qp",
        qp(NB.encode()),
        cte="quoted-printable",
        subject="=?utf-8?Q?Sp=C3=B8rsm=C3=A5l_om_faktura?=",
        subject_expected="Spørsmål om faktura",
        text_contains=["Blåbærsyltetøy", "Ærøy", "Åse"],
    )
    simple(
        "utf8_base64",
        b64(NB.encode()),
        cte="base64",
        subject="=?UTF-8?B?" + base64.b64encode("Bestilling på ærfugldun".encode()).decode() + "?=",
        subject_expected="Bestilling på ærfugldun",
        text_contains=["spørsmål", "Blåbær"],
    )
    simple(
        "latin1_qp",
        qp(NB.encode("latin-1")),
        "text/plain; charset=iso-8859-1",
        "quoted-printable",
        subject="=?iso-8859-1?Q?Sp=F8rsm=E5l?=",
        subject_expected="Spørsmål",
        text_contains=["Blåbærsyltetøy", "Ærøy"],
    )
    simple(
        "latin1_8bit",
        NB.encode("latin-1"),
        "text/plain; charset=ISO-8859-1",
        text_contains=["Blåbærsyltetøy", "Åse"],
    )
    cp = "“Fakturaen” på 1 200 € – forfalt. Mvh Bjørn Ødegård"
    simple(
        "cp1252_smart_quotes",
        cp.encode("cp1252"),
        "text/plain; charset=windows-1252",
        text_contains=[cp],
    )
    simple(
        "latin1_label_cp1252_bytes",
        cp.encode("cp1252"),
        "text/plain; charset=iso-8859-1",
        text_contains=["“Fakturaen”", "€", "Ødegård"],
    )
    simple(
        "mislabeled_latin1_is_utf8",
        NB.encode(),
        "text/plain; charset=iso-8859-1",
        text_contains=["Blåbærsyltetøy"],
        text_not_contains=["Ã"],
    )
    simple(
        "mislabeled_ascii_is_cp1252",
        NB.encode("cp1252"),
        "text/plain; charset=us-ascii",
        text_contains=["Blåbærsyltetøy"],
    )
    simple("no_charset_utf8", NB.encode(), "text/plain", text_contains=["Blåbærsyltetøy"])
    simple(
        "unknown_charset_label",
        NB.encode("latin-1"),
        "text/plain; charset=x-nordisk-42",
        text_contains=["Blåbærsyltetøy"],
        warnings_contains=["x-nordisk-42"],
    )
    simple(
        "iso8859_15_euro",
        "Pris: 300 € for ærlig arbeid".encode("iso-8859-15"),
        "text/plain; charset=iso-8859-15",
        text_contains=["300 €", "ærlig"],
    )
    add(
        "raw8bit_headers_latin1",
        b"From: P\xe5l R\xf8nning <pal@example.no>\r\nTo: support@skranke.example\r\n"
        b"Subject: Klage p\xe5 bl\xe5b\xe6r\r\nMessage-ID: <{name}@example.no>\r\n"
        b"Content-Type: text/plain\r\n\r\nHei, bl\xe5b\xe6rene var d\xe5rlige.\r\n",
        from_name="Pål Rønning",
        subject="Klage på blåbær",
        text_contains=["blåbærene"],
    )
    add(
        "raw8bit_headers_utf8",
        "From: Åsmund Ærø <åsmund@eksempel.no>\r\nTo: support@skranke.example\r\n"
        "Subject: Smør og brød\r\nMessage-ID: <{name}@example.no>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nGodt brød.\r\n".encode(),
        from_name="Åsmund Ærø",
        from_address="åsmund@eksempel.no",
        subject="Smør og brød",
    )
    utf7_body = "Hei, blåbær og æøå".encode("utf-7")
    simple(
        "utf7",
        utf7_body,
        "text/plain; charset=utf-7",
        cte="7bit",
        subject="=?utf-7?Q?" + "Gr\u00f8t".encode("utf-7").decode() + "?=",
        subject_expected="Grøt",
        text_contains=["blåbær og æøå"],
    )
    jp = "お問い合わせありがとうございます。"
    simple(
        "iso2022jp",
        jp.encode("iso2022_jp"),
        "text/plain; charset=ISO-2022-JP",
        cte="7bit",
        subject="=?ISO-2022-JP?B?"
        + base64.b64encode("請求書".encode("iso2022_jp")).decode()
        + "?=",
        subject_expected="請求書",
        text_contains=[jp],
    )
    word = "Førespurnad om æøå-tilbod".encode()
    # Split inside the two-byte "ø": each word alone is invalid UTF-8.
    subject = " ".join(
        "=?utf-8?B?" + base64.b64encode(word[i : i + 2]).decode() + "?="
        for i in range(0, len(word), 2)
    )
    simple(
        "encoded_word_split_multibyte",
        "Hei",
        subject=subject,
        subject_expected="Førespurnad om æøå-tilbod",
    )
    simple(
        "encoded_words_mixed",
        "Hei",
        subject="Re: =?iso-8859-1?Q?K=F8?= og =?utf-8?Q?s=C3=B8ppel?= =?utf-8?Q?_henting?=",
        subject_expected="Re: Kø og søppel henting",
    )
    html = '<html><head><meta charset="windows-1252"></head><body><p>Hilsen Bjørn – “OK”</p></body></html>'
    simple(
        "html_meta_charset",
        html.encode("cp1252"),
        "text/html",
        text_contains=["Hilsen Bjørn – “OK”"],
        html_contains=["Bjørn"],
    )
    simple(
        "utf8_folded_subject",
        "Body",
        subject="=?utf-8?Q?Veldig_lang_emnelinje_som_g=C3=A5r?=\n =?utf-8?Q?_over_to_linjer?=",
        subject_expected="Veldig lang emnelinje som går over to linjer",
    )


def senders() -> None:
    add(
        "missing_from_uses_reply_to",
        crlf(
            "To: support@skranke.example\nReply-To: Kari Nordmann <kari@example.no>\n"
            "Subject: Uten avsender\nMessage-ID: <{name}@x>\n\nHei\n"
        ),
        from_address="kari@example.no",
        from_name="Kari Nordmann",
        warnings_contains=["Reply-To"],
    )
    add(
        "broken_from_uses_sender",
        crlf(
            "From: Ola Nordmann\nSender: ola.sender@example.no\nTo: support@skranke.example\n"
            "Subject: Ødelagt From\n\nHei\n"
        ),
        from_address="ola.sender@example.no",
        from_name="Ola Nordmann",
    )
    add(
        "only_return_path",
        crlf(
            "Return-Path: <bounce-123@lists.example.no>\nTo: support@skranke.example\n"
            "Subject: Bare Return-Path\n\nHei\n"
        ),
        from_address="bounce-123@lists.example.no",
    )
    simple(
        "from_comment_uppercase_domain",
        "Hei",
        frm="ola@EXAMPLE.NO (Ola Nordmann)",
        from_address="ola@example.no",
        from_name="Ola Nordmann",
    )
    simple(
        "from_encoded_name_with_comma",
        "Hei",
        frm="=?utf-8?Q?Nordmann=2C_=C3=85se?= <ase@example.no>",
        from_name="Nordmann, Åse",
        from_address="ase@example.no",
    )
    add(
        "to_cc_lists",
        crlf(
            'From: ola@example.no\nTo: "Support, Skranke" <support@skranke.example>, b@x.no\n'
            "Cc: =?iso-8859-1?Q?J=F8rgen?= <jorgen@example.no>\nSubject: Kopi\n\nHei\n"
        ),
        to=[["Support, Skranke", "support@skranke.example"], ["", "b@x.no"]],
        cc=[["Jørgen", "jorgen@example.no"]],
    )


def bodies() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Hei,</p><p>Ordre&nbsp;nr. 123 er &laquo;sendt&raquo;.<br>Mvh<br>Kari</p>"
        '<a href="javascript:alert(2)" onclick="x()">klikk</a></body></html>'
    )
    simple(
        "html_only",
        html.encode(),
        "text/html; charset=utf-8",
        text_contains=["Hei,", "Ordre nr. 123 er «sendt».", "Mvh\nKari"],
        text_not_contains=["alert", "color:red"],
        html_not_contains=["<script", "onclick", "javascript:", "alert"],
    )
    mp_message(
        "alternative_text_html",
        [
            part("text/plain; charset=utf-8", "Tekstversjon med æøå".encode(), "quoted-printable"),
            part(
                "text/html; charset=utf-8",
                '<div onmouseover="evil()">HTML-versjon med <b>æøå</b></div>'.encode(),
            ),
        ],
        "alternative",
        text_body="Tekstversjon med æøå",
        html_contains=["<b>æøå</b>"],
        html_not_contains=["onmouseover", "evil"],
    )
    related = multipart(
        [
            part(
                "text/html; charset=utf-8",
                b'<p>Se bildet: <img src="cid:logo@skranke"> og '
                b'<img src="https://tracker.example/pixel.gif?id=7" width="1"> '
                b"<img src='http://cdn.example/banner.png'></p>"
                b'<table background="http://evil.example/bg.png"><tr><td style="background-image:'
                b'url(http://evil.example/x.png);color:red">x</td></tr></table>',
            ),
            part(
                "image/png",
                PNG,
                extra="Content-ID: <logo@skranke>\nContent-Disposition: inline; "
                'filename="logo.png"',
            ),
        ],
        "related",
        "rel1",
    )
    mp_message(
        "html_remote_and_cid_images",
        [
            part("text/plain; charset=utf-8", b"Se bildet.", "7bit"),
            related,
        ],
        "alternative",
        html_contains=[
            'src="cid:logo@skranke"',
            'data-remote-src="https://tracker.example/pixel.gif?id=7"',
            'data-remote-src="http://cdn.example/banner.png"',
            "color:red",
        ],
        html_not_contains=[' src="http', "background-image", "evil.example"],
        attachments=[
            {
                "filename": "logo.png",
                "content_type": "image/png",
                "size": len(PNG),
                "sha256": sha(PNG),
                "content_id": "logo@skranke",
                "inline": True,
            }
        ],
    )
    gmail_html = (
        '<div dir="ltr">Takk, det hjalp!</div><br><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">tir. 5. mar. 2024 kl. 10:15 skrev Skranke '
        '&lt;<a href="mailto:support@skranke.example">support@skranke.example</a>&gt;:'
        '<br></div><blockquote class="gmail_quote">Prøv å starte på nytt.<br>'
        "Mvh support</blockquote></div>"
    )
    simple(
        "html_gmail_quote",
        gmail_html.encode(),
        "text/html; charset=UTF-8",
        visible_text="Takk, det hjalp!",
        quoted_contains=["> Prøv å starte på nytt."],
    )
    mp_message(
        "apple_mail_split_text",
        [
            part("text/plain; charset=utf-8", "Første del.".encode(), "7bit"),
            part(
                "image/jpeg",
                b"\xff\xd8\xff\xe0fakejpeg",
                extra="Content-Disposition: inline; filename=IMG_0001.jpg",
            ),
            part("text/plain; charset=utf-8", b"Andre del.", "7bit"),
        ],
        text_body="Første del.\nAndre del.",
        attachments=[{"filename": "IMG_0001.jpg", "content_type": "image/jpeg", "inline": True}],
    )
    flowed = "Dette er en lang linje som er \nbrutt med myke linjeskift.\n\nNytt avsnitt."
    simple(
        "format_flowed",
        flowed.encode(),
        "text/plain; charset=utf-8; format=flowed",
        text_body="Dette er en lang linje som er brutt med myke linjeskift.\n\nNytt avsnitt.",
    )
    add(
        "lf_only_line_endings",
        (
            "From: ola@example.no\nSubject: LF\nContent-Type: text/plain; "
            "charset=utf-8\n\nLinje én\nLinje to\n"
        ).encode(),
        text_body="Linje én\nLinje to",
        subject="LF",
    )


def attachments() -> None:
    body = part("text/plain; charset=utf-8", b"Se vedlegg.", "7bit")
    mp_message(
        "attachment_pdf",
        [
            body,
            part(
                "application/pdf",
                PDF,
                extra='Content-Disposition: attachment; filename="faktura.pdf"',
            ),
        ],
        attachments=[
            {
                "filename": "faktura.pdf",
                "content_type": "application/pdf",
                "size": len(PDF),
                "sha256": sha(PDF),
                "inline": False,
            }
        ],
    )
    mp_message(
        "filename_rfc2231_utf8",
        [
            body,
            part(
                "application/pdf",
                PDF,
                extra="Content-Disposition: attachment; filename*=utf-8''s%C3%B8knad%20%C3%A6%C3%B8%C3%A5.pdf",
            ),
        ],
        attachments=[{"filename": "søknad æøå.pdf", "sha256": sha(PDF)}],
    )
    mp_message(
        "filename_rfc2231_continuation",
        [
            body,
            part(
                "application/pdf",
                PDF,
                extra="Content-Disposition: attachment;\n filename*0*=iso-8859-1''l%E6ngre%20filnavn%20;\n"
                " filename*1*=med%20%F8%20og%20%E5.pdf",
            ),
        ],
        attachments=[{"filename": "længre filnavn med ø og å.pdf"}],
    )
    mp_message(
        "filename_encoded_word",
        [
            body,
            part(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document; "
                'name="=?iso-8859-1?Q?Tilbud_p=E5_=F8l.docx?="',
                b"PK\x03\x04docx",
                extra='Content-Disposition: attachment; filename="=?iso-8859-1?Q?Tilbud_p=E5_=F8l.docx?="',
            ),
        ],
        attachments=[{"filename": "Tilbud på øl.docx"}],
    )
    mp_message(
        "filename_raw8bit_utf8",
        [
            body,
            (
                'Content-Type: application/pdf; name="kvittering_ærø.pdf"\r\n'
                'Content-Disposition: attachment; filename="kvittering_ærø.pdf"\r\n'
                "Content-Transfer-Encoding: base64\r\n\r\n"
            ).encode()
            + b64(PDF),
        ],
        attachments=[{"filename": "kvittering_ærø.pdf", "size": len(PDF)}],
    )
    mp_message(
        "filename_raw8bit_latin1",
        [
            body,
            b"Content-Type: application/pdf\r\n"
            b'Content-Disposition: attachment; filename="bl\xe5b\xe6r.pdf"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(PDF),
        ],
        attachments=[{"filename": "blåbær.pdf"}],
    )
    mp_message(
        "filename_path_traversal",
        [
            body,
            part(
                "text/plain",
                b"root:x:0:0",
                extra='Content-Disposition: attachment; filename="../../etc/passwd"',
            ),
            part(
                "application/octet-stream",
                b"MZ",
                extra='Content-Disposition: attachment; filename="C:\\\\Users\\\\ola\\\\virus.exe"',
            ),
        ],
        attachments=[
            {"filename": "passwd", "content_type": "text/plain"},
            {"filename": "virus.exe"},
        ],
    )
    mp_message(
        "attachment_without_name",
        [body, part("application/pdf", PDF, extra="Content-Disposition: attachment")],
        attachments=[{"filename": "attachment-1.pdf", "content_type": "application/pdf"}],
    )
    inner = crlf(
        "From: Leverandør <lev@example.com>\nSubject: =?utf-8?Q?Ordrebekreftelse_=C3=B8?=\n"
        "Message-ID: <inner-1@example.com>\nContent-Type: text/plain; charset=utf-8\n\n"
        "Indre melding\n"
    )
    mp_message(
        "forward_as_attachment",
        [body, b"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + inner],
        text_body="Se vedlegg.",
        text_not_contains=["Indre melding"],
        attachments=[
            {
                "filename": "Ordrebekreftelse ø.eml",
                "content_type": "message/rfc822",
                "embedded_subject": "Ordrebekreftelse ø",
            }
        ],
    )
    import binascii

    data = b"Hemmelig innhold\n" * 5
    uu = "".join(binascii.b2a_uu(data[i : i + 45]).decode() for i in range(0, len(data), 45))
    simple(
        "uuencode_in_body",
        f"Her er fila:\n\nbegin 644 notat.txt\n{uu}`\nend\n\nMvh Ola",
        text_contains=["Her er fila:", "Mvh Ola"],
        text_not_contains=["begin 644"],
        attachments=[{"filename": "notat.txt", "size": len(data), "sha256": sha(data)}],
    )
    uu_part = (
        b'Content-Type: application/octet-stream; name="data.bin"\r\n'
        b"Content-Transfer-Encoding: x-uuencode\r\n"
        b'Content-Disposition: attachment; filename="data.bin"\r\n\r\n'
        b"begin 644 data.bin\r\n" + crlf(uu) + b"`\r\nend\r\n"
    )
    mp_message(
        "uuencode_cte_part",
        [body, uu_part],
        attachments=[{"filename": "data.bin", "size": len(data), "sha256": sha(data)}],
    )
    doc = b"Dokumentinnhold i vedlegget"
    mp_message(
        "winmail_dat_tnef",
        [
            part("text/plain; charset=utf-8", b"Se vedlagt.", "7bit"),
            part(
                'application/ms-tnef; name="winmail.dat"',
                tnef([("rapport.txt", doc)], b"TNEF body"),
                extra='Content-Disposition: attachment; filename="winmail.dat"',
            ),
        ],
        attachments=[
            {
                "filename": "rapport.txt",
                "content_type": "text/plain",
                "size": len(doc),
                "sha256": sha(doc),
            }
        ],
    )
    msg_file = outlook_msg("Møtereferat fra styret")
    mp_message(
        "outlook_msg_attachment",
        [
            body,
            part(
                "application/octet-stream",
                msg_file,
                extra='Content-Disposition: attachment; filename="Møtereferat.msg"',
            ),
        ],
        attachments=[
            {
                "filename": "Møtereferat.msg",
                "content_type": "application/vnd.ms-outlook",
                "embedded_subject": "Møtereferat fra styret",
                "sha256": sha(msg_file),
            }
        ],
    )
    big = bytes(range(256)) * 40
    mp_message(
        "oversize_attachment_refused",
        [
            body,
            part(
                "application/pdf",
                PDF,
                extra='Content-Disposition: attachment; filename="liten.pdf"',
            ),
            part(
                "application/zip", big, extra='Content-Disposition: attachment; filename="stor.zip"'
            ),
        ],
        params={"max_attachment_bytes": 4096},
        attachments=[{"filename": "liten.pdf"}],
        refused=[{"filename": "stor.zip", "reason_contains": "over the limit"}],
    )
    mp_message(
        "oversize_message_truncated",
        [
            part("text/plain; charset=utf-8", "Viktig tekst først.".encode(), "quoted-printable"),
            part(
                "application/zip",
                big * 4,
                extra='Content-Disposition: attachment; filename="x.zip"',
            ),
        ],
        params={"max_message_bytes": 8000},
        text_body="Viktig tekst først.",
        attachments=[],
        truncated=True,
        refused=[{"reason_contains": "only its headers and first text part"}],
    )
    mp_message(
        "calendar_invite",
        [
            body,
            part(
                "text/calendar; method=REQUEST; charset=utf-8",
                b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                "7bit",
                extra='Content-Disposition: attachment; filename="invite.ics"',
            ),
        ],
        attachments=[{"filename": "invite.ics", "content_type": "text/calendar"}],
    )
    mp_message(
        "bad_base64_attachment",
        [
            body,
            b"Content-Type: application/pdf\r\n"
            b'Content-Disposition: attachment; filename="skadet.pdf"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK!!!***###@@@\r\nnot base64 at all\r\n",
        ],
        attachments=[{"filename": "skadet.pdf"}],
    )


def tnef(files: list[tuple[str, bytes]], body: bytes) -> bytes:
    """A minimal TNEF stream (MS-OXTNEF): version, codepage, body, then each attachment."""

    def attr(level: int, name: int, typ: int, data: bytes) -> bytes:
        checksum = sum(data) & 0xFFFF
        return (
            struct.pack("<BHHI", level, name, typ, len(data)) + data + struct.pack("<H", checksum)
        )

    out = struct.pack("<IH", 0x223E9F78, 1)
    out += attr(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))
    out += attr(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))
    out += attr(1, 0x800C, 0x0002, body)
    for filename, data in files:
        out += attr(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff" + b"\x00" * 8)
        out += attr(2, 0x8010, 0x0001, filename.encode() + b"\x00")
        out += attr(2, 0x800F, 0x0006, data)
    return out


def outlook_msg(subject: str) -> bytes:
    """A minimal Outlook .msg: an OLE compound file (MS-CFB v3) with a PR_SUBJECT stream."""
    sector = 512
    stream_name = "__substg1.0_0037001F"
    stream = subject.encode("utf-16-le")
    # Streams under 4096 bytes live in the mini stream (64-byte mini sectors) held by the root.
    mini = stream + b"\x00" * (-len(stream) % 64)
    mini_sectors = len(mini) // 64
    # Layout: sector 0 FAT, 1 directory, 2 mini FAT, 3.. mini stream data.
    mini_stream_sectors = -(-len(mini) // sector)
    ENDOFCHAIN, FATSECT, FREESECT = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [FATSECT, ENDOFCHAIN, ENDOFCHAIN]
    for i in range(mini_stream_sectors):
        fat.append(ENDOFCHAIN if i == mini_stream_sectors - 1 else 4 + i)
    fat += [FREESECT] * (128 - len(fat))
    minifat = [i + 1 for i in range(mini_sectors - 1)] + [ENDOFCHAIN]
    minifat += [FREESECT] * (128 - len(minifat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", FREESECT, FREESECT, child)
            + b"\x00" * 16
            + struct.pack("<I", 0)
            + b"\x00" * 16
            + struct.pack("<IIQ", start, size, 0)[:12]
        )

    def entry_full(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        data = entry(name, kind, child, start, size)
        return data + b"\x00" * (128 - len(data))

    directory = entry_full("Root Entry", 5, 1, 3, len(mini)) + entry_full(
        stream_name, 2, FREESECT, 0, len(stream)
    )
    directory = directory.ljust(sector, b"\x00")
    # Unused directory slots must be marked free (left/right/child = NOSTREAM).
    empty = (
        b"\x00" * 64
        + struct.pack("<HBB", 0, 0, 0)
        + struct.pack("<III", FREESECT, FREESECT, FREESECT)
    )
    directory = directory[:256] + (empty + b"\x00" * (128 - len(empty))) * 2
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, 2, 1, ENDOFCHAIN, 0)
    )
    header += struct.pack("<I", 0) + struct.pack("<" + "I" * 108, *([FREESECT] * 108))
    header = header[:76] + struct.pack("<" + "I" * 109, 0, *([FREESECT] * 108))
    body = (
        struct.pack("<" + "I" * 128, *fat)
        + directory
        + struct.pack("<" + "I" * 128, *minifat)
        + mini.ljust(mini_stream_sectors * sector, b"\x00")
    )
    return header + body


QUOTE_EN = (
    "Thanks, that fixed it.\n\nOn Tue, Mar 5, 2024 at 10:15 AM Skranke Support "
    "<support@skranke.example> wrote:\n> Please restart the router.\n>\n> Regards\n"
)


def quoting() -> None:
    simple(
        "quote_english_gmail",
        QUOTE_EN,
        visible_text="Thanks, that fixed it.",
        quoted_contains=["> Please restart the router."],
    )
    simple(
        "quote_norwegian_gmail_wrapped",
        "Takk for hjelpen!\n\ntir. 5. mar. 2024 kl. 10:15 skrev Skranke Kundeservice <\n"
        "support@skranke.example>:\n\n> Prøv å starte ruteren på nytt.\n",
        visible_text="Takk for hjelpen!",
        quoted_contains=["Prøv å starte"],
    )
    simple(
        "quote_norwegian_den_skrev",
        "Hei igjen,\nfortsatt feil.\n\nDen 05.03.2024 10:15, skrev Kari Nordmann:\n> Hei\n",
        visible_text="Hei igjen,\nfortsatt feil.",
        quoted_contains=["Den 05.03.2024"],
    )
    simple(
        "quote_opprinnelig_melding",
        "Se nedenfor.\n\n-----Opprinnelig melding-----\nFra: Kari <kari@example.no>\n"
        "Sendt: 5. mars 2024 10:15\nTil: Ola\nEmne: Faktura\n\nHei Ola\n",
        visible_text="Se nedenfor.",
        quoted_contains=["-----Opprinnelig melding-----", "Hei Ola"],
    )
    simple(
        "quote_original_message",
        "See below.\n\n-----Original Message-----\nFrom: Kari\nSent: Tuesday\nTo: Ola\n"
        "Subject: Invoice\n\nHello\n",
        visible_text="See below.",
        quoted_contains=["Hello"],
    )
    simple(
        "quote_outlook_header_block_no",
        "Vi venter fortsatt.\n\nMed vennlig hilsen\nOla\n\n________________________________\n"
        "Fra: Skranke Kundeservice <support@skranke.example>\nSendt: tirsdag 5. mars 2024 10:15\n"
        "Til: Ola Nordmann <ola@example.no>\nEmne: SV: [#12345] Faktura\n\nHei Ola,\n",
        visible_text="Vi venter fortsatt.\n\nMed vennlig hilsen\nOla",
        quoted_contains=["Fra: Skranke Kundeservice", "Hei Ola,"],
    )
    simple(
        "quote_outlook_header_block_en",
        "Any news?\n\nFrom: Skranke <support@skranke.example>\nSent: Tuesday, March 5, 2024 10:15\n"
        "To: Ola <ola@example.no>\nSubject: RE: Invoice\n\nWe are looking into it.\n",
        visible_text="Any news?",
        quoted_contains=["We are looking into it."],
    )
    simple(
        "signature_dashes",
        "Kan dere ringe meg?\n\n-- \nOla Nordmann\nTlf 99 99 99 99\n",
        visible_text="Kan dere ringe meg?",
        quoted_contains=["Tlf 99 99 99 99"],
    )
    simple(
        "sendt_fra_min_iphone",
        "Ok, takk!\n\nSendt fra min iPhone\n",
        visible_text="Ok, takk!",
        quoted_text="Sendt fra min iPhone",
    )
    simple(
        "inline_interleaved_reply",
        "On Tue, Mar 5, 2024 at 10:15 AM Support <support@skranke.example> wrote:\n"
        "> Hva er ordrenummeret?\n123456\n> Og postnummeret?\n0150\n",
        text_contains=["123456", "0150"],
        visible_contains=["123456", "0150"],
        quoted_text="",
    )
    simple(
        "bare_forward_all_visible",
        "-----Original Message-----\nFrom: Leverandør\nSent: Monday\nTo: Ola\nSubject: Pris\n\n"
        "Prisen er 100 kr.\n",
        visible_contains=["Prisen er 100 kr."],
        quoted_text="",
    )
    simple(
        "bottom_trailing_quote_no_attribution",
        "Svar øverst.\n\n> gammel tekst\n> mer gammel tekst\n",
        visible_text="Svar øverst.",
        quoted_text="> gammel tekst\n> mer gammel tekst",
    )


def classification() -> None:
    simple(
        "auto_reply_auto_submitted",
        "Jeg er på ferie til 12. august.",
        extra="Auto-Submitted: auto-replied",
        subject="Automatisk svar: Faktura",
        is_auto_reply=True,
        is_bounce=False,
        suppress_auto_response=True,
    )
    simple(
        "out_of_office_subject_only",
        "I am out of the office.",
        subject="Out of Office: Your case",
        is_auto_reply=True,
    )
    simple("x_autoreply_header", "Fravær.", extra="X-Autoreply: yes", is_auto_reply=True)
    simple("x_autorespond_header", "Fravær.", extra="X-Autorespond: vacation", is_auto_reply=True)
    simple(
        "precedence_bulk_newsletter",
        "Nyhetsbrev",
        extra="Precedence: bulk\nList-Unsubscribe: <mailto:unsub@news.example>",
        is_auto_reply=True,
        is_mailing_list=True,
    )
    simple(
        "mailing_list_list_id",
        "Diskusjon",
        extra="List-Id: Brukere <brukere.lists.example.no>\nPrecedence: list",
        subject="[brukere] Diskusjon",
        is_mailing_list=True,
        is_auto_reply=False,
        suppress_auto_response=True,
    )
    simple(
        "x_auto_response_suppress_only",
        "Vanlig melding fra et system som Jira.",
        extra="X-Auto-Response-Suppress: All",
        is_auto_reply=False,
        suppress_auto_response=True,
    )
    simple(
        "normal_message_not_auto",
        "Hei, jeg trenger hjelp.",
        is_auto_reply=False,
        is_bounce=False,
        is_mailing_list=False,
        suppress_auto_response=False,
    )
    original = crlf(
        "From: support@skranke.example\nTo: ukjent@example.no\nSubject: [#12345] Svar\n"
        "Message-ID: <reply-777@skranke.example>\n\nHei\n"
    )
    dsn = crlf(
        "Reporting-MTA: dns; mx.skranke.example\nArrival-Date: Tue, 5 Mar 2024 10:15:00 +0100\n\n"
        "Final-Recipient: rfc822; ukjent@example.no\nOriginal-Recipient: rfc822;ukjent@example.no\n"
        "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.no\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ukjent@example.no>: Recipient address rejected\n"
    )
    mp_message(
        "dsn_permanent_failure",
        [
            part(
                "text/plain; charset=us-ascii",
                b"This is the mail system at host mx.skranke.example.\r\n\r\n"
                b"I'm sorry to have to inform you that your message could not\r\nbe delivered.",
                "7bit",
            ),
            b"Content-Type: message/delivery-status\r\n\r\n" + dsn,
            b"Content-Type: message/rfc822\r\n\r\n" + original,
        ],
        "report",
        ctparams="; report-type=delivery-status",
        frm="Mail Delivery System <MAILER-DAEMON@mx.skranke.example>",
        subject="Undelivered Mail Returned to Sender",
        extra="Return-Path: <>\nAuto-Submitted: auto-replied",
        is_bounce=True,
        is_auto_reply=False,
        suppress_auto_response=True,
        bounce={
            "failed_recipient": "ukjent@example.no",
            "status": "5.1.1",
            "permanent": True,
            "action": "failed",
            "original_message_id": "reply-777@skranke.example",
        },
    )
    dsn_delay = crlf(
        "Reporting-MTA: dns; mx.skranke.example\n\nFinal-Recipient: rfc822; treg@example.no\n"
        "Action: delayed\nStatus: 4.4.1\nWill-Retry-Until: Thu, 7 Mar 2024 10:15:00 +0100\n"
    )
    mp_message(
        "dsn_delayed_temporary",
        [
            part("text/plain", b"Delivery delayed.", "7bit"),
            b"Content-Type: message/delivery-status\r\n\r\n" + dsn_delay,
            b"Content-Type: text/rfc822-headers\r\n\r\n"
            + crlf(
                "From: support@skranke.example\nMessage-ID: <slow-1@skranke.example>\nSubject: Hei\n"
            ),
        ],
        "report",
        ctparams="; report-type=delivery-status",
        frm="MAILER-DAEMON@mx.skranke.example",
        subject="Delayed Mail (still being retried)",
        is_bounce=True,
        bounce={
            "failed_recipient": "treg@example.no",
            "status": "4.4.1",
            "permanent": False,
            "action": "delayed",
            "original_message_id": "slow-1@skranke.example",
        },
    )
    simple(
        "plain_bounce_postfix_style",
        "This is the mail system at host mx.example.no.\n\nI'm sorry to have to inform you that your "
        "message could not\nbe delivered to one or more recipients.\n\n<borte@example.no>: host "
        "mx.example.no[192.0.2.1] said: 550 5.1.1\n    User unknown (in reply to RCPT TO command)\n\n"
        "--- original message ---\nMessage-ID: <orig-55@skranke.example>\nSubject: Hei\n",
        frm="MAILER-DAEMON@example.no (Mail Delivery System)",
        subject="Undelivered Mail",
        is_bounce=True,
        bounce={
            "failed_recipient": "borte@example.no",
            "status": "5.1.1",
            "permanent": True,
            "original_message_id": "orig-55@skranke.example",
        },
    )
    simple(
        "exim_bounce_x_failed_recipients",
        "This message was created automatically by mail delivery software.\n\nA message that you sent "
        "could not be delivered to one or more of its\nrecipients. This is a permanent error. The "
        "following address(es) failed:\n\n  feil@example.no\n    retry timeout exceeded\n",
        frm="Mail Delivery System <Mailer-Daemon@mail.example.no>",
        subject="Mail delivery failed: returning message to sender",
        extra="X-Failed-Recipients: feil@example.no",
        is_bounce=True,
        bounce={"failed_recipient": "feil@example.no", "permanent": True},
    )
    mp_message(
        "read_receipt_mdn",
        [
            part("text/plain", b"Meldingen ble lest.", "7bit"),
            b"Content-Type: message/disposition-notification\r\n\r\n"
            b"Final-Recipient: rfc822; ola@example.no\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n",
        ],
        "report",
        ctparams="; report-type=disposition-notification",
        subject="Lest: Faktura",
        is_auto_reply=True,
        is_bounce=False,
    )
    simple(
        "null_return_path_vacation",
        "Jeg er borte.",
        extra="Return-Path: <>",
        subject="Fraværsmelding",
        is_auto_reply=True,
        is_bounce=False,
    )


# Outlook's Thread-Index: 6 high bytes of a FILETIME, a conversation GUID, then one 5-byte
# block per reply. 2024-03-05 09:15 UTC is FILETIME 133541037000000000.
THREAD_GUID = bytes(range(16, 32))
THREAD_INDEX = base64.b64encode(
    (133541037000000000 >> 16).to_bytes(6, "big") + THREAD_GUID + b"\x00\x00\x01\x02\x03" * 2
).decode()


def threading() -> None:
    simple(
        "reply_with_case_token",
        "Takk!\n",
        subject="SV: [#12345] Faktura for mars",
        extra="In-Reply-To: <case-12345-reply-2@skranke.example>\nReferences: "
        "<orig@example.no>\n <case-12345-reply-1@skranke.example>\n\t<case-12345-reply-2@skranke.example>",
        in_reply_to="case-12345-reply-2@skranke.example",
        references=[
            "orig@example.no",
            "case-12345-reply-1@skranke.example",
            "case-12345-reply-2@skranke.example",
        ],
        case_number=12345,
        normalised_subject="faktura for mars",
    )
    simple(
        "outlook_thread_index",
        "Hei",
        subject="RE: Møte",
        extra=f"Thread-Topic: =?iso-8859-1?Q?M=F8te?=\nThread-Index: {THREAD_INDEX}",
        thread_index={
            "conversation_id": THREAD_GUID.hex(),
            "depth": 2,
            "created": "2024-03-05T09:15:00+00:00",
        },
        thread_topic="Møte",
    )
    add(
        "no_message_id_bare_references",
        crlf(
            "From: ola@example.no\nSubject: Re: Hei\nIn-Reply-To: abc@example.no (Ola's message)\n"
            "References: abc@example.no def@example.no\n\nHei\n"
        ),
        message_id=None,
        in_reply_to="abc@example.no",
        references=["abc@example.no", "def@example.no"],
    )
    add(
        "message_id_with_whitespace_and_case",
        crlf("From: ola@example.no\nSubject: x\nMessage-ID:\n  <AbC.123@Example.NO>\n\nHei\n"),
        message_id="AbC.123@Example.NO",
    )


def broken() -> None:
    add(
        "no_headers_at_all",
        b"Bare tekst uten noen headere\r\nog en linje til\r\n",
        text_contains=["Bare tekst"],
        from_address=None,
    )
    add(
        "truncated_multipart",
        crlf(head("", subject="Avkuttet"))
        + b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n'
        b"Teksten er her\r\n--zz\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\nJVBERi0x",
        text_contains=["Teksten er her"],
        defects_nonempty=True,
    )
    simple("invalid_date", "Hei", date="i morgen tidlig", date_expected=None)
    simple(
        "date_minus_0000",
        "Hei",
        date="Tue, 05 Mar 2024 10:15:00 -0000",
        date_expected="2024-03-05T10:15:00+00:00",
    )
    simple("date_with_zone", "Hei", date_expected="2024-03-05T10:15:00+01:00")
    nested = b"Content-Type: text/plain\r\n\r\nDypt inne\r\n"
    for level in range(60):
        nested = multipart([nested], boundary=f"n{level}")
    add("deeply_nested", crlf(head("", subject="Dyp")) + nested, subject="Dyp")
    simple(
        "control_chars_in_subject", "Hei", subject="Hei\x00 der\x07", subject_expected="Hei  der"
    )
    add(
        "multipart_without_boundary",
        crlf(head("", subject="Ingen grense"))
        + b"Content-Type: multipart/mixed\r\n\r\nTekst uten grense\r\n",
        subject="Ingen grense",
        text_contains=["Tekst uten grense"],
    )
    add(
        "header_only_from",
        b"From: ola@example.no\r\n\r\n",
        from_address="ola@example.no",
        text_body="",
    )
    simple(
        "html_entities_and_nbsp",
        "<p>A&amp;B&nbsp;&lt;test&gt; &#229;&#x00F8;</p>",
        "text/html; charset=us-ascii",
        text_body="A&B <test> åø",
    )


def main() -> None:
    for build in (
        charsets,
        senders,
        bodies,
        attachments,
        quoting,
        classification,
        threading,
        broken,
    ):
        build()
    CORPUS.mkdir(exist_ok=True)
    for old in CORPUS.glob("*.eml"):
        old.unlink()
    expected: dict[str, Any] = {}
    for name, (raw, facts) in sorted(CASES.items()):
        (CORPUS / f"{name}.eml").write_bytes(raw)
        for key in ("subject", "date"):
            if f"{key}_expected" in facts:
                facts[key] = facts.pop(f"{key}_expected")
        expected[name] = facts
    (CORPUS / "expected.json").write_text(
        json.dumps(expected, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(CASES)} messages to {CORPUS}")


if __name__ == "__main__":
    main()
