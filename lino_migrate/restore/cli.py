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
from pathlib import Path
from typing import Any, TextIO

from django.db import DEFAULT_DB_ALIAS, connections

from lino_migrate.exceptions import RehearsalFailedError, RestoreCancelledError
from lino_migrate.reports.restore import format_report
from lino_migrate.restore.reader import read_meta
from lino_migrate.restore.restorer import RestoreReport, restore

__all__ = ["build_parser", "main"]


def build_parser(script: str) -> argparse.ArgumentParser:
    """Return the parser of the options of the ``restore.py`` at *script*."""
    parser = argparse.ArgumentParser(
        prog=f"manage.py run {script}",
        description="Restore this dump into a database, replacing the rows of "
        "every model it holds, in one transaction.",
    )
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
    parser.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=[0, 1, 2, 3],
        default=1,
        help="0: silent, 1: summary, 2: per file.",
    )
    return parser


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
    out = stdout or sys.stdout
    args = build_parser(script).parse_args(sys.argv[1:] if argv is None else argv)
    meta = read_meta(Path(script))
    if meta.partial and args.verbosity:
        skipped = ", ".join(sorted(meta.values["SKIPPED"])) or "some models"
        out.write(f"This dump is PARTIAL: it lacks {skipped}.\n")
    if args.interactive and not args.simulate:
        _confirm(meta.directory, args.database, len(meta.schema))

    def progress(message: str, level: int) -> None:
        if args.verbosity >= level:
            out.write(message + "\n")

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
        out.write(format_report(report))
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
