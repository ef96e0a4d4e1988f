"""``manage.py upgradedump OLD NEW``: migrate a dump to the current code, no database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.dump.directory import prepare_target
from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.management.base import InterruptibleCommand, confirm_overwrite
from lino_migrate.management.output import (
    add_output_options,
    compression,
    output_path,
)
from lino_migrate.reports.progress import Progress
from lino_migrate.restore.reader import open_dump
from lino_migrate.upgrade.upgradedump import UpgradeResult, upgrade_dump


class Command(InterruptibleCommand):
    help = (
        "Write a dump at the current versions from an older one, through the migrators."
    )
    interrupted = "nothing was written; NEW is as it was."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "old", metavar="OLD", help="The dump to upgrade (directory or archive)."
        )
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
        add_output_options(parser, keep=True)

    def handle(self, *args: Any, **options: Any) -> None:
        new = output_path(options, "new")
        progress = self.progress(options)
        try:
            prepare_target(
                new,
                overwrite=options["overwrite"],
                progress=progress,
                archive=options["archive"],
            )
            if options["interactive"] and os.path.lexists(new):
                confirm_overwrite(new, "Upgrade")
            result = self._upgrade(Path(options["old"]), new, options, progress)
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e
        self._summarize(result, progress)

    def _upgrade(
        self, old: Path, new: Path, options: dict[str, Any], progress: Progress
    ) -> UpgradeResult:
        """Upgrade *old* into *new*; on a terminal, with a bar counting its rows."""
        with progress.reading(open_dump(old, verify=False).files):
            return upgrade_dump(
                old,
                new,
                overwrite=options["overwrite"],
                max_row_count=options["max_row_count"],
                advance=progress.advance,
                compress=compression(options),
                archive=options["archive"],
            )

    def _summarize(self, result: UpgradeResult, progress: Progress) -> None:
        """Say what was written: a line per file (verbosity 2), then the total."""
        if progress.verbosity < 1:
            return
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        for entry in result.files:
            progress(f"{entry.name}: {plural(entry.rows, 'row')} of {entry.model}", 2)
        rows = sum(e.rows for e in result.files)
        progress(
            f"Wrote {plural(rows, 'row')} in {plural(len(result.files), 'file')} "
            f"to {result.path}.",
            1,
        )
