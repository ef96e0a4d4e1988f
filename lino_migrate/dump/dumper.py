"""Dump the tables of a database into a directory of Python files."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import django
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT, creation_time
from lino_migrate.dump.archive import (
    archive_path,
    move_archive_into_place,
    write_archive,
)
from lino_migrate.dump.directory import (
    checkpoint,
    move_into_place,
    prepare_target,
    temporary_directory,
    work_directory,
    writing,
)
from lino_migrate.dump.job import DumpJob, ModelOutcome
from lino_migrate.dump.media import MediaCopy, copy_media
from lino_migrate.dump.parallel import (
    PIPELINE_ON_POSTGRES,
    check_jobs,
    dump_in_parallel,
    shares_snapshot,
)
from lino_migrate.dump.pipeline import Pipeline
from lino_migrate.dump.snapshot import read_transaction
from lino_migrate.exceptions import LinoMigrateError, MediaMissingError, plural
from lino_migrate.format.compression import (
    COMPRESSIONS,
    CompressionError,
    require_compression,
)
from lino_migrate.format.layout import (
    FORMAT,
    FileEntry,
    render_restore_script,
    rows_per_model,
)
from lino_migrate.format.media import MEDIA_DIRECTORY
from lino_migrate.naturalkeys import read_natural_keys
from lino_migrate.schema import dumpable_models, left_out_models, model_label
from lino_migrate.versions import app_versions, applied_migrations
from lino_migrate.workers import AUTO, parse_jobs

# COMPRESSIONS, the compressions dump() takes, is re-exported for the commands (#15).
__all__ = ["COMPRESSIONS", "DumpResult", "dump", "dumped_labels"]

Progress = Callable[[str, int], None]
#: Called as ``advance(label, rows)``: *rows* more rows of model *label* done.
Advance = Callable[[str, int], None]


@dataclass
class DumpResult:
    """What a dump wrote (or, simulated, would have written)."""

    path: Path
    simulated: bool
    files: list[FileEntry] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    #: models without a table on this database by design, and why (#13)
    left_out: dict[str, str] = field(default_factory=dict)
    #: the media files copied and missing (``media=True``), else None
    media: MediaCopy | None = None

    @property
    def rows(self) -> dict[str, int]:
        """Return the number of rows dumped per model label."""
        return rows_per_model(self.files)


def dumped_labels(exclude: Iterable[str] = (), using: str = "default") -> list[str]:
    """Return the labels of the models a dump of *using* holds, in load order.

    What a command counts before it dumps (#14).

    :raises LookupError: when *exclude* names an unknown app or model.
    """
    return [model_label(model) for model in dumpable_models(exclude, using)]


def dump(
    target: Path | str,
    *,
    using: str = "default",
    exclude: Iterable[str] = (),
    tolerate: bool = False,
    simulate: bool = False,
    overwrite: bool = False,
    max_row_count: int = DEFAULT_MAX_ROW_COUNT,
    jobs: int | str = 1,
    progress: Progress | None = None,
    advance: Advance | None = None,
    media: bool = False,
    compress: str | None = None,
    archive: bool = False,
) -> DumpResult:
    """Dump every dumpable model of database *using* into directory *target*.

    The files are written into a temporary directory beside *target*, which
    is renamed into place at the end: a failed dump leaves nothing behind.

    :param exclude: app labels or ``app_label.ModelName`` to leave out.
    :param tolerate: skip a model that cannot be read, mark the dump partial.
    :param simulate: read and encode everything but write nothing.
    :param overwrite: replace an existing *target* directory as a whole; only
        a dump of this tool (or an empty directory) is replaced.
    :param max_row_count: the most rows one data file holds.
    :param jobs: the worker processes of the dump, or ``"auto"`` (the cores,
        at most 4, where they pay off): on SQLite, this process reads and
        they encode and write the data files of the big tables
        (:mod:`lino_migrate.dump.pipeline`, #16); on PostgreSQL they read
        tables in this process's snapshot, as this process does
        (:mod:`lino_migrate.dump.parallel`). The files are the same.
    :param progress: called as ``progress(message, level)``.
    :param advance: called as ``advance(label, rows)`` when a model starts
        (*rows* 0) and when its rows are written (#14).
    :param media: copy the files that the ``FileField``\\ s of the dumped rows
        name into ``media/`` (:mod:`lino_migrate.dump.media`, #15).
    :param compress: ``gzip``, ``xz`` or ``zstd`` to compress the data files
        (:mod:`lino_migrate.format.compression`), ``None`` for none (#15).
    :param archive: write one archive ``TARGET.tar`` instead of a directory
        (:mod:`lino_migrate.dump.archive`), holding the media files too; an
        existing one is replaced only if it is an archive of a dump of this
        tool (#15).
    :raises DumpExistsError: when *target* exists and *overwrite* is false.
    :raises NotADumpError: when *target* exists and is not a dump of this tool.
    :raises DumpReadError: when a model cannot be read and *tolerate* is false.
    :raises MediaMissingError: when a file a row names is missing and
        *tolerate* is false.
    """
    target = archive_path(Path(target)) if archive else Path(target)
    if max_row_count < 1:
        msg = f"--max-row-count must be at least 1, not {max_row_count}."
        raise LinoMigrateError(msg)
    try:
        require_compression(compress)
    except CompressionError as e:
        raise LinoMigrateError(str(e)) from e
    auto, jobs = jobs == AUTO, parse_jobs(jobs)
    if not auto:
        check_jobs(jobs, connections[using])
    models_ = dumpable_models(exclude, using)
    left_out = dict(left_out_models(using))
    for label, why in left_out.items():
        if progress:
            progress(
                f"Left out {label}: no table on this database by design ({why}).", 1
            )
    report = _Report(progress, advance)
    job = DumpJob(None, using, tolerate, max_row_count, {}, compress)
    result = DumpResult(target, simulated=simulate, left_out=left_out)
    if simulate:
        _dump_into(job, models_, result, (jobs, auto), report)
        return result
    result.media = MediaCopy() if media else None

    def fill(work: Path) -> list[str]:
        _dump_into(replace(job, work=work), models_, result, (jobs, auto), report)
        return [entry.name for entry in result.files] + _media_names(result.media)

    with writing(target):
        prepare_target(target, overwrite=overwrite, progress=progress, archive=archive)
        (_into_archive if archive else _into_directory)(target, overwrite, fill)
    return result


def _media_names(media: MediaCopy | None) -> list[str]:
    """Return ``media/NAME`` for each media file copied, in the order of ``MEDIA``."""
    if media is None:
        return []
    return [f"{MEDIA_DIRECTORY}/{name}" for name in sorted(media.entries)]


def _into_directory(
    target: Path, overwrite: bool, fill: Callable[[Path], list[str]]
) -> None:
    """Fill a temporary directory with *fill*, then move it to *target*."""
    with work_directory(target) as work:
        fill(work)
        move_into_place(work, target, overwrite=overwrite)


def _into_archive(
    target: Path, overwrite: bool, fill: Callable[[Path], list[str]]
) -> None:
    """Fill a temporary directory with *fill*, then archive it as *target* (#15)."""
    with temporary_directory(target) as work:
        built = write_archive(work, target, fill(work))
        move_archive_into_place(built, target, overwrite=overwrite)


@dataclass
class _Report:
    """The callbacks a dump reports through; each may be ``None``."""

    progress: Progress | None
    advance: Advance | None

    def start(self, model: type[models.Model]) -> None:
        """Say that the rows of *model* are being read."""
        if self.advance:
            self.advance(model_label(model), 0)

    def skipped(self, label: str, why: str) -> None:
        """Say that the model *label* was skipped, and why."""
        if self.progress:
            self.progress(f"Skipped {label}: {why}", 1)

    def dumped(self, label: str, entries: list[FileEntry]) -> None:
        """Count the rows of model *label*, written into *entries*; name them."""
        count = sum(e.rows for e in entries)
        if self.advance:
            self.advance(label, count)
        if self.progress:
            files_ = plural(len(entries), "file")
            self.progress(f"{label}: {plural(count, 'row')} in {files_}", 2)
            for entry in entries:
                self.progress(f"{entry.name}: {plural(entry.rows, 'row')}", 3)


def _dump_into(
    job: DumpJob,
    models_: list[type[models.Model]],
    result: DumpResult,
    jobs: tuple[int, bool],
    report: _Report,
) -> None:
    """Dump *models_* as *job* says (into ``job.work``, ``None``: simulate).

    Everything is read in one read transaction; the natural keys, read in it
    first, are given to *job*.
    """
    work, using = job.work, job.using
    connection = connections[using]
    files: list[FileEntry] = []
    schema: dict[str, Any] = {}
    with read_transaction(connection):
        versions = app_versions()
        migrations = applied_migrations(connection)
        job.keys = read_natural_keys(using)
        with _dumping(job, models_, jobs, report) as outcomes:
            for model, outcome in zip(models_, outcomes, strict=True):
                label = model_label(model)
                checkpoint(f"dumped:{label}")
                if outcome.skipped is not None:
                    result.skipped[label] = outcome.skipped
                    report.skipped(label, outcome.skipped)
                    continue
                files += outcome.entries
                schema[label] = outcome.schema
                report.dumped(label, outcome.entries)
        if work is not None and result.media is not None:
            # In the read transaction: the files of the rows dumped (#15).
            _copy_media(work, models_, result, using, job.tolerate)
    result.files = files
    if work is not None:
        _write_restore_script(work, connection, versions, migrations, result, schema)


def _copy_media(
    work: Path,
    models_: list[type[models.Model]],
    result: DumpResult,
    using: str,
    tolerate: bool,
) -> None:
    """Copy the media files of the models dumped; refuse missing ones unless *tolerate*."""
    dumped = [m for m in models_ if model_label(m) not in result.skipped]
    result.media = copy_media(work, dumped, using)
    if result.media.missing and not tolerate:
        raise MediaMissingError(result.media.missing)


@contextmanager
def _dumping(
    job: DumpJob,
    models_: list[type[models.Model]],
    jobs: tuple[int, bool],
    report: _Report,
) -> Iterator[Iterable[ModelOutcome]]:
    """Give the outcomes of dumping *models_*, in their order.

    *jobs* is the number of processes and whether it is ``auto``. One dumps
    in this process; more, on PostgreSQL, with the readers that share the
    snapshot (:mod:`lino_migrate.dump.parallel`) when :func:`shares_snapshot`
    says so, else in this process; on another database through the pipeline
    of :mod:`lino_migrate.dump.pipeline` (#16). The workers are gone when
    the block ends, whatever ended it.
    """
    (count, auto), connection = jobs, connections[job.using]
    tables = [m._meta.db_table for m in models_]
    if count > 1 and shares_snapshot(count, connection, tables, auto=auto):
        yield dump_in_parallel(job, models_, count, connection)
    elif count == 1 or (connection.vendor == "postgresql" and not _pipelined()):
        yield _one_by_one(job, models_, report)
    else:
        with Pipeline(job, count, report.start) as pipeline:
            yield pipeline.outcomes(models_)


def _pipelined() -> bool:
    """Return whether a dump on PostgreSQL goes through the pipeline (a test hook)."""
    return os.environ.get(PIPELINE_ON_POSTGRES) == "1"


def _one_by_one(
    job: DumpJob, models_: list[type[models.Model]], report: _Report
) -> Iterator[ModelOutcome]:
    """Yield the outcome of dumping each model of *models_*, in this process."""
    for model in models_:
        report.start(model)
        yield job.dump_model(model)


def _write_restore_script(
    work: Path,
    connection: BaseDatabaseWrapper,
    versions: dict[str, str],
    migrations: dict[str, Any],
    result: DumpResult,
    schema: dict[str, Any],
) -> None:
    """Write the ``restore.py`` of the dump of *result* into *work*."""
    meta = {
        "FORMAT": FORMAT,
        "CREATED": creation_time(),
        "DJANGO": django.__version__,
        "ENGINE": connection.settings_dict["ENGINE"],
        "PARTIAL": bool(result.skipped or (result.media and result.media.missing)),
        "SKIPPED": result.skipped,
        "VERSIONS": versions,
        "MIGRATIONS": migrations,
        "SCHEMA": schema,
        "FILES": tuple(e.as_literal() for e in result.files),
    }
    if result.media is not None:
        meta.update(result.media.metadata())
    (work / "restore.py").write_text(render_restore_script(meta), encoding="utf-8")
