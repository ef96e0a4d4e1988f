"""Check ``importlinodump`` on a real Lino site: every table, against the original.

Usage (with any Python 3.11; the site's commands run with ``--python``)::

    python benchmarks/lino/importcheck.py PROJECT [--lino-dump DIR]
        [--original DB] [--python /opt/linovenv/bin/python]
        [--settings settings3] [--lino-settings settings]

PROJECT is a Lino project directory whose database is the SQLite file
``PROJECT/default.db``; ``--settings`` has lino_migrate enabled (our
``run``), ``--lino-settings`` is the plain Lino site (Lino's ``run``).
``--lino-dump`` (default ``PROJECT/linodump``) is a dump that Lino's
``dump2py`` made of ``--original`` (default ``PROJECT/demo.db.orig``).

Steps: ``importlinodump`` writes our dump of the Lino dump; it is restored
with our ``run`` into an empty database with the original's schema; the Lino
dump is restored with Lino's own ``restore.py`` too. Every table of the
original is then compared with both, rows read raw with :mod:`sqlite3` as
tuples (a multiset), content type ids mapped to ``app_label.model`` (they
differ from database to database). A table that Lino's own restore gets
wrong is reported but not counted: the Lino dump does not hold it right.
The exit status is 1 when a table that Lino restores right differs after
ours. ``PROJECT/default.db`` is put back as it was at the end.

:func:`check` does the same from Python and returns the exit status.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTENT_TYPES = "django_content_type"

Rows = Counter[tuple[object, ...]]


@dataclass
class TableResult:
    """One table of the original compared with a restored database."""

    table: str
    rows: int
    lost: int
    extra: int

    @property
    def equal(self) -> bool:
        """Return whether the restored table holds exactly the original rows."""
        return self.lost == 0 and self.extra == 0

    def text(self) -> str:
        """Return ``equal`` or what differs."""
        if self.equal:
            return "equal"
        return f"differs: {self.lost} rows lost, {self.extra} rows not in the original"


def _tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        names = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [name for (name,) in names]


def _content_type_columns(connection: sqlite3.Connection, table: str) -> set[str]:
    keys = connection.execute(f'PRAGMA foreign_key_list("{table}")').fetchall()
    return {key[3] for key in keys if key[2] == CONTENT_TYPES}


def read_table(db: Path, table: str, columns: Sequence[str]) -> Rows | None:
    """Return the rows of *table* in *db*, content types by natural key.

    ``None`` when the table or one of *columns* is missing. The rows of the
    content type table itself are compared without their ids.
    """
    with sqlite3.connect(db) as connection:
        present = {
            row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')
        }
        if not present or not set(columns) <= present:
            return None
        types = {
            pk: f"{app}.{model}"
            for pk, app, model in connection.execute(
                f"SELECT id, app_label, model FROM {CONTENT_TYPES}"
            )
        }
        mapped = _content_type_columns(connection, table)
        selected = ", ".join(f'"{c}"' for c in columns)
        rows: Rows = Counter()
        for raw in connection.execute(f'SELECT {selected} FROM "{table}"'):
            row = tuple(
                types.get(v, v) if c in mapped else v
                for c, v in zip(columns, raw, strict=True)
            )
            if table == CONTENT_TYPES:
                row = row[1:]
            rows[row] += 1
    return rows


def compare(original: Path, restored: Path) -> list[TableResult]:
    """Return every table of *original* compared with the same table of *restored*."""
    results = []
    for table in _tables(original):
        with sqlite3.connect(original) as connection:
            cursor = connection.execute(f'SELECT * FROM "{table}" LIMIT 0')
            columns = [d[0] for d in cursor.description]
        before = read_table(original, table, columns) or Counter()
        after = read_table(restored, table, columns)
        if after is None:
            count = sum(before.values())
            results.append(TableResult(table, count, count, 0))
            continue
        lost = sum((before - after).values())
        extra = sum((after - before).values())
        results.append(TableResult(table, sum(before.values()), lost, extra))
    return results


def empty_copy(original: Path, target: Path) -> None:
    """Write *target*, an empty database with the schema of *original*."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(original) as source:
        ddl = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table' DESC, name"
            )
        ]
    with sqlite3.connect(target) as connection:
        for sql in ddl:
            connection.execute(sql)


@dataclass
class Site:
    """How to run ``manage.py`` in the project."""

    project: Path
    python: str
    settings: str
    lino_settings: str

    def manage(self, settings: str, *args: str) -> None:
        """Run ``manage.py ARGS`` with *settings*; raise on failure, with its output."""
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings)
        if settings == self.settings:
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(ROOT), env.get("PYTHONPATH")) if p
            )
        done = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=self.project, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            msg = f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
            raise RuntimeError(msg)

    def restore_into(
        self, fresh: Path, settings: str, script: Path, keep: Path
    ) -> None:
        """Restore *script* into a copy of *fresh* as the site's database; keep it."""
        database = self.project / "default.db"
        shutil.copyfile(fresh, database)
        self.manage(settings, "run", str(script), "--noinput")
        shutil.copyfile(database, keep)


@contextmanager
def volume_links_aside(project: Path) -> Iterator[None]:
    """Remove the symbolic links of ``media/volumes`` for the block; put them back.

    Lino's restore makes one per upload volume (``Volume.full_clean()``) and
    fails on one that exists but points nowhere; the project keeps its own.
    """
    volumes = project / "media" / "volumes"
    links = [p for p in volumes.iterdir() if p.is_symlink()] if volumes.is_dir() else []
    kept = {link: os.readlink(link) for link in links}
    for link in links:
        link.unlink()
    try:
        yield
    finally:
        for link, target in kept.items():
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)


def report(ours: list[TableResult], lino: list[TableResult]) -> tuple[str, int]:
    """Return the per-table report and the number of tables we get wrong."""
    lines, failures = [], 0
    lino_by_table = {r.table: r for r in lino}
    for result in ours:
        theirs = lino_by_table[result.table]
        if result.equal:
            verdict = "ok"
        elif theirs.equal:
            verdict, failures = "FAIL", failures + 1
        else:
            verdict = "not counted: Lino's own restore differs too"
        lines.append(
            f"{result.table:<40} {result.rows:>6} rows  importlinodump: "
            f"{result.text():<48} Lino: {theirs.text():<48} {verdict}"
        )
    lines.append(
        f"{len(ours)} tables, {sum(r.equal for r in ours)} equal after importlinodump, "
        f"{sum(r.equal for r in lino)} after Lino's restore; {failures} failing."
    )
    return "\n".join(lines), failures


def check(site: Site, lino_dump: Path, original: Path) -> int:
    """Run the whole check; print the report; return the exit status."""
    database = site.project / "default.db"
    saved = database.with_name("default.db.importcheck-saved")
    shutil.copyfile(database, saved)
    try:
        with tempfile.TemporaryDirectory(dir=site.project) as scratch:
            work = Path(scratch)
            fresh, out = work / "fresh.db", work / "out"
            empty_copy(original, fresh)
            site.manage(
                site.settings, "importlinodump", str(lino_dump), str(out), "--noinput"
            )
            site.restore_into(
                fresh, site.settings, out / "restore.py", work / "ours.db"
            )
            with volume_links_aside(site.project):
                site.restore_into(
                    fresh,
                    site.lino_settings,
                    lino_dump / "restore.py",
                    work / "lino.db",
                )
            ours = compare(original, work / "ours.db")
            lino = compare(original, work / "lino.db")
    finally:
        shutil.copyfile(saved, database)
        saved.unlink()
    text, failures = report(ours, lino)
    print(text)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run :func:`check`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--lino-dump", type=Path)
    parser.add_argument("--original", type=Path)
    parser.add_argument("--python", default="/opt/linovenv/bin/python")
    parser.add_argument("--settings", default="settings3")
    parser.add_argument("--lino-settings", default="settings")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    site = Site(project, args.python, args.settings, args.lino_settings)
    lino_dump = (args.lino_dump or project / "linodump").resolve()
    original = (args.original or project / "demo.db.orig").resolve()
    try:
        return check(site, lino_dump, original)
    except (RuntimeError, OSError, sqlite3.Error) as e:
        print(f"importcheck: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
