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
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Callable
from typing import Any

__all__ = [
    "ENCODERS",
    "Converter",
    "compose",
    "duration_microseconds",
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


def literal_encoder(value_type: str) -> Converter:
    """Return the function that turns a Python value of *value_type* into a literal."""
    return ENCODERS.get(value_type)


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
    return _DECODERS.get(value_type)


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
