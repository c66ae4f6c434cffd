"""Project-wide checks: migrations match the models, the CLI parses."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from skranke.cli import build_parser


@pytest.mark.django_db
def test_no_pending_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # --check exits non-zero when a migration is missing
        pytest.fail(f"Missing migrations:\n{out.getvalue()}\n{exc}")


def test_cli_has_the_documented_subcommands():
    parser = build_parser()
    for argv in (
        ["serve", "--host", "0.0.0.0", "--port", "9000"],
        ["web"],
        ["worker"],
        ["scheduler"],
        ["demo", "--cases", "10"],
        ["token", "create", "kari@example.no"],
        ["manage", "check"],
    ):
        args = parser.parse_args(argv)
        assert callable(args.func)


@pytest.mark.django_db
def test_token_create_prints_a_working_token(agent, capsys):
    from skranke.accounts.models import ApiToken
    from skranke.cli import main

    assert main(["token", "create", agent.email]) == 0
    raw = capsys.readouterr().out.strip()
    assert ApiToken.objects.authenticate(raw) == agent
    assert main(["token", "create", "nobody@example.no"]) == 2
