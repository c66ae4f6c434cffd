"""The acknowledgement's retry path against a real SMTP server (aiosmtpd) and the database task
backend: a temporary refusal is retried later, with backoff, and the receipt arrives once; a
permanent refusal gives up at once; a retry that runs after the receipt went out sends nothing.

Queued tasks are run the way the database worker runs them (``Worker.run_task``), once the
clock has reached their ``run_after``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email import message_from_bytes

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max

from skranke.mail.intake import ingest
from skranke.mail.models import InboundEmail
from skranke.mail.tasks import RETRY_DELAYS, send_acknowledgement
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]

TRY_AGAIN = "451 4.3.0 try again"
NO_SUCH_USER = "550 5.1.1 <per@kunde.no>: Recipient address rejected: User unknown"


class Refusing:
    """An aiosmtpd handler that answers ``reply`` to the first ``refusals`` attempts, at RCPT
    or after DATA, and accepts (250) after that."""

    def __init__(self, reply: str, *, refusals: int, at: str) -> None:
        self.reply = reply
        self.refusals = refusals
        self.at = at
        self.attempts = 0
        self.delivered: list[tuple[list[str], bytes]] = []

    def _refuse(self, phase: str) -> bool:
        if phase != self.at:
            return False
        self.attempts += 1
        return self.attempts <= self.refusals

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._refuse("RCPT"):
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._refuse("DATA"):
            return self.reply
        self.delivered.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    """Start a real SMTP server with the given handler; the site's default mailer sends to it."""
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    controllers = []

    def start(handler: Refusing) -> Refusing:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
            }
        }
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def inbound(mailbox, mail, django_capture_on_commit_callbacks) -> InboundEmail:
    """A new case from a customer's mail; intake queues its acknowledgement."""
    mailbox.send_acknowledgement = True
    mailbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(mail(), mailbox=mailbox)
    assert result.status == "created"
    return result.inbound


WORKER = Worker(
    queue_names=["*"],
    interval=0,
    batch=True,
    backend_name="default",
    startup_delay=False,
    max_tasks=None,
    worker_id="test-ack-retry",
    excluded_queue_names=[],
)


def ready() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status=TaskResultStatus.READY))


def due_at(moment: datetime) -> list[DBTaskResult]:
    """The queued tasks the worker would pick up at ``moment`` (run_after unset means now)."""
    return [row for row in ready() if row.run_after == get_date_max() or row.run_after <= moment]


def run_next(moment: datetime) -> str:
    """Run the one task due at ``moment`` as the database worker does; its return value."""
    (row,) = due_at(moment)
    WORKER.run_task(row)
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL, row.traceback
    return row.return_value


def assert_close(moment: datetime, expected: datetime) -> None:
    assert abs(moment - expected) < timedelta(seconds=30), (moment, expected)


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
def test_temporary_refusal_is_retried_with_backoff_and_delivered_once(smtp, inbound, at):
    server = smtp(Refusing(TRY_AGAIN, refusals=2, at=at))
    now = timezone.now()

    # The intake's task: refused, so a retry is queued a minute later.
    assert run_next(now) == "retrying"
    assert server.delivered == []
    (retry,) = ready()
    assert retry.args_kwargs["args"] == [inbound.pk, 2]
    assert_close(retry.run_after, now + RETRY_DELAYS[0])
    assert due_at(now) == []  # not before its time

    # Refused again: the next try waits longer.
    assert run_next(retry.run_after) == "retrying"
    (retry,) = ready()
    assert retry.args_kwargs["args"] == [inbound.pk, 3]
    assert_close(retry.run_after, now + RETRY_DELAYS[1])
    assert server.delivered == []

    # The third attempt is accepted: the receipt arrives once, and nothing more is queued.
    assert run_next(retry.run_after) == "sent"
    assert server.attempts == 3
    assert len(server.delivered) == 1
    recipients, content = server.delivered[0]
    assert recipients == ["per@kunde.no"]
    receipt = message_from_bytes(content)
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert f"[#{inbound.case.number}]" in receipt["Subject"]
    assert ready() == []
    # Recorded on the customer's message it answers, which is what stops a second one.
    inbound.case_message.refresh_from_db()
    recorded = inbound.case_message.metadata["email"]["acknowledgement"]
    assert f"<{recorded['id']}>" == receipt["Message-ID"]


def test_temporary_refusals_give_up_after_the_last_delay(smtp, inbound, caplog):
    server = smtp(Refusing(TRY_AGAIN, refusals=100, at="RCPT"))
    moment = timezone.now()
    for delay in RETRY_DELAYS:
        # The worker runs each retry when its time has come; the next is due ``delay`` later.
        assert run_next(moment) == "retrying"
        (retry,) = ready()
        assert_close(retry.run_after, timezone.now() + delay)
        moment = retry.run_after
    with caplog.at_level(logging.WARNING, logger="skranke.mail.tasks"):
        assert run_next(moment) == "failed"
    assert server.attempts == len(RETRY_DELAYS) + 1
    assert server.delivered == []
    assert ready() == []
    assert "451 4.3.0 try again" in caplog.text


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
def test_permanent_refusal_gives_up_at_once(smtp, inbound, caplog, at):
    server = smtp(Refusing(NO_SUCH_USER, refusals=100, at=at))
    with caplog.at_level(logging.WARNING, logger="skranke.mail.tasks"):
        assert run_next(timezone.now()) == "failed"
    assert server.attempts == 1
    assert server.delivered == []
    assert ready() == []  # no retry
    # The code records the failure in the log only (the case shows nothing).
    (record,) = [r for r in caplog.records if r.name == "skranke.mail.tasks"]
    assert record.levelno == logging.WARNING
    assert f"Acknowledgement for {inbound.pk} not sent" in record.getMessage()
    assert "550 5.1.1" in record.getMessage()


def test_a_retry_after_the_receipt_went_out_sends_nothing(smtp, inbound):
    server = smtp(Refusing(TRY_AGAIN, refusals=0, at="RCPT"))
    assert run_next(timezone.now()) == "sent"
    assert len(server.delivered) == 1

    # The same task again (a retry queued twice, or run again after a worker restart): the
    # customer already has the receipt.
    send_acknowledgement.enqueue(inbound.pk, 2)
    assert run_next(timezone.now()) == "skipped"
    assert send_acknowledgement.call(inbound.pk) == "skipped"
    assert len(server.delivered) == 1
    assert ready() == []
