"""``manage.py dump2py DIR``: write a Python dump of a database."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.dump.archive import archive_name
from lino_migrate.dump.directory import prepare_target
from lino_migrate.dump.dumper import DumpResult, dump, dumped_labels
from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.management.backups import (
    add_backup_options,
    check_backup_options,
    dated_name,
    remove_old,
    say_removed,
)
from lino_migrate.management.base import InterruptibleCommand, confirm_overwrite
from lino_migrate.management.output import (
    add_output_options,
    compression,
    output_path,
)
from lino_migrate.reports.drift import check_database, report_blocks
from lino_migrate.reports.progress import Progress
from lino_migrate.restore.cli import unreadable
from lino_migrate.storage import StoragePlace
from lino_migrate.workers import AUTO, MAX_DEFAULT_JOBS, parse_jobs


def _jobs(value: str | int) -> int | str:
    """Return ``auto`` or the number ``--jobs`` asks for; refuse a wrong one (#16)."""
    try:
        jobs = parse_jobs(value)
    except LinoMigrateError as e:
        raise CommandError(str(e)) from e
    return AUTO if value == AUTO else jobs


class Command(InterruptibleCommand):
    help = "Write the rows of every model into a directory of Python files."
    interrupted = "nothing was written; the dump directory is as it was."

    # Django reads this class attribute; a list is its documented form.
    requires_system_checks: list[str] = []  # noqa: RUF012

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help="Never ask a question (replacing DIR still needs --overwrite).",
        )  # fmt: skip
        parser.add_argument(
            "-t", "--tolerate", action="store_true",
            help="Skip a model that cannot be read and mark the dump partial.",
        )  # fmt: skip
        parser.add_argument(
            "-s", "--simulate", action="store_true",
            help="Check the database against the code and read every row; write "
            "nothing. Exit status 0: no drift, 1: drift, 2: error.",
        )  # fmt: skip
        parser.add_argument(
            "--format", choices=("text", "json"), default="text",
            help="The report of --simulate: text for a person (default), json "
            "for a program.",
        )  # fmt: skip
        parser.add_argument(
            "-o", "--overwrite", action="store_true",
            help="Replace DIR (as a whole) if it is a dump of lino_migrate.",
        )  # fmt: skip
        parser.add_argument(
            "-m", "--max-row-count", type=int, default=DEFAULT_MAX_ROW_COUNT, metavar="N",
            help="The most rows per data file (default %(default)s).",
        )  # fmt: skip
        parser.add_argument(
            "--jobs", "-j", default=AUTO, metavar="N",
            help="Encode values in N worker processes: on SQLite they write the "
            "big tables that this one reads; on PostgreSQL they read tables in "
            f"this one's snapshot, as it does. {AUTO!r} (default): the cores, "
            f"at most {MAX_DEFAULT_JOBS}, where it pays off; 1: this one alone.",
        )  # fmt: skip
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections),
            help='The database to dump. Defaults to "default".',
        )  # fmt: skip
        parser.add_argument(
            "-e", "--exclude", action="append", default=[], metavar="APP[.Model]",
            help="An app label or app_label.ModelName to leave out (repeatable).",
        )  # fmt: skip
        add_backup_options(parser)  # DIR, --media, --storage, --name, --keep
        add_output_options(parser)  # --compress, --archive

    def handle(self, *args: Any, **options: Any) -> None:
        check_backup_options(options)
        options["jobs"] = _jobs(options["jobs"])
        if options["simulate"]:
            self._check(Path(options["output"]), options)
            return
        progress = self.progress(options)
        try:
            name = dated_name(options)
            if options["storage"]:
                result, where = self._to_storage(name, options, progress)
            else:
                target = output_path({**options, "output": name})
                result, where = self._to_directory(target, options, progress)
            removed = remove_old(name, options)
        except DatabaseError as e:
            raise CommandError(str(unreadable(options["database"], e))) from e
        except (LinoMigrateError, LookupError) as e:
            raise CommandError(str(e)) from e
        self._summarize(result, where, options["verbosity"])
        say_removed(self.stdout.write, removed, options["verbosity"])

    def _to_directory(
        self, target: Path, options: dict[str, Any], progress: Progress
    ) -> tuple[DumpResult, str]:
        """Dump into the directory *target*, replacing it if allowed and confirmed."""
        prepare_target(
            target,
            overwrite=options["overwrite"],
            progress=progress,
            archive=options["archive"],
        )
        if options["interactive"] and os.path.lexists(target):
            confirm_overwrite(target, "Dump")
        return self._dump(target, options, progress), str(target)

    def _to_storage(
        self, name: str, options: dict[str, Any], progress: Progress
    ) -> tuple[DumpResult, str]:
        """Dump into a private directory, then save the files in the storage (#15).

        With ``--archive`` the one archive file ``NAME.tar`` is saved.
        """
        place, archive = StoragePlace(options["storage"]), options["archive"]
        name = archive_name(name) if archive else name
        overwrite = options["overwrite"]
        exists = place.check_target(name, overwrite=overwrite, archive=archive)
        if exists and options["interactive"]:
            confirm_overwrite(Path(place.describe(name)), "Dump")
        with tempfile.TemporaryDirectory(prefix="lino-migrate-") as scratch:
            # An archive's top directory is the name's last part, without .tar.
            local = Path(scratch) / (PurePosixPath(name).name if archive else "dump")
            result = self._dump(local, options, progress)
            if archive:
                place.upload_archive(result.path, name, overwrite=overwrite)
            else:
                place.upload(local, name, overwrite=overwrite)
        return result, place.describe(name)

    def _check(self, target: Path, options: dict[str, Any]) -> None:
        """Print the drift report; exit 1 on drift, 2 when the check fails."""
        try:
            report = check_database(
                target,
                using=options["database"],
                exclude=options["exclude"],
                max_row_count=options["max_row_count"],
            )
        except DatabaseError as e:
            error = unreadable(options["database"], e)
            raise CommandError(str(error), returncode=2) from e
        except (LinoMigrateError, LookupError) as e:
            raise CommandError(str(e).strip(), returncode=2) from e
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        elif options["verbosity"] >= 1:
            self.report_output(options).report(report_blocks(report))
        if report.drift:
            raise CommandError(report.summary(), returncode=1)

    def _dump(
        self, target: Path, options: dict[str, Any], progress: Progress
    ) -> DumpResult:
        """Dump into *target*; on a terminal, with a bar counting models (#14)."""
        models = dumped_labels(options["exclude"], options["database"])
        with progress.shown(rows=None, models=len(models)):
            return dump(
                target,
                using=options["database"],
                exclude=options["exclude"],
                tolerate=options["tolerate"],
                overwrite=options["overwrite"],
                max_row_count=options["max_row_count"],
                jobs=options["jobs"],
                progress=progress,
                advance=progress.advance,
                media=options["media"],
                compress=compression(options),
                archive=options["archive"],
            )

    def _summarize(self, result: DumpResult, where: str, verbosity: int) -> None:
        if verbosity < 1:
            return
        counts = result.rows
        media = ""
        if result.media is not None:
            media = f" and {plural(len(result.media.entries), 'media file')}"
        self.stdout.write(
            f"Wrote {plural(sum(counts.values()), 'row')} of "
            f"{plural(len(counts), 'model')} in {plural(len(result.files), 'file')}"
            f"{media} to {where}."
        )
        if result.skipped:
            self.stderr.write(
                f"PARTIAL dump: skipped {', '.join(sorted(result.skipped))}."
            )
        if result.media is not None and result.media.missing:
            missing = "".join(f"\n- {m}" for m in result.media.missing)
            self.stderr.write(f"PARTIAL dump: media files missing:{missing}")
