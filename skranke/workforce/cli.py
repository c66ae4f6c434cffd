"""`skranke wfm …`: staffing tables and weekly schedules from the command line.

A thin edge over the pure functions in this package: it parses arguments, calls
:mod:`staffing` or :mod:`scheduling`, and prints. It needs neither a database nor Django
settings, so a planner can run it on a laptop with a JSON file.

``register(subparsers)`` plugs the ``wfm`` command into the main ``skranke`` CLI;
``python -m skranke.workforce.cli staffing …`` (i.e. :func:`main`) does the same on its own.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from skranke.workforce.erlang import (
    CallLoad,
    ServiceLevelBasis,
    WorkforceInputError,
)
from skranke.workforce.staffing import StaffingTarget, staffing_row, staffing_table

# argparse and our own input errors both end with this code, so scripts see one "bad input".
EXIT_BAD_INPUT = 2
# How many rows either side of the required number the default table shows.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``wfm`` command (with ``staffing`` and ``schedule``) to a parent CLI."""
    wfm = subparsers.add_parser(
        "wfm",
        help="workforce planning: staffing tables and weekly schedules",
        description="Workforce planning without a database: Erlang staffing and scheduling.",
    )
    wfm.set_defaults(func=_run_without_subcommand, wfm_parser=wfm)
    commands = wfm.add_subparsers(dest="wfm_command")

    staffing = commands.add_parser(
        "staffing",
        help="service level, ASA and abandonment for a range of agent counts",
        description="Erlang C (or Erlang A with --patience-seconds) for one interval.",
    )
    staffing.add_argument("--arrivals", type=float, required=True, help="calls in the interval")
    staffing.add_argument("--interval-minutes", type=float, default=30.0)
    staffing.add_argument("--aht-seconds", type=float, required=True, help="average handling time")
    staffing.add_argument("--target-seconds", type=float, default=20.0, help="answer-time target")
    staffing.add_argument(
        "--service-level", type=float, default=0.8, help="target fraction answered in time"
    )
    staffing.add_argument(
        "--patience-seconds",
        type=float,
        default=None,
        help="callers' mean patience; switches from Erlang C to Erlang A",
    )
    staffing.add_argument(
        "--basis",
        choices=[basis.value for basis in ServiceLevelBasis],
        default=ServiceLevelBasis.OFFERED.value,
        help="count the service level over all offered calls (default) or answered calls only",
    )
    staffing.add_argument("--agents", help="agent count or range, e.g. 14 or 10-16")
    staffing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    staffing.set_defaults(func=_guarded(run_staffing))

    schedule = commands.add_parser(
        "schedule",
        help="build a week's schedule of named agents with CP-SAT",
        description="Schedule a week from a JSON input (see docs/workforce.md for the schema).",
    )
    schedule.add_argument("input", type=Path, help="INPUT.json, or a demand CSV with --setup")
    schedule.add_argument(
        "--setup",
        type=Path,
        default=None,
        help="JSON with agents/templates/opening hours when INPUT is a demand CSV",
    )
    schedule.add_argument("--time-limit", type=float, default=None, help="solver seconds")
    schedule.add_argument("--json", action="store_true", help="print the result as JSON")
    schedule.add_argument("--csv", type=Path, default=None, help="write the schedule grid as CSV")
    schedule.add_argument("--xlsx", type=Path, default=None, help="write an Excel workbook")
    schedule.add_argument(
        "--ics-dir", type=Path, default=None, help="write one iCalendar file per agent"
    )
    schedule.set_defaults(func=_guarded(run_schedule))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn bad input into a one-line message on stderr and exit status 2, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (WorkforceInputError, OSError) as error:
            print(f"skranke wfm: error: {error}", file=sys.stderr)
            raise SystemExit(EXIT_BAD_INPUT) from None

    return run


def _run_without_subcommand(args: argparse.Namespace) -> int:
    args.wfm_parser.print_help(sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def run_staffing(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    call_load = CallLoad(
        arrivals=args.arrivals,
        interval_seconds=args.interval_minutes * 60,
        aht_seconds=args.aht_seconds,
        patience_seconds=args.patience_seconds,
    )
    target = StaffingTarget(
        service_level=args.service_level,
        target_seconds=args.target_seconds,
        basis=ServiceLevelBasis(args.basis),
    )
    required, rows = staffing_table(call_load, target, args.agents)
    if args.json:
        json.dump([staffing_row(row) for row in rows], out, indent=2)
        out.write("\n")
        return 0

    model = "Erlang A" if call_load.patience_seconds is not None else "Erlang C"
    out.write(
        f"{model}: {call_load.load:.2f} Erlang offered; target {target.service_level:.0%} "
        f"within {target.target_seconds:g} s ({target.basis} calls)\n"
    )
    out.write(
        f"{'agents':>6}  {'P(wait)':>8}  {'SL':>7}  {'ASA s':>9}  {'P(aband)':>8}  {'occup':>6}\n"
    )
    for row in rows:
        asa = f"{row.asa_seconds:9.1f}" if math.isfinite(row.asa_seconds) else f"{'∞':>9}"
        marker = "  ← required" if row.agents == required else ""
        out.write(
            f"{row.agents:>6}  {row.p_wait:8.4f}  {row.service_level:7.2%}  {asa}  "
            f"{row.p_abandon:8.4f}  {row.occupancy:6.1%}{marker}\n"
        )
    out.write(f"Required: {required} agents on the phones.\n")
    return 0


def run_schedule(args: argparse.Namespace, out: TextIO | None = None) -> int:
    # Imported here so `wfm staffing` starts without loading OR-tools.
    from skranke.workforce import scheduling

    out = out or sys.stdout
    problem = scheduling.load_problem(args.input, setup_path=args.setup)
    result = scheduling.build_schedule(problem, time_limit_seconds=args.time_limit)
    if args.csv:
        args.csv.write_text(scheduling.schedule_to_csv(result), encoding="utf-8")
    if args.xlsx:
        scheduling.write_xlsx(result, args.xlsx)
    if args.ics_dir:
        scheduling.write_ics_dir(result, args.ics_dir)
    if args.json:
        json.dump(scheduling.result_to_dict(result), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(scheduling.format_summary(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skranke")
    register(parser.add_subparsers(dest="command"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wfm`` on its own; ``argv`` is what follows ``skranke wfm``."""
    parser = build_parser()
    try:
        args = parser.parse_args(["wfm", *(sys.argv[1:] if argv is None else argv)])
        result: Any = args.func(args)
    except SystemExit as stop:
        if stop.code is None:
            return 0
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
