"""`skranke wfm`: works without a database or Django settings, errors exit 2."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skranke.workforce import cli

REFERENCE = [
    "staffing",
    "--arrivals", "100",
    "--interval-minutes", "30",
    "--aht-seconds", "180",
    "--target-seconds", "20",
]  # fmt: skip


def test_staffing_json_has_stable_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*REFERENCE, "--agents", "10-16", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["agents"] for row in rows] == list(range(10, 17))
    for row in rows:
        assert set(row) == {
            "agents", "p_wait", "service_level", "asa_seconds", "p_abandon", "occupancy"
        }  # fmt: skip
    by_agents = {row["agents"]: row for row in rows}
    assert by_agents[10]["asa_seconds"] is None  # unstable queue: no finite ASA
    assert by_agents[14]["p_wait"] == pytest.approx(0.1741319, abs=5e-8)
    assert by_agents[14]["asa_seconds"] == pytest.approx(7.8359, abs=5e-5)
    assert by_agents[14]["p_abandon"] == 0


def test_staffing_with_patience_uses_erlang_a(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*REFERENCE, "--patience-seconds", "300", "--agents", "13", "--json"]
    assert cli.main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["service_level"] == pytest.approx(0.858178, abs=5e-7)
    assert row["p_abandon"] == pytest.approx(0.024963, abs=5e-7)


def test_staffing_table_marks_the_required_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*REFERENCE, "--service-level", "0.8"]) == 0
    out = capsys.readouterr().out
    required_line = next(line for line in out.splitlines() if "required" in line)
    assert required_line.split()[0] == "14"


@pytest.mark.parametrize(
    "argv",
    [
        ["staffing", "--arrivals", "-5", "--aht-seconds", "180"],
        ["staffing", "--arrivals", "100", "--aht-seconds", "0"],
        [*REFERENCE, "--service-level", "1.0"],
        [*REFERENCE, "--agents", "16-10"],
        ["staffing", "--arrivals", "lots", "--aht-seconds", "180"],
        ["schedule", "/nonexistent/input.json"],
    ],
)
def test_bad_input_exits_2_with_a_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err
    assert "Traceback" not in err


def test_register_plugs_into_a_parent_parser(capsys: pytest.CaptureFixture[str]) -> None:
    # The main `skranke` CLI does exactly this and then calls args.func(args).
    parser = argparse.ArgumentParser(prog="skranke")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["wfm", *REFERENCE, "--agents", "14", "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["agents"] == 14


def test_module_runs_without_django_settings(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    root = Path(__file__).resolve().parents[3]
    completed = subprocess.run(
        [sys.executable, "-m", "skranke.workforce.cli", *REFERENCE, "--agents", "14", "--json"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)[0]["service_level"] == pytest.approx(0.88835, abs=5e-6)
