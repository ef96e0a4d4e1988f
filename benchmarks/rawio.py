"""The raw limit: read or write every row with the DB-API alone, no Django.

Run as a subprocess by ``run.py`` (same interpreter as the measured commands)::

    python benchmarks/rawio.py read  ENGINE DB
    python benchmarks/rawio.py write ENGINE SOURCE TARGET [--copy]

``ENGINE`` is ``sqlite`` (``DB`` a file) or ``postgres`` (``DB`` a database
name on the server of ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``).
Every table except Django's migration records is read or written. Prints one
JSON object: ``rows`` and ``seconds``, the time of the database work only
(measured in the process: no interpreter start-up, and for ``write`` not the
time spent reading the source, which is streamed alongside); ``write`` also
gives ``commit_seconds``, the part of it spent in the final commit.

``read`` runs ``SELECT * FROM t`` and ``fetchmany`` in batches (a
server-side cursor on PostgreSQL, as a streaming dump needs). ``write``
deletes the rows of the target's tables and inserts the source's rows with
``executemany`` in batches (or ``COPY`` with ``--copy``), in one transaction.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Rows per ``fetchmany`` and per ``executemany``.
BATCH = 2000
#: Tables no dump holds.
SKIPPED = ("django_migrations",)

Put = Callable[[list], Any]


def connect(engine: str, db: str) -> Any:
    """Return a DB-API connection to database *db* of *engine*."""
    if engine == "sqlite":
        return sqlite3.connect(db, isolation_level=None)
    import psycopg

    return psycopg.connect(**pg_params(db))


def pg_params(db: str) -> dict[str, Any]:
    """Return the connection parameters of database *db* on the PostgreSQL server."""
    return {
        "dbname": db,
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
    }


def table_names(engine: str, conn: Any) -> list[str]:
    """Return the names of the tables a dump covers, sorted."""
    if engine == "sqlite":
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
    names = [name for (name,) in conn.execute(sql).fetchall()]
    if engine != "sqlite":
        conn.commit()
    return sorted(name for name in names if name not in SKIPPED)


def count_rows(engine: str, db: str) -> dict[str, int]:
    """Return the number of rows of every table of *db*."""
    conn = connect(engine, db)
    try:
        return {
            table: conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in table_names(engine, conn)
        }
    finally:
        conn.close()


def column_values(
    engine: str, db: str, table: str, key: str, column: str
) -> dict[Any, Any]:
    """Return ``{primary key: value}`` of one column of *table* in *db*."""
    conn = connect(engine, db)
    try:
        sql = f'SELECT "{key}", "{column}" FROM "{table}"'
        return dict(conn.execute(sql).fetchall())
    finally:
        conn.close()


def _reader(engine: str, conn: Any, table: str) -> tuple[list[str], Iterator[list]]:
    """Return the column names of *table* and an iterator of its rows in batches."""
    # Table names come from the database's own catalog, not from input.
    sql = f'SELECT * FROM "{table}"'
    if engine == "sqlite":
        cursor = conn.execute(sql)
    else:
        cursor = conn.cursor(name=f"read_{table}")
        cursor.itersize = BATCH
        cursor.execute(sql)

    def batches() -> Iterator[list]:
        while batch := cursor.fetchmany(BATCH):
            yield batch
        cursor.close()

    return [d[0] for d in cursor.description], batches()


def read(engine: str, db: str) -> dict[str, Any]:
    """Read every row of every table of *db*; return rows and seconds."""
    conn = connect(engine, db)
    rows = 0
    started = time.perf_counter()
    for table in table_names(engine, conn):
        _columns, batches = _reader(engine, conn, table)
        for batch in batches:
            rows += len(batch)
    seconds = time.perf_counter() - started
    conn.close()
    return {"rows": rows, "seconds": seconds}


def write(engine: str, source: str, target: str, copy: bool) -> dict[str, Any]:
    """Replace the rows of *target* by those of *source*; return rows and seconds.

    Only the time spent in the target's database calls is counted.
    """
    src = connect(engine, source)
    if engine == "postgres":
        from psycopg.types.string import TextLoader

        # JSON is passed through as text, as a dump holds it.
        for name in ("json", "jsonb"):
            src.adapters.register_loader(name, TextLoader)
    dst = connect(engine, target)
    tables = table_names(engine, src)
    started = time.perf_counter()
    if engine == "sqlite":
        dst.execute("BEGIN")
    for table in tables:
        dst.execute(f'DELETE FROM "{table}"')
    spent = time.perf_counter() - started
    rows = 0
    for table in tables:
        columns, batches = _reader(engine, src, table)
        names = ", ".join(f'"{c}"' for c in columns)
        insert = _copier if copy else _inserter
        with insert(dst, table, names, len(columns)) as put:
            for batch in batches:
                started = time.perf_counter()
                put(batch)
                spent += time.perf_counter() - started
                rows += len(batch)
    started = time.perf_counter()
    if engine == "sqlite":
        dst.execute("COMMIT")
    else:
        dst.commit()
    # PostgreSQL checks the deferred foreign keys of Django's tables here.
    commit = time.perf_counter() - started
    src.close()
    dst.close()
    return {"rows": rows, "seconds": spent + commit, "commit_seconds": commit}


@contextmanager
def _copier(conn: Any, table: str, names: str, width: int) -> Iterator[Put]:
    """Give a function that writes batches into one ``COPY`` of *table*."""
    with (
        conn.cursor() as cursor,
        cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as out,
    ):

        def put(rows: list) -> None:
            for row in rows:
                out.write_row(row)

        yield put


@contextmanager
def _inserter(conn: Any, table: str, names: str, width: int) -> Iterator[Put]:
    """Give a function that inserts batches into *table* with ``executemany``."""
    if isinstance(conn, sqlite3.Connection):
        marks = ", ".join(["?"] * width)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        yield lambda rows: conn.executemany(sql, rows)
        return
    marks = ", ".join(["%s"] * width)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    with conn.cursor() as cursor:
        yield lambda rows: cursor.executemany(sql, rows)


def record_peak_rss() -> None:
    """Write this program's peak RSS (KiB) at exit into ``$BENCH_PEAK_FILE``.

    A child's ``ru_maxrss`` starts at its parent's peak when that is higher
    (Linux keeps the high-water mark across fork and exec), and the
    benchmark's own process grows with the values it checks. ``VmHWM`` of
    ``/proc/self/status`` counts from the program's exec on.
    """
    path = os.environ.get("BENCH_PEAK_FILE")
    if not path:
        return

    def write() -> None:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                lines = status.read().splitlines()
        except OSError:
            return
        for line in lines:
            if line.startswith("VmHWM:"):
                with open(path, "w", encoding="ascii") as out:
                    out.write(line.split()[1])

    atexit.register(write)


def main(argv: list[str] | None = None) -> int:
    """Run one raw read or write; print its figures as JSON."""
    record_peak_rss()
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    reading = sub.add_parser("read")
    reading.add_argument("engine", choices=("sqlite", "postgres"))
    reading.add_argument("db")
    writing = sub.add_parser("write")
    writing.add_argument("engine", choices=("sqlite", "postgres"))
    writing.add_argument("source")
    writing.add_argument("target")
    writing.add_argument("--copy", action="store_true")
    args = parser.parse_args(argv)
    if args.action == "read":
        result = read(args.engine, args.db)
    else:
        if args.copy and args.engine != "postgres":
            parser.error("--copy needs PostgreSQL")
        result = write(args.engine, args.source, args.target, args.copy)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
