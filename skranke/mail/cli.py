"""``skranke mail …``: ingest one message from a pipe, run the LMTP/SMTP listener, poll IMAP.

Exit codes follow sysexits(3), which is what Postfix's pipe(8) and procmail understand:
65 (EX_DATAERR) bounces a message that holds nothing usable, 67 (EX_NOUSER) bounces mail for
an address no mailbox owns, 75 (EX_TEMPFAIL) makes the mail server try again later.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOUSER = 67
EX_TEMPFAIL = 75

logger = logging.getLogger(__name__)


def _setup() -> None:
    from skranke.cli import _setup_django

    _setup_django()


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def cmd_ingest(args: argparse.Namespace) -> int:
    try:
        raw = _read_input(args.file)
    except OSError as error:
        print(f"skranke mail ingest: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return EX_USAGE
    _setup()
    from django.db import DatabaseError

    from skranke.mail.intake import IntakeError, UnparseableMessage, ingest
    from skranke.mail.models import Mailbox

    mailbox = None
    if args.mailbox:
        mailbox = Mailbox.objects.filter(address=args.mailbox.strip().lower()).first()
        if mailbox is None:
            print(f"skranke mail ingest: no mailbox {args.mailbox}", file=sys.stderr)
            return EX_NOUSER
    recipients = list(args.recipient or [])
    if not recipients and os.environ.get("ORIGINAL_RECIPIENT"):
        recipients.append(os.environ["ORIGINAL_RECIPIENT"])  # set by Postfix local(8)
    try:
        result = ingest(
            raw, mailbox=mailbox, recipients=recipients, source="pipe", dry_run=args.dry_run
        )
    except UnparseableMessage as error:
        print(f"skranke mail ingest: rejected: {error}", file=sys.stderr)
        return EX_DATAERR
    except IntakeError as error:
        print(f"skranke mail ingest: rejected: {error.reason}", file=sys.stderr)
        return EX_TEMPFAIL if error.temporary else EX_NOUSER
    except DatabaseError as error:
        print(f"skranke mail ingest: database unavailable, try again: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False, separators=(",", ":")))
    elif result.case is not None:
        print(result.case.number)
    if not args.json:
        _explain(result)
    return EX_OK


def _explain(result: Any) -> None:
    """One line on stderr for the operator; stdout stays the bare case number for scripts."""
    if result.status == "duplicate":
        print("already imported; nothing changed", file=sys.stderr)
    elif result.status in ("loop_held", "bounce_unmatched"):
        print(f"stored without a case: {result.inbound.reason}", file=sys.stderr)
    elif result.status == "dry_run":
        decision = result.decision
        where = f"case {result.case.number}" if result.case else "a new case"
        print(f"dry run: would go to {where} ({decision.reason})", file=sys.stderr)


def cmd_listen(args: argparse.Namespace) -> int:
    _setup()
    from skranke.mail.lmtp import serve_forever

    serve_forever(host=args.host, port=args.port, lmtp=not args.smtp)
    return EX_OK


def cmd_poll(args: argparse.Namespace) -> int:
    _setup()
    from skranke.mail.imap import poll_forever, poll_mailbox
    from skranke.mail.models import Mailbox

    mailboxes = Mailbox.objects.filter(enabled=True).exclude(imap_host="")
    if args.mailbox:
        mailboxes = mailboxes.filter(address=args.mailbox.strip().lower())
    if not mailboxes.exists():
        print("skranke mail poll: no enabled IMAP mailbox", file=sys.stderr)
        return EX_NOUSER
    if args.once:
        status = EX_OK
        for mailbox in mailboxes:
            try:
                report = poll_mailbox(mailbox)
            except Exception as error:
                print(f"{mailbox.address}: {error}", file=sys.stderr)
                status = EX_TEMPFAIL
                continue
            print(f"{mailbox.address}: {report.imported} imported, {report.skipped} skipped")
        return status
    poll_forever(list(mailboxes), idle=not args.no_idle)
    return EX_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("mail", help="email intake: pipe, LMTP/SMTP listener, IMAP")
    sub = parser.add_subparsers(dest="mail_command", required=True)

    p = sub.add_parser("ingest", help="take in one raw message (FILE or - for stdin)")
    p.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    p.add_argument("--dry-run", action="store_true", help="parse and decide; store nothing")
    p.add_argument("--json", action="store_true", help="print what was parsed and decided")
    p.add_argument("--mailbox", help="the mailbox address (default: from the recipients)")
    p.add_argument(
        "--recipient", action="append", help="envelope recipient (repeatable; as from Postfix)"
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("listen", help="run the LMTP (or SMTP) listener")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2424)
    p.add_argument("--smtp", action="store_true", help="speak SMTP instead of LMTP")
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser("poll", help="poll the IMAP mailboxes (IDLE where supported)")
    p.add_argument("--once", action="store_true", help="one pass over each mailbox, then exit")
    p.add_argument("--mailbox", help="only this mailbox address")
    p.add_argument("--no-idle", action="store_true", help="poll on an interval, never IDLE")
    p.set_defaults(func=cmd_poll)
