"""``manage.py restoredump DIR``: restore a dump without running any of its code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.management.base import (
    MIGRATE_INTERRUPTED,
    RESTORE_INTERRUPTED,
    InterruptibleCommand,
)
from lino_migrate.management.fetch import fetched
from lino_migrate.restore.cli import add_restore_options, run_restore
from lino_migrate.restore.safe import skipped_code


class Command(InterruptibleCommand):
    help = (
        "Restore a dump like DIR/restore.py does, reading its restore.py "
        "instead of running it (safe for a dump from elsewhere)."
    )
    interrupted = RESTORE_INTERRUPTED

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "dump",
            metavar="DIR",
            help="The dump directory (or its restore.py, or its archive).",
        )
        add_restore_options(parser)
        parser.add_argument(
            "--storage", metavar="ALIAS",
            help="Read the dump named DIR from the storage ALIAS of "
            "settings.STORAGES (downloaded into a private temporary directory).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["migrate"]:
            self.interrupted = MIGRATE_INTERRUPTED
        try:
            with fetched(options) as script:
                self._restore(script, options)
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e

    def _restore(self, script: Path, options: dict[str, Any]) -> None:
        """Say which code is skipped, then restore the dump *script* safely."""
        skipped = skipped_code(script)
        if skipped and options["verbosity"]:
            # Standard output holds nothing but the report's JSON (#14).
            out = self.stdout if options["format"] == "text" else self.stderr
            out.write(
                "Safe mode: restore.py is read, not run. Skipped: "
                + "; ".join(skipped)
                + ". Read them, then run `manage.py run "
                + f"{script}` instead if they are needed."
            )
        progress = self.progress(options, json=options["format"] == "json")
        output = self.report_output(options)
        run_restore(str(script), options, None, self.stdout.write, progress, output)
