"""Dump the tables of a database into a directory of Python files."""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.db import DatabaseError, connections, models, transaction

from lino_migrate.dump.encoders import dump_encoder
from lino_migrate.dump.parallel import check_jobs, dump_in_parallel
from lino_migrate.dump.snapshot import read_batches, read_transaction
from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import (
    DumpExistsError,
    DumpReadError,
    EncodeError,
    LinoMigrateError,
)
from lino_migrate.format.codec import Converter, compose
from lino_migrate.format.layout import (
    FORMAT,
    KEY_OF_LABEL,
    NATURAL_KEYS,
    FileEntry,
    ModelInfo,
    render_restore_script,
)
from lino_migrate.naturalkeys import generic_key_columns, read_natural_keys, references
from lino_migrate.schema import describe, dumpable_models, model_label
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
    max_row_count: int = 50000,
    jobs: int = 1,
    progress: Progress | None = None,
) -> DumpResult:
    """Dump every dumpable model of database *using* into directory *target*.

    The files are written into a temporary directory beside *target*, which
    is renamed into place at the end: a failed dump leaves nothing behind.

    :param exclude: app labels or ``app_label.ModelName`` to leave out.
    :param tolerate: skip a model that cannot be read, mark the dump partial.
    :param simulate: read and encode everything but write nothing.
    :param overwrite: replace an existing *target* directory as a whole.
    :param max_row_count: the most rows one data file holds.
    :param jobs: the processes reading tables at once (PostgreSQL only); they
        share the snapshot of this process's read transaction.
    :param progress: called as ``progress(message, level)``.
    :raises DumpExistsError: when *target* exists and *overwrite* is false.
    :raises DumpReadError: when a model cannot be read and *tolerate* is false.
    """
    target = Path(target)
    if max_row_count < 1:
        msg = f"--max-row-count must be at least 1, not {max_row_count}."
        raise LinoMigrateError(msg)
    check_jobs(jobs, connections[using])
    if target.exists() and not overwrite and not simulate:
        raise DumpExistsError(target)
    models_ = dumpable_models(exclude)
    if simulate:
        result = DumpResult(target, simulated=True)
        _dump_into(
            None, models_, result, using, tolerate, max_row_count, jobs, progress
        )
        return result
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        result = DumpResult(target, simulated=False)
        _dump_into(
            work, models_, result, using, tolerate, max_row_count, jobs, progress
        )
        _move_into_place(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result


def _move_into_place(work: Path, target: Path) -> None:
    """Rename *work* to *target*, replacing an old *target* directory as a whole."""
    if not target.exists():
        work.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    old.rmdir()
    target.rename(old)
    work.rename(target)
    shutil.rmtree(old)


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
            if outcome.skipped is not None:
                result.skipped[label] = outcome.skipped
                if progress:
                    progress(f"Skipped {label}: {outcome.skipped}", 1)
                continue
            files += outcome.entries
            schema[label] = outcome.schema
            if progress:
                count = sum(e.rows for e in outcome.entries)
                progress(f"{label}: {count} rows in {len(outcome.entries)} file(s)", 2)
    result.files = files
    if work is None:
        return
    meta = {
        "FORMAT": FORMAT,
        "CREATED": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
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


@dataclass
class ModelOutcome:
    """What dumping one model gave: its files and schema, or why it was skipped."""

    entries: list[FileEntry] = field(default_factory=list)
    schema: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


@dataclass
class DumpJob:
    """How to dump one model after another into *work* (``None``: simulate).

    :param keys: per natural-key model label, ``{id: natural key}``.
    """

    work: Path | None
    using: str
    tolerate: bool
    max_row_count: int
    keys: dict[str, dict[Any, tuple[str, ...]]]

    def dump_model(self, model: type[models.Model]) -> ModelOutcome:
        """Write the files of *model*, inside the caller's read transaction.

        :raises DumpReadError: when the model cannot be read, unless tolerated.
        :raises EncodeError: when a value cannot be written, unless tolerated.
        """
        info = describe(model)
        writer = FileWriter(self.work, self.max_row_count)
        rows = _encoded_rows(model, info, connections[self.using], self.keys)
        try:
            if self.tolerate:
                # A savepoint: a failed read must not end the read transaction.
                with transaction.atomic(using=self.using):
                    writer.write(info, rows)
            else:
                writer.write(info, rows)
        except (DatabaseError, EncodeError) as e:
            _discard(writer)
            if not self.tolerate:
                if isinstance(e, EncodeError):
                    raise
                raise DumpReadError(info.label, e) from e
            return ModelOutcome(skipped=str(e).strip())
        except BaseException:
            _discard(writer)
            raise
        return ModelOutcome(writer.entries, info.as_literal())


def _discard(writer: FileWriter) -> None:
    """Delete the files *writer* wrote."""
    for entry in writer.entries:
        if writer.directory is not None:
            (writer.directory / entry.name).unlink(missing_ok=True)
    writer.entries.clear()


def _encoded_rows(
    model: type[models.Model],
    info: ModelInfo,
    connection: Any,
    keys: dict[str, dict[Any, tuple[str, ...]]],
) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of *model* as literals, references by natural key."""
    fields = [model._meta.get_field(f.name) for f in info.fields]
    active = [
        (i, enc)
        for i, enc in enumerate(_encoder(f, connection, keys) for f in fields)  # type: ignore[arg-type]
        if enc is not None
    ]
    generic = [
        (ct, oid, KEY_OF_LABEL[label], keys[label])
        for ct, oid, _text in generic_key_columns(model, info.attnames)
        for label in keys
    ]
    pk_index = info.attnames.index(info.pk[0])
    rows = (
        _encode_row(raw, active, generic, info, pk_index)
        for batch in read_batches(model, info, connection)
        for raw in batch
    )
    if info.label not in NATURAL_KEYS:
        yield from rows
        return
    key_columns = [info.attnames.index(a) for a in info.pk]
    yield from sorted(rows, key=lambda row: tuple(row[i] for i in key_columns))


def _encoder(
    field: models.Field[Any, Any],
    connection: Any,
    keys: dict[str, dict[Any, tuple[str, ...]]],
) -> Converter:
    target = references(field)
    if target is None:
        return dump_encoder(field, connection)
    mapping = keys.get(target, {})
    return compose(dump_encoder(field, connection), lambda v: mapping.get(v, v))


def _encode_row(
    raw: tuple[Any, ...],
    active: list[tuple[int, Any]],
    generic: Sequence[tuple[int, int, tuple[str, ...], dict[Any, tuple[str, ...]]]],
    info: ModelInfo,
    pk_index: int,
) -> tuple[Any, ...]:
    if not active and not generic:
        return raw
    row = list(raw)
    for i, encode in active:
        value = row[i]
        if value is not None:
            try:
                row[i] = encode(value)
            except Exception as e:
                field = info.fields[i].name
                raise EncodeError(info.label, raw[pk_index], field, value, e) from e
    for ct, oid, own_key, mapping in generic:
        if row[ct] == own_key and row[oid] is not None:
            row[oid] = _object_key(mapping, row[oid])
    return tuple(row)


def _object_key(mapping: dict[Any, tuple[str, ...]], value: Any) -> Any:
    """Return the natural key of the object id *value*, or *value* if unknown."""
    try:
        return mapping.get(int(value), value)
    except (TypeError, ValueError):
        return value
