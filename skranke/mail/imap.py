"""IMAP polling: fetch new mail, hand each message to ``ingest``, then mark it on the server.

The order is what makes it safe: a message is flagged (or moved) only after ``ingest`` has
committed its case, and ``ingest`` recognises a message it already has. A crash between the
two leaves an unflagged message that the next poll finds, recognises and only flags.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from skranke.mail.intake import IntakeError, UnparseableMessage, ingest
from skranke.mail.models import InboundEmail, Mailbox, Security
from skranke.mail.oauth import access_token

logger = logging.getLogger(__name__)

# Our own keywords, so a person reading the same mailbox in Outlook can still use \Seen and
# \Flagged. Servers that allow no keywords get \Seen instead.
IMPORTED_KEYWORD = b"$SkrankeImported"
REJECTED_KEYWORD = b"$SkrankeRejected"
BATCH = 50  # mails fetched per IMAP command
IDLE_SECONDS = 5 * 60  # RFC 2177: re-issue IDLE well before the 30-minute server timeout
POLL_SECONDS = 60


@dataclass
class PollReport:
    imported: int = 0
    skipped: int = 0  # already in Skranke (only flagged now)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def connect(mailbox: Mailbox, *, timeout: float = 60) -> IMAPClient:
    context = ssl.create_default_context()
    client = IMAPClient(
        mailbox.imap_host,
        port=mailbox.imap_port,
        ssl=mailbox.imap_security == Security.SSL,
        ssl_context=context,
        timeout=timeout,
    )
    try:
        if mailbox.imap_security == Security.STARTTLS:
            client.starttls(context)
        username = mailbox.imap_username or mailbox.address
        if mailbox.oauth2_access_token or mailbox.oauth2_refresh_token:
            _oauth2_login(client, mailbox, username)
        else:
            client.login(username, mailbox.imap_password)
    except Exception:
        _logout(client)
        raise
    return client


def _oauth2_login(client: IMAPClient, mailbox: Mailbox, username: str) -> None:
    """XOAUTH2 login. A token refused before its expiry (revoked, or issued before a change
    of permissions) is renewed once and tried once more, on the same connection."""
    token = access_token(mailbox)
    try:
        client.oauth2_login(username, token)
    except LoginError:
        if not mailbox.oauth2_refresh_token:
            raise
        renewed = access_token(mailbox, force_refresh=True)
        if renewed == token:
            raise
        client.oauth2_login(username, renewed)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is being thrown away anyway
        pass


class _Folder:
    """The selected folder and how we mark what we have taken in."""

    def __init__(self, client: IMAPClient, mailbox: Mailbox) -> None:
        info = client.select_folder(mailbox.imap_folder)
        self.client = client
        self.mailbox = mailbox
        self.uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        permanent = info.get(b"PERMANENTFLAGS", ())
        self.keywords = b"\\*" in permanent
        self.can_move = client.has_capability("MOVE")

    def pending_uids(self) -> list[int]:
        if self.keywords:
            criteria: list[object] = [
                "NOT",
                "KEYWORD",
                IMPORTED_KEYWORD,
                "NOT",
                "KEYWORD",
                REJECTED_KEYWORD,
            ]
        else:
            criteria = ["UNSEEN"]
        return sorted(int(uid) for uid in self.client.search(criteria))

    def mark_done(self, uids: list[int], *, rejected: bool = False) -> None:
        if not uids:
            return
        if self.mailbox.processed_folder and not rejected:
            if self.can_move:
                self.client.move(uids, self.mailbox.processed_folder)
            else:
                self.client.copy(uids, self.mailbox.processed_folder)
                self.client.delete_messages(uids)
                self.client.expunge(uids)
            return
        if self.keywords:
            self.client.add_flags(uids, [REJECTED_KEYWORD if rejected else IMPORTED_KEYWORD])
        else:
            self.client.add_flags(uids, [b"\\Seen"])


def poll_mailbox(mailbox: Mailbox, client: IMAPClient | None = None) -> PollReport:
    """One pass over the mailbox's folder. Opens (and closes) a connection unless given one."""
    own = client is None
    report = PollReport()
    try:
        if client is None:
            client = connect(mailbox)
        folder = _Folder(client, mailbox)
        uids = folder.pending_uids()
        for start in range(0, len(uids), BATCH):
            _take_in(folder, uids[start : start + BATCH], report)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=timezone.now(), last_error="\n".join(report.errors)[:2000]
        )
    except Exception as error:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=timezone.now(), last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    finally:
        if own and client is not None:
            _logout(client)
    return report


def _take_in(folder: _Folder, uids: list[int], report: PollReport) -> None:
    known = {
        uid
        for uid in InboundEmail.objects.filter(
            mailbox=folder.mailbox, imap_uidvalidity=folder.uidvalidity, imap_uid__in=uids
        ).values_list("imap_uid", flat=True)
        if uid is not None
    }
    if known:
        folder.mark_done(sorted(known))
        report.skipped += len(known)
    wanted = [uid for uid in uids if uid not in known]
    if not wanted:
        return
    fetched = folder.client.fetch(wanted, ["BODY.PEEK[]"])
    for uid in wanted:
        raw = fetched.get(uid, {}).get(b"BODY[]")
        if raw is None:
            continue  # expunged meanwhile
        # One transaction per mail, on purpose: a batch transaction would hold the case-number
        # counter and the cases' row locks for the whole batch, stalling every other writer
        # (and deadlocking two pollers that touch the same cases).
        try:
            result = ingest(
                bytes(raw),
                mailbox=folder.mailbox,
                source="imap",
                imap_uid=uid,
                imap_uidvalidity=folder.uidvalidity,
            )
        except (UnparseableMessage, IntakeError) as error:
            logger.warning("%s UID %s rejected: %s", folder.mailbox.address, uid, error)
            report.rejected += 1
            report.errors.append(f"UID {uid}: {error}")
            folder.mark_done([uid], rejected=True)
            continue
        except DatabaseError:
            raise  # the database is away: stop here, every message stays for the next poll
        except Exception as error:
            # A bug on one message must not block the mailbox: leave it unflagged (it is
            # retried on every poll and shows in the mailbox's last error) and go on.
            logger.exception("%s UID %s could not be taken in", folder.mailbox.address, uid)
            report.errors.append(f"UID {uid}: {type(error).__name__}: {error}")
            continue
        # ingest has committed; only now may the server forget about the message.
        folder.mark_done([uid])
        if result.status == "duplicate":
            report.skipped += 1
        else:
            report.imported += 1


def _watch(mailbox: Mailbox, stop: threading.Event, idle: bool) -> None:
    backoff = 5.0
    while not stop.is_set():
        client = None
        try:
            close_old_connections()
            client = connect(mailbox)
            supports_idle = idle and client.has_capability("IDLE")
            backoff = 5.0
            while not stop.is_set():
                report = poll_mailbox(mailbox, client)
                if report.imported or report.rejected:
                    logger.info(
                        "%s: %d imported, %d skipped, %d rejected",
                        mailbox.address,
                        report.imported,
                        report.skipped,
                        report.rejected,
                    )
                if supports_idle:
                    client.idle()
                    try:
                        client.idle_check(timeout=IDLE_SECONDS)
                    finally:
                        client.idle_done()
                else:
                    stop.wait(POLL_SECONDS)
        except Exception:
            logger.exception("IMAP %s failed; reconnecting in %.0f s", mailbox.address, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 300)
        finally:
            if client is not None:
                _logout(client)


def poll_forever(
    mailboxes: Iterable[Mailbox], *, idle: bool = True, stop: threading.Event | None = None
) -> None:
    """One watcher thread per mailbox; IDLE where the server supports it, else a 1-minute poll."""
    stop = stop or threading.Event()
    threads = [
        threading.Thread(target=_watch, args=(m, stop, idle), name=f"imap-{m.address}", daemon=True)
        for m in mailboxes
    ]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads) and not stop.is_set():
            time.sleep(1)
    except KeyboardInterrupt:
        stop.set()
