"""Email ingestion benchmark: generated messages through the pipe core (``ingest``).

A mix like a real mailbox: new cases and replies (threaded by In-Reply-To, by the
``[#12345]`` subject token or by plus-address), 20 % with an attachment, Norwegian text.

    .venv/bin/python bench/bench_ingest.py                       # SQLite (embedded default)
    .venv/bin/python bench/bench_ingest.py --database-url URL    # PostgreSQL
    .venv/bin/python bench/bench_ingest.py --count 2000 --workers 2

Each run uses a fresh database (a temporary SQLite file, or a new PostgreSQL database created
next to the one in the URL) and prints one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECTS = [
    "Faktura stemmer ikke",
    "Spørsmål om levering",
    "Retur av vaskemaskin",
    "Endring av adresse",
    "Klage på service",
    "Bestilling nr. {n}",
    "Hvor er pakken min?",
    "Feil beløp trukket",
]
BODY = (
    "Hei!\n\nJeg har et spørsmål om bestillingen min. Fakturaen viser et annet beløp enn det "
    "jeg ble lovet i butikken, og jeg lurer på hva som har skjedd. Kan dere se på dette?\n\n"
    "På forhånd takk.\n\nMed vennlig hilsen\n{name}\n"
)


def generate(count: int, seed: int = 2026) -> list[tuple[str, bytes]]:
    """(kind, raw) pairs; replies refer to earlier messages of the same run."""
    from skranke.mail.tests.mailfactory import make_mail

    rng = random.Random(seed)
    sent: list[tuple[str, str, int]] = []  # (message id, subject, sender n)
    out: list[tuple[str, bytes]] = []
    for n in range(count):
        attachments = []
        if rng.random() < 0.2:
            size = rng.choice([2_000, 20_000, 120_000])
            attachments = [(f"vedlegg-{n}.pdf", rng.randbytes(size), "application/pdf")]
        is_reply = sent and rng.random() < 0.4
        if is_reply:
            parent_id, subject, who = rng.choice(sent)
            style = rng.random()
            kwargs: dict[str, object] = {"subject": f"SV: {subject}"}
            if style < 0.6:
                kwargs["in_reply_to"] = parent_id
                kwargs["references"] = [parent_id]
            kind = "reply"
        else:
            who = rng.randrange(count // 3 + 1)
            subject = rng.choice(SUBJECTS).format(n=n)
            kwargs = {"subject": subject}
            kind = "new"
        message_id = f"bench-{n}-{seed}@kunde.no"
        raw = make_mail(
            sender=f"Kunde {who} Ødegård <kunde{who}@kunde.no>",
            to="kundeservice@firma.no",
            body=BODY.format(name=f"Kunde {who}"),
            message_id=message_id,
            attachments=attachments,
            **kwargs,  # type: ignore[arg-type]
        )
        sent.append((message_id, subject, who))
        out.append((kind, raw))
    return out


def _setup(database_url: str | None, var_dir: str) -> None:
    os.environ["SKRANKE_VAR_DIR"] = var_dir
    os.environ["SKRANKE_MEDIA_ROOT"] = str(Path(var_dir) / "media")
    os.environ["SKRANKE_LOG_LEVEL"] = "WARNING"
    os.environ["SKRANKE_MAIL_LOOP_LIMIT"] = "1000000"
    if database_url:
        os.environ["SKRANKE_DATABASE_URL"] = database_url
    else:
        os.environ.pop("SKRANKE_DATABASE_URL", None)
        os.environ["SKRANKE_SQLITE_PATH"] = str(Path(var_dir) / "bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "skranke.config.settings"
    import django

    django.setup()


def _fresh_postgres(url: str) -> str:
    import psycopg

    name = f"bench_ingest_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _backend_cpu_seconds(connection: Any) -> float:
    """CPU time of this connection's PostgreSQL backend process (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); two are before the split point.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker(args: tuple[str | None, str, str, list[bytes]]) -> int:
    database_url, var_dir, source, raws = args
    _setup(database_url, var_dir)
    from skranke.mail.intake import ingest
    from skranke.mail.models import Mailbox

    mailbox = Mailbox.objects.get()
    for raw in raws:
        ingest(raw, mailbox=mailbox, source=source)
    return len(raws)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("SKRANKE_DATABASE_URL"))
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("SKRANKE_REDIS_URL"),
        help="broadcast over this Redis (the scaled set-up) instead of the in-memory layer",
    )
    parser.add_argument("--workers", type=int, default=1, help="parallel ingest processes")
    parser.add_argument(
        "--source",
        default="pipe",
        choices=["pipe", "imap"],
        help="pipe (default) fsyncs each raw message; imap does not (the server keeps it)",
    )
    parser.add_argument(
        "--acknowledge",
        action="store_true",
        help="the mailbox sends receipts for new cases (queues a task per new case)",
    )
    parser.add_argument(
        "--stub",
        default="",
        help="comma list of side effects to skip, to see what they cost: search,broadcast",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="one process under cProfile; write the stats to FILE and report the "
        "PostgreSQL backend's CPU per message (read from /proc, so the server must be local)",
    )
    args = parser.parse_args()
    if args.profile and args.workers != 1:
        parser.error("--profile runs one process: leave --workers at 1")

    if args.redis_url:
        os.environ["SKRANKE_REDIS_URL"] = args.redis_url
    else:
        os.environ.pop("SKRANKE_REDIS_URL", None)
    var_dir = tempfile.mkdtemp(prefix="skranke-bench-ingest-")
    database_url = _fresh_postgres(args.database_url) if args.database_url else None
    _setup(database_url, var_dir)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from skranke.accounts.models import Team
    from skranke.cases.models import Case, Message
    from skranke.mail.intake import ingest
    from skranke.mail.models import InboundEmail, Mailbox

    team = Team.objects.create(name="Kundeservice", slug="kundeservice")
    mailbox = Mailbox.objects.create(
        address="kundeservice@firma.no", team=team, send_acknowledgement=args.acknowledge
    )
    stubs = {s.strip() for s in args.stub.split(",") if s.strip()}
    if "search" in stubs:
        import skranke.search.index

        skranke.search.index.reindex = lambda **kwargs: None  # type: ignore[assignment]
    if "broadcast" in stubs:
        import skranke.cases.broadcast

        skranke.cases.broadcast._send = lambda *args, **kwargs: None  # type: ignore[assignment]
    t0 = time.perf_counter()
    mails = generate(args.count)
    generated = time.perf_counter() - t0
    raw_bytes = sum(len(raw) for _kind, raw in mails)

    server_cpu_start = _backend_cpu_seconds(connection) if args.profile else None
    start = time.perf_counter()
    cpu_start = time.process_time()
    if args.profile:
        import cProfile

        with cProfile.Profile() as profile:
            for _kind, raw in mails:
                ingest(raw, mailbox=mailbox, source=args.source)
        profile.dump_stats(args.profile)
    elif args.workers == 1:
        for _kind, raw in mails:
            ingest(raw, mailbox=mailbox, source=args.source)
    else:
        connection.close()
        # Each worker takes every n-th mail, so replies mostly arrive after their parents.
        chunks = [[raw for _k, raw in mails[i :: args.workers]] for i in range(args.workers)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(args.workers) as pool:
            pool.map(
                _worker,
                [(database_url, var_dir, args.source, chunk) for chunk in chunks],
            )
    elapsed = time.perf_counter() - start

    result = {
        "database": connection.vendor,
        "messages": args.count,
        "workers": args.workers,
        "source": args.source,
        "stubbed": sorted(stubs),
        "channel_layer": "redis" if args.redis_url else "in-memory",
        "acknowledge": args.acknowledge,
        "seconds": round(elapsed, 2),
        "cpu_ms_per_message": round((time.process_time() - cpu_start) / args.count * 1000, 2)
        if args.workers == 1
        else None,
        "messages_per_second": round(args.count / elapsed, 1),
        "megabytes": round(raw_bytes / 1e6, 1),
        "new_cases": Case.objects.count(),
        "messages_stored": Message.objects.count(),
        "threaded": InboundEmail.objects.exclude(threaded_by="").count(),
        "generate_seconds": round(generated, 2),
    }
    if server_cpu_start is not None:
        used = _backend_cpu_seconds(connection) - server_cpu_start
        result["server_cpu_ms_per_message"] = round(used / args.count * 1000, 2)
    print(json.dumps(result))
    if database_url:
        connection.close()
        import psycopg

        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database_url.rpartition('/')[2]}")
    shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
