"""Measure PostgreSQL's own ``pg_dump -Fc`` and ``pg_restore`` (#16).

``pg_dump -Fc`` dumps the whole source database (schema and data, compressed
as by default) into one file. Two restores of that file are measured:

* ``pg_restore --data-only --single-transaction`` into a fresh copy of the
  migrated template whose tables were emptied first (outside the timing).
  This is the fair equivalent of ``run DIR/restore.py``: the same schema
  with its indexes in place, one transaction, and the foreign keys, which
  Django declares ``DEFERRABLE INITIALLY DEFERRED``, checked at the commit.
  ``--disable-triggers`` is left out: it would skip those checks.
* ``pg_restore --single-transaction`` into an empty database: schema and
  data, with the indexes and foreign keys built after the rows are in, the
  way ``pg_restore`` is used most.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

from benchmarks import rawio
from benchmarks.harness import (
    BenchError,
    Measurement,
    Server,
    check_same,
    run_child,
    say,
)

__all__ = ["measure_pg_tools"]


def _binary(server: Server, name: str) -> str:
    """Return the path of the PostgreSQL client program *name*.

    ``$PG_BINDIR`` first, then the Debian directory of the server's major
    version (a newer ``pg_dump`` on the ``PATH`` may not match), then ``PATH``.
    """
    major = server.version().split()[-1].split(".")[0]
    places = [os.environ.get("PG_BINDIR", ""), f"/usr/lib/postgresql/{major}/bin"]
    places += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for place in places:
        path = Path(place, name)
        if place and path.is_file():
            return str(path)
    found = shutil.which(name)
    if found is None:
        msg = f"{name} was not found: set PG_BINDIR to the directory that holds it."
        raise BenchError(msg)
    return found


def _env() -> dict[str, str]:
    params = rawio.pg_params("postgres")
    return dict(
        os.environ,
        PGHOST=params["host"],
        PGPORT=str(params["port"]),
        PGUSER=params["user"],
        PGPASSWORD=params["password"],
    )


def _empty_tables(db: str) -> None:
    """Delete every row of *db* (django_migrations too, which ``pg_dump`` holds)."""
    conn = rawio.connect("postgres", db)
    names = conn.execute(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
    ).fetchall()
    conn.execute(f"TRUNCATE {', '.join(n for (n,) in names)} RESTART IDENTITY")
    conn.commit()
    conn.close()


def _run(server: Server, name: str, *args: str, log: str) -> Measurement:
    command = [_binary(server, name), *args]
    child = run_child(command, _env(), server.work / f"{log}.log")
    return Measurement.of_child(name, child)


def measure_pg_tools(server: Server, source: str, rows: int) -> dict[str, Measurement]:
    """Dump *source* with ``pg_dump -Fc`` and restore it twice; check both."""
    out = server.work / "pg_dump.custom"
    say("pg_dump -Fc")
    dump = _run(server, "pg_dump", "-Fc", "-f", str(out), source, log="pg_dump")
    dump.rows, dump.size_bytes = rows, out.stat().st_size
    found = {"pg_dump": dump}
    target = server.fresh("pg_restore")
    _empty_tables(target)
    say("pg_restore --data-only")
    args = ("--data-only", "--single-transaction", "-d", target, str(out))
    found["pg_restore"] = _run(server, "pg_restore", *args, log="pg_restore")
    check_same(server, source, target, "pg_restore --data-only")
    server.drop(target)
    target = server.create("pg_restore_all")
    say("pg_restore, schema + data")
    found["pg_restore_all"] = _run(
        server, "pg_restore", "--single-transaction", "-d", target, str(out),
        log="pg_restore_all",
    )  # fmt: skip
    check_same(server, source, target, "pg_restore")
    server.drop(target)
    out.unlink()
    for step in found.values():
        step.rows = rows
    return found
