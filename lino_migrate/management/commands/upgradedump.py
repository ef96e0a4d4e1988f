"""``manage.py upgradedump OLD NEW``: migrate a dump to the current code, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.upgrade.upgradedump import upgrade_dump


class Command(BaseCommand):
    help = (
        "Write a dump at the current versions from an older one, through the migrators."
    )

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("old", metavar="OLD", help="The dump to upgrade.")
        parser.add_argument("new", metavar="NEW", help="The directory to write.")
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace NEW if it exists."
        )
        parser.add_argument(
            "--max-row-count", type=int, default=DEFAULT_MAX_ROW_COUNT, metavar="N",
            help="The most rows per data file (default %(default)s).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = upgrade_dump(
                Path(options["old"]),
                Path(options["new"]),
                overwrite=options["overwrite"],
                max_row_count=options["max_row_count"],
            )
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        rows = sum(e.rows for e in result.files)
        self.stdout.write(
            f"Wrote {rows} rows in {len(result.files)} files to {result.path}."
        )
