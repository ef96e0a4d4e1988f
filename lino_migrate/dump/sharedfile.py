"""Dump workers that read a SQLite file themselves, beside the reading process (#16).

The pipeline (:mod:`lino_migrate.dump.pipeline`) hands the rows of a big
table to its workers. On a SQLite file in a rollback journal mode the
workers can read them themselves, which spares the reading process the
reading and both sides the hand-off (``marshal``: about 0.5 s of CPU per
million rows, docs/performance.md).

Why the workers see what the reading process sees: in a rollback journal
mode (``delete``, ``truncate``, ``persist``, ``memory``, ``off``) a
transaction that has read holds a SHARED lock on the file until it ends, and
no other connection can commit while any SHARED lock is held. The reading
process holds its read transaction until every worker has answered, so the
file cannot change between its first read and the workers' last. In ``wal``
mode writers commit beside readers, so the workers are not used there; nor
with ``locking_mode=exclusive``, nor for a database in memory. A guard
checks the argument: the worker compares the file change counter of the
header (bytes 24 to 27, which every commit in a rollback journal mode
changes) with the one the reading process saw, and refuses to write from a
file that changed.

The reading process splits a table into the data files of a dump by primary
key: from the first key on, it asks for the key ``--max-row-count`` rows
further (``LIMIT 1 OFFSET``, which skips rows without reading their
columns: 20 ms per million rows). Each file is then
``key >= first AND key < next`` in the order of the key, which is the slice
that one process would have written: SQLite compares a column with a value
as its ``ORDER BY`` sorts it (the column's affinity and collation), and a
primary key declared ``NOT NULL`` (Django's are) holds no ``NULL``, the one
value that sorts but never compares. The worker checks that it read the
number of rows the reading process counted for the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.dump.snapshot import (
    FETCH_SIZE,
    key_ranges,
    primary_key_sql,
    sqlite_select,
)
from lino_migrate.format.layout import ModelInfo

__all__ = ["FileRange", "FileReader", "ReadMismatchError", "SharedFile", "ranges"]

#: The journal modes in which a read transaction keeps every commit out.
_ROLLBACK_MODES = frozenset({"delete", "truncate", "persist", "memory", "off"})


class ReadMismatchError(Exception):
    """What a worker read is not what the reading process saw: never write it."""


@dataclass(frozen=True)
class FileRange:
    """The rows of one data file: a query, its parameters, how many rows it gives."""

    sql: str
    params: tuple[Any, ...]
    rows: int


@dataclass(frozen=True)
class SharedFile:
    """The SQLite file of a dump, and its change counter at the dump's start."""

    path: str
    counter: bytes

    @classmethod
    def of(cls, connection: BaseDatabaseWrapper) -> SharedFile | None:
        """Return the file of *connection* if workers may read it beside it, else ``None``.

        Call it in the read transaction: it reads (which takes the SHARED
        lock the transaction keeps) before it takes the change counter.
        """
        if connection.vendor != "sqlite":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master")
            cursor.fetchone()
            cursor.execute("PRAGMA main.journal_mode")
            journal = str(cursor.fetchone()[0]).lower()
            cursor.execute("PRAGMA main.locking_mode")
            locking = str(cursor.fetchone()[0]).lower()
            cursor.execute("PRAGMA database_list")
            path = next((row[2] for row in cursor.fetchall() if row[1] == "main"), "")
        if not path or journal not in _ROLLBACK_MODES or locking != "normal":
            return None
        try:
            return cls(path, change_counter(path))
        except OSError:
            return None


def change_counter(path: str) -> bytes:
    """Return the file change counter of the SQLite file *path* (header bytes 24-27)."""
    with Path(path).open("rb") as file:
        header = file.read(28)
    if len(header) < 28:
        msg = f"{path} has no SQLite header"
        raise OSError(msg)
    return header[24:28]


def ranges(
    connection: BaseDatabaseWrapper, info: ModelInfo, size: int
) -> list[FileRange] | None:
    """Return the rows of each data file of *info*'s table, ``None`` if not split so.

    Only a table with a primary key of one column declared ``NOT NULL`` (or
    an ``INTEGER PRIMARY KEY``) is split by key: see the module's text.
    An empty table has no range.
    """
    if len(info.pk) != 1:
        return None
    table, column, key = primary_key_sql(connection, info)
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({table})")
        declared = {row[1]: row for row in cursor.fetchall()}
    if column not in declared or not _never_null(declared[column]):
        return None
    parts = key_ranges(connection, info, size)
    if parts is None:
        return None
    # Run by the worker's own sqlite3 connection: "?" marks a parameter.
    select = sqlite_select(info, connection, where=f"{key} >= ? AND {key} < ?")
    last = sqlite_select(info, connection, where=f"{key} >= ?")
    return [
        FileRange(last, (p.first,), p.rows)
        if p.below is None
        else FileRange(select, (p.first, p.below), p.rows)
        for p in parts
    ]


def _never_null(declared: tuple[Any, ...]) -> bool:
    """Return whether the column of a ``PRAGMA table_info`` row holds no ``NULL``."""
    _cid, _name, kind, not_null, _default, pk = declared[:6]
    return bool(not_null) or (pk == 1 and str(kind).upper() == "INTEGER")


@dataclass
class FileReader:
    """A worker's read-only connection to the shared file, in one read transaction."""

    shared: SharedFile
    _db: sqlite3.Connection | None = field(default=None, repr=False)

    def batches(self, part: FileRange) -> Iterator[list[tuple[Any, ...]]]:
        """Yield the rows of *part* in batches, as the reading process would read them.

        :raises ReadMismatchError: when the file changed since the dump began,
            or *part* has another number of rows than the reading process
            counted.
        :raises sqlite3.Error: when the file cannot be read.
        """
        cursor = self._connection().execute(part.sql, part.params)
        count = 0
        while batch := cursor.fetchmany(FETCH_SIZE):
            count += len(batch)
            yield batch
        if count != part.rows:
            below = f", below {part.params[1]!r}" if len(part.params) > 1 else ""
            msg = (
                f"it read {count} rows where the reading process counted "
                f"{part.rows} (primary keys from {part.params[0]!r}{below})"
            )
            raise ReadMismatchError(msg)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            uri = f"file:{quote(self.shared.path)}?mode=ro"
            db = sqlite3.connect(uri, uri=True, isolation_level=None)
            db.execute("BEGIN")
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            counter = change_counter(self.shared.path)
            if counter != self.shared.counter:
                db.close()
                msg = (
                    f"the database {self.shared.path} changed after the dump began "
                    f"(change counter {counter.hex()}, not {self.shared.counter.hex()})"
                )
                raise ReadMismatchError(msg)
            self._db = db
        return self._db
