"""Turn the values of a row into the parameters a database driver takes.

The reverse of :mod:`lino_migrate.dump.encoders`: a literal read from a data
file (or a Python value a migrator set) becomes what Django's backend would
send for it. Chosen once per column.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lino_migrate.format.codec import (
    Converter,
    compose,
    duration_microseconds,
    literal_decoder,
)
from lino_migrate.schema import value_field

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

__all__ = ["db_preparer", "literal_preparer"]


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
