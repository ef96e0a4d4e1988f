"""Dump one model: read its rows, encode them, write its data files.

The unit of work of a dump, the same whether the main process runs it or a
worker of ``--jobs`` (:mod:`lino_migrate.dump.parallel`) does, inside the
caller's read transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connections, models, transaction

from lino_migrate.dump.encoders import dump_encoder
from lino_migrate.dump.snapshot import KeyRange, read_batches
from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import DumpReadError, EncodeError, LinoMigrateError
from lino_migrate.format.codec import Converter, compose
from lino_migrate.format.layout import KEY_OF_LABEL, NATURAL_KEYS, FileEntry, ModelInfo
from lino_migrate.naturalkeys import generic_key_columns, references
from lino_migrate.schema import describe

__all__ = ["DumpJob", "ModelOutcome", "remove_data_file", "row_encoder"]


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
    #: the compression of the data files, ``None`` for none (#15)
    compression: str | None = None

    def dump_model(self, model: type[models.Model]) -> ModelOutcome:
        """Write the files of *model*, inside the caller's read transaction.

        :raises DumpReadError: when the model cannot be read, unless tolerated.
        :raises EncodeError: when a value cannot be written, unless tolerated.
        """
        info = describe(model)
        writer = FileWriter(self.work, self.max_row_count, compression=self.compression)
        rows = _encoded_rows(model, info, connections[self.using], self.keys)
        skipped = self._guarded(
            info, rows, lambda: writer.write(info, rows), lambda: _discard(writer)
        )
        if skipped is not None:
            return ModelOutcome(skipped=skipped)
        return ModelOutcome(writer.entries, info.as_literal())

    def dump_part(self, model: type[models.Model], part: KeyRange) -> ModelOutcome:
        """Write data file ``part.number`` of *model*: the rows of *part* (#16).

        What :meth:`dump_model` does for one file of a table cut by key
        (:func:`lino_migrate.dump.snapshot.key_ranges`); the outcome holds
        that file. The file must hold the rows counted for the range.

        :raises DumpReadError: when the rows cannot be read, unless tolerated.
        :raises EncodeError: when a value cannot be written, unless tolerated.
        :raises LinoMigrateError: when the range holds other rows than counted.
        """
        info = describe(model)
        writer = FileWriter(self.work, self.max_row_count, compression=self.compression)
        name = writer.file_name(info, part.number)
        rows = _encoded_rows(model, info, connections[self.using], self.keys, part)
        written: list[FileEntry] = []

        def write() -> None:
            entry = writer.write_file(info, part.number, rows)
            if entry.rows != part.rows:
                msg = (
                    f"'{name}' of '{info.label}' got {entry.rows} rows where "
                    f"{part.rows} were counted (primary keys from {part.first!r}). "
                    "Run the dump again, or with --jobs 1."
                )
                raise LinoMigrateError(msg)
            written.append(entry)

        skipped = self._guarded(
            info, rows, write, lambda: remove_data_file(writer, name)
        )
        if skipped is not None:
            return ModelOutcome(skipped=skipped)
        return ModelOutcome(written, info.as_literal())

    def _guarded(
        self,
        info: ModelInfo,
        rows: Generator[Any, None, None],
        write: Callable[[], object],
        undo: Callable[[], None],
    ) -> str | None:
        """Run *write*, which reads *rows*; return why the model is skipped, if it is.

        With ``tolerate``, in a savepoint, so that a failed read does not end
        the read transaction; *rows* is closed before the savepoint ends,
        which closes the server-side cursor that the rollback to the
        savepoint would destroy under it. *undo* removes what was written.

        :raises DumpReadError: when the rows cannot be read, unless tolerated.
        :raises EncodeError: when a value cannot be written, unless tolerated.
        """
        try:
            with contextlib.ExitStack() as stack:
                if self.tolerate:
                    stack.enter_context(transaction.atomic(using=self.using))
                stack.enter_context(contextlib.closing(rows))
                write()
        except (DatabaseError, EncodeError) as e:
            undo()
            if not self.tolerate:
                if isinstance(e, EncodeError):
                    raise
                raise DumpReadError(info.label, e) from e
            return str(e).strip()
        except BaseException:
            undo()
            raise
        return None


def remove_data_file(writer: FileWriter, name: str) -> None:
    """Delete the data file *name* that *writer* wrote, if any."""
    if writer.directory is not None:
        (writer.directory / name).unlink(missing_ok=True)


def _discard(writer: FileWriter) -> None:
    """Delete the files *writer* wrote."""
    for entry in writer.entries:
        remove_data_file(writer, entry.name)
    writer.entries.clear()


def _encoded_rows(
    model: type[models.Model],
    info: ModelInfo,
    connection: Any,
    keys: dict[str, dict[Any, tuple[str, ...]]],
    part: KeyRange | None = None,
) -> Generator[tuple[Any, ...], None, None]:
    """Yield the rows of *model* (of *part* only) as literals, references by natural key.

    Closing it closes the cursor that reads them.
    """
    encode = row_encoder(model, info, connection, keys)
    batches = read_batches(model, info, connection, part)
    try:
        rows = (encode(raw) for batch in batches for raw in batch)
        if info.label not in NATURAL_KEYS:
            yield from rows
            return
        key_columns = [info.attnames.index(a) for a in info.pk]
        yield from sorted(rows, key=lambda row: tuple(row[i] for i in key_columns))
    finally:
        batches.close()


def row_encoder(
    model: type[models.Model],
    info: ModelInfo,
    connection: Any,
    keys: dict[str, dict[Any, tuple[str, ...]]],
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Return the function that turns a raw row of *model* into literals.

    Built where the connection is (it chooses the converters, without a
    query); the function itself needs no connection, so that a worker
    process of ``--jobs`` runs it (#16).
    """
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
    slow = partial(_encode_row, active, generic, info, pk_index)
    if not active:
        return slow
    encode = _compiled_encoder(len(fields), active, slow)
    if not generic:
        return encode

    def encode_generic(raw: tuple[Any, ...]) -> tuple[Any, ...]:
        row = encode(raw)
        for ct, oid, own_key, _mapping in generic:
            if row[ct] == own_key and row[oid] is not None:
                return slow(raw)  # an object id to turn into its natural key
        return row

    return encode_generic


def _compiled_encoder(
    width: int,
    active: list[tuple[int, Any]],
    slow: Callable[[tuple[Any, ...]], tuple[Any, ...]],
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Return :func:`_encode_row` for one model as a function of its own (#16).

    The function unpacks the row into locals and builds the new tuple in one
    expression, calling the encoder of each active column unless its value
    is ``None``: no loop, no list, at about half the cost per row. Its
    source is made of column numbers only. Any error, or a row of another
    width, goes to *slow*, the general function, which raises the
    :class:`EncodeError` that names the model, row and field.
    """
    names = [f"c{i}" for i in range(width)]
    encoders = dict(active)
    items = [
        f"None if {name} is None else e{i}({name})" if i in encoders else name
        for i, name in enumerate(names)
    ]
    source = (
        "def encode(raw):\n"
        "    try:\n"
        f"        {', '.join(names)}, = raw\n"
        f"        return ({', '.join(items)},)\n"
        "    except Exception:\n"
        "        return slow(raw)\n"
    )
    namespace: dict[str, Any] = {f"e{i}": enc for i, enc in active}
    namespace["slow"] = slow
    exec(source, namespace)  # column numbers only, see above
    return namespace["encode"]  # type: ignore[no-any-return]


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
    active: list[tuple[int, Any]],
    generic: Sequence[tuple[int, int, tuple[str, ...], dict[Any, tuple[str, ...]]]],
    info: ModelInfo,
    pk_index: int,
    raw: tuple[Any, ...],
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
