"""The email channel on the case page: delivery status and retry, quoted history, inline and
remote images, CC'd people and how a mail was threaded."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from skranke.cases.actions import add_message
from skranke.cases.email_display import QUOTED_CLASS, collapse_history
from skranke.cases.models import DeliveryStatus, MessageKind
from skranke.mail.actions import set_delivery_status
from skranke.mail.intake import ingest
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)
from skranke.mail.tests.mailfactory import message_id_of

HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def html_mail_with_images() -> bytes:
    """An HTML mail with an inline (cid:) logo and a remote tracking pixel."""
    message = EmailMessage()
    message["From"] = "Per Kunde <per@kunde.no>"
    message["To"] = "kundeservice@firma.no"
    message["Cc"] = "Lise Regnskap <lise@kunde.no>"
    message["Subject"] = "Skjermbilde av feilen"
    message["Message-ID"] = make_msgid(domain="kunde.no")
    message.set_content("Se vedlagt bilde.")
    cid = make_msgid(idstring="logo", domain="kunde.no")
    message.add_alternative(
        f'<p>Se bildet:</p><img src="cid:{cid[1:-1]}" alt="skjerm">'
        '<img src="https://tracker.example.com/pixel.gif" alt="">',
        subtype="html",
    )
    message.get_payload()[1].add_related(PNG, "image", "png", cid=cid, filename="skjerm.png")
    return message.as_bytes()


@pytest.fixture
def email_case(mailbox, mail):
    return ingest(mail(cc="Lise Regnskap <lise@kunde.no>"), mailbox=mailbox).case


@pytest.fixture
def failed_reply(email_case, agent):
    reply = add_message(email_case, kind=MessageKind.REPLY, body_text="Vi ser på det.", actor=agent)
    reply.refresh_from_db()
    set_delivery_status(reply, DeliveryStatus.FAILED, error="550 5.1.1 mailbox unavailable")
    return reply


def retry_url(reply):
    return reverse("cases:retry_delivery", args=[reply.case.number, reply.pk])


def test_failed_reply_shows_reason_and_retry_button(client, agent, failed_reply):
    client.force_login(agent)
    html = client.get(reverse("cases:detail", args=[failed_reply.case.number])).content.decode()
    assert "delivery-failed" in html
    assert "550 5.1.1 mailbox unavailable" in html
    assert retry_url(failed_reply) in html


def test_retry_queues_the_reply_and_swaps_the_message(client, agent, failed_reply):
    client.force_login(agent)
    response = client.post(retry_url(failed_reply), **HTMX)
    assert response.status_code == 200
    failed_reply.refresh_from_db()
    assert failed_reply.delivery_status == DeliveryStatus.QUEUED
    assert failed_reply.delivery_error == ""
    html = response.content.decode()
    assert html.strip().startswith(f'<article class="msg msg-reply" id="message-{failed_reply.pk}"')
    assert "delivery-queued" in html


def test_other_team_gets_404_on_retry(client, other_agent, failed_reply):
    client.force_login(other_agent)
    assert client.post(retry_url(failed_reply), **HTMX).status_code == 404
    failed_reply.refresh_from_db()
    assert failed_reply.delivery_status == DeliveryStatus.FAILED


def test_retry_of_a_customer_message_is_404(client, agent, email_case):
    client.force_login(agent)
    inbound = email_case.messages.get()
    url = reverse("cases:retry_delivery", args=[email_case.number, inbound.pk])
    assert client.post(url, **HTMX).status_code == 404


def test_retry_of_a_sent_reply_explains_and_changes_nothing(client, agent, failed_reply):
    set_delivery_status(failed_reply, DeliveryStatus.SENT)
    client.force_login(agent)
    response = client.post(retry_url(failed_reply), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Only a reply that failed to send can be retried." in html or "kan sendes" in html
    failed_reply.refresh_from_db()
    assert failed_reply.delivery_status == DeliveryStatus.SENT
    assert failed_reply.metadata["email"]["attempts"] == 0

    # Without htmx: back to the case, with the reason as a message.
    response = client.post(retry_url(failed_reply), follow=True)
    assert response.redirect_chain[-1][0] == failed_reply.case.get_absolute_url()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_inline_image_points_at_its_attachment_and_remote_image_is_held(client, agent, mailbox):
    case = ingest(html_mail_with_images(), mailbox=mailbox).case
    message = case.messages.get()
    logo = message.attachments.get()
    assert logo.inline
    client.force_login(agent)
    html = client.get(reverse("cases:detail", args=[case.number])).content.decode()

    logo_url = reverse("cases:attachment", args=[case.number, logo.pk])
    assert f'src="{logo_url}"' in html
    assert "cid:" not in html
    # Shown in place, so not listed again as a download.
    assert f'href="{logo_url}"' not in html
    assert client.get(logo_url).status_code == 200

    assert not re.search(r"(?<![-\w])src=\"?https?:", html)
    assert 'data-remote-src="https://tracker.example.com/pixel.gif"' in html
    assert "data-show-images" in html
    assert "data-toggle-view" in html  # HTML mails can be read as plain text


def test_cid_never_resolves_to_another_messages_attachment(client, agent, mailbox):
    case = ingest(html_mail_with_images(), mailbox=mailbox).case
    other = case.messages.get()
    add_message(
        case,
        kind=MessageKind.CUSTOMER,
        body_text="Bilde igjen",
        body_html=other.body_html,  # refers to a cid only the first message has
        html_is_sanitised=True,
    )
    client.force_login(agent)
    html = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    url = reverse("cases:attachment", args=[case.number, other.attachments.get().pk])
    assert html.count(f'src="{url}"') == 1
    assert "data-missing-cid" in html


def test_quoted_history_is_present_but_collapsed(client, agent, mailbox, mail):
    raw = mail(
        body="Takk, det hjalp.\n\nDen 3. mars 2025 kl. 10:00 skrev Kundeservice:\n"
        "> Prøv å starte ruteren på nytt.\n"
    )
    case = ingest(raw, mailbox=mailbox).case
    message = case.messages.get()
    assert "ruteren" not in message.body_text
    client.force_login(agent)
    html = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    quoted = re.search(r"<details class=\"msg-quoted\"[^>]*>(.*?)</details>", html, re.S)
    assert quoted is not None
    assert "open" not in quoted.group(0).split(">")[0]
    assert "ruteren på nytt" in quoted.group(1)


def test_header_lists_ccd_people_and_follow_up_shows_how_it_was_threaded(
    client, agent, mailbox, mail
):
    first = mail(cc="Lise Regnskap <lise@kunde.no>")
    case = ingest(first, mailbox=mailbox).case
    ingest(
        mail(subject="Re: Faktura stemmer ikke", in_reply_to=message_id_of(first)), mailbox=mailbox
    )
    client.force_login(agent)
    html = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    header = html[
        html.index('id="case-header"') : html.index("</header>", html.index('id="case-header"'))
    ]
    assert "lise@kunde.no" in header
    assert "Lise Regnskap" in header
    assert html.count('class="msg-threading') == 1
    assert "In-Reply-To" in html


# --- quoted history in the HTML view ------------------------------------------------------------
# Outlook's reply history is no <blockquote>: the view has to find it by its header block.

OUTLOOK_DESKTOP_TEXT = """Hei,

Takk, nå virker ruteren igjen.

Mvh Per

Fra: Firma kundeservice <kundeservice@firma.no>
Sendt: mandag 3. mars 2025 10:00
Til: Per Kunde <per@kunde.no>
Emne: SV: Ruteren virker ikke

Prøv å starte ruteren på nytt.
"""

# Outlook for Windows (Word as the editor): the history sits in the same WordSection1 div as
# the new text, after a div with a top border.
OUTLOOK_DESKTOP_HTML = """<html xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;} --></style>
</head>
<body lang="NO-BOK" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
<p class="MsoNormal">Hei,<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Takk, n&aring; virker ruteren igjen.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Mvh Per<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<div>
<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p class="MsoNormal"><b>Fra:</b> Firma kundeservice &lt;kundeservice@firma.no&gt; <br>
<b>Sendt:</b> mandag 3. mars 2025 10:00<br>
<b>Til:</b> Per Kunde &lt;per@kunde.no&gt;<br>
<b>Emne:</b> SV: Ruteren virker ikke<o:p></o:p></p>
</div>
</div>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Pr&oslash;v &aring; starte ruteren p&aring; nytt.<o:p></o:p></p>
</div>
</body>
</html>"""

# Outlook on the web (and the new Outlook for Windows), Norwegian.
OWA_NB_HTML = """<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>
</head>
<body dir="ltr">
<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">
Hei igjen, fakturaen er fortsatt feil.</div>
<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">
<br>
</div>
<div id="appendonsend"></div>
<hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>Fra:</b> Firma kundeservice &lt;kundeservice@firma.no&gt;<br>
<b>Sendt:</b> mandag 3. mars 2025 10:00<br>
<b>Til:</b> Per Kunde &lt;per@kunde.no&gt;<br>
<b>Emne:</b> SV: Faktura stemmer ikke</font>
<div>&nbsp;</div>
</div>
<div>
<div dir="ltr">Hei Per, vi har sendt en kreditnota.</div>
</div>
</body>
</html>"""

OWA_NB_TEXT = """Hei igjen, fakturaen er fortsatt feil.

________________________________
Fra: Firma kundeservice <kundeservice@firma.no>
Sendt: mandag 3. mars 2025 10:00
Til: Per Kunde <per@kunde.no>
Emne: SV: Faktura stemmer ikke

Hei Per, vi har sendt en kreditnota.
"""


def _english(text: str) -> str:
    for nb, en in [
        ("Fra:", "From:"),
        ("Sendt:</b> mandag 3. mars 2025 10:00", "Sent:</b> Monday, March 3, 2025 10:00 AM"),
        ("Sendt: mandag 3. mars 2025 10:00", "Sent: Monday, March 3, 2025 10:00 AM"),
        ("Til:", "To:"),
        ("Emne:", "Subject:"),
        ("SV:", "RE:"),
        ("Hei igjen, fakturaen er fortsatt feil.", "Hi again, the invoice is still wrong."),
    ]:
        text = text.replace(nb, en)
    return text


GMAIL_TEXT = """Takk, det hjalp!

man. 3. mars 2025 kl. 10:00 skrev Firma kundeservice <kundeservice@firma.no>:

> Prøv å starte ruteren på nytt.
"""

GMAIL_HTML = (
    '<div dir="ltr">Takk, det hjalp!</div><br><div class="gmail_quote gmail_quote_container">'
    '<div dir="ltr" class="gmail_attr">man. 3. mars 2025 kl. 10:00 skrev Firma kundeservice '
    '&lt;<a href="mailto:kundeservice@firma.no">kundeservice@firma.no</a>&gt;:<br></div>'
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
    'rgb(204,204,204);padding-left:1ex"><div dir="ltr">Prøv å starte ruteren på nytt.</div>'
    "</blockquote></div>\n"
)

NO_HISTORY_TEXT = "Hei, fakturaen min er feil. Kan dere sjekke?\n\nMvh Per\n"
NO_HISTORY_HTML = (
    '<div dir="ltr">Hei, fakturaen min er feil. Kan dere sjekke?<div><br></div>'
    "<div>Mvh Per</div></div>\n"
)


class _MessageHTML(HTMLParser):
    """The text of each email's HTML view on the case page, split into what an agent sees and
    what the page collapses (under a <blockquote> or QUOTED_CLASS) until "show quoted text"."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []
        self.collapsed: list[str] = []
        self._stack: list[tuple[bool, bool]] = []  # (in the HTML view, collapsed) per element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        inside, collapsed = self._stack[-1] if self._stack else (False, False)
        if tag in ("br", "hr", "img", "meta", "link", "input", "wbr"):
            return
        self._stack.append(
            (
                inside or "msg-html" in classes,
                collapsed or (inside and (tag == "blockquote" or QUOTED_CLASS in classes)),
            )
        )

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        inside, collapsed = self._stack[-1] if self._stack else (False, False)
        if inside and data.strip():
            (self.collapsed if collapsed else self.shown).append(" ".join(data.split()))


def html_view(page: str) -> tuple[str, str]:
    parser = _MessageHTML()
    parser.feed(page)
    parser.close()
    return " ".join(parser.shown), " ".join(parser.collapsed)


def case_page(client, agent, case) -> str:
    client.force_login(agent)
    return client.get(reverse("cases:detail", args=[case.number])).content.decode()


@pytest.mark.parametrize(
    ("text", "html", "new_text", "history"),
    [
        pytest.param(
            OUTLOOK_DESKTOP_TEXT,
            OUTLOOK_DESKTOP_HTML,
            ["Hei,", "Takk, nå virker ruteren igjen.", "Mvh Per"],
            ["Fra:", "Sendt:", "Emne:", "SV: Ruteren virker ikke", "starte ruteren på nytt"],
            id="outlook-desktop-nb",
        ),
        pytest.param(
            OWA_NB_TEXT,
            OWA_NB_HTML,
            ["Hei igjen, fakturaen er fortsatt feil."],
            ["Fra:", "Sendt:", "Emne:", "SV: Faktura stemmer ikke", "sendt en kreditnota"],
            id="owa-nb",
        ),
        pytest.param(
            _english(OWA_NB_TEXT),
            _english(OWA_NB_HTML),
            ["Hi again, the invoice is still wrong."],
            ["From:", "Sent:", "Subject:", "RE: Faktura stemmer ikke", "sendt en kreditnota"],
            id="owa-en",
        ),
        pytest.param(
            _english(OUTLOOK_DESKTOP_TEXT),
            _english(OUTLOOK_DESKTOP_HTML),
            ["Takk, nå virker ruteren igjen."],
            ["From:", "Sent:", "Subject:", "starte ruteren på nytt"],
            id="outlook-desktop-en",
        ),
        pytest.param(
            GMAIL_TEXT,
            GMAIL_HTML,
            ["Takk, det hjalp!"],
            ["man. 3. mars 2025 kl. 10:00 skrev", "starte ruteren på nytt"],
            id="gmail-nb",
        ),
    ],
)
def test_html_reply_history_is_collapsed_and_the_new_text_shown(
    client, agent, mailbox, mail, text, html, new_text, history
):
    case = ingest(mail(body=text, html=html), mailbox=mailbox).case
    page = case_page(client, agent, case)
    shown, collapsed = html_view(page)
    for words in new_text:
        assert words in shown
        assert words not in collapsed
    for words in history:
        assert words in collapsed
        assert words not in shown
    assert "data-toggle-quoted" in page  # the "show quoted text" button


def test_reply_without_history_is_shown_whole(client, agent, mailbox, mail):
    case = ingest(mail(body=NO_HISTORY_TEXT, html=NO_HISTORY_HTML), mailbox=mailbox).case
    page = case_page(client, agent, case)
    shown, collapsed = html_view(page)
    assert "Kan dere sjekke?" in shown
    assert "Mvh Per" in shown
    assert collapsed == ""
    assert QUOTED_CLASS not in page
    assert "data-toggle-quoted" not in page


def test_history_at_the_very_top_is_not_collapsed(client, agent, mailbox, mail):
    """A bare forward: nothing new above the header block, so the history is the content."""
    forward_html = OWA_NB_HTML.replace("Hei igjen, fakturaen er fortsatt feil.", "")
    forward_text = OWA_NB_TEXT.replace("Hei igjen, fakturaen er fortsatt feil.", "")
    case = ingest(mail(body=forward_text, html=forward_html), mailbox=mailbox).case
    page = case_page(client, agent, case)
    shown, collapsed = html_view(page)
    assert "Emne:" in shown
    assert "sendt en kreditnota" in shown
    assert collapsed == ""
    assert QUOTED_CLASS not in page
    # Intake found no history in the text either, so the page did not even look; the HTML
    # itself would not be cut either.
    assert collapse_history(case.messages.get().body_html) is None


def test_collapsing_only_adds_the_class_and_loses_no_text():
    from skranke.mail.parsing import sanitise_html

    body = sanitise_html(OUTLOOK_DESKTOP_HTML)
    collapsed = collapse_history(body)
    assert collapsed is not None
    marks = re.compile(rf' class="{QUOTED_CLASS}"|<span class="{QUOTED_CLASS}">')
    assert marks.sub("", collapsed) == body  # Outlook's history is whole elements: no spans

    # Text in the middle of an element (a plain reply in one <div>, or <pre>) gets a span.
    for body in [
        "<div>Takk &amp; hilsen<br><br>On Mon, 3 Mar 2025 at 10:00, Kari &lt;kari@firma.no&gt;"
        " wrote:<br><blockquote>Prøv igjen</blockquote></div>",
        "<pre>Takk, det hjalp &amp; mer.\n\nDen 3. mars 2025 kl. 10:00 skrev Kari "
        "&lt;kari@firma.no&gt;:\n&gt; Prøv å starte ruteren på nytt.\n</pre>",
    ]:
        collapsed = collapse_history(body)
        assert collapsed is not None
        shown, hidden = html_view(f'<div class="msg-html">{collapsed}</div>')
        assert shown.startswith("Takk") and "Prøv" in hidden and "Prøv" not in shown
        assert marks.sub("", collapsed).replace("</span>", "") == body


def test_deeply_nested_html_does_not_break_the_page():
    body = (
        "<p>Hei</p>"
        + "<div>" * 5000
        + "<b>From:</b> Ola &lt;ola@x.no&gt;<br><b>Sent:</b> Monday, March 3, 2025 10:00 AM"
        + "<br><b>To:</b> Per<br><b>Subject:</b> Tilbud"
        + "</div>" * 5000
    )
    collapsed = collapse_history(body)
    assert collapsed is not None
    assert collapsed.startswith(f'<p>Hei</p><div class="{QUOTED_CLASS}"><div>')


def test_the_stylesheet_hides_the_collapsed_history():
    stylesheet = finders.find("skranke/desk.css")
    assert stylesheet is not None
    with open(stylesheet, encoding="utf-8") as handle:
        css = handle.read()
    # Hidden inside an email's HTML view until the message is "quoted-open" (desk.js).
    rule = (
        rf"\.msg:not\(\.quoted-open\)\s+\.msg-html\s+\.{QUOTED_CLASS}\b"
        r"[^{]*\{[^}]*display:\s*none"
    )
    assert re.search(rule, css)
