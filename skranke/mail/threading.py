"""Which case does an incoming mail belong to? The database side of threading.

Rules are tried in order of trust, and the first that finds a case wins:

1. ``case_number`` – a ``[#12345]`` token in the subject (we put it in every mail we send);
   ``reply_address`` – a per-case address such as ``support+c12345@…`` among the recipients.
2. ``in_reply_to`` / ``references`` – a Message-ID we have stored (the customer's earlier mail
   or a reply we sent).
3. ``thread_index`` – Outlook's conversation id, for mail whose headers a gateway stripped.
4. ``subject`` – guarded: the message must look like a reply (a "Re:"/"SV:" prefix or reply
   headers), come from the same customer, and match exactly one active case of the mailbox's
   team updated within ``SUBJECT_WINDOW``.

A match on a closed case (or a solved one outside the mailbox's reopen window) is not joined:
the caller opens a new case linked to it. The rule and a human-readable reason are returned
so they can be recorded on the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from skranke.cases.models import ACTIVE_STATUSES, Case, Message, MessageKind, Status
from skranke.customers.models import Customer
from skranke.mail.models import InboundEmail, Mailbox
from skranke.mail.parsing import ParsedMessage
from skranke.mail.threading_keys import extract_case_number, normalise_subject, parse_plus_address

# How far back the guarded subject match looks. Short on purpose: "Faktura" from the same
# customer a month later is a new question.
SUBJECT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ThreadDecision:
    case: Case | None  # the case to add the message to; None: open a new case
    threaded_by: str | None  # the rule that matched, or None
    reason: str
    follow_up_of: Case | None = None  # matched a closed case: link the new case to it

    def as_metadata(self) -> dict[str, object]:
        data: dict[str, object] = {"threaded_by": self.threaded_by, "reason": self.reason}
        if self.follow_up_of is not None:
            data["follow_up_of"] = self.follow_up_of.number
        return data


def _follow_merges(case: Case) -> Case:
    seen: set[int] = set()
    while case.merged_into_id and case.pk not in seen:
        seen.add(case.pk)
        case = Case.objects.get(pk=case.merged_into_id)
    return case


def _by_number(number: int) -> Case | None:
    case = Case.objects.filter(number=number).first()
    return _follow_merges(case) if case else None


def _by_message_ids(ids: Iterable[str]) -> tuple[Case, str] | None:
    wanted = [i for i in ids if i]
    if not wanted:
        return None
    # The case comes along in the same query (a reply's case is almost always live).
    found = {
        m.external_id: m.case
        for m in Message.objects.filter(external_id__in=wanted)
        .exclude(kind=MessageKind.NOTE)
        .select_related("case")
        .only("external_id", "case")
        .order_by("id")
    }
    for message_id in wanted:
        if message_id in found:
            return _follow_merges(found[message_id]), message_id
    return None


def _decide_on(case: Case, rule: str, reason: str, mailbox: Mailbox | None) -> ThreadDecision:
    """Join ``case`` unless it is done; a done case gets a new, linked case instead."""
    if case.status in ACTIVE_STATUSES:
        return ThreadDecision(case, rule, reason)
    window = timedelta(days=mailbox.reopen_window_days if mailbox else 14)
    solved_at = case.solved_at or case.updated_at
    if case.status == Status.SOLVED and timezone.now() - solved_at <= window:
        return ThreadDecision(case, rule, f"{reason}; solved case reopened")
    return ThreadDecision(
        None,
        rule,
        f"{reason}; case #{case.number} is {case.status}, so a new linked case was opened",
        follow_up_of=case,
    )


def resolve_thread(
    parsed: ParsedMessage,
    *,
    mailbox: Mailbox | None,
    recipients: Iterable[str] = (),
    customer: Customer | None = None,
) -> ThreadDecision:
    """Find the case this message continues, or decide that it starts a new one."""
    number = extract_case_number(parsed.subject)
    if number is not None:
        case = _by_number(number)
        if case is not None:
            return _decide_on(case, "case_number", f"subject carries [#{number}]", mailbox)

    for address in recipients:
        plus = parse_plus_address(address)
        if plus.case_number is not None and (
            mailbox is None or plus.base_address == mailbox.address
        ):
            case = _by_number(plus.case_number)
            if case is not None:
                return _decide_on(case, "reply_address", f"sent to {address}", mailbox)

    if parsed.in_reply_to:
        hit = _by_message_ids([parsed.in_reply_to])
        if hit:
            return _decide_on(hit[0], "in_reply_to", f"In-Reply-To <{hit[1]}>", mailbox)
    if parsed.references:
        # Newest reference first: the message the customer actually answered.
        hit = _by_message_ids(reversed(parsed.references))
        if hit:
            return _decide_on(hit[0], "references", f"References <{hit[1]}>", mailbox)

    if parsed.thread_index is not None and parsed.thread_index.depth > 0:
        earlier = (
            InboundEmail.objects.filter(
                mailbox=mailbox,
                conversation_id=parsed.thread_index.conversation_id,
                case__isnull=False,
            )
            .order_by("-received_at")
            .values_list("case_id", flat=True)
            .first()
        )
        if earlier:
            case = _follow_merges(Case.objects.get(pk=earlier))
            return _decide_on(
                case, "thread_index", "same Outlook conversation (Thread-Index)", mailbox
            )

    return _subject_match(parsed, mailbox=mailbox, customer=customer)


def _subject_match(
    parsed: ParsedMessage, *, mailbox: Mailbox | None, customer: Customer | None
) -> ThreadDecision:
    key = normalise_subject(parsed.subject)
    if not key or customer is None or mailbox is None:
        return ThreadDecision(None, None, "no thread found; new case")
    looks_like_reply = bool(parsed.in_reply_to or parsed.references) or (
        parsed.subject.strip().casefold() != key and ":" in parsed.subject
    )
    if not looks_like_reply:
        return ThreadDecision(None, None, "no thread found; new case")
    since = timezone.now() - SUBJECT_WINDOW
    candidates = [
        case
        for case in Case.objects.filter(
            customer=customer,
            team_id=mailbox.team_id,
            status__in=ACTIVE_STATUSES,
            updated_at__gte=since,
            merged_into__isnull=True,
        ).only("id", "number", "subject", "status", "merged_into")[:20]
        if normalise_subject(case.subject) == key
    ]
    if len(candidates) == 1:
        return ThreadDecision(candidates[0], "subject", "same sender and subject on an active case")
    if len(candidates) > 1:
        return ThreadDecision(
            None, None, f"subject matches {len(candidates)} active cases; new case to be safe"
        )
    return ThreadDecision(None, None, "no thread found; new case")
