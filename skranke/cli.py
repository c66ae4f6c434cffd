"""The ``skranke`` command: one entry point for operators and developers."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable

SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skranke.config.settings")
    import django

    django.setup()


def _migrate(quiet: bool = True) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)


def _start_worker_thread(name: str = "embedded") -> tuple[threading.Thread, object]:
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0.5,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{name}-{os.getpid()}",
        excluded_queue_names=[],
    )
    thread = threading.Thread(target=worker.run, name="skranke-worker", daemon=True)
    thread.start()
    return thread, worker


def cmd_serve(args: argparse.Namespace) -> int:
    """All in one process: web, task worker and scheduler (the embedded default).

    One process keeps Channels' in-memory layer useful: what the worker changes reaches the
    browsers without Redis.
    """
    _setup_django()
    from django.conf import settings

    from skranke.lib.scheduler import run_scheduler

    _migrate()
    print(f"Skranke: database {settings.DATABASES['default']['NAME']}", flush=True)
    _start_worker_thread()
    stop = threading.Event()
    threading.Thread(
        target=run_scheduler, args=(stop,), name="skranke-scheduler", daemon=True
    ).start()
    print(f"Skranke is running at http://{args.host}:{args.port}/  (Ctrl+C stops it)", flush=True)
    _run_uvicorn(args.host, args.port, workers=1)
    stop.set()
    return 0


def _run_uvicorn(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "skranke.config.asgi:application",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        lifespan="off",
        proxy_headers=True,
    )


def cmd_web(args: argparse.Namespace) -> int:
    _setup_django()
    _run_uvicorn(args.host, args.port, workers=args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    call_command("db_worker", queue_name="*", interval=args.interval)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    _setup_django()
    from skranke.lib.scheduler import run_scheduler

    try:
        run_scheduler()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    from skranke.demo.generate import DemoConfig, load_demo

    config = DemoConfig(cases=args.cases, customers=args.customers, seed=args.seed)
    load_demo(config, reset=args.reset, progress=not args.quiet)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _setup_django()
    from skranke.accounts.models import ApiToken, User

    user = User.objects.filter(email=args.email.lower()).first()
    if user is None:
        print(f"skranke: no agent with the email {args.email}", file=sys.stderr)
        return 2
    _, raw = ApiToken.objects.issue(user, name=args.name)
    print(raw)
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skranke.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["skranke manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skranke", description="Skranke — the desk.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run web, worker and scheduler in one process (embedded)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("web", help="run a stateless web process (scaled-out)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_web)

    p = sub.add_parser("worker", help="run a task worker (scaled-out)")
    p.add_argument("--interval", type=float, default=1.0)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("scheduler", help="run the one scheduler process (scaled-out)")
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser("demo", help="load the demo desk (teams, agents, customers, cases)")
    p.add_argument("--cases", type=int, default=3000)
    p.add_argument("--customers", type=int, default=500)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--reset", action="store_true", help="delete existing demo data first")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("token", help="API tokens")
    token_sub = p.add_subparsers(dest="token_command", required=True)
    t = token_sub.add_parser("create", help="print a new API token for an agent")
    t.add_argument("email")
    t.add_argument("--name", default="cli")
    t.set_defaults(func=cmd_token)

    p = sub.add_parser("manage", help="Django's manage.py", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)

    for register in _plugin_registrars():
        register(sub)
    return parser


def _plugin_registrars() -> list[Callable[..., None]]:
    registrars = []
    for module in ("skranke.workforce.cli", "skranke.mail.cli"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        if hasattr(mod, "register"):
            registrars.append(mod.register)
    return registrars


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
