"""The email channel on the case page: delivery status and retry, quoted history, inline and
remote images, CC'd people and how a mail was threaded."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.urls import reverse

from skranke.cases.actions import add_message
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
