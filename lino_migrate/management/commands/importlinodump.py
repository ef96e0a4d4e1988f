"""``manage.py importlinodump LINODUMP OUT``: a dump of Lino's dump2py, read as data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.dump.directory import prepare_target
from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.lino.importer import ImportResult, import_lino_dump
from lino_migrate.management.base import InterruptibleCommand, confirm_overwrite


class Command(InterruptibleCommand):
    help = (
        "Write a dump of lino_migrate from a dump of Lino's dump2py, without "
        "running any of its code."
    )
    interrupted = "nothing was written; OUT is as it was."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "linodump", metavar="LINODUMP", help="The Lino dump to read."
        )
        parser.add_argument("output", metavar="OUT", help="The directory to write.")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help="Never ask a question (replacing OUT still needs --overwrite).",
        )  # fmt: skip
        parser.add_argument(
            "--overwrite", action="store_true",
            help="Replace OUT (as a whole) if it is a dump of lino_migrate.",
        )  # fmt: skip
        parser.add_argument(
            "--max-row-count", type=int, default=DEFAULT_MAX_ROW_COUNT, metavar="N",
            help="The most rows per data file (default %(default)s).",
        )  # fmt: skip
        parser.add_argument(
            "--app-version", action="append", default=[], metavar="APP=VERSION",
            help="The version the dump has for app APP (repeatable); overrides "
            "what is assumed.",
        )  # fmt: skip
        parser.add_argument(
            "--source-package", metavar="PACKAGE",
            help="The top-level package whose version is the dump's SOURCE_VERSION "
            "(default: that of the Lino Site class).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["output"])
        say = self._progress(options["verbosity"])
        try:
            prepare_target(out, overwrite=options["overwrite"], progress=say)
            if options["interactive"] and os.path.lexists(out):
                confirm_overwrite(out, "Import")
            result = import_lino_dump(
                options["linodump"],
                out,
                overwrite=options["overwrite"],
                max_row_count=options["max_row_count"],
                app_versions=options["app_version"],
                source_package=options["source_package"],
                progress=say,
            )
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e
        self._summarize(result, say)

    def _progress(self, verbosity: int) -> Callable[[str, int], None]:
        def progress(message: str, level: int) -> None:
            if verbosity >= level:
                self.stdout.write(message)

        return progress

    def _summarize(self, result: ImportResult, say: Callable[[str, int], None]) -> None:
        languages = " ".join(result.languages) or "none"
        say(
            f"Read a Lino dump of SOURCE_VERSION {result.source_version!r}, babel "
            f"languages {languages}.",
            1,
        )
        for note in result.versions.notes + result.notes:
            say(note, 1)
        for label, version in sorted(result.versions.versions.items()):
            say(f"{label} {version}: {result.versions.origins[label]}", 2)
        rows = sum(result.rows.values())
        say(
            f"Wrote {plural(rows, 'row')} of {plural(len(result.rows), 'model')} in "
            f"{plural(len(result.files), 'file')} to {result.path}.",
            1,
        )
