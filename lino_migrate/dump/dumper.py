"""Dump the tables of a database into a directory of Python files."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.db import connections, models

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
)
from lino_migrate.naturalkeys import read_natural_keys
from lino_migrate.schema import dumpable_models, left_out_models, model_label
from lino_migrate.versions import app_versions, applied_migrations

__all__ = ["DumpResult", "dump"]

Progress = Callable[[str, int], None]


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
        counts: dict[str, int] = {}
        for entry in self.files:
            counts[entry.model] = counts.get(entry.model, 0) + entry.rows
        return counts


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
    if simulate:
        result = DumpResult(target, simulated=True, left_out=left_out)
        _dump_into(
            None, models_, result, using, tolerate, max_row_count, jobs, progress
        )
        return result
    result = DumpResult(target, simulated=False, left_out=left_out)
    with writing(target):
        prepare_target(target, overwrite=overwrite, progress=progress)
        with work_directory(target) as work:
            _dump_into(
                work, models_, result, using, tolerate, max_row_count, jobs, progress
            )
            move_into_place(work, target, overwrite=overwrite)
    return result


def _dump_into(
    work: Path | None,
    models_: list[type[models.Model]],
    result: DumpResult,
    using: str,
    tolerate: bool,
    max_row_count: int,
    jobs: int,
    progress: Progress | None,
) -> None:
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
            outcomes = (job.dump_model(model) for model in models_)
        for model, outcome in zip(models_, outcomes, strict=True):
            label = model_label(model)
            checkpoint(f"dumped:{label}")
            if outcome.skipped is not None:
                result.skipped[label] = outcome.skipped
                if progress:
                    progress(f"Skipped {label}: {outcome.skipped}", 1)
                continue
            files += outcome.entries
            schema[label] = outcome.schema
            if progress:
                count = sum(e.rows for e in outcome.entries)
                files_ = plural(len(outcome.entries), "file")
                progress(f"{label}: {plural(count, 'row')} in {files_}", 2)
    result.files = files
    if work is None:
        return
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
        "FILES": tuple(e.as_literal() for e in files),
    }
    (work / "restore.py").write_text(render_restore_script(meta), encoding="utf-8")
