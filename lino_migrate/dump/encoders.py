"""Turn the raw values a database returns into the literals of a data file.

One function per column, chosen once (:func:`dump_encoder`). Values are
handled by their *value type*, never through a custom field's
``from_db_value``: a dump keeps what the database holds. Django's backend
converters (SQLite stores datetimes, decimals and UUIDs as text) run first,
and a value they cannot read is refused, not dumped as ``NULL``.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from lino_migrate.format.codec import Converter, literal_encoder
from lino_migrate.schema import value_field, value_type

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

__all__ = ["dump_encoder"]

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


_LITERAL_TYPES = (int, str, bool, bytes, float)


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
        encoded like the field it points to). An array, an hstore and a range
        are encoded item by item, as :mod:`lino_migrate.format.codec` says (#13).
    """
    vfield = value_field(field)
    kind = value_type(vfield)
    converters = _backend_converters(vfield, connection)
    encode = literal_encoder(kind)
    if kind == "JSONField":
        return None
    if not converters:
        if encode is None and kind in _PLAIN_TYPES:
            return None
        if kind == "DateTimeField" and connection.vendor == "postgresql":
            return _postgresql_datetime_encoder(encode or _encode_literal)
        return encode or _encode_literal
    shim = SimpleNamespace(output_field=vfield)
    final = _encode_bool if kind == "BooleanField" else encode or _encode_literal
    convert = _converting(converters, shim, connection, kind, final)
    if connection.vendor == "sqlite":
        return _sqlite_shortcut(kind, connection, convert)
    return convert


def _postgresql_datetime_encoder(encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return the encoder of a ``timestamptz`` column: a datetime, or its text in UTC.

    The dump's cursor may load a ``timestamptz`` as the text PostgreSQL
    sends in a session in UTC with ISO dates
    (:func:`lino_migrate.dump.snapshot.fast_loaders`):
    ``YYYY-MM-DD HH:MM:SS+00``, with a fraction of 1 to 6 digits whose
    trailing zeros are left out. ``isoformat()`` of that instant in UTC has
    a ``T``, six digits of fraction or none, and ``+00:00``. Any other text
    (``infinity``, a year after 9999 or before Christ) has no datetime, and
    is refused, as the datetime loader refuses it. A datetime goes to
    *encode*.
    """

    def encode_text(value: Any) -> Any:
        if type(value) is not str:
            return encode(value)
        size = len(value)
        if (
            value[size - 3 :] == "+00"
            and value[4:5] == "-"
            and value[10:11] == " "
            and value.isascii()
        ):
            if size == 22:
                return f"{value[:10]}T{value[11:19]}+00:00"
            if 24 <= size <= 29 and value[19] == ".":
                return f"{value[:10]}T{value[11:19]}.{value[20:-3]:0<6}+00:00"
        msg = f"{value!r} is no datetime that Python can hold"
        raise ValueError(msg)

    return encode_text


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
                msg = f"{raw!r} is not a valid {kind} value"
                raise ValueError(msg) from cause
        return final(value)

    return convert


_HEX_UUID = re.compile("[0-9a-f]{32}")


def _sqlite_shortcut(
    kind: str, connection: BaseDatabaseWrapper, convert: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """Return a faster *convert* for the text SQLite stores, where there is one.

    Django stores a datetime as ``'2024-05-01 10:00:00.000001'`` (naive, in
    the connection's time zone), a date or time as ISO text, a UUID as 32
    lower-case hex digits and a boolean as the integer 0 or 1. Such
    a value is encoded directly, to what *convert* returns for it; anything
    else (an offset, other spellings, garbage) still goes through *convert*.
    """
    if kind == "DateTimeField" and connection.timezone in (None, datetime.UTC):
        # isoformat() of a datetime in UTC: the naive one's and "+00:00".
        offset = "" if connection.timezone is None else "+00:00"
        return _clock_encoder(convert, dated=True, offset=offset)
    if kind == "DateField":
        return _date_encoder(convert)
    if kind == "TimeField":
        return _clock_encoder(convert, dated=False)
    if kind == "DecimalField":
        return _sqlite_decimal_encoder(convert)
    if kind == "BooleanField":

        def encode_bool(value: Any) -> Any:
            # What Django's converter makes of the 0 and 1 SQLite stores.
            if type(value) is int:
                if value == 1:
                    return True
                if value == 0:
                    return False
            return convert(value)

        return encode_bool
    if kind == "UUIDField":
        canonical = _HEX_UUID.fullmatch

        def encode_uuid(value: Any) -> Any:
            if type(value) is str and canonical(value):
                v = value
                return f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
            return convert(value)

        return encode_uuid
    return convert


# The encoders of SQLite's datetime, date and time text (#16). Django's
# converters parse the stored text with fromisoformat() first (parse_datetime,
# parse_date, parse_time); when that succeeds without an offset, the literal
# is the isoformat() of what it gave (with "+00:00" for a datetime of a
# connection in UTC, as Django makes it aware). Anything else goes through
# convert. Text that fromisoformat() accepted and that has isoformat()'s
# shape (its separators where isoformat() puts them, ASCII) is isoformat()'s
# text already: the parser takes only digits between the separators, and an
# offset would have given a tzinfo. It is returned as it is, which saves
# isoformat() (a quarter of a microsecond). A fraction of six zeros is not
# isoformat()'s (it leaves the fraction out); an hour 24, which newer
# Pythons read as midnight of the next day, is not either.


def _date_encoder(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return the encoder of a SQLite date column: ``YYYY-MM-DD``."""
    parse = datetime.date.fromisoformat

    def encode(value: Any) -> Any:
        if type(value) is str:
            try:
                parsed = parse(value)
            except ValueError:
                return convert(value)
            if (
                len(value) == 10
                and value[4] == "-"
                and value[7] == "-"
                and value.isascii()
            ):
                return value
            return parsed.isoformat()
        return convert(value)

    return encode


def _clock_encoder(
    convert: Callable[[Any], Any], *, dated: bool, offset: str = ""
) -> Callable[[Any], Any]:
    """Return the encoder of a SQLite datetime (*dated*) or time column.

    Django stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` and ``HH:MM:SS[.ffffff]``;
    the time starts at the 12th character of a datetime.
    """
    parse = datetime.datetime.fromisoformat if dated else datetime.time.fromisoformat
    at = 11 if dated else 0
    short, long_, dot, colon, colon2 = at + 8, at + 15, at + 8, at + 2, at + 5

    def encode(value: Any) -> Any:
        if type(value) is str:
            try:
                parsed = parse(value)
            except ValueError:
                return convert(value)
            if parsed.tzinfo is None:
                size = len(value)
                if (
                    (
                        size == short
                        or (size == long_ and value[dot] == "." and parsed.microsecond)
                    )
                    and value[colon] == ":"
                    and value[colon2] == ":"
                    and value[at : at + 2] != "24"
                    and (
                        not dated
                        or (value[10] == " " and value[4] == "-" and value[7] == "-")
                    )
                    and value.isascii()
                ):
                    return f"{value[:10]}T{value[11:]}{offset}" if dated else value
                return parsed.isoformat() + offset
        return convert(value)

    return encode


def _sqlite_decimal_encoder(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return the encoder of a SQLite decimal column: the number stored, exactly.

    SQLite keeps a decimal as an INTEGER or, with a fraction or beyond 64
    bits, as a REAL: of more than 15 significant digits it keeps only what a
    double holds. Django reads such a number rounded to 15 digits, which is
    neither what the application wrote nor what is stored. A dump writes what
    is stored: the integer, or the shortest decimal that reads back as the
    same double (``repr()``), and the restore stores that same number (#12).
    """
    to_decimal = decimal.Decimal

    def encode_decimal(value: Any) -> Any:
        kind = type(value)
        if kind is int:
            return str(value)
        if kind is float:
            text = repr(value)
            if "e" in text or "n" in text:
                # 1e+16, inf, nan: Decimal spells them its own way.
                return str(to_decimal(text))
            # Decimal writes digits with a point and no exponent as they are.
            return text
        return convert(value)

    return encode_decimal
