"""The dump loads uuid and timestamptz with psycopg's C loaders: the values of Django's (#16).

The oracle is what Django's own loaders give for the same query on the same
connection: a :class:`uuid.UUID` whose ``str()`` is the text the dump now
receives, and an aware datetime of the same instant.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, models, transaction
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.postgres import types
from psycopg.pq import Format

from lino_migrate.dump.encoders import dump_encoder
from lino_migrate.dump.snapshot import fast_loaders
from lino_migrate.format.codec import literal_encoder
from tests.site.data import populate
from tests.site.kitchen.models import Sample

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMES = [
    "2024-05-01 10:00:00+00",
    "2024-05-01 10:00:00.000001+02",
    "2024-05-01 10:00:00.5-07:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-10-27 02:30:00+01",
    "2024-03-31 02:30:00+00",
    "1890-06-01 12:00:00+00:19:32",
]
UUIDS = ["6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b", "00000000-0000-0000-0000-000000000000"]
QUERY = (
    "SELECT t::timestamptz, u::uuid, ARRAY[t::timestamptz, NULL], ARRAY[u::uuid], "
    "tstzrange(t::timestamptz, NULL) FROM unnest(%s::text[], %s::text[]) AS v(t, u)"
)


def _rows(*, fast: bool) -> list[tuple[Any, ...]]:
    """Return the rows of QUERY through a server-side cursor, with or without C loaders."""
    times = TIMES
    uuids = (UUIDS * len(TIMES))[: len(TIMES)]
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        if fast:
            fast_loaders(cursor.cursor, connection)
        cursor.execute(QUERY, [times, uuids])
        return list(cursor.fetchall())


def _literal(value: dt.datetime) -> str:
    encode = literal_encoder("DateTimeField")
    assert encode is not None
    return str(encode(value))


def test_c_loaders_give_the_values_of_djangos() -> None:
    """Same instants (and literals) and the text of the same UUIDs, arrays and ranges too."""
    djangos, fast = _rows(fast=False), _rows(fast=True)
    assert len(TIMES) == len(fast)
    for (time, uid, times, uids, span), (time2, uid2, times2, uids2, span2) in zip(
        djangos, fast, strict=True
    ):
        assert time == time2
        assert _literal(time) == _literal(time2)
        assert (str(uid), [str(u) for u in uids]) == (uid2, uids2)
        assert isinstance(uid2, str)
        assert times == times2
        assert (span.lower, span.upper) == (span2.lower, span2.upper)
        assert _literal(span.lower) == _literal(span2.lower)


def _timestamptz_loader(*, fast: bool) -> type[Any]:
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        if fast:
            fast_loaders(cursor.cursor, connection)
        loader = cursor.cursor.adapters.get_loader(
            types["timestamptz"].oid, Format.TEXT
        )
        assert loader is not None
        return loader


def test_djangos_loader_stays_where_the_label_would_differ() -> None:
    """Naive datetimes (USE_TZ = False) and a session in another time zone keep Django's."""
    djangos = _timestamptz_loader(fast=False)
    assert hasattr(djangos, "timezone")  # Django's, which labels the time
    assert not hasattr(_timestamptz_loader(fast=True), "timezone")
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Brussels'")
    try:
        assert hasattr(_timestamptz_loader(fast=True), "timezone")
    finally:
        connection.close()
    with override_settings(USE_TZ=False):
        try:
            loader = _timestamptz_loader(fast=True)
            assert loader.timezone is None  # type: ignore[attr-defined]
        finally:
            connection.close()


def _encoded(values: list[dt.datetime], *, as_text: bool) -> list[Any]:
    """Return the dump's literals of *values* read back as timestamptz."""
    encode = dump_encoder(models.DateTimeField(), connection)
    assert encode is not None
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        fast_loaders(cursor.cursor, connection, datetimes_as_text=as_text)
        cursor.execute("SELECT unnest(%s::timestamptz[])", [values])
        raw = [row[0] for row in cursor.fetchall()]
    assert all(isinstance(v, str) is as_text for v in raw)
    return [encode(v) for v in raw]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=dt.datetime(1, 1, 2),
            max_value=dt.datetime(9999, 12, 30),
            timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-7))]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_timestamptz_text_is_spelled_as_isoformat(values: list[dt.datetime]) -> None:
    """PostgreSQL's text of a timestamptz gives the literal of the datetime: isoformat() in UTC."""
    expected = [v.astimezone(dt.UTC).isoformat() for v in values]
    assert expected == _encoded(values, as_text=False)
    assert expected == _encoded(values, as_text=True)


@pytest.mark.parametrize(
    "value",
    ["infinity", "-infinity", "10000-01-01 00:00:00+00", "0044-03-15 12:00:00+00 BC"],
)
def test_a_timestamptz_python_cannot_hold_is_refused(
    value: str, tmp_path: Path
) -> None:
    """Such a value ends the dump, naming model, row and field; nothing is written."""
    populate("default")
    pk = Sample.objects.order_by("id").values_list("id", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE kitchen_sample SET datetime = %s WHERE id = %s", [value, pk]
        )
    expected = rf"field 'datetime' of 'kitchen.sample' row pk={pk}"
    with pytest.raises(CommandError, match=expected):
        call_command("dump2py", str(tmp_path / "d"), "--noinput", verbosity=0)
    assert [] == list(tmp_path.iterdir())
