"""``manage.py makemigrator APP --from DUMP``: write the migrator that a dump needs.

A thin layer over :func:`lino_migrate.upgrade.makemigrator.make_migrator`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.management.base import InterruptibleCommand
from lino_migrate.upgrade.makemigrator import make_migrator


class Command(InterruptibleCommand):
    help = "Add a migrator for the schema changes of an app since a dump."
    interrupted = "nothing was written."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def create_parser(
        self, prog_name: str, subcommand: str, **kwargs: Any
    ) -> CommandParser:
        """Return the parser; this command's ``--version`` replaces Django's."""
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("app_label", metavar="APP", help="The app label.")
        parser.add_argument(
            "--from", dest="dump", required=True, metavar="DUMP",
            help="The dump directory (or its restore.py) to compare with.",
        )  # fmt: skip
        parser.add_argument(
            "--version", metavar="V",
            help="The version of the migrator (default: the app's current version).",
        )  # fmt: skip
        parser.add_argument(
            "--rename", action="append", default=[], metavar="OLD=NEW",
            help="app.old=new renames a model, app.model.old=new a field; repeatable.",
        )  # fmt: skip
        parser.add_argument(
            "--dry-run", action="store_true",
            help="Print the change as a unified diff instead of writing it.",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            change = make_migrator(
                options["app_label"],
                Path(options["dump"]),
                version=options["version"],
                renames=options["rename"],
            )
            for warning in change.result.warnings:
                self.stderr.write(f"Warning: {warning}")
            if change.result.changed and options["dry_run"]:
                self.stdout.write(change.diff(), ending="")
                return
            message = change.write()
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e
        if options["verbosity"] >= 1:
            self.stdout.write(message)
