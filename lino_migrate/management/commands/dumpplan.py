"""``manage.py dumpplan DIR``: show what restoring a dump would do, touching nothing."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.management.base import InterruptibleCommand
from lino_migrate.reports.plantext import plan_blocks, plan_report
from lino_migrate.restore.cli import connect
from lino_migrate.restore.reader import open_dump
from lino_migrate.restore.selection import without_models


class Command(InterruptibleCommand):
    help = "Show the migrators, schema changes and row counts of restoring a dump."
    interrupted = "nothing was written."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "dump", metavar="DIR", help="The dump directory (or its archive)."
        )
        parser.add_argument(
            "--format", choices=("text", "json"), default="text",
            help="text for a person (default), json for a program.",
        )  # fmt: skip
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections),
            help='The database the restore would write to (its tables are '
            'checked; nothing is written). Defaults to "default".',
        )  # fmt: skip
        parser.add_argument(
            "-e", "--exclude", action="append", default=[], metavar="APP[.Model]",
            help="Plan the restore that leaves out an app or a model, as the "
            "restore's --exclude does (repeatable).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            meta = without_models(open_dump(options["dump"]), options["exclude"])
            connect(options["database"])
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e
        report = plan_report(meta, connection=connections[options["database"]])
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
        elif options["verbosity"] >= 1:
            self.report_output(options).report(plan_blocks(report))
        if not report["ok"]:
            count = len(report["problems"])
            msg = f"The restore would fail: {plural(count, 'problem')}, listed above."
            raise CommandError(msg, returncode=1)
