"""Show lino-migrate's main job: dump a shop, restore it, upgrade it to a new release.

Run from anywhere with the Python that has the project installed::

    .venv/bin/python demo/run.py [--rows N] [--keep]

Every step is a real ``demo/manage.py`` subprocess, run from the repository
root on SQLite files in ``demo-out/``. A site at release 1 of the shop is
dumped; the dump is restored into a fresh release-1 database (a plain backup
and restore, compared table by table with the source), then into a fresh
release-3 database, where the migrators of ``demo/shop3/migrators.py`` turn
the old rows into new ones. The upgraded rows are compared with what this
script computes on its own from the source database. The exit status is 1 if
a step fails or a comparison finds a difference.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = Path("demo-out")
SOURCE_DB = OUT / "source.sqlite3"
COPY_DB = OUT / "copy.sqlite3"
TARGET_DB = OUT / "target.sqlite3"
DUMP = OUT / "dump"
OLD, NEW = "1", "3"
# lino_migrate itself is imported from the repository root by demo/manage.py.
REQUIRED = ("django", "packaging", "libcst")
CENT = Decimal("0.01")
#: The order states of release 1 and release 3, written down again here rather
#: than imported from the migrators, so that the check does not trust them.
NEW_STATUS = {"open": "pending", "paid": "settled"}
#: A row as :mod:`sqlite3` reads it.
Row = tuple[Any, ...]


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


@dataclass(frozen=True)
class TableStats:
    """What is compared between the source and the target of one table."""

    rows: int
    digest: str


def _display(path: Path | str) -> str:
    try:
        return str(Path(path).relative_to(REPO))
    except ValueError:
        return str(path)


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.rstrip().splitlines())


def _manage(db: Path, release: str, args: tuple[str, ...]) -> tuple[int, str, str]:
    """Run ``demo/manage.py ARGS``; return its status, stdout and all its output."""
    command = [sys.executable, "demo/manage.py", *args]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="demo.settings")
    # The databases are SQLite files, whatever the caller's environment says.
    env.pop("DEMO_DB_ENGINE", None)
    env.update(DEMO_DB=str(db), DEMO_SHOP_RELEASE=release, PYTHONIOENCODING="utf-8")
    shown = shlex.join([_display(sys.executable), *command[1:]])
    print(f"$ DEMO_DB={db} DEMO_SHOP_RELEASE={release} {shown}")
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, encoding="utf-8",
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    output = (done.stdout + done.stderr).strip()
    if done.returncode == 0 and output:
        print(_indent(output), end="")
    if done.returncode == 0:
        print(f"    ({time.perf_counter() - started:.1f} s)")
    return done.returncode, done.stdout, output


def manage(db: Path, release: str, *args: str) -> str:
    """Run ``demo/manage.py ARGS`` on *db* with shop *release*; return its stdout.

    :raises DemoError: when the command fails; the message holds its output.
    """
    status, stdout, output = _manage(db, release, args)
    if status != 0:
        command = shlex.join(["demo/manage.py", *args])
        msg = f"`{command}` exited with status {status}:\n{_indent(output)}"
        raise DemoError(msg)
    return stdout


def preview(db: Path, release: str, dump: Path) -> None:
    """Run ``dumpplan`` on *dump*: what would restoring it into *db* do?

    :raises DemoError: when the plan says that the restore would fail.
    """
    status, _, output = _manage(db, release, ("dumpplan", str(dump)))
    if status == 0:
        return
    # Tolerated while dumpplan is being written; to be removed once it exists.
    if "Unknown command" in output:
        print("    (no dumpplan command in this lino_migrate yet: step skipped)")
        return
    msg = (
        f"dumpplan says that the restore would fail (status {status}):\n"
        f"{_indent(output)}"
    )
    raise DemoError(msg)


def step(number: int, title: str) -> None:
    """Print the heading of a step."""
    print(f"\n== {number}. {title}")


def show_dump(directory: Path) -> None:
    """Print the files of the dump with their sizes, and the start of one."""
    files = sorted(p for p in (REPO / directory).iterdir() if p.is_file())
    for path in files:
        print(f"    {path.stat().st_size:>9,} B  {path.name}")
    total = sum(p.stat().st_size for p in files)
    print(f"    {total:>9,} B  in {len(files)} files")
    sample = REPO / directory / "shop_client.py"
    if not sample.is_file():
        return
    print(f"\n    The first lines of {_display(sample)}:")
    for line in sample.read_text(encoding="utf-8").splitlines()[:8]:
        print(f"    | {line[:100]}")


def _shop_tables(conn: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name LIKE 'shop\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]


def table_stats(db: Path) -> tuple[dict[str, TableStats], Decimal]:
    """Return the stats of every shop table of *db* and the total of all lines."""
    with closing(sqlite3.connect(REPO / db)) as conn:
        stats = {}
        for table in _shop_tables(conn):
            digest, rows = hashlib.sha256(), 0
            # The table names come from sqlite_master, not from input.
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY id'):
                digest.update(repr(row).encode())
                rows += 1
            stats[table] = TableStats(rows, digest.hexdigest())
        lines = conn.execute("SELECT qty, unit_price FROM shop_orderline")
        total = sum((qty * _money(price) for qty, price in lines), Decimal(0))
    return stats, total.quantize(CENT)


def compare(source_db: Path, target_db: Path) -> str:
    """Compare the shop tables of two databases; return the OK message.

    :raises DemoError: when a table, a row count, a row or the total differs.
    """
    source, source_total = table_stats(source_db)
    target, target_total = table_stats(target_db)
    print(f"    {'':<22} {'source':>13} {'copy':>13}")
    problems = []
    for table in sorted(source.keys() | target.keys()):
        a, b = source.get(table), target.get(table)
        verdict = "same rows" if a == b else "DIFFERENT"
        counts = f"{a.rows if a else '-':>13} {b.rows if b else '-':>13}"
        print(f"    {table:<22} {counts}  {verdict}")
        if a != b:
            problems.append(f"table {table} differs")
    verdict = "same" if source_total == target_total else "DIFFERENT"
    totals = f"{source_total:>13} {target_total:>13}"
    print(f"    {'sum(qty * unit_price)':<22} {totals}  {verdict}")
    if source_total != target_total:
        problems.append(f"order lines total {source_total} != {target_total}")
    if not source or problems:
        msg = "source and copy differ: " + ("; ".join(problems) or "no shop tables")
        raise DemoError(msg)
    rows = sum(s.rows for s in source.values())
    return (
        f"OK: the {len(source)} shop tables have the same {rows} rows in source "
        f"and copy (same content, checked row by row); the order lines total "
        f"{source_total} in both."
    )


def _money(value: Any) -> Decimal:
    """Return a decimal column's value as SQLite gives it (int, float or str)."""
    return Decimal(str(value)).quantize(CENT)


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return first, last


#: Per table of release 3: the query of its rows in the target database, and
#: the query of the source (release 1) with the function that turns a row of it
#: into the rows the target must hold. Contacts have no id in the dump (the
#: restore numbers them), so they are compared without it.
UPGRADED: dict[str, tuple[str, str, Callable[[Row], list[Row]]]]
UPGRADED = {
    "shop_customer": (
        "SELECT id, first_name, last_name, city FROM shop_customer ORDER BY id",
        "SELECT id, name, city FROM shop_client ORDER BY id",
        lambda r: [(r[0], *_split_name(r[1]), r[2])],
    ),
    "shop_contact": (
        "SELECT customer_id, kind, value FROM shop_contact ORDER BY customer_id, id",
        "SELECT id, email FROM shop_client ORDER BY id",
        lambda r: [(r[0], "email", r[1])] if r[1] else [],
    ),
    "shop_product": (
        "SELECT id, name, price FROM shop_product ORDER BY id",
        "SELECT id, name, price FROM shop_product ORDER BY id",
        lambda r: [(r[0], r[1], _money(r[2]))],
    ),
    "shop_order": (
        "SELECT id, customer_id, date, status FROM shop_order ORDER BY id",
        "SELECT id, client_id, date, status FROM shop_order ORDER BY id",
        lambda r: [(r[0], r[1], r[2], NEW_STATUS[r[3]])],
    ),
    "shop_orderline": (
        "SELECT id, order_id, product_id, qty, unit_price "
        "FROM shop_orderline ORDER BY id",
        "SELECT id, order_id, product_id, qty, unit_price "
        "FROM shop_orderline ORDER BY id",
        lambda r: [(*r[:4], _money(r[4]))],
    ),
}
#: The columns of the target rows that hold decimals, per table.
MONEY = {"shop_product": 2, "shop_orderline": 4}


#: What release 3 calls the models of release 1 it renamed, by natural key.
RENAMED = {("shop", "client"): ("shop", "customer")}
#: The models of release 3, each with a content type and four permissions
#: afterwards, as ``migrate`` would have created them.
NEW_MODELS = ("contact", "customer", "order", "orderline", "product")
ACTIONS = ("add", "change", "delete", "view")
CONTENT_TYPES = "SELECT app_label, model FROM django_content_type"
PERMISSIONS = (
    "SELECT p.codename, c.app_label, c.model FROM auth_permission p "
    "JOIN django_content_type c ON c.id = p.content_type_id"
)


def _read(conn: sqlite3.Connection, db: Path, sql: str) -> list[Row]:
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error as e:
        msg = f"cannot read {db}: {e} (in {sql})"
        raise DemoError(msg) from e


def _target_rows(rows: list[Row], table: str) -> list[Row]:
    money = MONEY.get(table)
    if money is None:
        return rows
    return [(*r[:money], _money(r[money]), *r[money + 1 :]) for r in rows]


def _natural_keys(
    src: sqlite3.Connection, source_db: Path
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Return the content types and permissions that the upgraded site must have.

    Those of the dump, following the renames (with the permissions they had),
    and those of every model of release 3.
    """
    types = {RENAMED.get(key, key) for key in _read(src, source_db, CONTENT_TYPES)}
    types |= {("shop", model) for model in NEW_MODELS}
    permissions = {
        (codename, *RENAMED.get((app, model), (app, model)))
        for codename, app, model in _read(src, source_db, PERMISSIONS)
    }
    permissions |= {(f"{a}_{m}", "shop", m) for m in NEW_MODELS for a in ACTIONS}
    return sorted(types), sorted(permissions)


def _expectations(
    source_db: Path, target_db: Path
) -> Iterator[tuple[str, list[Row], list[Row]]]:
    """Yield, per table of the target, the rows expected and the rows found."""
    with (
        closing(sqlite3.connect(REPO / source_db)) as src,
        closing(sqlite3.connect(REPO / target_db)) as dst,
    ):
        extra = sorted(set(_shop_tables(dst)) - UPGRADED.keys())
        if extra:
            msg = f"{target_db} has unexpected shop tables: {', '.join(extra)}"
            raise DemoError(msg)
        for table, (target_sql, source_sql, expect) in UPGRADED.items():
            old = _read(src, source_db, source_sql)
            wanted = [row for r in old for row in expect(r)]
            yield table, wanted, _target_rows(_read(dst, target_db, target_sql), table)
        types, permissions = _natural_keys(src, source_db)
        yield "django_content_type", types, sorted(_read(dst, target_db, CONTENT_TYPES))
        yield "auth_permission", permissions, sorted(_read(dst, target_db, PERMISSIONS))


def _first_difference(expected: list[Row], found: list[Row]) -> str | None:
    pairs = itertools.zip_longest(expected, found)
    for number, (want, got) in enumerate(pairs, start=1):
        if want != got:
            return f"row {number}: expected {want!r}, found {got!r}"
    return None


def verify_upgrade(source_db: Path, target_db: Path) -> str:
    """Compare the upgraded shop with what release 1's rows must become.

    :raises DemoError: at the first table that is missing, extra or differs.
    """
    counts = {}
    print(f"    {'':<20} {'expected':>9} {'found':>9}")
    for table, wanted, found in _expectations(source_db, target_db):
        difference = _first_difference(wanted, found)
        verdict = "DIFFERENT" if difference else "as expected"
        print(f"    {table:<20} {len(wanted):>9} {len(found):>9}  {verdict}")
        if difference:
            msg = f"{table} of {target_db} is not as expected: {difference}"
            raise DemoError(msg)
        counts[table] = len(found)
    return (
        f"OK: release 3 holds what release 1's rows must become, checked row by "
        f"row: {counts['shop_customer']} customers (names split), "
        f"{counts['shop_contact']} e-mail contacts, {counts['shop_product']} "
        f"products (legacy codes dropped), {counts['shop_order']} orders (new "
        f"states), {counts['shop_orderline']} order lines (unchanged); content "
        f"types and permissions by natural key, following the rename."
    )


def demo(rows: int) -> None:
    """Run the steps of the demo.

    :raises DemoError: when a step fails or a comparison finds a difference.
    """
    step(1, "Create the source database: release 1 of the shop, empty.")
    manage(SOURCE_DB, OLD, "migrate", "--noinput", "-v", "0")
    step(2, "Fill it with deterministic demo data.")
    manage(SOURCE_DB, OLD, "generate_demo_data", "--rows", str(rows))
    step(3, "Dump it: a directory of plain Python files.")
    manage(SOURCE_DB, OLD, "dump2py", str(DUMP), "--noinput")
    show_dump(DUMP)
    step(4, "Restore the dump into a fresh release-1 database; compare (a backup).")
    manage(COPY_DB, OLD, "migrate", "--noinput", "-v", "0")
    manage(COPY_DB, OLD, "run", str(DUMP / "restore.py"), "--noinput")
    print(compare(SOURCE_DB, COPY_DB))
    step(5, "Create the target database: release 3 of the shop, empty.")
    manage(TARGET_DB, NEW, "migrate", "--noinput", "-v", "0")
    step(6, "Preview the upgrade: which migrators run, what they change.")
    preview(TARGET_DB, NEW, DUMP)
    step(7, "Restore the release-1 dump into release 3 (migrators run on the rows).")
    manage(TARGET_DB, NEW, "run", str(DUMP / "restore.py"), "--noinput")
    step(8, "Check the upgraded rows against the source, row by row.")
    print(verify_upgrade(SOURCE_DB, TARGET_DB))


def _check_environment() -> None:
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        msg = (
            f"{sys.executable} cannot import {', '.join(missing)}. Install the "
            "project and run the demo with that Python:\n"
            "    python3 -m venv .venv && .venv/bin/pip install -e . "
            "&& .venv/bin/python demo/run.py"
        )
        raise DemoError(msg)


def _recreate(directory: Path) -> None:
    try:
        if directory.is_dir() and not directory.is_symlink():
            shutil.rmtree(directory)
        elif directory.exists() or directory.is_symlink():
            directory.unlink()
        directory.mkdir()
    except OSError as e:
        msg = f"Cannot recreate the work directory {directory}: {e}"
        raise DemoError(msg) from e


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1000, metavar="N",
        help="Number of orders (default 1000); the other tables scale with it.",
    )  # fmt: skip
    parser.add_argument(
        "--keep", action="store_true",
        help=f"Keep {OUT}/ (databases and dump) after a successful run.",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    # Line buffering keeps the narrative in order with FAILED (stderr) in CI logs.
    sys.stdout.reconfigure(  # type: ignore[union-attr]
        errors="backslashreplace", line_buffering=True
    )
    out = REPO / OUT
    try:
        _check_environment()
    except DemoError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    try:
        _recreate(out)
        print(f"Working in {out}/, running the commands from {REPO}.")
        demo(args.rows)
    except DemoError as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        if out.exists():
            print(f"{out} is kept for inspection.", file=sys.stderr)
        return 1
    if args.keep:
        names = ", ".join(p.name for p in (SOURCE_DB, COPY_DB, TARGET_DB, DUMP))
        print(f"\nKept {out}/ ({names}/).")
    else:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
