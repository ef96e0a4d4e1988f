"""Convert column values between the database, a dump file and a row dict.

Three directions, each chosen once per column, never per value:

* :func:`dump_encoder`: raw database value -> literal written into a data
  file (only literals, so ``ast.literal_eval`` reads every file back);
* :func:`literal_decoder`: literal -> Python value seen by migrators;
* :func:`db_preparer`: Python value -> parameter for the database driver.

Values are handled by their *value type* (the internal type of the field, or
of the field a relation points to), never through a custom field's
``from_db_value``/``get_prep_value``: a dump keeps what the database holds.
JSON columns keep their JSON text, so JSON ``null`` (the text ``'null'``)
stays distinct from SQL ``NULL`` (``None``).
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils.duration import duration_microseconds

from lino_migrate.schema import value_field

__all__ = [
    "Converter",
    "db_preparer",
    "dump_encoder",
    "literal_decoder",
    "literal_encoder",
    "literal_preparer",
]

#: A function applied to one non-NULL value; ``None`` means "unchanged".
Converter = Callable[[Any], Any] | None

_UTC = datetime.UTC
_LITERAL_TYPES = (int, str, bool, bytes, float)

#: Internal types whose driver values are already the literal to write.
_PLAIN_TYPES = frozenset(
    {
        "AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
        "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
        "PositiveBigIntegerField", "PositiveSmallIntegerField", "BooleanField",
        "CharField", "TextField", "SlugField", "EmailField", "URLField",
        "FilePathField", "FileField", "ImageField",
    }
)  # fmt: skip


def _encode_datetime(value: datetime.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
    return value.isoformat()


def _encode_float(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)


def _encode_duration(value: datetime.timedelta) -> int:
    return duration_microseconds(value)


def _encode_bool(value: Any) -> bool:
    # SQLite lets a bool column hold anything; Django's converter passes on
    # whatever is neither 0 nor 1.
    if value is True or value is False:
        return value
    msg = "a boolean column holds neither 0 nor 1"
    raise ValueError(msg)


def _encode_literal(value: Any) -> Any:
    if isinstance(value, _LITERAL_TYPES):
        return value
    if isinstance(value, memoryview):
        return bytes(value)
    msg = f"no dump encoding for {type(value).__name__}"
    raise TypeError(msg)


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "DateTimeField": _encode_datetime,
    "DateField": datetime.date.isoformat,
    "TimeField": datetime.time.isoformat,
    "DurationField": _encode_duration,
    "DecimalField": str,
    "UUIDField": str,
    "FloatField": _encode_float,
    "BinaryField": bytes,
    "GenericIPAddressField": str,
    "IPAddressField": str,
}


def _backend_converters(
    field: Field[Any, Any], connection: BaseDatabaseWrapper
) -> list[Callable[..., Any]]:
    """Return Django's converters for *field*'s values, without ``from_db_value``."""
    shim = SimpleNamespace(output_field=field)
    found = list(connection.ops.get_db_converters(shim))  # type: ignore[arg-type]
    from_db_value = getattr(field, "from_db_value", None)
    own = field.get_db_converters(connection)  # type: ignore[attr-defined]
    found += [c for c in own if c != from_db_value]
    return found


def dump_encoder(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> Converter:
    """Return the function that turns a raw value of *field* into a literal.

    :param field: a concrete field as stored in the table (a relation is
        encoded like the field it points to).
    """
    vfield = value_field(field)
    converters = _backend_converters(vfield, connection)
    encode = _ENCODERS.get(vfield.get_internal_type())
    if vfield.get_internal_type() == "JSONField":
        return None
    if not converters:
        if encode is None and vfield.get_internal_type() in _PLAIN_TYPES:
            return None
        return encode or _encode_literal
    shim = SimpleNamespace(output_field=vfield)
    kind = vfield.get_internal_type()
    final = _encode_bool if kind == "BooleanField" else encode or _encode_literal
    convert = _converting(converters, shim, connection, kind, final)
    if connection.vendor == "sqlite":
        return _sqlite_shortcut(kind, connection, convert)
    return convert


def _converting(
    converters: list[Callable[..., Any]],
    shim: SimpleNamespace,
    connection: BaseDatabaseWrapper,
    kind: str,
    final: Callable[[Any], Any],
) -> Callable[[Any], Any]:
    """Return the function applying Django's *converters*, then *final*."""

    def convert(value: Any) -> Any:
        raw = value
        for converter in converters:
            try:
                value = converter(value, shim, connection)
            except (TypeError, AttributeError) as e:
                # Django's SQLite datetime converter fails on the None that
                # its parser returned for garbage.
                value = None
                cause: BaseException | None = e
            else:
                cause = None
            if value is None:
                # Django's converters return None for a value they cannot
                # parse (a date column holding 'garbage'): that is a loss.
                msg = f"{raw!r} is no valid {kind} value"
                raise ValueError(msg) from cause
        return final(value)

    return convert


_HEX_UUID = re.compile("[0-9a-f]{32}")


def _sqlite_shortcut(
    kind: str, connection: BaseDatabaseWrapper, convert: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """Return a faster *convert* for the text SQLite stores, where there is one.

    Django stores a datetime as ``'2024-05-01 10:00:00.000001'`` (naive, in
    the connection's time zone) and a UUID as 32 lower-case hex digits. Such
    a value is encoded directly, to what *convert* returns for it; anything
    else (an offset, other spellings, garbage) still goes through *convert*.
    """
    if kind == "DateTimeField" and connection.timezone in (None, datetime.UTC):
        zone = connection.timezone
        parse = datetime.datetime.fromisoformat

        def encode_datetime(value: Any) -> Any:
            if type(value) is str:
                try:
                    parsed = parse(value)
                except ValueError:
                    return convert(value)
                if parsed.tzinfo is None:
                    return parsed.replace(tzinfo=zone).isoformat()
            return convert(value)

        return encode_datetime
    if kind == "UUIDField":
        canonical = _HEX_UUID.fullmatch

        def encode_uuid(value: Any) -> Any:
            if type(value) is str and canonical(value):
                v = value
                return f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
            return convert(value)

        return encode_uuid
    return convert


def literal_encoder(value_type: str) -> Converter:
    """Return the function that turns a Python value of *value_type* into a literal."""
    return _ENCODERS.get(value_type)


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
    if value_type != "UUIDField" or prepare is not _uuid_hex or slow is None:
        return slow
    canonical = _CANONICAL_UUID.fullmatch

    def prepare_uuid(value: Any) -> Any:
        if type(value) is str and canonical(value):
            return value.replace("-", "")
        return slow(value)

    return prepare_uuid


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
