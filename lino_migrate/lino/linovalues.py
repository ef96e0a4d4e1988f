"""Turn the values of a Lino dump into the literals of a dump of lino_migrate.

Lino's ``dump2py`` writes a value by its field's class: ``date(y, m, d)``,
``dt(y, m, d, h, mi, s)`` (UTC, without microseconds), ``time(h, m, s)``,
a decimal or a float as its text, a number, a boolean, and anything else
as the text of ``Field.value_to_string()`` (a duration as ``'1 day,
2:03:04'``, binary data in base 64, JSON as its text). A dump of
lino_migrate writes a value by its *value type* (:mod:`lino_migrate.format.codec`).
:func:`converter` bridges the two, per column; :func:`inferred_type` names
the value type of a field the current models lack, from what its values are.

.. versionadded:: 0.3
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.dateparse import parse_duration

from lino_migrate.format.codec import duration_microseconds, literal_encoder

__all__ = ["INTEGER_TYPES", "converter", "inferred_type"]

INTEGER_TYPES = frozenset(
    {
        "AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
        "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
        "PositiveBigIntegerField", "PositiveSmallIntegerField",
    }
)  # fmt: skip

Convert = Callable[[Any], Any]


def _refuse(value: Any, expected: str) -> ValueError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return ValueError(f"{shown} where {expected} is expected")


def _datetime(aware: bool) -> Convert:
    encode = literal_encoder("DateTimeField")
    assert encode is not None

    def convert(value: Any) -> Any:
        if type(value) is str:
            value = datetime.datetime.fromisoformat(value)
        if type(value) is not datetime.datetime:
            raise _refuse(value, "dt(...)")
        if aware and value.tzinfo is None:
            # dump2py writes datetimes in UTC, and Lino's own dt() reads them so.
            value = value.replace(tzinfo=datetime.UTC)
        return encode(value)

    return convert


def _of_type(kind: type, parse: Convert, expected: str) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is str:
            value = parse(value)
        if type(value) is not kind:
            raise _refuse(value, expected)
        return str(value.isoformat())  # type: ignore[attr-defined]

    return convert


def _decimal(value: Any) -> str:
    if type(value) not in (str, int, float):
        raise _refuse(value, "a decimal number")
    try:
        return str(decimal.Decimal(str(value).strip()))
    except decimal.InvalidOperation:
        raise _refuse(value, "a decimal number") from None


def _float(value: Any) -> Any:
    if type(value) not in (str, int, float):
        raise _refuse(value, "a number")
    encode = literal_encoder("FloatField")
    assert encode is not None
    return encode(float(value))


def _duration(value: Any) -> int:
    if type(value) is int:
        return value
    parsed = parse_duration(value) if type(value) is str else None
    if parsed is None:
        raise _refuse(value, "a duration ('[D day[s], ]H:MM:SS[.ffffff]')")
    return duration_microseconds(parsed)


def _uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        raise _refuse(value, "a UUID") from None


def _binary(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise _refuse(value, "binary data in base 64") from None


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise _refuse(value, "an integer")
    return value


def _boolean(value: Any) -> bool:
    if value is True or value is False:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise _refuse(value, "True or False")


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is int:
        # A model given a number for a text field keeps its text (to_python).
        return str(value)
    raise _refuse(value, "a text")


def converter(value_type: str, *, aware: bool) -> Convert:
    """Return the function that turns a non-NULL value of a Lino dump into a literal.

    :param value_type: the value type of the column, as ``SCHEMA`` records it.
    :param aware: whether datetimes are stored aware (``settings.USE_TZ``).
    :raises ValueError: from the function, for a value that does not fit.
    """
    if value_type == "DateTimeField":
        return _datetime(aware)
    if value_type == "DateField":
        return _of_type(datetime.date, datetime.date.fromisoformat, "date(...)")
    if value_type == "TimeField":
        return _of_type(datetime.time, datetime.time.fromisoformat, "time(...)")
    if value_type in INTEGER_TYPES:
        return _integer
    simple: dict[str, Convert] = {
        "DecimalField": _decimal,
        "FloatField": _float,
        "DurationField": _duration,
        "UUIDField": _uuid,
        "BinaryField": _binary,
        "BooleanField": _boolean,
    }
    return simple.get(value_type, _text)


#: The value type of a field the current models lack, by the one type of its values.
_BY_TYPE = {
    datetime.datetime: "DateTimeField",
    datetime.date: "DateField",
    datetime.time: "TimeField",
    bool: "BooleanField",
    int: "IntegerField",
    float: "FloatField",
    str: "CharField",
}


def inferred_type(
    conversion: str | None, kinds: Iterable[type]
) -> tuple[str | None, str]:
    """Return the value type of a field from its create function and its values.

    :param conversion: what the create function does to the values
        (``"decimal"``, ``"choice"``), if anything.
    :param kinds: the Python types of its non-NULL values.
    :return: the value type (``None`` when the values disagree) and the
        reason, for the report.
    """
    if conversion == "decimal":
        return "DecimalField", "its create function converts it with Decimal()"
    found = {_BY_TYPE.get(kind) for kind in kinds}
    if not found:
        return "CharField", "every value is None, so CharField is assumed"
    if len(found) > 1 or None in found:
        names = ", ".join(sorted(k.__name__ for k in kinds))
        return None, f"its values are of several types ({names})"
    (value_type,) = found
    return value_type, "from its values"
