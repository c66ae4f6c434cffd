"""``skranke mail listen``: an LMTP (or SMTP) server a mail server delivers straight into.

Thin on purpose: RCPT is answered from the mailbox table (unknown addresses are refused
there, before any data is sent), and DATA hands the bytes to ``ingest``. ``250`` is sent only
after ``ingest`` has committed the case, so an accepted message is already durable; any
failure is answered ``451`` and the mail server keeps the message and tries again, which the
dedupe in ``ingest`` makes safe.
"""

from __future__ import annotations

import logging
import signal
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from skranke.mail.intake import IntakeError, UnparseableMessage, find_mailbox, ingest

logger = logging.getLogger(__name__)


def _mailbox_for(address: str) -> int | None:
    close_old_connections()
    mailbox = find_mailbox([address])
    return mailbox.pk if mailbox else None


def _deliver(raw: bytes, recipient: str, mailbox_id: int, source: str) -> str:
    """One recipient's reply line."""
    from skranke.mail.models import Mailbox

    close_old_connections()
    try:
        mailbox = Mailbox.objects.get(pk=mailbox_id)
        result = ingest(raw, mailbox=mailbox, recipients=[recipient], source=source)
    except UnparseableMessage as error:
        return f"550 5.6.0 Message rejected: {error}"
    except IntakeError as error:
        if error.temporary:
            return f"451 4.3.0 {error.reason}; try again later"
        return f"550 5.1.1 {error.reason}"
    except Exception:
        logger.exception("Delivery to %s failed", recipient)
        return "451 4.3.0 Temporary failure storing the message; try again later"
    number = result.case.number if result.case else "-"
    return f"250 2.0.0 <{recipient}> stored (case {number})"


class IntakeHandler:
    def __init__(self, *, lmtp: bool = True) -> None:
        self.lmtp = lmtp
        self.source = "lmtp" if lmtp else "smtp"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        mailbox_id = await sync_to_async(_mailbox_for, thread_sensitive=True)(address)
        if mailbox_id is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        # Remembered for DATA, so the mailbox is looked up once per recipient.
        mailboxes: dict[str, int] = envelope.__dict__.setdefault("skranke_mailboxes", {})
        mailboxes[address] = mailbox_id
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        assert isinstance(raw, bytes)
        mailboxes: dict[str, int] = envelope.__dict__.get("skranke_mailboxes", {})
        replies: list[str] = []
        for recipient in envelope.rcpt_tos:
            replies.append(
                await sync_to_async(_deliver, thread_sensitive=True)(
                    raw, recipient, mailboxes[recipient], self.source
                )
            )
        if self.lmtp:
            # LMTP answers DATA once per recipient, in RCPT order (RFC 2033 section 4.2).
            return "\r\n".join(replies)
        failed = [r for r in replies if not r.startswith("250")]
        return failed[0] if failed else replies[0]


class _Controller(Controller):
    def __init__(self, handler: IntakeHandler, **kwargs: object) -> None:
        self.intake = handler
        super().__init__(handler, **kwargs)  # type: ignore[arg-type]

    def factory(self) -> SMTP:
        server_class = LMTP if self.intake.lmtp else SMTP
        return server_class(
            self.handler,
            data_size_limit=2 * settings.SKRANKE_MAIL_MAX_MESSAGE_BYTES,
            decode_data=False,
            hostname=self.hostname,
        )


def start(host: str = "127.0.0.1", port: int = 2424, *, lmtp: bool = True) -> Controller:
    controller = _Controller(IntakeHandler(lmtp=lmtp), hostname=host, port=port)
    controller.start()
    return controller


def serve_forever(host: str = "127.0.0.1", port: int = 2424, *, lmtp: bool = True) -> None:
    # aiosmtpd logs every command at INFO; keep that for SKRANKE_LOG_LEVEL=DEBUG.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = start(host, port, lmtp=lmtp)
    protocol = "LMTP" if lmtp else "SMTP"
    print(f"Skranke mail: {protocol} on {host}:{port} (Ctrl+C stops it)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
