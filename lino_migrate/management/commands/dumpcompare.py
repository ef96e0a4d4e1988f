"""``manage.py dumpcompare A B``: compare two dumps model by model, no database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.management.base import InterruptibleCommand
from lino_migrate.reports.compare import DumpComparison, compare_dumps
from lino_migrate.reports.comparetext import CompareSummary, write_json, write_text
from lino_migrate.reports.table import ReportOutput
from lino_migrate.restore.reader import open_dump
from lino_migrate.restore.restorer import Advance
from lino_migrate.upgrade.upgradedump import migrated_dump


class Command(InterruptibleCommand):
    help = (
        "Compare two dumps: rows added, removed and changed per model, schema and "
        "version differences. Exit status 0: the same, 1: they differ, 2: error."
    )
    interrupted = "nothing was written."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "a", metavar="A", help="The first dump (directory or archive)."
        )
        parser.add_argument(
            "b", metavar="B", help="The second dump (directory or archive)."
        )
        parser.add_argument(
            "--format", choices=("text", "json"), default="text",
            help="text for a person (default), json for a program (every row).",
        )  # fmt: skip
        parser.add_argument(
            "--limit", type=int, default=10, metavar="N",
            help="The most rows shown per model for each of added, removed and "
            "changed in the text report (default 10).",
        )  # fmt: skip
        parser.add_argument(
            "--migrate", action="store_true",
            help="Pass A through the migrators first, as upgradedump does, and "
            "compare what they make of it with B.",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 0:
            msg = f"--limit must be 0 or more, not {options['limit']}."
            raise CommandError(msg, returncode=2)
        json = options["format"] == "json"
        text = not json and options["verbosity"] >= 1
        # The plain text goes above the bar (#14); progress is bound below.
        output = self.report_output(options, write=lambda t: progress.write(t))
        progress = self.progress(options, json=json, output=output if text else None)
        try:
            with _comparison(options, progress.advance) as comparison:
                models = len(comparison.labels)
                with progress.shown(rows=comparison.rows, models=models):
                    summary = self._write(comparison, output if text else None, options)
        except LinoMigrateError as e:
            raise CommandError(str(e), returncode=2) from e
        if summary.differs:
            raise CommandError(summary.message(), returncode=1)

    def _write(
        self,
        comparison: DumpComparison,
        output: ReportOutput | None,
        options: dict[str, Any],
    ) -> CompareSummary:
        """Write the report: JSON at every verbosity, else text to *output*, if any."""
        if options["format"] == "json":
            return write_json(
                comparison, lambda text: self.stdout.write(text, ending="")
            )
        return write_text(comparison, output, options["limit"])


@contextlib.contextmanager
def _comparison(options: dict[str, Any], advance: Advance) -> Iterator[DumpComparison]:
    """Yield the comparison of A (migrated, with ``--migrate``) and B."""
    if not options["migrate"]:
        yield compare_dumps(options["a"], options["b"], advance=advance)
        return
    b = open_dump(options["b"])
    with migrated_dump(options["a"]) as a:
        yield DumpComparison(a, b, advance, migrated_from=Path(options["a"]))
