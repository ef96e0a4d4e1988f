"""Upgrade a dump to the current code without a database (``upgradedump``).

The rows of an old dump go through the migrators as a restore would take
them, and are written as a new dump at the current versions. Its
``restore.py`` is the old one with the metadata replaced (libcst), so that a
person's hooks and comments survive. Restoring the new dump gives the same
database as restoring the old one.

Rows stream: memory does not grow with the dump (#11). The data files of a
model hold its rows ordered by primary key, as the dumper writes them:

* a model that no operation touches and that no migrator sends rows to is
  copied through, file after file, its literals written back as they are
  read (neither decoded nor encoded);
* the migrated rows of a model's own files are written as they come out of
  the migrators, as long as they come in order (they do, unless a migrator
  changes primary keys);
* any other row (a row a migrator made for another model, a row out of
  order, a row without its automatic primary key) is spooled to a file in
  sorted runs, and the model's files are written last from a merge of its
  rows, the rows without a primary key after them, numbered as a restore
  would number them. The merge is stable: rows with equal keys keep the
  order in which they came.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.dump.archive import (
    archive_path,
    move_archive_into_place,
    write_archive,
)
from lino_migrate.dump.directory import (
    move_into_place,
    prepare_target,
    temporary_directory,
    work_directory,
    writing,
)
from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import LoadError
from lino_migrate.format.codec import literal_encoder
from lino_migrate.format.layout import (
    CONTENT_TYPE,
    PERMISSION,
    FileEntry,
    ModelInfo,
    base_name,
)
from lino_migrate.naturalkeys import generic_key_columns, references
from lino_migrate.restore.plan import (
    Target,
    UpgradePlan,
    emitted_target,
    plan_upgrade,
)
from lino_migrate.restore.reader import DumpMeta, open_dump, read_rows
from lino_migrate.restore.restorer import Advance, counted
from lino_migrate.restore.router import decoded_dicts
from lino_migrate.schema import describe, sort_models
from lino_migrate.upgrade.newscript import (
    KEEP,
    copy_media,
    output_compression,
    write_script,
)
from lino_migrate.upgrade.spool import Row, Spool
from migrations_registry import Registry, RegistryError

__all__ = ["KEEP", "UpgradeResult", "migrated_dump", "upgrade_dump"]


Rename = dict[tuple[str, str], tuple[str, str]]

#: No row yet (``None`` is a key).
_NONE_YET: Any = object()


@dataclass
class UpgradeResult:
    """What ``upgradedump`` wrote."""

    path: Path
    files: list[FileEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def upgrade_dump(
    old: Path | str,
    new: Path | str,
    *,
    overwrite: bool = False,
    max_row_count: int = DEFAULT_MAX_ROW_COUNT,
    registry: Registry | None = None,
    advance: Advance | None = None,
    compress: str | None = KEEP,
    archive: bool = False,
) -> UpgradeResult:
    """Write *new*, the dump *old* migrated to the current code.

    :param advance: called as ``advance(label, rows)`` per batch of rows read
        from the files of model *label* of *old* (#14).
    :param compress: the compression of the new data files: ``gzip``, ``xz``,
        ``zstd``, ``None`` for none, or :data:`KEEP`, that of *old* (#15).
    :param archive: write *new* as one archive, ``NEW.tar`` (#15).

    :raises LinoMigrateError: for a bad dump, a failed plan, or *new* existing
        without *overwrite*.
    """
    old, new = Path(old), archive_path(Path(new)) if archive else Path(new)
    meta = open_dump(old)
    upgrade = plan_upgrade(meta, registry)
    compression = output_compression(meta, compress)
    prepare_target(new, overwrite=overwrite, archive=archive)
    # The spool is beside NEW, on the disk that receives the dump, rather than
    # in a temporary directory that may be held in memory.
    into = temporary_directory if archive else work_directory
    with writing(new), into(new) as work, temporary_directory(new) as spool:
        result = UpgradeResult(new)
        writer = FileWriter(work, max_row_count, compression=compression)
        upgrader = _Upgrader(meta, upgrade, writer, str(spool), advance)
        schema, result.files = upgrader.write()
        result.warnings = write_script(meta, work, schema, result.files)
        # MEDIA stays in restore.py as it was; its files come along (#15).
        media = copy_media(meta, work)
        if archive:
            built = write_archive(work, new, [e.name for e in result.files] + media)
            move_archive_into_place(built, new, overwrite=overwrite)
        else:
            move_into_place(work, new, overwrite=overwrite)
    return result


@contextmanager
def migrated_dump(
    old: Path | str, *, registry: Registry | None = None
) -> Iterator[DumpMeta]:
    """Yield the dump *old* migrated to the current code, verified, then remove it.

    The dump is written by :func:`upgrade_dump` into a temporary directory
    (``TMPDIR``), which is removed when the block ends: ``dumpcompare
    --migrate`` compares what the migrators make of *old* (#14).

    :raises LinoMigrateError: for a bad dump or a failed plan.

    .. versionadded:: 0.3
    """
    with tempfile.TemporaryDirectory(prefix="lino-migrate-migrated-") as scratch:
        migrated = Path(scratch) / "migrated"
        upgrade_dump(old, migrated, registry=registry)
        yield open_dump(migrated)


@dataclass
class _Sink:
    """The rows bound for one current model until its files are written."""

    target: Target
    info: ModelInfo
    #: the function renaming the natural keys a row refers to
    rename: Callable[[Row], Row]
    #: the function turning a migrated row dict into a renamed row
    encode: Callable[[dict[str, Any]], Row]
    #: the primary key's index in a row: the sort key
    key: int
    #: whether rows that lack the primary key are numbered (an ``AutoField``)
    auto: bool
    runs: Spool
    #: rows without their automatic primary key, in the order they came
    unnumbered: Spool
    #: the files written while the rows of the model's own files came in order
    staged: list[FileEntry] | None = None
    #: how many runs hold rows that came before the staged ones
    staged_at: int = 0
    #: the key of the last staged row
    last: Any = _NONE_YET
    #: the highest primary key, for the numbering
    top: Any = None
    migrated: bool = False

    def route(self, row: Row, *, staging: bool) -> bool:
        """Keep the migrated *row*; return whether it goes to the staged files."""
        self.migrated = True
        key = row[self.key]
        if self.auto:
            if key is None:
                self.unnumbered.add(row)
                return False
            self.see(key)
        if staging and (self.last is _NONE_YET or not key < self.last):
            self.last = key
            return True
        self.runs.add(row)
        return False

    def see(self, key: Any) -> None:
        """Count *key* among the primary keys that numbering must not reuse."""
        if self.auto:
            self.top = key if self.top is None else max(self.top, key)

    def numbered(self) -> Iterator[Row]:
        """Yield the rows that lacked their primary key, numbered after the others."""
        if not self.unnumbered:
            return
        number = (0 if self.top is None else self.top) + 1
        for run in self.unnumbered.runs():
            for row in run:
                yield (*row[: self.key], number, *row[self.key + 1 :])
                number += 1


class _Upgrader:
    """Write the data files of the upgraded dump; see the module's docstring."""

    def __init__(
        self,
        meta: DumpMeta,
        upgrade: UpgradePlan,
        writer: FileWriter,
        spool: str,
        advance: Advance | None = None,
    ) -> None:
        self.meta, self.upgrade, self.writer = meta, upgrade, writer
        self.spool = Path(spool)
        self.sinks: dict[str, _Sink] = {}
        self.advance = advance

    def read(self, entry: FileEntry) -> Iterator[list[Row]]:
        """Return the batches of rows of the old file *entry*, counted."""
        return counted(read_rows(self.meta, entry), entry.model, self.advance)

    def write(self) -> tuple[dict[str, Any], list[FileEntry]]:
        """Write every model's rows; return the new ``SCHEMA`` and ``FILES``."""
        renamed = self.upgrade.renamed_keys
        schema: dict[str, Any] = {}
        files: list[FileEntry] = []
        for label in (CONTENT_TYPE, PERMISSION):
            if label in self.meta.schema:
                info = self.meta.schema[label]
                rows = _natural_key_rows(self.meta, label, renamed, self.read)
                files += self.writer.write(info, rows)
                schema[label] = info.as_literal()
        self._migrate()
        targets = self.upgrade.targets
        for model in sort_models([t.model for t in targets.values()]):
            sink = self.sink(model._meta.label_lower)
            files += self._write_sink(sink)
            schema[sink.info.label] = sink.info.as_literal()
        return schema, files

    def sink(self, label: str) -> _Sink:
        """Return the sink of the current model *label*."""
        sink = self.sinks.get(label)
        if sink is None:
            sink = self.sinks[label] = self._new_sink(label)
        return sink

    def _new_sink(self, label: str) -> _Sink:
        target = emitted_target(self.upgrade.targets, label)
        info = describe(target.model)
        rename = _reference_renamer(target, info, self.upgrade.renamed_keys)
        pk = target.model._meta.pk
        auto = pk is not None and pk.get_internal_type().endswith("AutoField")
        key = info.attnames.index(info.pk[0])
        stem = self.spool / base_name(label)
        runs = Spool(stem.with_suffix(".runs"), key)
        unnumbered = Spool(stem.with_suffix(".unnumbered"), None)
        encode = _row_encoder(target, info, rename)
        return _Sink(target, info, rename, encode, key, auto, runs, unnumbered)

    def _migrate(self) -> None:
        """Send the rows of every model that migrators touch through them.

        The rows of a model's own files that come in order are written into
        its files at once (staged); every other row is spooled.
        """
        skip = {*self.upgrade.direct, CONTENT_TYPE, PERMISSION}
        entries = [e for e in self.meta.files if e.model not in skip]
        for label, group in groupby(entries, key=lambda e: e.model):
            own = None
            if label in self.upgrade.sources:
                own = self.sink(self.upgrade.sources[label])
            rows = self._migrated_rows(label, list(group), own)
            if own is None or own.staged is not None:
                for _row in rows:
                    pass
                continue
            own.staged_at = own.runs.cut(barrier=True)
            own.staged = self.writer.write(own.info, rows)

    def _migrated_rows(
        self, label: str, entries: list[FileEntry], own: _Sink | None
    ) -> Iterator[Row]:
        """Yield the rows bound for *own* that come in order; spool the others."""
        schema = self.upgrade.registry_schema
        staging = own is not None and own.staged is None
        last, sink, stage = None, own, False
        for entry in entries:
            rows = decoded_dicts(self.meta.schema[label], self.read(entry))
            try:
                for target, row in self.upgrade.plan.apply(label, rows, schema=schema):
                    if target != last or sink is None:
                        sink, last = self.sink(target), target
                        stage = staging and sink is own
                    values = sink.encode(row)
                    if sink.route(values, staging=stage):
                        yield values
            except RegistryError as e:
                raise LoadError(label, str(e), file=entry.name) from e

    def _write_sink(self, sink: _Sink) -> list[FileEntry]:
        """Write the files of *sink*'s model, unless staged; return them."""
        label = sink.info.label
        direct = [
            e
            for e in self.meta.files
            if e.model in self.upgrade.direct
            and self.upgrade.sources.get(e.model) == label
        ]
        spooled = sink.runs or sink.unnumbered
        if sink.staged is not None and not spooled and not direct:
            return sink.staged
        if not sink.migrated and sink.staged is None:
            rows = (sink.rename(row) for row in self._rows(direct))
            return self.writer.write(sink.info, rows)
        try:
            return self.writer.write(sink.info, self._merged(sink, direct))
        finally:
            sink.runs.close()
            sink.unnumbered.close()

    def _rows(self, entries: Iterable[FileEntry]) -> Iterator[Row]:
        """Yield the rows of the old dump's files *entries*, as they are written."""
        for entry in entries:
            for batch in self.read(entry):
                yield from batch

    def _merged(self, sink: _Sink, direct: list[FileEntry]) -> Iterator[Row]:
        """Yield every row of *sink* ordered by primary key, then the numbered ones.

        Ties keep the order of a list of the copied rows, then the migrated
        ones as they came: the runs are merged in that order.
        """
        copied = Spool(self.spool / f"{base_name(sink.info.label)}.copied", sink.key)
        for row in self._rows(direct):
            sink.see(row[sink.key])
            copied.add(sink.rename(row))
        runs = sink.runs.runs()
        staged = self._restaged(sink)
        before, after = runs[: sink.staged_at], runs[sink.staged_at :]
        merged = heapq.merge(
            *copied.runs(), *before, *staged, *after, key=itemgetter(sink.key)
        )
        yield from chain(merged, sink.numbered())
        copied.close()

    def _restaged(self, sink: _Sink) -> list[Iterator[Row]]:
        """Move the staged files of *sink* aside; return their rows, as one run."""
        if sink.staged is None:
            return []
        directory = self.writer.directory
        assert directory is not None
        for entry in sink.staged:
            (directory / entry.name).rename(self.spool / entry.name)
        staged = DumpMeta(self.spool, {}, {sink.info.label: sink.info}, ())
        batches = (batch for entry in sink.staged for batch in read_rows(staged, entry))
        return [chain.from_iterable(batches)]


def _row_encoder(
    target: Target, info: ModelInfo, rename: Callable[[Row], Row]
) -> Callable[[dict[str, Any]], Row]:
    """Return the function turning a migrated row into the literals of a data file.

    A field that the row lacks is filled; references by natural key are renamed.
    """
    columns = [(f.attname, literal_encoder(f.type)) for f in info.fields]
    fills = target.fills

    def encode(row: dict[str, Any]) -> Row:
        values = []
        for attname, encoder in columns:
            value = row[attname] if attname in row else fills[attname]()
            values.append(
                encoder(value)
                if encoder and value is not None and type(value) is not tuple
                else value
            )
        return rename(tuple(values))

    return encode


def _reference_renamer(
    target: Target, info: ModelInfo, renamed: Rename
) -> Callable[[Row], Row]:
    """Return a function renaming the natural keys a row refers to."""
    columns = [
        i
        for i, f in enumerate(info.fields)
        if references(target.model._meta.get_field(f.name)) is not None  # type: ignore[arg-type]
    ]
    columns += [
        oid for _ct, oid, _text in generic_key_columns(target.model, info.attnames)
    ]
    if not columns or not renamed:
        return lambda row: row

    def rename(row: Row) -> Row:
        values = list(row)
        for i in columns:
            values[i] = _renamed_key(values[i], renamed)
        return tuple(values)

    return rename


def _renamed_key(value: Any, renamed: Rename) -> Any:
    if type(value) is tuple and len(value) >= 2 and value[:2] in renamed:
        return renamed[value[:2]] + value[2:]
    return value


def _natural_key_rows(
    meta: DumpMeta,
    label: str,
    renamed: Rename,
    read: Callable[[FileEntry], Iterable[list[Row]]],
) -> list[Row]:
    """Return the rows of content types or permissions, renamed, unique, sorted.

    A content type row is its natural key; a permission row holds its content
    type's natural key. A handful per model: they are sorted in memory.
    """
    info = meta.schema[label]
    key = [info.attnames.index(a) for a in info.pk]
    rows: dict[Row, Row] = {}
    for entry in meta.files:
        if entry.model != label:
            continue
        for batch in read(entry):
            for row in batch:
                if label == CONTENT_TYPE:
                    row = _renamed_key(tuple(row), renamed)
                else:
                    row = tuple(_renamed_key(v, renamed) for v in row)
                rows.setdefault(tuple(row[i] for i in key), row)
    return [rows[k] for k in sorted(rows)]
