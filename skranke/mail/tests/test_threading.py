from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from skranke.cases.actions import add_message, update_case
from skranke.cases.models import Case, CaseLink, LinkKind, MessageKind, Status
from skranke.mail.intake import ingest
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def first(mailbox, mail):
    return ingest(mail(), mailbox=mailbox)


def _decision(result):
    return result.message.metadata["email"]["threaded_by"], result.message.metadata["email"][
        "reason"
    ]


def test_case_number_token_in_subject(first, mailbox, mail):
    result = ingest(mail(subject=f"Re: noe helt annet [#{first.case.number}]"), mailbox=mailbox)
    assert result.case == first.case
    assert _decision(result)[0] == "case_number"
    assert result.inbound.threaded_by == "case_number"


def test_plus_address_recipient(first, mailbox, mail):
    result = ingest(
        mail(subject="Et nytt emne", to=f"kundeservice+c{first.case.number}@firma.no"),
        mailbox=mailbox,
    )
    assert result.case == first.case
    assert _decision(result)[0] == "reply_address"


def test_in_reply_to_customer_message(first, mailbox, mail):
    original = first.message.external_id
    result = ingest(mail(subject="Hva nå?", in_reply_to=original), mailbox=mailbox)
    assert result.case == first.case
    assert _decision(result) == ("in_reply_to", f"In-Reply-To <{original}>")


def test_references_to_our_reply(first, mailbox, mail, agent):
    reply = add_message(first.case, kind=MessageKind.REPLY, actor=agent, body_text="Hei")
    result = ingest(
        mail(subject="Takk", in_reply_to="unknown@x", references=["unknown@y", reply.external_id]),
        mailbox=mailbox,
    )
    assert result.case == first.case
    assert _decision(result)[0] == "references"


def _thread_index(guid: bytes, replies: int) -> str:
    header = (132000000000000000 >> 16).to_bytes(6, "big") + guid
    return base64.b64encode(header + b"\x01\x02\x03\x04\x05" * replies).decode()


def test_outlook_thread_index(mailbox, mail):
    guid = bytes(range(16))
    first = ingest(
        mail(subject="Outlook", headers={"Thread-Index": _thread_index(guid, 0)}), mailbox=mailbox
    )
    result = ingest(
        mail(subject="Noe annet", headers={"Thread-Index": _thread_index(guid, 1)}),
        mailbox=mailbox,
    )
    assert result.case == first.case
    assert _decision(result)[0] == "thread_index"


def test_guarded_subject_match(first, mailbox, mail):
    result = ingest(
        mail(subject="SV: Faktura stemmer ikke", message_id="new@kunde.no"), mailbox=mailbox
    )
    assert result.case == first.case
    assert _decision(result)[0] == "subject"


def test_subject_match_needs_a_reply_prefix(first, mailbox, mail):
    result = ingest(mail(subject="Faktura stemmer ikke"), mailbox=mailbox)
    assert result.case != first.case
    assert result.threaded_by is None


def test_subject_match_needs_the_same_customer(first, mailbox, mail):
    result = ingest(
        mail(sender="Annen <annen@kunde.no>", subject="SV: Faktura stemmer ikke"), mailbox=mailbox
    )
    assert result.case != first.case


def test_subject_match_not_on_old_cases(first, mailbox, mail):
    Case.objects.filter(pk=first.case.pk).update(updated_at=timezone.now() - timedelta(days=30))
    result = ingest(mail(subject="SV: Faktura stemmer ikke"), mailbox=mailbox)
    assert result.case != first.case


def test_unknown_case_number_starts_a_new_case(mailbox, mail):
    result = ingest(mail(subject="Re: [#777777] hei"), mailbox=mailbox)
    assert result.status == "created"
    assert result.threaded_by is None


def test_reply_to_solved_case_within_window_reopens_it(first, mailbox, mail):
    update_case(first.case, status=Status.SOLVED)
    result = ingest(mail(in_reply_to=first.message.external_id), mailbox=mailbox)
    assert result.case == first.case
    result.case.refresh_from_db()
    assert result.case.status == Status.OPEN
    assert "reopened" in _decision(result)[1]


def test_reply_to_closed_case_opens_a_linked_case(first, mailbox, mail):
    update_case(first.case, status=Status.CLOSED)
    result = ingest(mail(in_reply_to=first.message.external_id), mailbox=mailbox)
    assert result.status == "created"
    assert result.case != first.case
    assert result.threaded_by == "in_reply_to"
    link = CaseLink.objects.get(from_case=result.case)
    assert link.to_case == first.case and link.kind == LinkKind.FOLLOW_UP
    assert result.message.metadata["email"]["follow_up_of"] == first.case.number


def test_reply_to_solved_case_after_window_opens_a_linked_case(first, mailbox, mail):
    update_case(first.case, status=Status.SOLVED)
    Case.objects.filter(pk=first.case.pk).update(
        solved_at=timezone.now() - timedelta(days=mailbox.reopen_window_days + 1)
    )
    result = ingest(mail(subject=f"Re: [#{first.case.number}]"), mailbox=mailbox)
    assert result.case != first.case
    assert CaseLink.objects.filter(from_case=result.case, to_case=first.case).exists()


def test_reply_to_merged_case_goes_to_the_target(first, mailbox, mail, team):
    from skranke.cases.actions import create_case, merge_cases

    original_id = first.message.external_id
    target = create_case(customer=first.case.customer, subject="Mål", team=team, body_text="x")
    merge_cases(first.case, target)
    result = ingest(mail(in_reply_to=original_id), mailbox=mailbox)
    assert result.case == target


def test_cc_from_a_reply_is_added_to_the_case(first, mailbox, mail):
    ingest(
        mail(subject=f"Re: [#{first.case.number}]", cc="Ny Person <ny@kunde.no>"),
        mailbox=mailbox,
    )
    first.case.refresh_from_db()
    assert [c["address"] for c in first.case.metadata["email"]["cc"]] == ["ny@kunde.no"]


def test_auto_reply_to_closed_case_is_filed_there(first, mailbox, mail):
    update_case(first.case, status=Status.CLOSED)
    result = ingest(
        mail(
            subject="Automatisk svar: Faktura stemmer ikke",
            in_reply_to=first.message.external_id,
            headers={"Auto-Submitted": "auto-replied"},
        ),
        mailbox=mailbox,
    )
    assert result.case == first.case
    result.case.refresh_from_db()
    assert result.case.status == Status.CLOSED
    assert Case.objects.count() == 1
