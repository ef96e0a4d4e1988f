"""The SQLite shortcuts of the dump encoder agree with Django's converters."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import pytest
from django.db import models
from django.db.utils import ConnectionHandler
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from lino_migrate.dump.encoders import dump_encoder
from lino_migrate.format.codec import compose, literal_decoder
from lino_migrate.restore.preparers import db_preparer, literal_preparer

DATETIMES = [
    "2024-05-01 10:00:00",
    "2024-05-01 10:00:00.000001",
    "2024-05-01 10:00:00.000000",
    "2024-05-01 10:00:00.5",
    "2024-05-01T10:00:00.123456",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59.999999",
    "2024-05-01 10:00:00+02:00",
    "2024-05-01T10:00:00Z",
    "2024-05-01 10:00",
    "2024-05-01",
]
BAD_DATETIMES = ["garbage", "", "2024-02-30 10:00:00", "2024-05-01 25:00:00"]
UUIDS = [
    "6f1c1b2e3a4d4e5f8a9b0c1d2e3f4a5b",
    "00000000000000000000000000000000",
    "6F1C1B2E3A4D4E5F8A9B0C1D2E3F4A5B",
    "6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
    "{6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b}",
]
BAD_UUIDS = [
    "garbage",
    "",
    "6f1c1b2e3a4d4e5f8a9b0c1d2e3f4a5",
    "6f1c1b2e3a4d4e5f8a9b0c1d2e3f4a5g",
]


def _sqlite() -> Any:
    """Return a new SQLite connection object, built under the current settings."""
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    return handler["default"]


def _django_datetime(connection: Any, value: str) -> str:
    """Encode *value* as Django reads it, then as a dump writes a datetime."""
    try:
        parsed = connection.ops.convert_datetimefield_value(value, None, connection)
    except AttributeError:  # Django's converter on the None its parser returned
        parsed = None
    if parsed is None:
        raise ValueError(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC)
    return str(parsed.isoformat())


@pytest.mark.parametrize("use_tz", [True, False])
def test_sqlite_datetime_shortcut_agrees_with_django(use_tz: bool) -> None:
    """Stored datetime text is encoded as Django's converters would have it."""
    with override_settings(USE_TZ=use_tz):
        connection = _sqlite()
        encode = dump_encoder(models.DateTimeField(), connection)
        assert encode is not None
        for value in DATETIMES:
            assert _django_datetime(connection, value) == encode(value), value
        for value in BAD_DATETIMES:
            with pytest.raises(ValueError):  # noqa: PT011
                encode(value)


DATES = [
    "2024-05-01",
    "0001-01-01",
    "9999-12-31",
    "2024-02-29",
    "20240501",
    "2024-W01-1",
]
BAD_DATES = ["garbage", "", "2024-02-30", "2023-02-29", "2024-13-01", "2024-5-1 x"]
TIMES = [
    "10:00:00",
    "10:00:00.000001",
    "10:00:00.000000",
    "23:59:59.999999",
    "10:00",
    "10",
    "100000",
]
BAD_TIMES = ["garbage", "", "25:00:00", "10:60:00", "10:00:00.1234567x"]


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        (models.DateField(), DATES, BAD_DATES),
        (models.TimeField(), [*TIMES, "10:00:00+02:00"], BAD_TIMES),
    ],
)
def test_sqlite_date_and_time_shortcuts_agree_with_django(
    field: Any, good: list[str], bad: list[str]
) -> None:
    """Stored date and time text is encoded as Django reads it, then isoformat()."""
    connection = _sqlite()
    encode = dump_encoder(field, connection)
    assert encode is not None
    convert = (
        connection.ops.convert_datefield_value
        if isinstance(field, models.DateField)
        else connection.ops.convert_timefield_value
    )
    for value in good:
        parsed = convert(value, None, connection)
        assert parsed is not None, value
        assert parsed.isoformat() == encode(value), value
    for value in bad:
        try:
            parsed = convert(value, None, connection)
        except ValueError:
            parsed = None
        assert parsed is None, value
        with pytest.raises(ValueError):  # noqa: PT011
            encode(value)


#: Characters that may turn stored text into another spelling, or garbage.
SPOILERS = "0123456789 -:.TZ+x\u0663"


@st.composite
def _stored(draw: Any, values: Any) -> str:
    """Return the text Django stores for a drawn value, maybe with one character changed."""
    text = str(draw(values))
    if text and draw(st.booleans()):
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from(SPOILERS)) + text[at + 1 :]
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


def _expected(convert: Any, value: str) -> str | None:
    """Return isoformat() of what Django reads *value* as, ``None`` if it refuses it."""
    try:
        parsed = convert(value)
    except (ValueError, AttributeError):
        return None
    return None if parsed is None else str(parsed.isoformat())


@given(
    st.one_of(
        _stored(st.datetimes()),
        _stored(st.datetimes().map(lambda d: d.replace(microsecond=0))),
    ),
    st.booleans(),
)
def test_sqlite_datetime_text_encodes_as_django_reads_it(
    value: str, use_tz: bool
) -> None:
    """Any stored text, spoiled or not: isoformat() of Django's reading, or refused."""
    with override_settings(USE_TZ=use_tz):
        connection = _sqlite()
        encode = dump_encoder(models.DateTimeField(), connection)
        assert encode is not None
        try:
            expected: str | None = _django_datetime(connection, value)
        except ValueError:
            expected = None
        if expected is None:
            with pytest.raises(ValueError):  # noqa: PT011
                encode(value)
        else:
            assert expected == encode(value)


@given(
    st.one_of(
        st.tuples(st.just("date"), _stored(st.dates())),
        st.tuples(st.just("time"), _stored(st.times())),
        st.tuples(
            st.just("time"), _stored(st.times().map(lambda t: t.replace(microsecond=0)))
        ),
    )
)
def test_sqlite_date_and_time_text_encodes_as_django_reads_it(
    case: tuple[str, str],
) -> None:
    """Any stored date or time text: isoformat() of Django's reading, or refused."""
    kind, value = case
    connection = _sqlite()
    field = models.DateField() if kind == "date" else models.TimeField()
    encode = dump_encoder(field, connection)
    assert encode is not None
    ops = connection.ops
    convert = (
        ops.convert_datefield_value if kind == "date" else ops.convert_timefield_value
    )
    expected = _expected(lambda v: convert(v, None, connection), value)
    if expected is None:
        with pytest.raises(ValueError):  # noqa: PT011
            encode(value)
    else:
        assert expected == encode(value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_sqlite_decimal_of_a_real_is_decimals_spelling(value: float) -> None:
    """A REAL in a decimal column is written as Decimal(repr(value)) spells it."""
    encode = dump_encoder(
        models.DecimalField(max_digits=30, decimal_places=10), _sqlite()
    )
    assert encode is not None
    assert str(decimal.Decimal(repr(value))) == encode(value)


def test_sqlite_boolean_shortcut_agrees_with_django() -> None:
    """Stored 0 and 1 are encoded as Django reads them; anything else is refused."""
    connection = _sqlite()
    encode = dump_encoder(models.BooleanField(), connection)
    assert encode is not None
    for value in (0, 1):
        django = connection.ops.convert_booleanfield_value(value, None, connection)
        assert type(django) is bool
        assert django is encode(value)
    for value in (2, -1, "1", "true", b"\x01"):
        with pytest.raises(ValueError):  # noqa: PT011
            encode(value)


def test_sqlite_uuid_shortcut_agrees_with_django() -> None:
    """Stored UUID text is encoded as str(uuid.UUID(text)); garbage is refused."""
    encode = dump_encoder(models.UUIDField(), _sqlite())
    assert encode is not None
    for value in UUIDS:
        assert str(uuid.UUID(value)) == encode(value), value
    for value in BAD_UUIDS:
        with pytest.raises(ValueError):  # noqa: PT011
            encode(value)


LITERAL_DATETIMES = [
    "2024-05-01T10:00:00+00:00",
    "2024-05-01T10:00:00.000001+00:00",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59.999999+00:00",
    "2024-05-01T10:00:00+02:00",
    "2024-05-01T10:00:00",
    "2024-05-01T10:00:00.5",
]
LITERAL_UUIDS = [
    "6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
    "00000000-0000-0000-0000-000000000000",
    "6F1C1B2E-3A4D-4E5F-8A9B-0C1D2E3F4A5B",
    "6f1c1b2e3a4d4e5f8a9b0c1d2e3f4a5b",
]


def _outcome(convert: Any, value: str) -> tuple[str, Any]:
    """Return what *convert* gives for *value*, or the kind of error it raises."""
    try:
        return "ok", convert(value)
    except ValueError:
        return "error", ValueError


#: What Django itself makes of a decoded value, per field type.
DJANGO_ADAPTERS = {
    "DateTimeField": lambda c: c.ops.adapt_datetimefield_value,
    "UUIDField": lambda c: lambda v: v.hex,
}


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize(
    ("field", "literals"),
    [(models.DateTimeField(), LITERAL_DATETIMES), (models.UUIDField(), LITERAL_UUIDS)],
)
def test_sqlite_literal_shortcuts_agree_with_django(
    use_tz: bool, field: Any, literals: list[str]
) -> None:
    """A literal goes to the parameter Django would make of the decoded value."""
    with override_settings(USE_TZ=use_tz):
        connection = _sqlite()
        kind = field.get_internal_type()
        fast = literal_preparer(kind, field, connection)
        django = compose(literal_decoder(kind), DJANGO_ADAPTERS[kind](connection))
        for value in [*literals, "garbage", ""]:
            assert _outcome(django, value) == _outcome(fast, value), value


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize("zone", [None, "Europe/Brussels"])
def test_sqlite_datetime_preparer_agrees_with_django(
    use_tz: bool, zone: str | None
) -> None:
    """A datetime object (a migrated row's) is stored as Django would store it."""
    values = [
        dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 31, 0, 30, 0, 1, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
        dt.datetime(2024, 5, 1, 10, 0),
        dt.datetime(2024, 5, 1, 10, 0, 0, 999999),
    ]
    with override_settings(USE_TZ=use_tz):
        handler = ConnectionHandler(
            {
                "default": {
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": ":memory:",
                    "TIME_ZONE": zone if use_tz else None,
                }
            }
        )
        connection = handler["default"]
        prepare = db_preparer(models.DateTimeField(), connection)
        django = connection.ops.adapt_datetimefield_value
        assert prepare is not django
        for value in values:
            assert _outcome(django, value) == _outcome(prepare, value), value
