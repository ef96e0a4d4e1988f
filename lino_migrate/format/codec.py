"""Convert values between the Python objects of a row and the literals of a dump.

A data file holds literals only (``str``, ``int``, ``float``, ``bool``,
``bytes``, ``None``); a value whose Python type has none is written as a
string or a number and turned back by its *value type*: the internal type
of its field, or of the field a relation points to, as ``SCHEMA`` records it.

* :func:`literal_encoder`: Python value -> literal;
* :func:`literal_decoder`: literal -> Python value seen by migrators.

Both are chosen once per column, never per value. This module knows no
Django: the database side of a value is converted by
:mod:`lino_migrate.dump.encoders` (database -> literal) and
:mod:`lino_migrate.restore.preparers` (literal -> driver parameter).
JSON columns keep their JSON text, so JSON ``null`` (the text ``'null'``)
stays distinct from SQL ``NULL`` (``None``).

The field types of ``django.contrib.postgres`` hold several values (#13):

* an array (value type ``ArrayField[T]``, nested arrays
  ``ArrayField[ArrayField[T]]``) is a tuple of the literals of ``T``,
  ``None`` for a NULL item, a tuple for each sub-array; its Python value is a
  list (of lists). The items follow the value, not the declared depth:
  PostgreSQL keeps any number of dimensions in any array column;
* an hstore (``HStoreField``) is a dict of ``str`` to ``str`` or ``None``,
  its keys sorted;
* a range (``IntegerRangeField`` and the other :data:`RANGE_BOUNDS`) is
  ``(lower, upper, bounds)``, the bounds as literals of their value type,
  ``None`` for an infinite bound, *bounds* one of :data:`BOUNDS`; an empty
  range is the text ``'empty'``. Its Python value is a
  :class:`psycopg.types.range.Range`, as the driver reads it.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Callable
from typing import Any

__all__ = [
    "BOUNDS",
    "EMPTY_RANGE",
    "ENCODERS",
    "RANGE_BOUNDS",
    "Converter",
    "array_leaf_type",
    "compose",
    "duration_microseconds",
    "is_range_literal",
    "literal_decoder",
    "literal_encoder",
]

#: A function applied to one non-NULL value; ``None`` means "unchanged".
Converter = Callable[[Any], Any] | None

_UTC = datetime.UTC


def _encode_datetime(value: datetime.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
    return value.isoformat()


def _encode_float(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)


def duration_microseconds(value: datetime.timedelta) -> int:
    """Return *value* as a whole number of microseconds (how a dump writes it)."""
    return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds


ENCODERS: dict[str, Callable[[Any], Any]] = {
    "DateTimeField": _encode_datetime,
    "DateField": datetime.date.isoformat,
    "TimeField": datetime.time.isoformat,
    "DurationField": duration_microseconds,
    "DecimalField": str,
    "UUIDField": str,
    "FloatField": _encode_float,
    "BinaryField": bytes,
    "GenericIPAddressField": str,
    "IPAddressField": str,
}


#: The range types, and the value type of their bounds (#13).
RANGE_BOUNDS = {
    "IntegerRangeField": "IntegerField",
    "BigIntegerRangeField": "BigIntegerField",
    "DecimalRangeField": "DecimalField",
    "DateRangeField": "DateField",
    "DateTimeRangeField": "DateTimeField",
}
#: The bounds of a range literal: inclusive ``[ ]``, exclusive ``( )``.
BOUNDS = frozenset({"[)", "(]", "()", "[]"})
#: The literal of an empty range (PostgreSQL spells it so too).
EMPTY_RANGE = "empty"

_ARRAY = "ArrayField["


def array_leaf_type(value_type: str) -> str | None:
    """Return the value type of the items of the array type *value_type*, if it is one.

    ``ArrayField[ArrayField[DateTimeField]]`` gives ``DateTimeField``.
    """
    if not value_type.startswith(_ARRAY):
        return None
    leaf = value_type
    while leaf.startswith(_ARRAY) and leaf.endswith("]"):
        leaf = leaf[len(_ARRAY) : -1]
    return None if leaf.startswith(_ARRAY) else leaf


def is_range_literal(value: Any) -> bool:
    """Return whether the tuple *value* is a range literal, not a sub-array."""
    return len(value) == 3 and type(value[2]) is str and value[2] in BOUNDS


def literal_encoder(value_type: str) -> Converter:
    """Return the function that turns a Python value of *value_type* into a literal."""
    found = ENCODERS.get(value_type)
    if found is not None:
        return found
    leaf = array_leaf_type(value_type)
    if leaf is not None:
        return _array_encoder(literal_encoder(leaf))
    if value_type == "HStoreField":
        return _encode_hstore
    if value_type in RANGE_BOUNDS:
        return _range_encoder(literal_encoder(RANGE_BOUNDS[value_type]))
    return None


_LITERAL_TYPES = frozenset({int, str, bool, bytes, float})


def _literal_item(value: Any) -> Any:
    """Return the item *value* of an array, which is a literal already."""
    if type(value) in _LITERAL_TYPES:
        return value
    msg = f"no dump encoding for an array item of type {type(value).__name__}"
    raise TypeError(msg)


def _array_encoder(item: Converter) -> Callable[[Any], tuple[Any, ...]]:
    """Return the encoder of an array whose items *item* encodes."""
    convert = item or _literal_item

    def encode(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            msg = f"an array is read as {type(value).__name__}, not as a list"
            raise TypeError(msg)
        return tuple(
            None
            if v is None
            else encode(v)
            if isinstance(v, list | tuple)
            else convert(v)
            for v in value
        )

    return encode


def _encode_hstore(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict):
        # Without django.contrib.postgres the driver reads hstore as text.
        msg = (
            f"an hstore is read as {type(value).__name__}, not as a dict: "
            "is 'django.contrib.postgres' in INSTALLED_APPS?"
        )
        raise TypeError(msg)
    return dict(sorted(value.items()))


def _range_encoder(bound: Converter) -> Callable[[Any], Any]:
    """Return the encoder of a range whose bounds *bound* encodes.

    An infinite bound is exclusive, as PostgreSQL stores it.
    """
    convert = bound or (lambda v: v)

    def encode(value: Any) -> Any:
        if value.isempty:
            return EMPTY_RANGE
        lower, upper = value.lower, value.upper
        return (
            None if lower is None else convert(lower),
            None if upper is None else convert(upper),
            ("[" if value.lower_inc and lower is not None else "(")
            + ("]" if value.upper_inc and upper is not None else ")"),
        )

    return encode


def _decode_float(value: Any) -> float:
    return float(value)


def _decode_duration(value: int) -> datetime.timedelta:
    return datetime.timedelta(microseconds=value)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "DateTimeField": datetime.datetime.fromisoformat,
    "DateField": datetime.date.fromisoformat,
    "TimeField": datetime.time.fromisoformat,
    "DurationField": _decode_duration,
    "DecimalField": decimal.Decimal,
    "UUIDField": uuid.UUID,
    "FloatField": _decode_float,
}


def literal_decoder(value_type: str) -> Converter:
    """Return the function that turns a literal of *value_type* into a Python value."""
    found = _DECODERS.get(value_type)
    if found is not None:
        return found
    leaf = array_leaf_type(value_type)
    if leaf is not None:
        return _array_decoder(literal_decoder(leaf), ranges=leaf in RANGE_BOUNDS)
    if value_type in RANGE_BOUNDS:
        return _range_decoder(literal_decoder(RANGE_BOUNDS[value_type]))
    return None


def _array_decoder(item: Converter, *, ranges: bool) -> Callable[[Any], list[Any]]:
    """Return the decoder of an array literal whose items *item* decodes.

    :param ranges: the items are ranges, whose literals are tuples too.
    """
    convert = item or (lambda v: v)

    def sub_array(value: Any) -> bool:
        return type(value) is tuple and not (ranges and is_range_literal(value))

    def decode(value: Any) -> list[Any]:
        return [
            None if v is None else decode(v) if sub_array(v) else convert(v)
            for v in value
        ]

    return decode


def _range_decoder(bound: Converter) -> Callable[[Any], Any]:
    """Return the decoder of a range literal whose bounds *bound* decodes."""
    # The driver's own type, as it reads a range: only a range needs the driver.
    from psycopg.types.range import Range

    convert = bound or (lambda v: v)

    def decode(value: Any) -> Any:
        if value == EMPTY_RANGE:
            return Range(empty=True)
        lower, upper, bounds = value
        return Range(
            None if lower is None else convert(lower),
            None if upper is None else convert(upper),
            bounds,
        )

    return decode


def compose(*steps: Converter) -> Converter:
    """Return one converter applying *steps* in order (``None`` steps skipped)."""
    real = [s for s in steps if s is not None]
    if not real:
        return None
    if len(real) == 1:
        return real[0]
    first, second = real[0], real[1]
    if len(real) == 2:
        return lambda v: second(first(v))
    rest = real

    def run(value: Any) -> Any:
        for step in rest:
            value = step(value)
        return value

    return run
