"""Check that a change of ``Site.languages`` restores on a real Lino site (#13).

Given a Noi project whose ``default.db`` holds the demo data, at the
languages ``en de fr``: dump it with lino-migrate, then restore the dump into
a new, empty database of the same site at ``en de nl``, through the
``lino.languages`` adapter. The oracle is the two SQLite files read raw: every
table holds the same rows, except that each ``*_fr`` column of a Babel field
is gone and each ``*_nl`` column is empty.

Usage: ``python benchmarks/lino/languagescheck.py --python VENV/bin/python
--project DIR`` (exit status 0 when every table matches). Needs only the
standard library; the project's venv has Lino and lino-migrate.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

SETTINGS = """\
from lino_noi.lib.noi.settings import *


class Site(Site):
    languages = "{languages}"
    default_ui = "lino_react.react"


SITE = Site(globals())

from lino_migrate.lino import enable

enable(globals())
DATABASES["default"]["NAME"] = {database!r}
"""


def _manage(python: str, project: Path, settings: str, *args: str) -> str:
    """Run ``manage.py`` of *project* with *settings*; return its output."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    done = subprocess.run(
        [python, "manage.py", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode:
        msg = (
            f"manage.py {' '.join(args)} ({settings}) failed with status "
            f"{done.returncode}:\n{done.stdout}{done.stderr}"
        )
        raise RuntimeError(msg)
    return done.stdout


def _tables(path: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    """Return each table of the SQLite file *path*: its columns and sorted rows.

    Content types are compared by natural key, as a restore maps them: the
    ids of ``django_content_type`` are left out and every column that
    references it holds ``(app_label, model)`` instead of an id.
    """
    with sqlite3.connect(path) as db:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'django_migrations'"
            )
        ]
        keys = {
            r[0]: (r[1], r[2])
            for r in db.execute("SELECT id, app_label, model FROM django_content_type")
        }
        found = {}
        for name in names:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
            refs = {
                columns.index(r[3])
                for r in db.execute(f'PRAGMA foreign_key_list("{name}")')
                if r[2] == "django_content_type"
            }
            if name == "django_content_type":
                refs = {columns.index("id")}
            rows = [
                tuple(keys.get(v, v) if i in refs else v for i, v in enumerate(r))
                for r in db.execute(f'SELECT * FROM "{name}"')
            ]
            found[name] = (columns, sorted(rows, key=repr))
        return found


def _expected(
    columns: list[str], rows: list[tuple[object, ...]], babel: set[str]
) -> tuple[list[str], list[tuple[object, ...]]]:
    """Return *rows* as the ``nl`` site should hold them: ``*_fr`` out, ``*_nl`` empty."""
    kept = [i for i, c in enumerate(columns) if c not in {f"{b}_fr" for b in babel}]
    new = [c for c in columns if c in {f"{b}_fr" for b in babel}]
    names = [columns[i] for i in kept] + [c[:-3] + "_nl" for c in new]
    values = [tuple(r[i] for i in kept) + ("",) * len(new) for r in rows]
    return names, values


def compare(before: Path, after: Path) -> list[str]:
    """Return a line per table of *before* that *after* does not hold as expected."""
    old, new = _tables(before), _tables(after)
    problems = []
    for table, (columns, rows) in sorted(old.items()):
        babel = {c[:-3] for c in columns if c.endswith("_fr")}
        names, values = _expected(columns, rows, babel)
        if table not in new:
            problems.append(f"{table}: missing after the restore")
            continue
        got_columns, got_rows = new[table]
        order = [got_columns.index(n) for n in names if n in got_columns]
        if sorted(got_columns) != sorted(names):
            problems.append(f"{table}: columns {got_columns}, expected {names}")
            continue
        got = sorted((tuple(r[i] for i in order) for r in got_rows), key=repr)
        expected = sorted(values, key=repr)
        if got != expected:
            wrong = len(set(got) ^ set(expected))
            problems.append(f"{table}: {wrong} rows differ from the expected")
    return problems


def check(python: str, project: Path) -> int:
    """Dump at ``en de fr``, restore at ``en de nl``; print problems, return 0 or 1."""
    try:
        return _check(python, project)
    except RuntimeError as e:
        print(f"FAILED: {e}")
        return 1


def _check(python: str, project: Path) -> int:
    """Run the check; raise RuntimeError when a command fails."""
    for languages, suffix in (("en de fr", "fr"), ("en de nl", "nl")):
        database = str(project / ("default.db" if suffix == "fr" else "nl.db"))
        text = SETTINGS.format(languages=languages, database=database)
        (project / f"settings_lang_{suffix}.py").write_text(text)
    (project / "nl.db").unlink(missing_ok=True)
    dump = project / "dump_fr"
    _manage(python, project, "settings_lang_fr", "dump2py", "-o", str(dump))
    _manage(python, project, "settings_lang_nl", "migrate", "--run-syncdb", "-v", "0")
    plan = _manage(python, project, "settings_lang_nl", "dumpplan", str(dump))
    if not re.search(r"adapter lino\.languages \(adapt_languages\)", plan):
        print(plan)
        print("FAILED: dumpplan does not show the adapter lino.languages.")
        return 1
    restore = [str(dump / "restore.py"), "--noinput", "-v", "0"]
    _manage(python, project, "settings_lang_nl", "run", *restore)
    problems = compare(project / "default.db", project / "nl.db")
    for line in problems:
        print(f"  {line}")
    print(
        "Site.languages en de fr -> en de nl: "
        + ("FAILED" if problems else "every table as expected")
    )
    return 1 if problems else 0


def main() -> None:
    """Parse the command line and run the check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="The venv's python.")
    parser.add_argument("--project", required=True, type=Path, help="The Noi project.")
    args = parser.parse_args()
    sys.exit(check(args.python, args.project.resolve()))


if __name__ == "__main__":
    main()
