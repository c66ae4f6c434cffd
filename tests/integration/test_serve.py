"""The embedded default really starts: migrate, web, worker and scheduler in one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.servers import free_port, wait_for_port


@pytest.mark.slow
def test_skranke_serve_starts_and_serves_login(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SKRANKE_VAR_DIR": str(tmp_path / "var"),
        "SKRANKE_DATABASE_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SKRANKE_DATABASE_URL")
    proc = subprocess.Popen(
        [sys.executable, "-m", "skranke.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as r:
            assert r.status == 200
            assert "Server-Timing" in r.headers
        # WAL mode is what lets the web thread read while the worker writes.
        import sqlite3

        db = sqlite3.connect(tmp_path / "var" / "skranke.sqlite3")
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "Skranke is running at" in out, out
    deadline = time.monotonic() + 1
    assert proc.returncode is not None or time.monotonic() < deadline
