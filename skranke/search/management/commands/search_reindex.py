"""``skranke manage search_reindex``: rebuild the whole search index (after bulk inserts)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from skranke.search.index import DEFAULT_BATCH, rebuild


class Command(BaseCommand):
    help = "Rebuild the full-text search index for all cases and customers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=DEFAULT_BATCH, help="cases per transaction"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["verbosity"] == 0

        def progress(line: str) -> None:
            sys.stderr.write(line)
            sys.stderr.flush()

        rebuild(batch=max(1, options["batch"]), progress=None if quiet else progress)
