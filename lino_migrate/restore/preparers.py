"""Turn the values of a row into the parameters a database driver takes.

The reverse of :mod:`lino_migrate.dump.encoders`: a literal read from a data
file (or a Python value a migrator set) becomes what Django's backend would
send for it. Chosen once per column.

Before that, :func:`find_bad_values` checks the Python type of every value
against what its column's value type allows (a ``bytes`` in a ``CharField``,
a ``str`` in an ``IntegerField``, a lone surrogate in a text), a batch at a
time: one set of types per column, and the values of a column are looked at
one by one only when that set holds a type the column does not allow (#12).
The values of an array, an hstore and a range are looked at one by one, item
by item (#13).
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lino_migrate.format.codec import (
    BOUNDS,
    EMPTY_RANGE,
    RANGE_BOUNDS,
    Converter,
    array_leaf_type,
    compose,
    duration_microseconds,
    is_range_literal,
    literal_decoder,
)
from lino_migrate.schema import value_field

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

__all__ = [
    "ValueCheck",
    "db_preparer",
    "find_bad_values",
    "literal_preparer",
    "value_check",
]


def db_preparer(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> Converter:
    """Return the function that turns a Python value into a driver parameter."""
    vfield = value_field(field)
    ops, features = connection.ops, connection.features
    kind = vfield.get_internal_type()
    if kind == "DateTimeField":
        if connection.vendor == "sqlite":
            return _sqlite_datetime_preparer(connection)
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "TimeField":
        return ops.adapt_timefield_value
    if kind == "DecimalField":
        digits = vfield.max_digits  # type: ignore[attr-defined]
        places = vfield.decimal_places  # type: ignore[attr-defined]
        if connection.vendor == "sqlite" and _numeric_affinity(vfield, connection):
            return _sqlite_decimal_preparer(
                ops.adapt_decimalfield_value, digits, places
            )
        return lambda v: ops.adapt_decimalfield_value(v, digits, places)
    if kind == "UUIDField" and not features.has_native_uuid_field:
        return _uuid_hex
    if kind == "DurationField" and not features.has_native_duration_field:
        return duration_microseconds
    return None


def _sqlite_datetime_preparer(
    connection: BaseDatabaseWrapper,
) -> Callable[[Any], Any]:
    """Return Django's SQLite datetime adapter, without its per-value overhead.

    A datetime becomes the text Django stores: naive, in the connection's
    time zone, as ``str()`` writes it (what ``timezone.make_naive()`` and
    ``adapt_datetimefield_value()`` give). Anything else, and an aware
    datetime with ``USE_TZ = False``, goes to Django's adapter.
    """
    zone = connection.timezone
    adapt = connection.ops.adapt_datetimefield_value

    def prepare(value: Any) -> Any:
        if type(value) is datetime.datetime:
            if value.utcoffset() is None:
                return str(value)
            if zone is not None:
                return str(value.astimezone(zone).replace(tzinfo=None))
        return adapt(value)

    return prepare


def _numeric_affinity(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> bool:
    """Return whether SQLite gives *field*'s column NUMERIC or REAL affinity."""
    declared = (field.db_type(connection) or "").upper()
    if "INT" in declared or any(t in declared for t in ("CHAR", "CLOB", "TEXT")):
        return False
    return bool(declared) and "BLOB" not in declared


_INT64 = (-(2**63), 2**63)


def _sqlite_decimal_preparer(
    adapt: Callable[..., Any], digits: int | None, places: int | None
) -> Callable[[Any], Any]:
    """Return the SQLite preparer of a decimal: the number the column will store.

    SQLite stores a decimal as an INTEGER when it is whole and fits 64 bits,
    else as a REAL; of a text of more than 15 significant digits, its own
    reading is not always the nearest double. A dump of such a column writes
    the stored number exactly (:mod:`lino_migrate.dump.encoders`), so it is
    sent back as that number, an ``int`` or a ``float``, and stored again as
    it was. A decimal of at most 15 digits with a fraction takes Django's
    way, as the application wrote it (#12).
    """
    low, high = _INT64

    def prepare(value: Any) -> Any:
        if type(value) is decimal.Decimal and not value.is_nan():
            if value.is_infinite():
                return float(value)
            if value == value.to_integral_value():
                return int(value) if low <= value < high else float(value)
            if len(value.as_tuple().digits) > 15:
                return float(value)
        found = adapt(value, digits, places)
        # The driver would call str() on a Decimal (Django registers that
        # adapter); done here, a str goes cheaper between processes (#16).
        return str(found) if type(found) is decimal.Decimal else found

    return prepare


def _uuid_hex(value: uuid.UUID) -> str:
    return value.hex


_CANONICAL_UUID = re.compile(
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def literal_preparer(
    value_type: str, field: Field[Any, Any], connection: BaseDatabaseWrapper
) -> Converter:
    """Return the function that turns a literal of *value_type* into a parameter.

    The same as :func:`literal_decoder` followed by :func:`db_preparer`; where
    a UUID is stored as hex (SQLite), a UUID takes a shorter way there.
    """
    prepare = db_preparer(field, connection)
    slow = compose(literal_decoder(value_type), prepare)
    if value_type == "DateTimeField" and slow is not None:
        return _utc_datetime_literal(connection, slow)
    if value_type != "UUIDField" or prepare is not _uuid_hex or slow is None:
        return slow
    canonical = _CANONICAL_UUID.fullmatch

    def prepare_uuid(value: Any) -> Any:
        if type(value) is str and canonical(value):
            return value.replace("-", "")
        return slow(value)

    return prepare_uuid


def _utc_datetime_literal(
    connection: BaseDatabaseWrapper, slow: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """Return *slow*, the preparer of a datetime literal, with a shorter way on SQLite.

    Where SQLite stores datetimes as naive UTC text, a literal in UTC as
    ``isoformat()`` writes it (``2024-05-01T10:20:30.123456+00:00``) becomes
    that text by cutting it: what Django stores is ``str()`` of the naive
    datetime, the same digits with a space for the ``T`` (#16). The literal
    is still parsed, so that a wrong one is refused as before.
    """
    if connection.vendor != "sqlite" or connection.timezone is not datetime.UTC:
        return slow
    parse = datetime.datetime.fromisoformat

    def prepare(value: Any) -> Any:
        if (
            type(value) is str
            and value[-6:] == "+00:00"
            and value[10:11] == "T"
            and parse(value).isoformat() == value
        ):
            return value[:10] + " " + value[11:-6]
        return slow(value)

    return prepare


_INTEGER_TYPES = (
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
    "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveBigIntegerField", "PositiveSmallIntegerField",
)  # fmt: skip
_TEXT_TYPES = (
    "CharField", "TextField", "SlugField", "EmailField", "URLField",
    "FilePathField", "FileField", "ImageField", "GenericIPAddressField",
    "IPAddressField", "JSONField", "SearchVectorField",
)  # fmt: skip
#: The special floats a dump writes as text (``repr()`` of them).
_FLOAT_WORDS = frozenset({"inf", "-inf", "nan"})

#: Per value type, the types of its literals in a data file and what they are.
_LITERALS: dict[str, tuple[tuple[type, ...], str]] = {
    **dict.fromkeys(_INTEGER_TYPES, ((int,), "an int")),
    **dict.fromkeys(_TEXT_TYPES, ((str,), "a str")),
    "BooleanField": ((bool,), "a bool"),
    "DurationField": ((int,), "an int (microseconds)"),
    "DecimalField": ((str,), "a str holding a decimal number"),
    "FloatField": ((float, int, str), "a float, an int or 'inf', '-inf', 'nan'"),
    "DateTimeField": ((str,), "a str holding an ISO 8601 datetime"),
    "DateField": ((str,), "a str holding an ISO 8601 date"),
    "TimeField": ((str,), "a str holding an ISO 8601 time"),
    "UUIDField": ((str,), "a str holding a UUID"),
    "BinaryField": ((bytes,), "a bytes"),
}

#: Per value type, the Python types a migrator may give it and what they are.
_VALUES: dict[str, tuple[tuple[type, ...], str]] = {
    **dict.fromkeys(_INTEGER_TYPES, ((int,), "an int")),
    **dict.fromkeys(_TEXT_TYPES, ((str,), "a str")),
    "BooleanField": ((bool,), "a bool"),
    "DurationField": ((datetime.timedelta,), "a datetime.timedelta"),
    "DecimalField": ((decimal.Decimal,), "a decimal.Decimal"),
    "FloatField": ((float, int), "a float or an int"),
    "DateTimeField": ((datetime.datetime,), "a datetime.datetime"),
    "DateField": ((datetime.date,), "a datetime.date"),
    "TimeField": ((datetime.time,), "a datetime.time"),
    "UUIDField": ((uuid.UUID,), "a uuid.UUID"),
    "BinaryField": ((bytes, bytearray, memoryview), "a bytes"),
}

#: Types that pass an ``isinstance()`` test of the allowed ones but are refused.
_NOT: dict[type, tuple[type, ...]] = {
    int: (bool,),
    float: (bool,),
    datetime.date: (datetime.datetime,),
}


@dataclass(frozen=True)
class ValueCheck:
    """What the values of one column may be: chosen once per column."""

    #: the exact types that pass the fast test of a batch (``NoneType`` included)
    types: frozenset[type]
    #: the allowed types for an ``isinstance()`` test of one value
    allowed: tuple[type, ...]
    #: subtypes of the allowed types that are refused (``bool`` for an int)
    refused: tuple[type, ...]
    #: the only str values allowed, if limited (the special floats)
    words: frozenset[str] | None
    #: what a value must be, for the message
    expected: str
    #: the check of the items of a value of an allowed type (array, hstore, range)
    items: Callable[[Any], str | None] | None = None

    def problem(self, value: Any) -> str | None:
        """Return what is wrong with the non-NULL *value*, or ``None``."""
        if not isinstance(value, self.allowed) or isinstance(value, self.refused):
            kind = type(value).__name__
            return f"found {kind} {_short(value)}, expected {self.expected}"
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as e:
                return (
                    f"found the str {_short(value)}, which holds a lone surrogate "
                    f"at index {e.start} and cannot be stored, expected "
                    f"{self.expected} of Unicode characters"
                )
            if self.words is not None and value not in self.words:
                return f"found the str {_short(value)}, expected {self.expected}"
        if self.items is not None:
            return self.items(value)
        return None


def value_check(
    value_type: str, *, decoded: bool, keys: bool = False
) -> ValueCheck | None:
    """Return the check of the values of a column of *value_type*, if known.

    :param decoded: the values are Python values a migrator saw, not literals.
    :param keys: the column may hold natural keys (tuples) to be looked up.
    """
    composite = _composite_check(value_type, decoded=decoded)
    if composite is not None:
        return composite
    found = (_VALUES if decoded else _LITERALS).get(value_type)
    if found is None:
        return None
    allowed, expected = found
    if keys:
        allowed, expected = (*allowed, tuple), f"{expected} or a natural key (tuple)"
    refused = tuple(t for a in allowed for t in _NOT.get(a, ()) if t not in allowed)
    words = _FLOAT_WORDS if float in allowed and str in allowed else None
    return ValueCheck(
        frozenset((*allowed, type(None))), allowed, refused, words, expected
    )


def _composite_check(value_type: str, *, decoded: bool) -> ValueCheck | None:
    """Return the check of an array, hstore or range column, or ``None`` (#13)."""
    leaf = array_leaf_type(value_type)
    if leaf is not None:
        item = value_check(leaf, decoded=decoded)
        ranges = leaf in RANGE_BOUNDS and not decoded
        kind: type = list if decoded else tuple
        return _check(
            (kind,),
            f"a {kind.__name__} (an array) of {item.expected if item else 'values'}",
            _array_items(item, kind, ranges=ranges),
        )
    if value_type == "HStoreField":
        return _check((dict,), "a dict of str to str or None", _hstore_items)
    if value_type not in RANGE_BOUNDS:
        return None
    bound = value_check(RANGE_BOUNDS[value_type], decoded=decoded)
    if decoded:
        # Only a restore of a dump with ranges needs the driver.
        from psycopg.types.range import Range

        return _check((Range,), "a psycopg Range", _range_bounds(bound))
    expected = f"(lower, upper, bounds) or {EMPTY_RANGE!r} (a range)"
    return _check((tuple, str), expected, _range_literal(bound))


def _check(
    allowed: tuple[type, ...], expected: str, items: Callable[[Any], str | None]
) -> ValueCheck:
    return ValueCheck(
        frozenset((*allowed, type(None))), allowed, (), None, expected, items
    )


def _text_problem(value: str) -> str | None:
    """Return what keeps PostgreSQL from storing the text *value*, or ``None``."""
    if "\x00" in value:
        return f"the str {_short(value)} holds a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        return f"the str {_short(value)} holds a lone surrogate at index {e.start}"
    return None


def _array_items(
    item: ValueCheck | None, kind: type, *, ranges: bool
) -> Callable[[Any], str | None]:
    """Return the check of the items of an array: rectangular, each one allowed.

    :param kind: the type of an array and of its sub-arrays.
    :param ranges: the items are range literals, which are tuples too.
    """

    def leaf_problem(value: Any) -> str | None:
        if isinstance(value, str) and (problem := _text_problem(value)):
            return problem
        return None if item is None else item.problem(value)

    def problem(value: Any) -> str | None:
        subs = [type(v) is kind and not (ranges and is_range_literal(v)) for v in value]
        if any(subs) and (
            not all(subs) or len({len(v) for v in value}) != 1 or not value[0]
        ):
            return (
                f"found {_short(value)}, an array whose sub-arrays are not all "
                "of one non-zero length (PostgreSQL arrays are rectangular)"
            )
        for n, (v, sub) in enumerate(zip(value, subs, strict=True)):
            if v is None:
                continue
            found = problem(v) if sub else leaf_problem(v)
            if found is not None:
                return f"item {n}: {found}"
        return None

    return problem


def _hstore_items(value: dict[Any, Any]) -> str | None:
    for key, item in value.items():
        if type(key) is not str or not (item is None or type(item) is str):
            return (
                f"found {_short({key: item})} in an hstore, expected str: str or None"
            )
        if (problem := _text_problem(key)) or (
            item is not None and (problem := _text_problem(item))
        ):
            return f"in an hstore, {problem}"
    return None


def _range_literal(bound: ValueCheck | None) -> Callable[[Any], str | None]:
    """Return the check of a range literal: ``'empty'`` or ``(lower, upper, bounds)``."""

    def problem(value: Any) -> str | None:
        if type(value) is str:
            if value == EMPTY_RANGE:
                return None
            return f"found the str {_short(value)}, expected {EMPTY_RANGE!r}"
        if not is_range_literal(value):
            return (
                f"found {_short(value)}, expected (lower, upper, bounds) with "
                f"bounds one of {', '.join(map(repr, sorted(BOUNDS)))}"
            )
        return _bounds_problem(bound, value[0], value[1])

    return problem


def _range_bounds(bound: ValueCheck | None) -> Callable[[Any], str | None]:
    """Return the check of the bounds of a range a migrator gave."""

    def problem(value: Any) -> str | None:
        return (
            None if value.isempty else _bounds_problem(bound, value.lower, value.upper)
        )

    return problem


def _bounds_problem(bound: ValueCheck | None, lower: Any, upper: Any) -> str | None:
    for name, value in (("lower", lower), ("upper", upper)):
        if value is not None and bound is not None:
            found = bound.problem(value)
            if found is not None:
                return f"the {name} bound: {found}"
    return None


def find_bad_values(
    rows: Sequence[tuple[Any, ...]], checks: Sequence[tuple[int, ValueCheck]]
) -> list[tuple[int, int, str]]:
    """Return ``(row position, column, problem)`` of every value *checks* refuse.

    A batch whose columns hold only allowed types (and texts that encode) costs
    one set of types per column and one encoding of its texts.
    """
    if not rows or not checks:
        return []
    columns = list(zip(*rows, strict=False))
    bad = []
    for i, check in checks:
        column = columns[i]
        if _passes(column, check):
            continue
        for n, value in enumerate(column):
            if value is not None and (problem := check.problem(value)) is not None:
                bad.append((n, i, problem))
    bad.sort()
    return bad


_TEXT_ONLY = frozenset({str, type(None)})


def _passes(column: tuple[Any, ...], check: ValueCheck) -> bool:
    """Return whether every value of *column* passes *check* (False: look closer)."""
    if check.items is not None:
        return all(v is None for v in column)
    types = set(map(type, column))
    if not types <= check.types:
        return False
    if str not in types:
        return True
    if check.words is not None or not types <= _TEXT_ONLY:
        return False
    try:
        "".join(filter(None, column)).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(value: Any, limit: int = 60) -> str:
    """Return the repr of *value*, cut to about *limit* characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"
