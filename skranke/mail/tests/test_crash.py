"""Kill the IMAP poller with SIGKILL in the middle of 500 mails, restart it, count.

Every mail must end up in exactly one case, none twice and none lost: the dedupe row is
committed with the case, and the server flag is set only after that commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from skranke.cases.models import Case, Message
from skranke.mail.imap import IMPORTED_KEYWORD
from skranke.mail.models import InboundEmail
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)

pytestmark = [
    pytest.mark.mailserver,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

BATCH = 500


def _child_env() -> dict[str, str]:
    """Point a ``skranke`` subprocess at the test database and media directory."""
    env = dict(os.environ)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["SKRANKE_SQLITE_PATH"] = str(db["NAME"])
        env.pop("SKRANKE_DATABASE_URL", None)
    else:
        env["SKRANKE_DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    env["SKRANKE_MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["SKRANKE_LOG_LEVEL"] = "WARNING"
    return env


def _poller() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "skranke.cli", "mail", "poll", "--once"],
        env=_child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkill_mid_batch_then_restart_imports_every_mail_exactly_once(
    imap_mailbox,
    mail,
):
    message_ids = [f"crash-{n}@kunde.no" for n in range(BATCH)]
    mails = [
        mail(
            sender=f"Kunde {n % 50} <kunde{n % 50}@kunde.no>",
            subject=f"Henvendelse nummer {n}",
            body=f"Melding {n}",
            message_id=message_id,
            attachments=[("vedlegg.txt", f"fil {n}".encode(), "text/plain")] if n % 5 == 0 else [],
        )
        for n, message_id in enumerate(message_ids)
    ]
    for start in range(0, BATCH, 100):
        imap_mailbox.imap.multiappend("INBOX", mails[start : start + 100])

    kills = 0
    for threshold in (60, 200):
        proc = _poller()
        deadline = time.monotonic() + 120
        while InboundEmail.objects.count() < threshold and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 1, "the poller finished before it could be killed"
    assert InboundEmail.objects.count() < BATCH

    proc = _poller()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()

    stored = Counter(
        Message.objects.filter(external_id__in=message_ids).values_list("external_id", flat=True)
    )
    assert set(stored) == set(message_ids), "a mail was lost"
    assert max(stored.values()) == 1, "a mail was imported twice"
    assert Case.objects.count() == BATCH
    assert InboundEmail.objects.count() == BATCH
    imap_mailbox.imap.select_folder("INBOX")
    assert imap_mailbox.imap.search(["NOT", "KEYWORD", IMPORTED_KEYWORD]) == []
