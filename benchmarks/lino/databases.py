"""The databases of the Lino check: the Noi demo, grown to a size, and blank copies."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from benchmarks.lino.noisite import PLAIN, NoiSite

__all__ = ["GROWN_TABLES", "blank_copy", "build_demo", "count_rows", "grow"]

#: The tables that :func:`grow` copies rows of, and their share of the new rows
#: (the mentions of the copied comments make up the remaining 3%). None has a
#: unique constraint but its key, and a copy keeps every foreign key of its
#: original, so every copy is valid.
GROWN_TABLES = {
    "working_session": 0.70,
    "comments_comment": 0.07,
    "notify_message": 0.10,
    "storage_deliveryitem": 0.10,
}


def build_demo(site: NoiSite, target: Path) -> Path:
    """Build the Noi demo database with ``prep`` (about 1 min) unless *target* exists.

    :raises benchmarks.lino.noisite.StepError: when ``prep`` fails.
    """
    # prep also writes the demo's upload files into the site's media directory,
    # without which Lino's restore refuses the uploads: reuse both or neither.
    built = site.directory / "demo-built-by-prep"
    if target.exists() and built.exists():
        print(f"Reusing the demo database {target}")
        return target
    print("Building the Noi demo database (manage.py prep, about 1 min)")
    site.database.unlink(missing_ok=True)
    site.must(PLAIN, "prep", "--noinput", log="prep")
    site.save(target)
    built.touch()
    return target


def grow(source: Path, target: Path, rows: int) -> int:
    """Copy *source* to *target* grown to about *rows* rows; return its row count.

    The rows of :data:`GROWN_TABLES` are copied with new ids above the
    highest one, in SQL inside the copy.
    """
    shutil.copyfile(source, target)
    conn = sqlite3.connect(target)
    try:
        missing = rows - sum(count_rows(conn).values())
        for table, share in GROWN_TABLES.items():
            copies, top = _copy_rows(conn, table, round(share * missing))
            if table == "comments_comment":
                _copy_mentions(conn, copies, top)
        conn.commit()
        return sum(count_rows(conn).values())
    finally:
        conn.close()


def _copy_rows(conn: sqlite3.Connection, table: str, wanted: int) -> tuple[int, int]:
    """Add about *wanted* rows to *table*: whole copies of its rows, new ids.

    Return the number of copies and the highest id before: copy *k* of row
    *id* has id ``id + k * top``.
    """
    have, top = conn.execute(f'SELECT count(*), max(id) FROM "{table}"').fetchone()
    copies = round(wanted / have) if have else 0
    if copies < 1:
        return 0, top or 0
    columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
    others = ", ".join(f'"{column}"' for column in columns if column != "id")
    conn.execute(
        f"WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?) "
        f'INSERT INTO "{table}" (id, {others}) '
        f'SELECT id + k * ?, {others} FROM "{table}", n ORDER BY k, id',
        (copies, top),
    )
    return copies, top


def _copy_mentions(conn: sqlite3.Connection, copies: int, top: int) -> None:
    """Give each copy of a comment the mentions (``memo_mention``) of its original.

    Lino computes them when a comment is saved, so a comment without them
    would get new ones from Lino's restore and differ from the original.
    """
    if copies < 1:
        return
    mentions = conn.execute("SELECT max(id) FROM memo_mention").fetchone()[0] or 0
    conn.execute(
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?) "
        "INSERT INTO memo_mention (id, owner_type_id, owner_id, target_type_id, target_id) "
        "SELECT m.id + k * ?, m.owner_type_id, m.owner_id + k * ?, m.target_type_id, "
        "m.target_id FROM memo_mention m, n WHERE m.owner_type_id = (SELECT id FROM "
        "django_content_type WHERE app_label = 'comments' AND model = 'comment') "
        "ORDER BY k, m.id",
        (copies, mentions, top),
    )


def count_rows(conn: sqlite3.Connection) -> dict[str, int]:
    """Return the rows of every table of *conn* but SQLite's own."""
    query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    names = [name for (name,) in conn.execute(query) if not name.startswith("sqlite_")]
    return {
        name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        for name in names
    }


def blank_copy(database: Path, target: Path) -> Path:
    """Copy *database* to *target* and delete the rows of every table; return it.

    ``django_migrations`` keeps its rows: the schema is that of a migrated
    site, as after ``migrate``, with no row in it.
    """
    shutil.copyfile(database, target)
    conn = sqlite3.connect(target)
    try:
        for name in count_rows(conn):
            if name != "django_migrations":
                conn.execute(f'DELETE FROM "{name}"')
        conn.commit()
    finally:
        conn.close()
    return target
