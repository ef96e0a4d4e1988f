"""Read every table of a database into values that two databases can compare.

:func:`snapshot` reads the rows of every concrete, managed model (M2M ``through``
tables included) with ids of content types and permissions replaced by their
natural keys, which a restore may renumber. :func:`assert_same` compares two
snapshots and names the first difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, models

__all__ = ["JSON_NULL", "Snapshot", "assert_same", "snapshot"]

_CONTENT_TYPE = "contenttypes.contenttype"
_PERMISSION = "auth.permission"
_MAX_REPR = 120
_MAX_ITEMS = 12


class _JsonNull:
    """Stand for a JSON ``null`` that the ORM would read as ``None``."""

    def __repr__(self) -> str:
        """Return the name of the marker."""
        return "JSON_NULL"

    def __reduce__(self) -> str:
        """Pickle the marker as the module's single instance."""
        return "JSON_NULL"

    def __copy__(self) -> _JsonNull:
        """Return the marker itself: there is only one."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _JsonNull:
        """Return the marker itself: there is only one."""
        return self


#: A JSON ``null`` (as opposed to SQL NULL) in a snapshot read with the ORM.
JSON_NULL = _JsonNull()


class Snapshot(dict[str, list[tuple[Any, ...]]]):
    """Map model labels to their rows, and name the values of the rows.

    :attr:`columns` holds the column (attribute) names of each model's rows,
    :attr:`pk_columns` the name of the column the rows are ordered by, or
    ``None`` when the rows are sorted by all their values.
    """

    def __init__(self) -> None:
        """Create an empty snapshot."""
        super().__init__()
        self.columns: dict[str, tuple[str, ...]] = {}
        self.pk_columns: dict[str, str | None] = {}

    def add(
        self,
        label: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
        pk_column: str | None,
    ) -> None:
        """Store the *rows* of the model *label* and the names of their values."""
        self[label] = rows
        self.columns[label] = tuple(columns)
        self.pk_columns[label] = pk_column


def snapshot(using: str = "default", *, raw: bool = True) -> Snapshot:
    """Return the rows of every concrete, managed model, keyed by model label.

    Rows are tuples of the values of the model's local concrete columns
    (generated columns included), ordered by primary key. The content types
    and permissions tables become sorted lists of natural keys, any key to
    them is replaced by the natural key, and the rows of automatic M2M
    ``through`` tables are sorted by value and lack their ``id``.

    :param using: the alias of the database to read.
    :param raw: read with a raw cursor, values as the driver returns them,
        for an exact comparison on one backend (JSON ``null`` is the text
        ``'null'``, SQL NULL is ``None``). With ``False``, read with the ORM,
        for a comparison across backends; JSON ``null`` is :data:`JSON_NULL`.
    """
    content_types, permissions = _natural_keys(using)
    result = Snapshot()
    result.add(
        _CONTENT_TYPE, ("app_label", "model"), sorted(content_types.values()), None
    )
    result.add(
        _PERMISSION,
        ("app_label", "model", "codename"),
        sorted(permissions.values()),
        None,
    )
    for model in _snapshot_models():
        if model._meta.label_lower in result:
            continue
        fields = _snapshot_fields(model)
        if raw:
            rows = _read_raw(using, model, fields)
        else:
            rows = _read_orm(using, model, fields)
        mappers = [_mapper(field, content_types, permissions) for field in fields]
        rows = [tuple(m(v) for m, v in zip(mappers, row, strict=True)) for row in rows]
        attnames = [field.attname for field in fields]
        pk_column = model._meta.pk.attname
        if pk_column in attnames:
            # Databases order text keys by collation, Python by code point.
            index = attnames.index(pk_column)
            rows.sort(key=lambda row, i=index: _sort_key(row[i]))
        else:
            pk_column = None
            rows.sort(key=_row_sort_key)
        result.add(model._meta.label_lower, attnames, rows, pk_column)
    return result


def _natural_keys(
    using: str,
) -> tuple[dict[int, tuple[str, str]], dict[int, tuple[str, str, str]]]:
    """Return the natural keys of the content types and permissions, by id."""
    content_types = {
        pk: (app_label, model)
        for pk, app_label, model in ContentType.objects.using(using).values_list(
            "pk", "app_label", "model"
        )
    }
    permissions = {
        pk: (*content_types[ct], codename)
        for pk, ct, codename in Permission.objects.using(using).values_list(
            "pk", "content_type", "codename"
        )
    }
    return content_types, permissions


def _snapshot_models() -> list[type[models.Model]]:
    """Return the models that have a table of their own in a dump."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


def _snapshot_fields(model: type[models.Model]) -> list[models.Field]:
    """Return the fields of *model*'s own table, without the id of M2M tables.

    The rows of an automatic ``through`` table are identified by their values;
    their ids may differ after a restore that renumbered content types.
    """
    through = bool(model._meta.auto_created)
    return [
        field
        for field in model._meta.local_concrete_fields
        if not (through and field.primary_key)
    ]


def _read_raw(
    using: str, model: type[models.Model], fields: Sequence[models.Field]
) -> list[tuple[Any, ...]]:
    """Return the values of *fields* in the rows of *model*'s table, as stored."""
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(model._meta.db_table)
    order = quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")
        return [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in cursor.fetchall()
        ]


def _read_orm(
    using: str, model: type[models.Model], fields: Sequence[models.Field]
) -> list[tuple[Any, ...]]:
    """Return the values of *fields* in the rows of *model*, read with the ORM."""
    attnames = [field.attname for field in fields]
    json_columns = [
        i for i, field in enumerate(fields) if isinstance(field, models.JSONField)
    ]
    # The ORM reads JSON null and SQL NULL both as None; ask the database.
    sql_nulls = {
        f"_sql_null_{i}": models.ExpressionWrapper(
            models.Q(**{f"{attnames[i]}__isnull": True}),
            output_field=models.BooleanField(),
        )
        for i in json_columns
    }
    queryset = (
        model._base_manager.using(using)
        .annotate(**sql_nulls)
        .order_by("pk")
        .values_list(*attnames, *sql_nulls)
    )
    rows = []
    for values in queryset:
        row = [bytes(v) if isinstance(v, memoryview) else v for v in values]
        for i, is_sql_null in zip(json_columns, row[len(attnames) :], strict=True):
            if row[i] is None and not is_sql_null:
                row[i] = JSON_NULL
        rows.append(tuple(row[: len(attnames)]))
    return rows


def _mapper(
    field: models.Field,
    content_types: dict[int, tuple[str, str]],
    permissions: dict[int, tuple[str, str, str]],
) -> Callable[[Any], Any]:
    """Return the function that replaces an id in *field* by a natural key."""
    target = field.related_model
    if target is None or field.many_to_many:
        return _identity
    label = target._meta.label_lower
    if label == _CONTENT_TYPE:
        return lambda value: content_types.get(value, value)
    if label == _PERMISSION:
        return lambda value: permissions.get(value, value)
    return _identity


def _identity(value: Any) -> Any:
    """Return *value* unchanged."""
    return value


def _sort_key(value: Any) -> tuple[bool, str, Any]:
    """Return a key that orders values of one column, NULL last."""
    if value is None:
        return (True, "", 0)
    return (False, type(value).__name__, value)


def _row_sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, str, Any], ...]:
    """Return a key that orders rows by all their values."""
    return tuple(_sort_key(value) for value in row)


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Raise :class:`AssertionError` at the first difference between snapshots.

    Values must be equal and of the same type (``1``, ``1.0`` and ``True``
    differ, as in JSON); float NaN equals NaN, and ``0.0`` differs from
    ``-0.0``. The message names the model, the row and the differing columns.

    :raises AssertionError: when a model or a row is in only one snapshot, or
        a value differs.
    """
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        msg = f"Models only in the first: {only_a}; only in the second: {only_b}."
        raise AssertionError(msg)
    for label in sorted(a):
        columns = getattr(a, "columns", {}).get(label)
        pk_column = getattr(a, "pk_columns", {}).get(label)
        _compare_rows(label, a[label], b[label], columns, pk_column)


def _compare_rows(
    label: str,
    rows_a: Sequence[tuple[Any, ...]],
    rows_b: Sequence[tuple[Any, ...]],
    columns: Sequence[str] | None,
    pk_column: str | None,
) -> None:
    """Raise :class:`AssertionError` at the first row that differs."""
    counts = f"{len(rows_a)} rows in the first, {len(rows_b)} in the second"
    for i, (row_a, row_b) in enumerate(zip(rows_a, rows_b, strict=False)):
        if _same(row_a, row_b):
            continue
        names = list(columns) if columns else []
        if pk_column is not None and pk_column in names:
            extra = _extra_row(row_a, row_b, names.index(pk_column))
            if extra:
                msg = f"{label}: {extra} ({counts})."
                raise AssertionError(msg)
        msg = f"{label}: row {i} differs ({counts}).\n" + _describe(row_a, row_b, names)
        raise AssertionError(msg)
    if len(rows_a) != len(rows_b):
        longer = rows_a if len(rows_a) > len(rows_b) else rows_b
        first = _short(longer[min(len(rows_a), len(rows_b))])
        msg = f"{label}: {counts}; the first extra row is {first}."
        raise AssertionError(msg)


def _extra_row(row_a: tuple[Any, ...], row_b: tuple[Any, ...], index: int) -> str:
    """Describe the row that only one snapshot has, or return ``''``."""
    pk_a, pk_b = row_a[index], row_b[index]
    if _same(pk_a, pk_b):
        return ""
    if _sort_key(pk_a) < _sort_key(pk_b):
        return f"the row with pk {_short(pk_a)} is missing from the second"
    return f"the row with pk {_short(pk_b)} is missing from the first"


def _describe(row_a: tuple[Any, ...], row_b: tuple[Any, ...], names: list[str]) -> str:
    """Return the differing values of two rows, one line per column."""
    lines = []
    if len(row_a) != len(row_b):
        lines.append(f"  {len(row_a)} values != {len(row_b)} values")
    for i, (x, y) in enumerate(zip(row_a, row_b, strict=False)):
        if not _same(x, y):
            name = names[i] if i < len(names) else f"#{i}"
            lines.append(f"  column {name!r}: {_short(x)} != {_short(y)}")
    lines.append(f"  first:  {_short(row_a)}")
    lines.append(f"  second: {_short(row_b)}")
    return "\n".join(lines)


def _same(x: Any, y: Any) -> bool:
    """Return whether *x* and *y* are equal values of the same type."""
    if type(x) is not type(y):
        return False
    if isinstance(x, float):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return x == y and math.copysign(1, x) == math.copysign(1, y)
    if isinstance(x, Decimal) and (x.is_nan() or y.is_nan()):
        return x.is_nan() and y.is_nan()
    if isinstance(x, list | tuple):
        return len(x) == len(y) and all(map(_same, x, y))
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return bool(x == y)


def _short(value: Any) -> str:
    """Return the repr of *value*, shortened to a readable length."""
    if isinstance(value, tuple):
        items = [_short(v) for v in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            items.append(f"... {len(value) - _MAX_ITEMS} more")
        return "(" + ", ".join(items) + ")"
    text = repr(value)
    if len(text) <= _MAX_REPR:
        return text
    return f"{text[: _MAX_REPR - 20]}... ({len(text)} characters)"
