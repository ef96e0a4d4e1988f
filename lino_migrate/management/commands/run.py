"""``manage.py run FILE [ARGS...]``: run a Python script with Django set up."""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lino_migrate.exceptions import LinoMigrateError


class Command(BaseCommand):
    help = "Run a Python script (e.g. a dump's restore.py) with Django set up."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="The script to run.")
        parser.add_argument(
            "script_args", nargs=argparse.REMAINDER, metavar="ARGS",
            help="Arguments passed to the script as sys.argv[1:].",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            msg = f"No such file: {path}"
            raise CommandError(msg)
        saved = sys.argv
        sys.argv = [str(path), *options["script_args"]]
        try:
            runpy.run_path(str(path), run_name="__main__")
        except LinoMigrateError as e:
            raise CommandError(str(e)) from e
        finally:
            sys.argv = saved
