"""The rows of a Lino dump, gathered per model and converted to literals.

:class:`TableBuilder` takes the calls of the data files one by one
(:func:`~lino_migrate.lino.linodump.read_calls`), gives each its model and
its values by attname, and at the end describes each model as ``SCHEMA``
will (:func:`lino_migrate.schema.describe` for the current model, inferred
types otherwise) and converts every value (:mod:`lino_migrate.lino.linovalues`).
Problems are collected with their file and line, never raised here.

.. versionadded:: 0.3
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models

from lino_migrate.exceptions import plural
from lino_migrate.format.layout import CONTENT_TYPE, FieldInfo, ModelInfo
from lino_migrate.lino.linocreate import Creator
from lino_migrate.lino.linodata import Call, ModelName
from lino_migrate.lino.linodump import LinoDump
from lino_migrate.lino.linovalues import converter, inferred_type
from lino_migrate.schema import describe, model_label

__all__ = ["Table", "TableBuilder", "current_model"]

_CHUNK = re.compile(r"(.+?)(?:_[0-9]+)?\.py")
#: The value type of a reference to a content type whose field the model lacks.
_CONTENT_TYPE_ID = "AutoField"


def current_model(label: str) -> type[models.Model] | None:
    """Return the current model of *label* (``app_label.ModelName``), or ``None``."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


@dataclass
class Table:
    """The rows of one model: as read (``raw``), then as written (``rows``).

    :param layout: the attnames of a raw row, in order.
    :param places: ``(file, line)`` of each raw row.
    """

    label: str
    model: type[models.Model] | None
    creator: Creator
    layout: tuple[str, ...]
    raw: list[tuple[Any, ...]] = field(default_factory=list)
    places: list[tuple[str, int]] = field(default_factory=list)
    info: ModelInfo | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class TableBuilder:
    """Gather the rows of a Lino dump per model; collect problems and notes.

    :param suffixes: the column suffix of each language of the dump that the
        site has (:func:`~lino_migrate.lino.linosite.language_suffixes`).
    :param aware: whether datetimes are stored aware (``settings.USE_TZ``).
    """

    def __init__(
        self, dump: LinoDump, suffixes: dict[str, str], *, aware: bool
    ) -> None:
        self.dump, self.suffixes, self.aware = dump, suffixes, aware
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.tables: dict[str, Table] = {}
        self._by_variable: dict[str, type[models.Model]] | None = None

    def add(self, call: Call) -> None:
        """Add the row of *call* to its model's table."""
        where = f"{call.file}, line {call.line}"
        creator = self.dump.creators.get(call.creator)
        if creator is None:
            self.problems.append(
                f"{where}: {call.creator}() is not defined in restore.py"
            )
            return
        if len(call.args) != len(creator.params):
            self.problems.append(
                f"{where}: {plural(len(call.args), 'argument')} given to {call.creator}(), "
                f"which takes {len(creator.params)} ({', '.join(creator.params)})"
            )
            return
        table = self._table(creator)
        try:
            row = self._row(creator, dict(zip(creator.params, call.args, strict=True)))
        except ValueError as e:
            self.problems.append(f"{where}: {e}")
            return
        table.raw.append(row)
        table.places.append((call.file, call.line))

    def _table(self, creator: Creator) -> Table:
        table = self.tables.get(creator.name)
        if table is None:
            label = self.dump.models[creator.model]
            model = current_model(label)
            label = model_label(model) if model is not None else label.lower()
            table = Table(label, model, creator, self._layout(creator))
            self.tables[creator.name] = table
        return table

    def _layout(self, creator: Creator) -> tuple[str, ...]:
        layout = [creator.parent_link] if creator.parent_link else []
        for column in creator.columns:
            if column.babel:
                layout += [column.attname + s for s in self._babel_suffixes()]
            elif column.attname != creator.parent_link:
                layout.append(column.attname)
        return tuple(layout)

    def _babel_suffixes(self) -> list[str]:
        return [
            self.suffixes[lang] for lang in self.dump.languages if lang in self.suffixes
        ]

    def _row(self, creator: Creator, values: dict[str, Any]) -> tuple[Any, ...]:
        row = [values[creator.parent_link]] if creator.parent_link else []
        languages = self.dump.languages
        for column in creator.columns:
            value = values[column.param]
            conversion = creator.conversions.get(column.param)
            if conversion == "content_type":
                value = self._content_type(value)
            elif _holds_name(value):
                msg = f"{column.attname}: a name ({_names(value)}) where a value is expected"
                raise ValueError(msg)
            if column.babel:
                row += self._babel(column.attname, value, languages)
            elif column.attname != creator.parent_link:
                row.append(value)
        return tuple(row)

    def _babel(self, name: str, value: Any, languages: tuple[str, ...]) -> list[Any]:
        if value is None:
            return [None] * len(self._babel_suffixes())
        if not (
            isinstance(value, list)
            and len(value) == len(languages)
            and all(v is None or type(v) is str for v in value)
        ):
            msg = (
                f"{name}: {value!r:.80} where a list of {len(languages)} texts is "
                f"expected, one per language of the dump ({', '.join(languages)})"
            )
            raise ValueError(msg)
        return [
            v for lang, v in zip(languages, value, strict=True) if lang in self.suffixes
        ]

    def _content_type(self, value: Any) -> tuple[str, str] | None:
        """Return the natural key of the content type of the model *value* names."""
        if value is None:
            return None
        if not isinstance(value, ModelName):
            msg = f"{value!r:.60} where a model name (a content type) is expected"
            raise ValueError(msg)
        label = self.dump.models.get(value.name)
        model = current_model(label) if label else self._variables().get(value.name)
        if model is not None:
            return (model._meta.app_label, model._meta.model_name or "")
        if label:
            app, _, name = label.partition(".")
            return (app, name.lower())
        msg = (
            f"{value.name} names no model: restore.py has no `{value.name} = "
            "resolve_model(...)` and the current code no such model"
        )
        raise ValueError(msg)

    def _variables(self) -> dict[str, type[models.Model]]:
        """Return the current models by the variable name Lino gives them."""
        if self._by_variable is None:
            self._by_variable = {
                f"{m._meta.app_label}_{m.__name__}": m for m in apps.get_models()
            }
        return self._by_variable

    def finish(self, files: Iterable[str]) -> list[Table]:
        """Return every table, described and converted, rows sorted by primary key.

        A create function without rows gives an empty table when the dump has
        its data file (an empty table of the Lino dump empties it on restore).
        """
        stems = {m[1] for name in files if (m := _CHUNK.fullmatch(name))}
        for creator in self.dump.creators.values():
            if creator.table in stems and creator.name not in self.tables:
                self._table(creator)
        by_label: dict[str, Table] = {}
        for table in self.tables.values():
            other = by_label.setdefault(table.label, table)
            if other is not table:
                self.problems.append(
                    f"restore.py, line {table.creator.line}: {table.creator.name} and "
                    f"{other.creator.name} both make rows of {table.label}"
                )
                continue
            table.info = self._describe(table)
            if table.info is not None:
                self._convert(table)
        return list(by_label.values())

    def _describe(self, table: Table) -> ModelInfo | None:
        creator, layout = table.creator, table.layout
        if len(set(layout)) != len(layout):
            self.problems.append(
                f"restore.py, line {creator.line}: {creator.name} sets a field twice"
            )
            return None
        if table.model is None:
            self.notes.append(
                f"{table.label}: the current code has no such model; the types of "
                "its fields are inferred (the restore will say what to do)."
            )
            fields = [self._inferred(table, a) for a in layout]
            pk = "id" if "id" in layout else creator.parent_link or layout[0]
            return _info(table.label, creator.table, (pk,), fields)
        info = describe(table.model)
        known = {f.attname for f in info.fields}
        fields = [f for f in info.fields if f.attname in layout]
        fields += [self._inferred(table, a) for a in layout if a not in known]
        lacking = [a for a in info.pk if a not in layout]
        if lacking:
            self.problems.append(
                f"restore.py, line {creator.line}: {creator.name} gives no value for "
                f"the primary key {', '.join(lacking)} of {table.label}"
            )
            return None
        return _info(table.label, info.table, info.pk, fields)

    def _inferred(self, table: Table, attname: str) -> FieldInfo | None:
        column = next(
            (
                c
                for c in table.creator.columns
                if attname == c.attname
                or (
                    c.babel
                    and attname in {c.attname + s for s in self._babel_suffixes()}
                )
            ),
            None,
        )
        conversion = table.creator.conversions.get(column.param) if column else None
        where = f"{table.label}: field '{attname}'"
        if conversion == "content_type":
            self.notes.append(f"{where} is not in the current model; a content type.")
            return FieldInfo(
                attname, attname, attname, _CONTENT_TYPE_ID, True, CONTENT_TYPE
            )
        index = table.layout.index(attname)
        values = [row[index] for row in table.raw]
        kinds = {type(v) for v in values if v is not None}
        value_type, reason = inferred_type(conversion, kinds)
        if value_type is None:
            self.problems.append(f"{where}: no field type can be inferred: {reason}")
            return None
        if table.model is not None:
            self.notes.append(
                f"{where} is not in the current model; SCHEMA gives it the type "
                f"{value_type} ({reason})."
            )
        return FieldInfo(attname, attname, attname, value_type, None in values, None)

    def _convert(self, table: Table) -> None:
        """Convert the raw rows of *table* into literals, ordered by primary key."""
        assert table.info is not None
        info = table.info
        index = [table.layout.index(a) for a in info.attnames]
        converters = [self._converter(f) for f in info.fields]
        nulls = [_stored_null(table.model, f) for f in info.fields]
        rows = []
        for raw, (file, line) in zip(table.raw, table.places, strict=True):
            row = []
            for f, i, convert, null in zip(
                info.fields, index, converters, nulls, strict=True
            ):
                value = raw[i]
                try:
                    row.append(null if value is None else convert(value))
                except ValueError as e:
                    self.problems.append(
                        f"{file}, line {line}: field '{f.name}' of {info.label}: {e}"
                    )
                    row.append(None)
            rows.append(tuple(row))
        table.rows = self._sorted(table, rows)
        table.raw = []

    def _converter(self, f: FieldInfo) -> Callable[[Any], Any]:
        if f.target == CONTENT_TYPE:
            return _natural_key
        return converter(f.type, aware=self.aware)

    def _sorted(
        self, table: Table, rows: list[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        assert table.info is not None
        keys = [table.info.attnames.index(a) for a in table.info.pk]
        key = [tuple(row[i] for i in keys) for row in rows]
        try:
            order = sorted(range(len(rows)), key=key.__getitem__)
        except TypeError:
            self.problems.append(f"{table.label}: primary keys of several types")
            return rows
        for before, after in itertools.pairwise(order):
            if key[before] == key[after]:
                (f1, l1), (f2, l2) = table.places[before], table.places[after]
                self.problems.append(
                    f"{f2}, line {l2}: a second row of {table.label} with the primary "
                    f"key {key[after]!r:.60} (the first: {f1}, line {l1})"
                )
        return [rows[i] for i in order]


def _info(
    label: str, table: str, pk: tuple[str, ...], fields: list[FieldInfo | None]
) -> ModelInfo | None:
    if any(f is None for f in fields):
        return None
    return ModelInfo(label, table, pk, tuple(f for f in fields if f is not None))


def _stored_null(model: type[models.Model] | None, f: FieldInfo) -> Any:
    """Return what the current field stores when a row gives it ``None``.

    Lino writes ``None`` for a value its field reads as nothing, such as the
    empty text of a choice list field, which the field stores as ``''``
    again (its ``get_prep_value(None)``), NULL-able or not: Lino's own
    restore stores that. A field that stores ``None`` as ``NULL`` gives ``None``.
    """
    if model is None:
        return None
    try:
        field = model._meta.get_field(f.name)
        stored = field.get_prep_value(None)  # type: ignore[union-attr]
    except Exception:  # the site's own field code: any failure means NULL
        return None
    return stored if type(stored) is str else None


def _natural_key(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2:
        return value
    msg = (
        f"{value!r:.60} where a model name is expected: this field refers to a "
        "content type, whose ids differ from database to database"
    )
    raise ValueError(msg)


def _holds_name(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_name(v) for v in value)
    return isinstance(value, ModelName)


def _names(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_names(v) for v in value if _holds_name(v))
    return str(value.name)
