"""Start and stop a private PostgreSQL server in a temporary directory, on a free port.

Used by the test command and the benchmarks. PostgreSQL refuses to run as root, so when we are
root the server binaries run as the ``postgres`` user (which Debian's packages create).

    python scripts/privpg.py start DIR   -> prints a database URL
    python scripts/privpg.py stop DIR

``PRIVPG_EXTRA_OPTS`` adds server settings (``-c name=value ...``); later ones win.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for path in candidates:
        if Path(path, "initdb").exists():
            return Path(path)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def start(directory: Path) -> str:
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found. "
            "Install them with: apt-get install postgresql"
        )
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    port = free_port()
    subprocess.run(
        _as_server_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "skranke",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    opts = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
        "-c shared_buffers=256MB"
    )
    # Benchmarks add settings here, e.g. "-c shared_preload_libraries=pg_stat_statements"
    # or "-c fsync=on -c synchronous_commit=on" for a durable server.
    opts += " " + os.environ.get("PRIVPG_EXTRA_OPTS", "")
    subprocess.run(
        _as_server_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(directory / "server.log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (directory / "port").write_text(str(port))
    url = f"postgres://skranke@127.0.0.1:{port}/postgres"
    for _ in range(50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return url
        time.sleep(0.1)
    raise SystemExit(f"PostgreSQL did not start; see {directory / 'server.log'}")


def stop(directory: Path) -> None:
    bindir = find_bindir()
    data = directory / "data"
    if bindir and data.exists():
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in {"start", "stop"}:
        raise SystemExit(__doc__)
    target = Path(sys.argv[2]).resolve()
    if sys.argv[1] == "start":
        print(start(target))
    else:
        stop(target)
