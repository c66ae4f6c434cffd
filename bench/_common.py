"""Shared set-up for the benchmark scripts: where the data lives, Django, results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"


def configure(var_dir: str | None) -> str:
    """Point Skranke at the benchmark database before Django is imported.

    PostgreSQL when SKRANKE_DATABASE_URL is set; otherwise SQLite in ``var_dir`` (a new temporary
    directory by default), never the developer's own ``var/``.
    """
    if not os.environ.get("SKRANKE_DATABASE_URL"):
        var_dir = var_dir or tempfile.mkdtemp(prefix="skranke-bench-")
        os.environ["SKRANKE_VAR_DIR"] = str(Path(var_dir).resolve())
        os.environ.pop("SKRANKE_SQLITE_PATH", None)
    # The in-process test client talks to "testserver".
    os.environ["SKRANKE_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skranke.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    return f"{connection.vendor}:{connection.settings_dict['NAME']}"


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def analyze() -> float:
    """Fresh planner statistics, as a real installation would have after autovacuum/optimize."""
    from skranke.lib.maintenance import analyze

    return analyze()


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
    }


def record(name: str, result: dict[str, Any], save: bool = True) -> None:
    result = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        **result,
    }
    if save:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        with (OUT_DIR / f"{name}.jsonl").open("a") as fh:
            fh.write(json.dumps(result, default=str) + "\n")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)
