"""Compare two dumps model by model, without a database (``dumpcompare``).

Both dumps are verified first (checksums, row counts). Then, one model at a
time, the rows of the first dump are held keyed by primary key while the rows
of the second stream past them: memory grows with the biggest model, not with
the dump. Values are compared by what they mean for their field type (see
:func:`comparable`), and reported as the dumps hold them.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lino_migrate.exceptions import DumpFormatError
from lino_migrate.format.codec import literal_decoder
from lino_migrate.format.layout import FieldInfo, ModelInfo
from lino_migrate.restore.reader import DumpMeta, open_dump, read_rows
from lino_migrate.restore.restorer import Advance, counted

__all__ = [
    "DumpComparison",
    "FieldChange",
    "ModelComparison",
    "Row",
    "RowChange",
    "comparable",
    "compare_dumps",
    "compare_model",
    "open_dump",
]


@dataclass(frozen=True)
class FieldChange:
    """A field of a model that only one dump has, or that the dumps describe differently.

    .. versionadded:: 0.1
    """

    name: str
    a: FieldInfo | None
    b: FieldInfo | None

    @property
    def kind(self) -> str:
        """Return ``added`` (only in B), ``removed`` (only in A) or ``changed``."""
        if self.a is None:
            return "added"
        return "removed" if self.b is None else "changed"


@dataclass(frozen=True)
class Row:
    """A row that only one dump has: its primary key and values, as dumped.

    .. versionadded:: 0.1
    """

    pk: Any
    values: dict[str, Any]


@dataclass(frozen=True)
class RowChange:
    """A row that both dumps have with different values: attname -> (A, B).

    .. versionadded:: 0.1
    """

    pk: Any
    values: dict[str, tuple[Any, Any]]


@dataclass
class ModelComparison:
    """How the rows and the schema of one model differ between the dumps.

    *rows_a* and *rows_b* are ``None`` for a model that dump lacks; the rows
    of a model only one dump has are counted, not listed.

    .. versionadded:: 0.1
    """

    label: str
    a: ModelInfo | None
    b: ModelInfo | None
    rows_a: int | None
    rows_b: int | None
    fields: list[FieldChange] = field(default_factory=list)
    added: list[Row] = field(default_factory=list)
    removed: list[Row] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        """Return whether the model differs in any way between the dumps."""
        if self.a is None or self.b is None:
            return True
        return bool(
            self.fields
            or self.added
            or self.removed
            or self.changed
            or self.a.table != self.b.table
            or self.a.pk != self.b.pk
        )


@dataclass
class DumpComparison:
    """Two verified dumps, A and B; :meth:`models` compares them model by model.

    .. versionadded:: 0.1
    """

    a: DumpMeta
    b: DumpMeta
    #: called as ``advance(label, rows)`` per batch of rows read (#14)
    advance: Advance | None = None
    #: the dump that A is the migrated copy of (``dumpcompare --migrate``)
    migrated_from: Path | None = None

    @property
    def versions(self) -> dict[str, tuple[str | None, str | None]]:
        """Return, per app of either dump (sorted), its versions in A and B."""
        va, vb = self.a.versions, self.b.versions
        return {app: (va.get(app), vb.get(app)) for app in sorted(va | vb)}

    @property
    def labels(self) -> list[str]:
        """Return the labels of the models of either dump, sorted."""
        return sorted(self.a.schema.keys() | self.b.schema.keys())

    def models(self) -> Iterator[ModelComparison]:
        """Yield the comparison of every model of :attr:`labels`, one at a time.

        :raises DumpFormatError: when a data file holds a primary key twice.
        """
        for label in self.labels:
            yield compare_model(self.a, self.b, label, self.advance)

    @property
    def rows(self) -> int:
        """Return the rows of both dumps: those the comparison reads."""
        return sum(e.rows for e in self.a.files) + sum(e.rows for e in self.b.files)


def compare_dumps(
    a: Path | str, b: Path | str, *, advance: Advance | None = None
) -> DumpComparison:
    """Return the comparison of the dumps *a* and *b*, both verified first.

    Nothing is compared yet: iterate :meth:`DumpComparison.models` for that.

    .. versionadded:: 0.1

    :param advance: called as ``advance(label, rows)`` per batch of rows read.
    :raises DumpFormatError: when either dump is bad (see :func:`open_dump`).
    """
    return DumpComparison(open_dump(a), open_dump(b), advance)


def compare_model(
    a: DumpMeta, b: DumpMeta, label: str, advance: Advance | None = None
) -> ModelComparison:
    """Return how the model *label* differs between the dumps *a* and *b*.

    .. versionadded:: 0.1

    :param advance: called as ``advance(label, rows)`` per batch of rows read;
        the rows of a model only one dump has are counted, not read.
    :raises DumpFormatError: when a data file holds a primary key twice.
    """
    info_a, info_b = a.schema.get(label), b.schema.get(label)
    result = ModelComparison(
        label,
        info_a,
        info_b,
        _count(a, label) if info_a else None,
        _count(b, label) if info_b else None,
    )
    if info_a is None or info_b is None:
        if advance:
            advance(label, (result.rows_a or 0) + (result.rows_b or 0))
        return result
    result.fields = _field_changes(info_a, info_b)
    _compare_rows(a, b, info_a, info_b, result, advance)
    return result


def _count(meta: DumpMeta, label: str) -> int:
    return sum(e.rows for e in meta.files if e.model == label)


def _field_changes(a: ModelInfo, b: ModelInfo) -> list[FieldChange]:
    by_a = {f.name: f for f in a.fields}
    by_b = {f.name: f for f in b.fields}
    names = [f.name for f in a.fields] + [n for n in by_b if n not in by_a]
    changes = [FieldChange(n, by_a.get(n), by_b.get(n)) for n in names]
    return [c for c in changes if c.a != c.b]


def _compare_rows(
    a: DumpMeta,
    b: DumpMeta,
    info_a: ModelInfo,
    info_b: ModelInfo,
    result: ModelComparison,
    advance: Advance | None = None,
) -> None:
    """Fill in the rows added, removed and changed from *a* to *b*."""
    pairs = _pairs(info_a, info_b)
    fast = info_a.fields == info_b.fields
    remaining: dict[Any, tuple[Any, ...]] = {}
    for key, row in _keyed_rows(a, info_a, remaining, advance):
        remaining[key] = row
    seen: set[Any] = set()
    added, changed = [], []
    for key, row in _keyed_rows(b, info_b, seen, advance):
        seen.add(key)
        old = remaining.pop(key, None)
        if old is None:
            added.append((key, _row(info_b, row)))
        elif not (fast and old == row):
            diff = {
                n: (old[i], row[j])
                for i, j, n, ca, cb in pairs
                if not _same(old[i], row[j], ca, cb)
            }
            if diff:
                changed.append((key, RowChange(_pk(info_b, row), diff)))
    removed = [(key, _row(info_a, row)) for key, row in remaining.items()]
    result.added = [r for _k, r in sorted(added, key=_order)]
    result.removed = [r for _k, r in sorted(removed, key=_order)]
    result.changed = [c for _k, c in sorted(changed, key=_order)]


def _pairs(a: ModelInfo, b: ModelInfo) -> list[tuple[int, int, str, Any, Any]]:
    """Return, per attname of both models, its indexes and value comparers."""
    in_b = {f.attname: (j, f.type) for j, f in enumerate(b.fields)}
    pairs = []
    for i, f in enumerate(a.fields):
        if f.attname in in_b:
            j, type_b = in_b[f.attname]
            pairs.append((i, j, f.attname, comparable(f.type), comparable(type_b)))
    return pairs


def _keyed_rows(
    meta: DumpMeta, info: ModelInfo, seen: Container[Any], advance: Advance | None
) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Yield the rows of *info*'s model with their comparable primary keys.

    :raises DumpFormatError: when a key is in *seen* (the caller adds them).
    """
    key = _keyer(info)
    for entry in meta.files:
        if entry.model != info.label:
            continue
        for batch in counted(read_rows(meta, entry), info.label, advance):
            for row in batch:
                k = key(row)
                if k in seen:
                    pk = _pk(info, row)
                    msg = f"the primary key {pk!r} appears twice in {info.label}"
                    raise DumpFormatError(meta.directory / entry.name, msg)
                yield k, row


def _row(info: ModelInfo, row: tuple[Any, ...]) -> Row:
    return Row(_pk(info, row), dict(zip(info.attnames, row, strict=True)))


def _pk(info: ModelInfo, row: tuple[Any, ...]) -> Any:
    """Return the primary key of *row* as dumped: a value, or a tuple of them."""
    values = tuple(row[info.attnames.index(n)] for n in info.pk)
    return values[0] if len(values) == 1 else values


def _keyer(info: ModelInfo) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Return the function that gives a row's primary key in comparable form."""
    parts = [
        (info.attnames.index(n), comparable(info.fields[info.attnames.index(n)].type))
        for n in info.pk
    ]
    return lambda row: tuple(convert(row[i]) for i, convert in parts)


def _same(x: Any, y: Any, ca: Callable[[Any], Any], cb: Callable[[Any], Any]) -> bool:
    return bool((type(x) is type(y) and x == y) or ca(x) == cb(y))


def comparable(value_type: str) -> Callable[[Any], Any]:
    """Return the function that turns a dumped value of *value_type* into a comparable one.

    Two values are the same when their comparable forms are equal: decimals,
    dates, times and UUIDs by value (``'1.50'`` is ``'1.5'``, a datetime is
    the same instant in any offset), JSON text by structure (key order and
    spacing do not count), ``NaN`` equal to itself, a boolean never equal to
    a number. A value that does not decode is compared as dumped.

    .. versionadded:: 0.1
    """
    decode = _json_text if value_type == "JSONField" else literal_decoder(value_type)

    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            return (bool, value)
        if decode is None or value is None:
            return value
        try:
            decoded = decode(value)
            if decoded == decoded:
                return decoded
        except (ValueError, TypeError, ArithmeticError):
            pass
        return (str, value)

    return convert


def _json_text(value: Any) -> str:
    if not isinstance(value, str):
        msg = "JSON is dumped as text"
        raise TypeError(msg)
    return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)


def _order(item: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    """Return a sort key for a comparable primary key of any types."""
    return tuple(
        (0, v, "")
        if isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool)
        else (1, 0, v)
        if isinstance(v, str)
        else (2, 0, repr(v))
        for v in item[0]
    )
