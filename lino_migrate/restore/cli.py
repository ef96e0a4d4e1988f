"""The command line of a dump's ``restore.py``: parse, confirm, restore, report.

``python manage.py run DIR/restore.py [OPTIONS]`` runs the dump's
``restore.py``, which calls :func:`main`. This module is the only part of
the restore that reads the command line, asks at the terminal or prints;
the restore itself (:func:`lino_migrate.restore.restorer.restore`) does none
of these.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from django.db import DEFAULT_DB_ALIAS, connections

from lino_migrate.exceptions import RehearsalFailedError, RestoreCancelledError
from lino_migrate.reports.restore import format_report
from lino_migrate.restore.reader import read_meta
from lino_migrate.restore.restorer import RestoreReport, restore

__all__ = ["add_restore_options", "build_parser", "main", "run_restore"]


def build_parser(script: str) -> argparse.ArgumentParser:
    """Return the parser of the options of the ``restore.py`` at *script*."""
    parser = argparse.ArgumentParser(
        prog=f"manage.py run {script}",
        description="Restore this dump into a database, replacing the rows of "
        "every model it holds, in one transaction.",
    )
    add_restore_options(parser)
    parser.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=[0, 1, 2, 3],
        default=1,
        help="0: silent, 1: summary, 2: per file.",
    )
    return parser


def add_restore_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of a restore (all but ``-v``) to *parser*.

    ``restore.py`` and ``manage.py restoredump`` take the same options.
    """
    parser.add_argument(
        "--noinput",
        "--no-input",
        action="store_false",
        dest="interactive",
        help="Do not ask for confirmation.",
    )
    parser.add_argument(
        "--database",
        default=DEFAULT_DB_ALIAS,
        choices=tuple(connections),
        help='The database to restore into. Defaults to "default".',
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="Rehearse: run the whole restore, list every refused row, roll back.",
    )
    parser.add_argument(
        "--accept-edits",
        action="store_true",
        help="Accept data files edited by hand (checksums differ); list them.",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="N",
        help="Show N example rows per migrated model, before and after.",
    )


def main(
    script: str,
    namespace: dict[str, Any] | None = None,
    argv: list[str] | None = None,
    stdout: TextIO | None = None,
) -> RestoreReport:
    """Parse the command line of ``restore.py`` and restore the dump.

    :param script: the path of ``restore.py`` (its ``__file__``).
    :param namespace: the globals of ``restore.py``, which hold its hooks.
    :raises LinoMigrateError: for a bad dump, a refused row or no confirmation.
    """
    args = build_parser(script).parse_args(sys.argv[1:] if argv is None else argv)
    return run_restore(script, vars(args), namespace, (stdout or sys.stdout).write)


def run_restore(
    script: str,
    options: Mapping[str, Any],
    namespace: dict[str, Any] | None,
    write: Callable[[str], object],
) -> RestoreReport:
    """Confirm, restore and report, as the parsed *options* of a restore say.

    :param namespace: the hooks to run, or ``None`` to run none (safe mode).
    :param write: where the messages and the report go.
    :raises LinoMigrateError: for a bad dump, a refused row or no confirmation.
    """
    args = argparse.Namespace(**options)
    meta = read_meta(Path(script))
    if meta.partial and args.verbosity:
        skipped = ", ".join(sorted(meta.values["SKIPPED"])) or "some models"
        write(f"This dump is PARTIAL: it lacks {skipped}.\n")
    if args.interactive and not args.simulate:
        _confirm(meta.directory, args.database, len(meta.schema))

    def progress(message: str, level: int) -> None:
        if args.verbosity >= level:
            write(message + "\n")

    report = restore(
        script,
        using=args.database,
        hooks=namespace,
        progress=progress,
        simulate=args.simulate,
        sample=args.sample,
        accept_edits=args.accept_edits,
    )
    if args.verbosity:
        write(format_report(report))
    if report.violations:
        raise RehearsalFailedError(len(report.violations))
    return report


def _confirm(directory: Path, database: str, count: int) -> None:
    question = (
        f"Restore {directory} into database '{database}'? This replaces the "
        f"rows of {count} models. Type 'yes' to continue: "
    )
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        msg = "Restore cancelled; nothing was changed. Pass --noinput to skip the question."
        raise RestoreCancelledError(msg)
