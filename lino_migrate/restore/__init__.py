"""Restore a Python dump: ``python manage.py run DIR/restore.py``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from django.db import DEFAULT_DB_ALIAS, connections

from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.restore.reader import read_meta
from lino_migrate.restore.restorer import (
    ModelReport,
    RestoreContext,
    RestoreReport,
    restore,
)

__all__ = [
    "ModelReport",
    "RehearsalFailedError",
    "RestoreContext",
    "RestoreReport",
    "main",
    "restore",
]


class RestoreCancelledError(LinoMigrateError):
    """The person at the terminal did not confirm the restore."""


def _parser(script: str) -> argparse.ArgumentParser:
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
    args = _parser(script).parse_args(sys.argv[1:] if argv is None else argv)
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
        msg = (
            f"The rehearsal found {len(report.violations)} row(s) the database "
            "refuses (listed above); the real restore would fail. Nothing was changed."
        )
        raise RehearsalFailedError(msg)
    return report


class RehearsalFailedError(LinoMigrateError):
    """A rehearsal (``--simulate``) found rows that the database refuses."""


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


def format_report(report: RestoreReport) -> str:
    """Return the restore report as a table, one line per model."""
    width = max((len(label) for label in report.models), default=5)
    head = ("in dump", "written", "dropped", "created")
    lines = [f"{'model':<{width}}" + "".join(f"  {h:>9}" for h in head)]
    for label in sorted(report.models):
        m = report.models[label]
        counts = (m.in_dump, m.written, m.dropped, m.created)
        lines.append(f"{label:<{width}}" + "".join(f"  {c:>9}" for c in counts))
    if report.migrators:
        lines.append("Migrators: " + "; ".join(report.migrators))
    lines += [f"EDITED: {edit}" for edit in report.edits]
    lines += _format_samples(report)
    for violation in report.violations:
        lines.append(f"REFUSED: {violation}")
    verb = "Rehearsed (rolled back):" if report.simulated else "Restored"
    lines.append(
        f"{verb} {report.written} rows of {len(report.models)} models "
        f"into database '{report.database}'."
    )
    return "\n".join(lines) + "\n"


def _format_samples(report: RestoreReport) -> list[str]:
    lines = []
    for label, sample in sorted(report.samples.items()):
        for when in ("before", "after"):
            for row in sample.get(when, []):
                lines.append(f"{when:>6} {label}: {row!r}")
    return lines
