"""Read the tables of a database in one consistent, streamed snapshot."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.format.layout import ModelInfo

__all__ = [
    "FETCH_SIZE",
    "KeyRange",
    "key_ranges",
    "primary_key_sql",
    "read_batches",
    "read_transaction",
    "sqlite_select",
]

#: Rows fetched from the database at a time.
FETCH_SIZE = 2000


@contextmanager
def read_transaction(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Run the block in one read transaction: every table seen at one instant.

    On PostgreSQL the transaction is ``REPEATABLE READ, READ ONLY``; on SQLite
    a transaction already sees one snapshot. Inside an outer atomic block
    (tests) the outer transaction's snapshot is used.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=connection.alias):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
        yield


def primary_key_sql(
    connection: BaseDatabaseWrapper, info: ModelInfo
) -> tuple[str, str, str]:
    """Return *info*'s table quoted, its key column's name, the key qualified and quoted.

    For a primary key of one column.
    """
    quote_name = connection.ops.quote_name
    column = next(f.column for f in info.fields if f.attname == info.pk[0])
    table = quote_name(info.table)
    return table, column, f"{table}.{quote_name(column)}"


@dataclass(frozen=True)
class KeyRange:
    """Data file *number* of a table: the *rows* from key *first* on, below *below*.

    *below* is ``None`` for the last file of the table.
    """

    number: int
    first: Any
    below: Any
    rows: int


def key_ranges(
    connection: BaseDatabaseWrapper, info: ModelInfo, size: int
) -> list[KeyRange] | None:
    """Cut *info*'s table into its data files of *size* rows by primary key (#16).

    From the first key on, each file ends before the key *size* rows further
    (``LIMIT 1 OFFSET``, which the database answers from the key's index
    without reading the rows' columns). Each file is then ``key >= first
    AND key < below`` in the order of the key: the slice that one process
    writes, as the database compares a key as it sorts it (its collation)
    and a primary key holds no ``NULL``. Return ``None`` for a key of
    several columns; an empty table has no range.
    """
    if len(info.pk) != 1:
        return None
    table, _column, key = primary_key_sql(connection, info)
    following = (
        f"SELECT {key} FROM {table} WHERE {key} >= %s ORDER BY {key} "
        f"LIMIT 1 OFFSET {int(size)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key} FROM {table} ORDER BY {key} LIMIT 1")
        firsts = [row[0] for row in cursor.fetchall()]
        while firsts:
            cursor.execute(following, [firsts[-1]])
            if (row := cursor.fetchone()) is None:
                break
            firsts.append(row[0])
        if not firsts:
            return []
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {key} >= %s", [firsts[-1]])
        last = cursor.fetchone()[0]
    found = [
        KeyRange(number, first, below, size)
        for number, (first, below) in enumerate(pairwise(firsts), 1)
    ]
    found.append(KeyRange(len(firsts), firsts[-1], None, last))
    return found


def read_batches(
    model: type[models.Model],
    info: ModelInfo,
    connection: BaseDatabaseWrapper,
    keys: KeyRange | None = None,
) -> Generator[list[tuple[Any, ...]], None, None]:
    """Yield the raw rows of *model*'s table in batches, ordered by primary key.

    Rows come through the model's ``_base_manager`` (a default manager that
    hides rows hides none here), with no value conversion, from a
    server-side cursor where the backend has one.

    On SQLite the rows come as stored: the ``sqlite3`` module would otherwise
    parse the columns declared ``date``, ``datetime``, ``time`` and ``bool``
    itself and turn a value it cannot parse into ``None`` or ``False``, a
    silent loss. Selecting each column as an expression (``+"column"``, a
    no-op that has no declared type) keeps the stored text or number, and the
    encoder then parses it and names any value it cannot.

    On PostgreSQL with psycopg 3, some columns are loaded faster than
    Django's loaders would (:func:`fast_loaders`). With *keys* (not on
    SQLite), only the rows of that range of primary keys.
    """
    if connection.vendor == "sqlite":
        sql, params = sqlite_select(info, connection), ()
    else:
        sql, params = _orm_select(model, info, connection, keys)
    # A datetime inside an array or a range must stay a datetime.
    plain = all(
        "DateTime" not in f.type or f.type == "DateTimeField" for f in info.fields
    )
    with connection.chunked_cursor() as cursor:
        fast_loaders(cursor.cursor, connection, datetimes_as_text=plain)
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            yield batch


def fast_loaders(
    cursor: Any, connection: BaseDatabaseWrapper, *, datetimes_as_text: bool = False
) -> None:
    """Make the psycopg 3 *cursor* load ``uuid`` and ``timestamptz`` in C (#16).

    A dump writes a UUID as its text, which PostgreSQL sends already in the
    spelling of ``str(uuid.UUID)``: the column is loaded as text, without a
    :class:`uuid.UUID` in between. Django loads a ``timestamptz`` with a
    loader of its own, written in Python on top of psycopg's Python parser
    (it labels the time with the connection's time zone), which took about
    half the time of a dump of datetimes. Where that label is the session's
    time zone (``USE_TZ``, and the ``TimeZone`` that Django set on the
    session), psycopg's own loader, in C, gives the same instant, which is
    all the dump writes (in UTC). Anything else keeps Django's loaders;
    psycopg 2 has none of this.

    With *datetimes_as_text*, in a session in UTC with ISO dates, a
    ``timestamptz`` comes as PostgreSQL's text (``2024-05-01
    10:00:00.5+00``), which the dump's encoder respells as ``isoformat()``
    does (:func:`lino_migrate.dump.encoders.dump_encoder`) without a
    datetime in between. Not for a table with arrays or ranges of datetimes,
    whose encoders take datetimes.
    """
    adapters = getattr(cursor, "adapters", None)
    if adapters is None or connection.vendor != "postgresql":
        return
    import psycopg
    from psycopg.pq import Format
    from psycopg.types.string import TextLoader

    adapters.register_loader("uuid", TextLoader)
    oid = psycopg.postgres.types["timestamptz"].oid
    djangos = adapters.get_loader(oid, Format.TEXT)
    if getattr(djangos, "timezone", None) is None:
        return  # naive datetimes (USE_TZ = False), or not Django's loader
    info = cursor.connection.info
    session = info.parameter_status("TimeZone")
    if session != connection.timezone_name:
        return
    iso = (info.parameter_status("DateStyle") or "").startswith("ISO")
    if datetimes_as_text and session == "UTC" and iso:
        adapters.register_loader("timestamptz", TextLoader)
        return
    adapters.register_loader(
        "timestamptz", psycopg.adapters.get_loader(oid, Format.TEXT)
    )


def _orm_select(
    model: type[models.Model],
    info: ModelInfo,
    connection: BaseDatabaseWrapper,
    keys: KeyRange | None = None,
) -> tuple[str, tuple[Any, ...]]:
    qs = model._base_manager.using(connection.alias).order_by(*info.pk)
    if keys is not None:
        qs = qs.filter(pk__gte=keys.first)
        if keys.below is not None:
            qs = qs.filter(pk__lt=keys.below)
    qs = qs.values_list(*info.attnames)
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def sqlite_select(
    info: ModelInfo, connection: BaseDatabaseWrapper, *, where: str = ""
) -> str:
    """Return the query that reads *info*'s table on SQLite, ordered by key.

    *where*, if given, is a condition on the rows. Columns are qualified by
    their table: SQLite reads an unknown bare "name" as the string 'name'
    where a column is missing.
    """
    quote = connection.ops.quote_name
    table = quote(info.table)
    column_of = {f.attname: f"{table}.{quote(f.column)}" for f in info.fields}
    select = ", ".join(f"+{column_of[f.attname]}" for f in info.fields)
    order = ", ".join(column_of[a] for a in info.pk)
    condition = f" WHERE {where}" if where else ""
    return f"SELECT {select} FROM {table}{condition} ORDER BY {order}"
