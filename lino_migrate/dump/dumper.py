"""Dump the tables of a database into a directory of Python files."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT, creation_time
from lino_migrate.dump.directory import (
    checkpoint,
    move_into_place,
    prepare_target,
    work_directory,
    writing,
)
from lino_migrate.dump.job import DumpJob, ModelOutcome
from lino_migrate.dump.parallel import check_jobs, dump_in_parallel
from lino_migrate.dump.snapshot import read_transaction
from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.format.layout import (
    FORMAT,
    FileEntry,
    render_restore_script,
    rows_per_model,
)
from lino_migrate.naturalkeys import read_natural_keys
from lino_migrate.schema import dumpable_models, left_out_models, model_label
from lino_migrate.versions import app_versions, applied_migrations

__all__ = ["DumpResult", "dump", "dumped_labels"]

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
    jobs: int = 1,
    progress: Progress | None = None,
    advance: Advance | None = None,
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
    :param jobs: the processes reading tables at once (PostgreSQL only); they
        share the snapshot of this process's read transaction.
    :param progress: called as ``progress(message, level)``.
    :param advance: called as ``advance(label, rows)`` when a model starts
        (*rows* 0) and when its rows are written (#14).
    :raises DumpExistsError: when *target* exists and *overwrite* is false.
    :raises NotADumpError: when *target* exists and is not a dump of this tool.
    :raises DumpReadError: when a model cannot be read and *tolerate* is false.
    """
    target = Path(target)
    if max_row_count < 1:
        msg = f"--max-row-count must be at least 1, not {max_row_count}."
        raise LinoMigrateError(msg)
    check_jobs(jobs, connections[using])
    models_ = dumpable_models(exclude, using)
    left_out = dict(left_out_models(using))
    for label, why in left_out.items():
        if progress:
            progress(
                f"Left out {label}: no table on this database by design ({why}).", 1
            )
    report = _Report(progress, advance)
    if simulate:
        result = DumpResult(target, simulated=True, left_out=left_out)
        _dump_into(None, models_, result, using, tolerate, max_row_count, jobs, report)
        return result
    result = DumpResult(target, simulated=False, left_out=left_out)
    with writing(target):
        prepare_target(target, overwrite=overwrite, progress=progress)
        with work_directory(target) as work:
            _dump_into(
                work, models_, result, using, tolerate, max_row_count, jobs, report
            )
            move_into_place(work, target, overwrite=overwrite)
    return result


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
    work: Path | None,
    models_: list[type[models.Model]],
    result: DumpResult,
    using: str,
    tolerate: bool,
    max_row_count: int,
    jobs: int,
    report: _Report,
) -> None:
    """Dump *models_* into *work* (``None``: simulate) in one read transaction."""
    connection = connections[using]
    files: list[FileEntry] = []
    schema: dict[str, Any] = {}
    with read_transaction(connection):
        versions = app_versions()
        migrations = applied_migrations(connection)
        keys = read_natural_keys(using)
        job = DumpJob(work, using, tolerate, max_row_count, keys)
        outcomes: Iterable[ModelOutcome]
        if jobs > 1:
            outcomes = dump_in_parallel(job, models_, jobs, connection)
        else:
            outcomes = _one_by_one(job, models_, report)
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
    result.files = files
    if work is not None:
        _write_restore_script(work, connection, versions, migrations, result, schema)


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
        "PARTIAL": bool(result.skipped),
        "SKIPPED": result.skipped,
        "VERSIONS": versions,
        "MIGRATIONS": migrations,
        "SCHEMA": schema,
        "FILES": tuple(e.as_literal() for e in result.files),
    }
    (work / "restore.py").write_text(render_restore_script(meta), encoding="utf-8")
