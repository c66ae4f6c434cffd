"""Build a benchmark data set with the demo generator and report how fast it was written.

    .venv/bin/python bench/generate.py --cases 100000 [--var-dir DIR] [--days 90]

SQLite in a new temporary directory by default (printed, reuse it with bench_pages.py
--var-dir); PostgreSQL when SKRANKE_DATABASE_URL is set. Customers default to one per five cases
(1M cases → 200k customers) and conversations average about four messages, the shape the
brief's targets are stated for (1M cases / 4M messages / 200k customers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def build(args: argparse.Namespace) -> dict[str, object]:
    from skranke.demo.generate import DemoConfig, load_demo

    customers = args.customers or max(100, args.cases // 5)
    agents = args.agents or max(12, min(400, args.cases // 2500))
    config = DemoConfig(
        cases=args.cases,
        customers=customers,
        seed=args.seed,
        days=args.days,
        agents=agents,
        batch_size=args.batch_size,
    )
    _common.migrate()
    started = time.perf_counter()
    cpu_started = time.process_time()
    summary = load_demo(config, reset=True, progress=not args.quiet, out=lambda _line: None)
    total_seconds = time.perf_counter() - started
    # load_demo also rebuilds the search index after writing; the row rate is for the writing.
    generate_seconds = summary.seconds
    # load_demo ends with ANALYZE (planner statistics), as every bulk load should.
    analyze_seconds = summary.analyze_seconds
    return {
        "cases": summary.cases,
        "messages": summary.messages,
        "events": summary.events,
        "customers": summary.customers,
        "organisations": summary.organisations,
        "agents": summary.agents,
        "rows": summary.rows,
        "seconds": round(generate_seconds, 2),
        "rows_per_second": round(summary.rows / generate_seconds),
        "cases_per_second": round(summary.cases / generate_seconds),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "seconds_with_search_index": round(total_seconds, 2),
        "analyze_seconds": round(analyze_seconds, 2),
        "statuses": summary.statuses,
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--customers", type=int, default=0, help="default: cases / 5")
    p.add_argument("--agents", type=int, default=0, help="default: cases / 2500 (at least 12)")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--var-dir", help="SQLite directory (default: a new temporary one)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--no-save", action="store_true", help="don't append to bench/out/")
    return p


def main() -> int:
    args = parser().parse_args()
    database = _common.configure(args.var_dir)
    print(f"Database: {database}", flush=True)
    result = build(args)
    result["database"] = database
    print(
        f"Generated {result['cases']:,} cases, {result['messages']:,} messages, "
        f"{result['events']:,} events, {result['customers']:,} customers "
        f"in {result['seconds']} s: {result['rows_per_second']:,} rows/s, "
        f"{result['cases_per_second']:,} cases/s; with the search index "
        f"{result['seconds_with_search_index']} s; CPU {result['cpu_seconds']} s "
        f"(ANALYZE {result['analyze_seconds']} s)"
    )
    _common.record("generate", result, save=not args.no_save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
