"""Full-text search latency: p50/p95 of search_cases and search_customers on a demo data set.

    .venv/bin/python bench/generate.py --cases 1000000 --var-dir DIR    # once (rebuilds the index)
    .venv/bin/python bench/bench_search.py --var-dir DIR [--rounds 5] [--rebuild]

PostgreSQL when SKRANKE_DATABASE_URL is set. Queries are the mix an agent types: common and rare
words, inflected forms, several words, half-typed prefixes, customer names, phone numbers, case
numbers and nothing-found. Each runs as an agent of one team and as a team lead (who sees every
team). Times are server time in the calling process, including loading the page of cases.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common

CASE_QUERIES = [
    "faktura",  # very common
    "fakturaen",  # inflected
    "purring faktura",  # two common words
    "kreditnota",
    "pakken er forsinket",  # stop word in the middle
    "returlapp",
    "reklamasjon",
    "vaskemaskinen lekker",
    "kaffemaskin",
    "hentested",
    "levering adresse",
    "refund",  # English
    "warranty claim",
    "fak",  # typing: prefix
    "returl",
    "støvsugeren virker ikke",
    "Hansen",  # customer name
    "zzyzx",  # no hit
    "mikrobølgeovn garanti",
    "sykkel",
]
CUSTOMER_QUERIES = ["hansen", "ola", "kari nordm", "nilsen", "912", "as", "berg", "xyzzy"]


def measure(func, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return times


def run(args: argparse.Namespace) -> dict[str, object]:
    from django.db.models import Count

    from skranke.accounts.models import Role, Team, User
    from skranke.cases.models import Case, Message
    from skranke.customers.models import Customer, CustomerPhone
    from skranke.search.index import rebuild
    from skranke.search.query import cases_in_order, search_cases, search_customers

    result: dict[str, object] = {
        "cases": Case.objects.count(),
        "messages": Message.objects.count(),
        "customers": Customer.objects.count(),
    }
    if args.rebuild:
        started = time.perf_counter()
        rebuild(batch=args.batch, progress=sys.stderr.write)
        result["rebuild_seconds"] = round(time.perf_counter() - started, 1)
        _common.analyze()

    # The agent of the busiest team: the worst case for an agent.
    team = Team.objects.annotate(n=Count("cases")).order_by("-n").first()
    agent = User.objects.filter(teams=team, role=Role.AGENT, is_active=True).first()
    lead = User.objects.filter(role__in=[Role.TEAM_LEAD, Role.ADMIN], is_active=True).first()
    assert agent and lead, "load demo data first (bench/generate.py)"
    number = Case.objects.filter(team=team).order_by("-pk").values_list("number", flat=True)[0]
    phone = CustomerPhone.objects.values_list("number", flat=True).first() or "+4791234567"
    queries = [*CASE_QUERIES, f"#{number}"]
    customer_queries = [*CUSTOMER_QUERIES, phone[3:7], phone]

    per_query: dict[str, dict[str, float]] = {}
    timings: dict[str, list[float]] = {"agent": [], "lead": [], "customers": []}
    for who, user in (("agent", agent), ("lead", lead)):
        for query in queries:
            search_cases(user, query)  # warm the cache once, as a running server would be

            def page(user=user, query=query):  # type: ignore[no-untyped-def]
                return cases_in_order(user, search_cases(user, query, limit=50))

            times = measure(page, args.rounds)
            timings[who].extend(times)
            hits = len(search_cases(user, query, limit=50))
            per_query[f"{who}: {query}"] = {"median_ms": round(statistics.median(times), 1)}
            per_query[f"{who}: {query}"]["hits"] = hits
    for query in customer_queries:
        search_customers(lead, query)
        times = measure(lambda query=query: search_customers(lead, query, limit=20), args.rounds)
        timings["customers"].extend(times)
        per_query[f"customers: {query}"] = {"median_ms": round(statistics.median(times), 1)}

    for name, values in timings.items():
        result[name] = {
            "n": len(values),
            "p50_ms": round(_common.percentile(values, 50), 1),
            "p95_ms": round(_common.percentile(values, 95), 1),
            "max_ms": round(max(values), 1),
        }
    result["team_cases"] = Case.objects.filter(team=team).count()
    result["queries"] = per_query
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--var-dir", help="SQLite directory made by bench/generate.py")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--rebuild", action="store_true", help="rebuild the index first, timed")
    p.add_argument("--batch", type=int, default=2000)
    p.add_argument("--verbose", action="store_true", help="print each query's median")
    p.add_argument("--no-save", action="store_true")
    args = p.parse_args()
    database = _common.configure(args.var_dir)
    _common.migrate()
    result = run(args)
    result["database"] = database
    if args.verbose:
        for query, row in result["queries"].items():  # type: ignore[attr-defined]
            print(f"  {query:40} {row}")
    print(f"Database: {database}  cases={result['cases']:,} messages={result['messages']:,}")
    if "rebuild_seconds" in result:
        print(f"Rebuild: {result['rebuild_seconds']} s")
    for name in ("agent", "lead", "customers"):
        row = result[name]
        print(f"{name:10} p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms  max {row['max_ms']} ms")  # type: ignore[index]
    _common.record("search", result, save=not args.no_save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
