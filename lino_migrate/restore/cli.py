"""The command line of a dump's ``restore.py``: parse, confirm, restore, report.

``python manage.py run DIR/restore.py [OPTIONS]`` runs the dump's
``restore.py``, which calls :func:`main`. This module is the only part of
the restore that reads the command line, asks at the terminal or prints;
the restore itself (:func:`lino_migrate.restore.restorer.restore`) does none
of these.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from lino_migrate.exceptions import (
    DatabaseUnavailableError,
    MediaWriteError,
    RehearsalFailedError,
    RestoreCancelledError,
    UsageError,
    plural,
)
from lino_migrate.format.layout import NATURAL_KEYS, written_when
from lino_migrate.reports.progress import VERBOSITY_HELP, Progress, command_progress
from lino_migrate.reports.restore import format_report, report_blocks, report_dict
from lino_migrate.reports.table import ReportOutput
from lino_migrate.restore.reader import DumpMeta, read_meta
from lino_migrate.restore.restorer import PIPELINE_MIN_ROWS, RestoreReport, restore
from lino_migrate.restore.schema_setup import schema_work
from lino_migrate.restore.selection import without_models
from lino_migrate.versions import app_versions
from lino_migrate.workers import AUTO, MAX_DEFAULT_JOBS, parse_jobs

__all__ = [
    "add_restore_options",
    "ask",
    "build_parser",
    "connect",
    "describe_database",
    "is_yes",
    "main",
    "run_restore",
    "unreadable",
]

#: Why Lino's ``--quick`` changes nothing here.
_QUICK = "this restore writes rows without calling full_clean() in any case."

#: The options a caller of :func:`run_restore` may leave out.
_DEFAULTS = {
    "format": "text", "quick": False, "migrate": False, "media": False,
    "overwrite_media": False, "exclude": [], "jobs": AUTO,
}  # fmt: skip

#: How many model labels and version differences the question names.
_SHOWN = 5


def build_parser(script: str) -> argparse.ArgumentParser:
    """Return the parser of the options of the ``restore.py`` at *script*."""
    parser = _Parser(
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
        help=VERBOSITY_HELP,
    )
    return parser


def add_restore_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of a restore (all but ``-v``) to *parser*.

    ``restore.py`` and ``manage.py restoredump`` take the same options.
    """
    parser.add_argument(
        "--noinput",
        "--no-input",
        "-b",
        "--batch",
        action="store_false",
        dest="interactive",
        help="Do not ask for confirmation (-b and --batch are Lino's spellings).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="Lino's option, accepted and ignored: this restore never calls "
        "full_clean(), quick or not.",
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
        "--migrate",
        action="store_true",
        help="Create the schema first, as `manage.py migrate --run-syncdb` does, "
        "if the database is not fully migrated (such as an empty one).",
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
        "--format",
        choices=("text", "json"),
        default="text",
        help="The report: text for a person (default), json for a program "
        "(nothing else is written to standard output).",
    )
    parser.add_argument(
        "-e",
        "--exclude",
        action="append",
        default=[],
        metavar="APP[.Model]",
        help="Leave the rows of an app or a model out of the restore; its table "
        "is left as it is (repeatable).",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        default=AUTO,
        metavar="N",
        help="Worker processes that read and prepare the rows while this one "
        f"writes them, in its one transaction. {AUTO!r} (default): one per core, "
        f"at most {MAX_DEFAULT_JOBS}, and none for a dump of fewer than "
        f"{PIPELINE_MIN_ROWS:,} rows; 1: none; a number is obeyed.",
    )
    _add_media_options(parser)


def _add_media_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--media`` and ``--overwrite-media`` (#15)."""
    parser.add_argument(
        "--media",
        action="store_true",
        help="Also put the dump's media files back into their storages, once "
        "the rows are committed (a dump written with dump2py --media).",
    )
    parser.add_argument(
        "--overwrite-media",
        action="store_true",
        help="With --media: replace a different file of the same name (an "
        "identical one is always fine).",
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
    out = stdout or sys.stdout
    as_json = args.format == "json"
    progress = command_progress(out, sys.stderr, args.verbosity, json=as_json)
    output = ReportOutput(out)
    return run_restore(script, vars(args), namespace, out.write, progress, output)


def run_restore(
    script: str,
    options: Mapping[str, Any],
    namespace: dict[str, Any] | None,
    write: Callable[[str], object],
    progress: Progress,
    output: ReportOutput | None = None,
) -> RestoreReport:
    """Confirm, restore and report, as the parsed *options* of a restore say.

    :param namespace: the hooks to run, or ``None`` to run none (safe mode).
    :param write: where the messages and the JSON report go.
    :param progress: the lines per file, and the bar on a terminal (#14).
    :param output: where the text report goes (rich tables on a terminal);
        by default, plain text through *write*.
    :raises LinoMigrateError: for a bad dump, a refused row or no confirmation.
    """
    args = argparse.Namespace(**{**_DEFAULTS, **options})
    parse_jobs(args.jobs)  # refused before anything else
    meta = without_models(read_meta(Path(script)), args.exclude)
    # JSON is all a program reads on standard output: no other line (#14).
    verbosity = args.verbosity if args.format == "text" else 0
    _say_notes(args, meta, write)
    connect(args.database)
    if args.interactive and not args.simulate:
        _confirm(
            meta, args.database, on_stderr=args.format != "text", migrate=args.migrate
        )

    with progress.reading(meta.files):
        report = restore(
            script,
            using=args.database,
            hooks=namespace,
            progress=progress,
            advance=progress.advance,
            simulate=args.simulate,
            sample=args.sample,
            accept_edits=args.accept_edits,
            migrate=args.migrate,
            exclude=args.exclude,
            media=args.media,
            overwrite_media=args.overwrite_media,
            jobs=args.jobs,
        )
    if args.format == "json":
        found = report_dict(report, describe_database(args.database), meta.values)
        write(json.dumps(found, indent=2, sort_keys=True) + "\n")
    elif verbosity and output is not None:
        output.report(report_blocks(report))
    elif verbosity:
        write(format_report(report))
    if report.violations:
        raise RehearsalFailedError(len(report.violations))
    _media_outcome(report, write if verbosity else None)
    return report


def _media_outcome(
    report: RestoreReport, write: Callable[[str], object] | None
) -> None:
    """Say what became of the media files; raise when some were not written."""
    if report.media is None or report.simulated:
        return
    if write is not None:
        write(report.media.summary() + "\n")
    if report.media.failures:
        raise MediaWriteError(report.media.failures)


def _say_notes(
    args: argparse.Namespace, meta: DumpMeta, write: Callable[[str], object]
) -> None:
    """Say what the restore ignores and what the dump lacks, before asking."""
    text = args.format == "text"
    if args.quick and args.verbosity:
        # Said even with JSON, on standard error: never silently ignored (#13).
        (write if text else sys.stderr.write)(f"Note: --quick is ignored; {_QUICK}\n")
    if meta.partial and args.verbosity and text:
        skipped = ", ".join(sorted(meta.values["SKIPPED"]))
        missing = _count(meta.values.get("MEDIA_MISSING"))
        lacks = [skipped] if skipped else []
        lacks += [plural(missing, "media file")] if missing else []
        write(
            f"This dump is PARTIAL: it lacks {' and '.join(lacks) or 'some models'}.\n"
        )
    media = _count(meta.values.get("MEDIA"))
    if media and not args.media and args.verbosity and text:
        count = plural(media, "media file")
        write(f"Note: this dump holds {count}; --media restores them too.\n")


def _count(value: object) -> int:
    """Return how many items the metadata *value* lists (0 for anything else)."""
    return len(value) if isinstance(value, tuple | list) else 0


def asks_to_migrate(args: Sequence[str]) -> bool:
    """Return whether the options *args* of a ``restore.py`` ask for ``--migrate``.

    As the script's parser reads them, so abbreviated too (``--mig``); options
    it does not know, and arguments it refuses, ask for nothing here (the
    script says what is wrong with them).
    """
    parser = _Parser(add_help=False)
    add_restore_options(parser)
    try:
        known, _ = parser.parse_known_args(list(args))
    except UsageError:
        return False
    return bool(known.migrate)


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are exceptions: ``run`` says them as any other (#14)."""

    def error(self, message: str) -> NoReturn:
        """Raise :class:`UsageError` instead of printing the usage and exiting."""
        raise UsageError(self.prog, message)


def connect(alias: str) -> None:
    """Connect to the database *alias*, or say which it is and why it failed.

    :raises DatabaseUnavailableError: when the database cannot be reached.
    """
    try:
        connections[alias].ensure_connection()
    except DatabaseError as e:
        raise DatabaseUnavailableError(alias, describe_database(alias), e) from e


def unreadable(alias: str, error: DatabaseError) -> DatabaseUnavailableError:
    """Return what to say of *error*: the database is unreachable, or unreadable.

    Unreadable as one never migrated, whose first table read is missing (#14).
    """
    try:
        connect(alias)
    except DatabaseUnavailableError as unreachable:
        return unreachable
    target = describe_database(alias)
    return DatabaseUnavailableError(alias, target, error, connected=True)


def describe_database(alias: str) -> str:
    """Return which database *alias* is: engine and file, or server and name.

    The password is never part of it.
    """
    connection = connections[alias]
    config = connection.settings_dict
    name = str(config.get("NAME") or "")
    if connection.vendor == "sqlite":
        return f"SQLite {name}"
    if connection.vendor == "postgresql":
        user = f"{config['USER']}@" if config.get("USER") else ""
        host = config.get("HOST") or "localhost"
        port = config.get("PORT") or "5432"
        return f"PostgreSQL {user}{host}:{port}/{name}"
    return f"{connection.display_name} {name}"


def _confirm(
    meta: DumpMeta, database: str, *, on_stderr: bool, migrate: bool = False
) -> None:
    """Ask whether to restore *meta* into *database*; raise unless the answer is yes.

    :param on_stderr: ask on standard error (standard output holds JSON).
    :param migrate: say what ``--migrate`` will do to the schema first, if anything.
    """
    target = f"database '{database}' ({describe_database(database)})"
    rows = sum(entry.rows for entry in meta.files)
    replaced = sorted(label for label in meta.schema if label not in NATURAL_KEYS)
    shown = ", ".join(replaced[:_SHOWN])
    if len(replaced) > _SHOWN:
        shown += f" and {len(replaced) - _SHOWN} more"
    question = (
        f"Restore the dump {meta.directory}\n"
        f"  {written_when(meta.values['CREATED'])}, {_version_changes(meta)},\n"
        f"  holding {plural(rows, 'row')} of {plural(len(meta.schema), 'model')},\n"
        f"into {target}?\n"
        f"Every row of {plural(len(replaced), 'model')} there is replaced: {shown}.\n"
        f"{_schema_line(database) if migrate else ''}"
        "Type 'yes' to continue: "
    )
    given = ask(question, on_stderr=on_stderr)
    if not is_yes(given):
        raise RestoreCancelledError(target, given)


def _schema_line(database: str) -> str:
    """Return the line of the question on the schema that ``--migrate`` creates."""
    work = schema_work(database)
    if not work:
        return ""
    return (
        f"The schema is created first (--migrate): migrate --run-syncdb will {work}; "
        "this stays if the restore fails.\n"
    )


def ask(question: str, *, on_stderr: bool = False) -> str:
    """Ask *question* at the terminal; return the answer, stripped.

    No answer (end of input, no terminal) is the empty string.

    :param on_stderr: write the question to standard error.
    """
    try:
        if on_stderr:
            sys.stderr.write(question)
            question = ""
        return input(question).strip()
    except EOFError:
        return ""


def is_yes(answer: str) -> bool:
    """Return whether *answer* agrees: ``yes`` or ``y``, in any case."""
    return answer.lower() in ("y", "yes")


def _version_changes(meta: DumpMeta) -> str:
    """Return how the app versions of the dump differ from the current ones."""
    current = app_versions()
    changed = [
        f"{app} {old} -> {current.get(app, 'not installed')}"
        for app, old in sorted(meta.versions.items())
        if current.get(app) != old
    ]
    if not changed:
        return "at the same app versions as this code"
    more = f" and {len(changed) - _SHOWN} more" if len(changed) > _SHOWN else ""
    return "at other app versions: " + ", ".join(changed[:_SHOWN]) + more
