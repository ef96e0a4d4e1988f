"""``manage.py bench_generate --rows N``: fill the database with benchmark data."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from benchmarks.bench.generate import fill


class Command(BaseCommand):
    help = "Fill a freshly migrated database with about N rows of benchmark data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100000, metavar="N")
        parser.add_argument("--seed", type=int, default=1, metavar="S")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections)
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        written = fill(connection, options["rows"], options["seed"])
        self.stdout.write(json.dumps(written))
