"""``manage.py upgradedump OLD NEW``: migrate a dump to the current code, no database."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.dump.directory import prepare_target
from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.management.base import InterruptibleCommand, confirm_overwrite
from lino_migrate.upgrade.upgradedump import upgrade_dump


class Command(InterruptibleCommand):
    help = (
        "Write a dump at the current versions from an older one, through the migrators."
    )
    interrupted = "nothing was written; NEW is as it was."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("old", metavar="OLD", help="The dump to upgrade.")
        parser.add_argument("new", metavar="NEW", help="The directory to write.")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help="Never ask a question (replacing NEW still needs --overwrite).",
        )  # fmt: skip
        parser.add_argument(
            "--overwrite", action="store_true",
            help="Replace NEW (as a whole) if it is a dump of lino_migrate.",
        )  # fmt: skip
        parser.add_argument(
            "--max-row-count", type=int, default=DEFAULT_MAX_ROW_COUNT, metavar="N",
            help="The most rows per data file (default %(default)s).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        new = Path(options["new"])
        try:
            say = self._progress(options["verbosity"])
            prepare_target(new, overwrite=options["overwrite"], progress=say)
            if options["interactive"] and os.path.lexists(new):
                confirm_overwrite(new, "Upgrade")
            result = upgrade_dump(
                Path(options["old"]),
                new,
                overwrite=options["overwrite"],
                max_row_count=options["max_row_count"],
            )
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e
        if options["verbosity"] < 1:
            return
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        for entry in result.files:
            say(f"{entry.name}: {plural(entry.rows, 'row')} of {entry.model}", 2)
        rows = sum(e.rows for e in result.files)
        self.stdout.write(
            f"Wrote {plural(rows, 'row')} in {plural(len(result.files), 'file')} "
            f"to {result.path}."
        )

    def _progress(self, verbosity: int) -> Callable[[str, int], None]:
        def progress(message: str, level: int) -> None:
            if verbosity >= level:
                self.stdout.write(message)

        return progress
