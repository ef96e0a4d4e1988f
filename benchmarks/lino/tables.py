"""Read two SQLite databases of a site raw and compare them table by table.

The values are compared as SQLite holds them (``sqlite3`` without Django, so
no field decodes or rounds them), with one exception: content types. A
restore may give a content type another id, which is right as long as every
column that refers to it follows, so every column that has a foreign key to
``django_content_type`` (Lino's generic foreign keys ``owner_type_id``,
``target_type_id``, ... included: Noi declares them all as foreign keys) and
the id of ``django_content_type`` itself are compared by natural key,
``app_label.model``.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CONTENT_TYPES", "IGNORED_TABLES", "TableDiff", "compare_databases"]

#: The table of Django's (and Lino's) content types.
CONTENT_TYPES = "django_content_type"
#: Tables that hold no data of the site, and why they are not compared.
IGNORED_TABLES = {
    "sqlite_sequence": "SQLite's counters of AUTOINCREMENT keys",
    "django_migrations": "migrate's bookkeeping, which Lino's initdb rewrites",
}

Key = tuple[object, ...]
Row = tuple[object, ...]


@dataclass(frozen=True)
class RawTable:
    """The rows of one table, keyed by primary key, content types mapped."""

    columns: tuple[str, ...]
    rows: dict[Key, Row]


@dataclass
class TableDiff:
    """How one table of a restored database differs from the original.

    :param rows: the rows of the original.
    :param lost: rows of the original whose key is missing.
    :param extra: rows whose key the original does not have.
    :param changed: rows with the key of a row of the original and other values.
    :param columns: per column, the changed rows that differ in it.
    :param examples: per column, one (original, restored) pair of values.
    """

    table: str
    rows: int = 0
    lost: int = 0
    extra: int = 0
    changed: int = 0
    columns: Counter[str] = field(default_factory=Counter)
    examples: dict[str, tuple[object, object]] = field(default_factory=dict)
    note: str = ""

    @property
    def equal(self) -> bool:
        """Return whether the table is exactly as in the original."""
        return not (self.lost or self.extra or self.changed or self.note)


def compare_databases(original: Path, restored: Path) -> list[TableDiff]:
    """Return the comparison of every table of two SQLite files, sorted by name.

    Every table of either file is compared except :data:`IGNORED_TABLES`.
    """
    before, after = read_database(original), read_database(restored)
    return [
        _compare_table(name, before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
    ]


def read_database(path: Path) -> dict[str, RawTable]:
    """Return every table of the SQLite file *path* but the ignored ones."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = _content_type_names(conn)
        return {name: _read_table(conn, name, names) for name in _table_names(conn)}
    finally:
        conn.close()


def _table_names(conn: sqlite3.Connection) -> Iterator[str]:
    query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    for (name,) in conn.execute(query):
        if name not in IGNORED_TABLES and not name.startswith("sqlite_"):
            yield name


def _content_type_names(conn: sqlite3.Connection) -> dict[object, str]:
    """Return ``{id: "app_label.model"}`` of the content types, if any."""
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
    if conn.execute(query, (CONTENT_TYPES,)).fetchone() is None:
        return {}
    rows = conn.execute(f'SELECT id, app_label, model FROM "{CONTENT_TYPES}"')
    return {pk: f"{app}.{model}" for pk, app, model in rows}


def _read_table(
    conn: sqlite3.Connection, name: str, content_types: dict[object, str]
) -> RawTable:
    """Return the rows of table *name* keyed by primary key (all columns if none)."""
    info = list(conn.execute(f'PRAGMA table_info("{name}")'))
    columns = tuple(row[1] for row in info)
    pk = [i for _, i in sorted((row[5], i) for i, row in enumerate(info) if row[5])]
    mapped = {row[3] for row in conn.execute(f'PRAGMA foreign_key_list("{name}")')
              if row[2] == CONTENT_TYPES}  # fmt: skip
    if name == CONTENT_TYPES:
        mapped.add("id")
    where = [i for i, column in enumerate(columns) if column in mapped]
    names = ", ".join(f'"{column}"' for column in columns)
    rows: dict[Key, Row] = {}
    for raw in conn.execute(f'SELECT {names} FROM "{name}"'):
        row = list(raw)
        for i in where:
            row[i] = content_types.get(row[i], row[i])
        key = tuple(row[i] for i in pk) if pk else tuple(row)
        rows[key] = tuple(row)
    return RawTable(columns, rows)


def _compare_table(
    name: str, before: RawTable | None, after: RawTable | None
) -> TableDiff:
    """Return how *after* differs from *before*, the same table of two files."""
    if before is None or after is None:
        where = "original" if before is None else "restored database"
        rows = len(after.rows if after else before.rows if before else {})
        return TableDiff(name, rows=rows, note=f"missing in the {where}")
    diff = TableDiff(name, rows=len(before.rows))
    if before.columns != after.columns:
        diff.note = f"columns differ: {before.columns} != {after.columns}"
        return diff
    diff.lost = len(before.rows.keys() - after.rows.keys())
    diff.extra = len(after.rows.keys() - before.rows.keys())
    for key, row in before.rows.items():
        other = after.rows.get(key)
        if other is None or _same(row, other):
            continue
        diff.changed += 1
        for column, a, b in zip(before.columns, row, other, strict=True):
            if not _same((a,), (b,)):
                diff.columns[column] += 1
                diff.examples.setdefault(column, (a, b))
    return diff


def _same(row: Row, other: Row) -> bool:
    """Return whether two rows hold equal values of the same types (1 is not 1.0)."""
    return row == other and all(
        type(a) is type(b) for a, b in zip(row, other, strict=True)
    )
