"""Server time of the agent's pages at scale: queue views, the case page, queue counts, API list.

    .venv/bin/python bench/bench_pages.py --cases 100000 [--var-dir DIR] [--requests 200]

Generates the data set first unless ``--var-dir`` (SQLite) or SKRANKE_DATABASE_URL
(PostgreSQL) already holds at least ``--cases`` cases. Requests go through Django's test client
in-process, warm (a few unmeasured requests per page first); the figure is the app's own
``Server-Timing`` (middleware to response), the number the brief's p95 ≤ 50 ms target is about.
Pages that are not there yet are skipped with a message.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common

TARGET_MS = 50.0


def _server_ms(response: Any, wall_ms: float) -> float:
    header = response.headers.get("Server-Timing", "")
    for part in header.split(","):
        if "dur=" in part:
            try:
                return float(part.split("dur=")[1].split(";")[0])
            except ValueError:
                break
    return wall_ms


def measure(
    client: Any, urls: list[str], requests: int, warm: int = 5, **extra: Any
) -> dict[str, Any]:
    for url in urls[:warm] if len(urls) > 1 else urls * warm:
        client.get(url, **extra)
    server, wall = [], []
    status = 0
    for i in range(requests):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        response = client.get(url, **extra)
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        if status != 200:
            return {"status": status, "skipped": f"HTTP {status} for {url}"}
        wall.append(elapsed)
        server.append(_server_ms(response, elapsed))
    return {
        "status": status,
        "requests": requests,
        "p50_ms": round(_common.percentile(server, 50), 1),
        "p95_ms": round(_common.percentile(server, 95), 1),
        "max_ms": round(max(server), 1),
        "mean_ms": round(statistics.fmean(server), 1),
        "wall_p95_ms": round(_common.percentile(wall, 95), 1),
    }


def _queue_url(slug: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("cases:queue_named", args=[slug])
    except NoReverseMatch:
        pass
    try:
        return reverse("cases:queue") + f"?queue={slug}"
    except NoReverseMatch:
        return None


def pages(args: argparse.Namespace) -> list[dict[str, Any]]:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from skranke.accounts.models import ApiToken, User
    from skranke.cases.models import ACTIVE_STATUSES, Case

    # The agent with the fullest queue, and the team lead (sees every team).
    busiest = (
        Case.objects.filter(status__in=ACTIVE_STATUSES, assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    agent = (
        User.objects.get(pk=busiest["assignee"])
        if busiest
        else User.objects.filter(role="agent").first()
    )
    lead = User.objects.filter(role="team_lead").first() or agent
    print(
        f"Agent: {agent.email} ({busiest['n'] if busiest else 0} active cases); lead: {lead.email}"
    )

    try:
        from skranke.cases.queues import QUEUES

        slugs = list(QUEUES)
    except ImportError:
        slugs = ["mine", "unassigned", "open", "followup", "solved"]

    results: list[dict[str, Any]] = []

    def run(name: str, user: Any, urls: list[str] | None, **extra: Any) -> None:
        if not urls:
            print(f"  {name:<44} skipped: view not available")
            results.append({"page": name, "skipped": "view not available"})
            return
        client = Client()
        client.force_login(user)
        queries: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(urls[0], **extra)
        result = measure(client, urls, args.requests, **extra)
        result["page"] = name
        result["queries"] = len(queries)
        results.append(result)
        if "skipped" in result:
            print(f"  {name:<44} skipped: {result['skipped']}")
            return
        verdict = "ok" if result["p95_ms"] <= TARGET_MS else "SLOW"
        print(
            f"  {name:<44} p50 {result['p50_ms']:6.1f} ms  p95 {result['p95_ms']:6.1f} ms  "
            f"max {result['max_ms']:6.1f}  queries {result['queries']:3d}  {verdict}"
        )

    print(f"Pages ({args.requests} requests each, server time):")
    for slug in slugs:
        base = _queue_url(slug)
        for user, who in ((agent, "agent"), (lead, "lead")):
            if base is None:
                run(f"queue {slug} ({who})", user, None)
                continue
            sep = "&" if "?" in base else "?"
            run(f"queue {slug} ({who})", user, [base])
            if slug in ("open", "mine"):
                run(
                    f"queue {slug} ({who}) priority=high sort=priority",
                    user,
                    [f"{base}{sep}priority=high&sort=priority"],
                )
                run(
                    f"queue {slug} ({who}) channel=email sort=created",
                    user,
                    [f"{base}{sep}channel=email&sort=created"],
                )
                run(f"queue {slug} ({who}) page 3", user, [f"{base}{sep}page=3"])

    # Case pages: a spread of cases the agent may open (their teams), recent and old.
    team_ids = list(agent.teams.values_list("id", flat=True))
    numbers = _sample_numbers(team_ids, 200)
    try:
        detail_urls = [reverse("cases:detail", args=[n]) for n in numbers]
    except NoReverseMatch:
        detail_urls = []
    run("case page (agent, 200 different cases)", agent, detail_urls)
    biggest = Case.objects.filter(team_id__in=team_ids).order_by("-message_count").first()
    if biggest and detail_urls:
        run(
            f"case page, longest ({biggest.message_count} messages)",
            agent,
            [reverse("cases:detail", args=[biggest.number])],
        )

    # Queue counts, as the sidebar computes them (function, then the htmx partial).
    try:
        from skranke.cases.queues import queue_counts

        timings = []
        for _ in range(args.requests):
            started = time.perf_counter()
            queue_counts(agent)
            timings.append((time.perf_counter() - started) * 1000)
        results.append(
            {
                "page": "queue counts (all queues, agent)",
                "p50_ms": round(_common.percentile(timings, 50), 1),
                "p95_ms": round(_common.percentile(timings, 95), 1),
                "requests": args.requests,
            }
        )
        print(
            f"  {'queue counts (all queues, agent)':<44} p50 {results[-1]['p50_ms']:6.1f} ms  "
            f"p95 {results[-1]['p95_ms']:6.1f} ms"
        )
    except ImportError:
        print("  queue counts skipped: skranke.cases.queues.queue_counts not available")
    try:
        run("queue nav partial (counts, agent)", agent, [reverse("cases:queue_nav")])
    except NoReverseMatch:
        pass

    # The API list endpoint with a bearer token.
    _token, raw = ApiToken.objects.issue(agent, name="bench")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    run("API GET /api/v1/cases", agent, ["/api/v1/cases"], **auth)
    run("API GET /api/v1/cases?status=open", agent, ["/api/v1/cases?status=open"], **auth)
    run("API GET /api/v1/cases?assignee=me", agent, ["/api/v1/cases?assignee=me"], **auth)
    return results


def _sample_numbers(team_ids: list[int], count: int) -> list[int]:
    """Random case numbers without ORDER BY RANDOM() over the whole table."""
    import random

    from skranke.cases.models import Case

    low = Case.objects.order_by("number").values_list("number", flat=True).first() or 0
    high = Case.objects.order_by("-number").values_list("number", flat=True).first() or 0
    rng = random.Random(1)
    candidates = [rng.randint(low, high) for _ in range(count * 4)]
    found = list(
        Case.objects.filter(number__in=candidates, team_id__in=team_ids).values_list(
            "number", flat=True
        )
    )
    rng.shuffle(found)
    return found[:count]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--var-dir", help="SQLite directory holding (or to hold) the data set")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--no-save", action="store_true")
    args = p.parse_args()
    database = _common.configure(args.var_dir)
    print(f"Database: {database}", flush=True)
    _common.migrate()
    from skranke.cases.models import Case, Message
    from skranke.customers.models import Customer

    have = Case.objects.count()
    generated = None
    if have < args.cases:
        import generate

        print(f"Generating {args.cases:,} cases (found {have:,}) …", flush=True)
        gen_args = generate.parser().parse_args(
            ["--cases", str(args.cases), "--seed", str(args.seed), "--days", str(args.days)]
        )
        generated = generate.build(gen_args)
        print(f"  {generated['rows_per_second']:,} rows/s in {generated['seconds']} s")
    else:
        _common.analyze()
    sizes = {
        "cases": Case.objects.count(),
        "messages": Message.objects.count(),
        "customers": Customer.objects.count(),
    }
    print(
        f"Data: {sizes['cases']:,} cases, {sizes['messages']:,} messages, {sizes['customers']:,} customers"
    )
    results = pages(args)
    _common.record(
        "pages",
        {
            "database": database,
            "data": sizes,
            "target_p95_ms": TARGET_MS,
            "results": results,
            "generated": generated,
        },
        save=not args.no_save,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
