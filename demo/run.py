"""Show lino-migrate's main job: dump a shop's database and restore it elsewhere.

Run from anywhere with the Python that has the project installed::

    .venv/bin/python demo/run.py [--rows N] [--keep]

Every step is a real ``demo/manage.py`` subprocess, run from the repository
root on SQLite files in ``demo-out/``. At the end the source and the target
databases are compared table by table; the exit status is 1 if they differ or
a step fails.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = Path("demo-out")
SOURCE_DB = OUT / "source.sqlite3"
TARGET_DB = OUT / "target.sqlite3"
DUMP = OUT / "dump"
# lino_migrate itself is imported from the repository root by demo/manage.py.
REQUIRED = ("django", "packaging", "libcst")


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


def manage(db: Path, *args: str) -> str:
    """Run ``demo/manage.py ARGS`` on the database file *db*; return its output."""
    command = [sys.executable, "demo/manage.py", *args]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="demo.settings")
    env.update(DEMO_DB=str(db), DEMO_SHOP_RELEASE="1", PYTHONIOENCODING="utf-8")
    shown = shlex.join([_display(sys.executable), *command[1:]])
    print(f"$ DEMO_DB={db} {shown}")
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, encoding="utf-8",
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        msg = f"`{shown}` exited with status {done.returncode}:\n{_indent(output)}"
        raise DemoError(msg)
    if output:
        print(_indent(output), end="")
    print(f"    ({time.perf_counter() - started:.1f} s)")
    return done.stdout


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


def table_stats(db: Path) -> tuple[dict[str, TableStats], Decimal]:
    """Return the stats of every shop table of *db* and the total of all lines."""
    with closing(sqlite3.connect(REPO / db)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name LIKE 'shop\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        stats = {}
        for table in tables:
            digest, rows = hashlib.sha256(), 0
            # The table names come from sqlite_master, not from input.
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY id'):
                digest.update(repr(row).encode())
                rows += 1
            stats[table] = TableStats(rows, digest.hexdigest())
        lines = conn.execute("SELECT qty, unit_price FROM shop_orderline")
        total = sum((qty * Decimal(str(price)) for qty, price in lines), Decimal(0))
    return stats, total.quantize(Decimal("0.01"))


def compare() -> str:
    """Compare the shop tables of source and target; return the OK message.

    :raises DemoError: when a table, a row count, a row or the total differs.
    """
    source, source_total = table_stats(SOURCE_DB)
    target, target_total = table_stats(TARGET_DB)
    print(f"    {'':<22} {'source':>13} {'target':>13}")
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
        msg = "source and target differ: " + ("; ".join(problems) or "no shop tables")
        raise DemoError(msg)
    rows = sum(s.rows for s in source.values())
    return (
        f"OK: the {len(source)} shop tables have the same {rows} rows in source "
        f"and target (same content, checked row by row); the order lines total "
        f"{source_total} in both."
    )


def demo(rows: int) -> None:
    """Run the steps of the demo.

    :raises DemoError: when a step fails or the databases differ.
    """
    step(1, "Create the source database: release 1 of the shop, empty.")
    manage(SOURCE_DB, "migrate", "--noinput", "-v", "0")
    step(2, "Fill it with deterministic demo data.")
    manage(SOURCE_DB, "generate_demo_data", "--rows", str(rows))
    step(3, "Dump it: a directory of plain Python files.")
    manage(SOURCE_DB, "dump2py", str(DUMP), "--noinput")
    show_dump(DUMP)
    step(4, "Create the target database: a fresh, empty site.")
    manage(TARGET_DB, "migrate", "--noinput", "-v", "0")
    step(5, "Restore the dump into it (one transaction; report per model).")
    manage(TARGET_DB, "run", str(DUMP / "restore.py"), "--noinput")
    step(6, "Compare source and target.")
    print(compare())


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
        print(f"\nKept {out}/ (source.sqlite3, target.sqlite3, dump/).")
    else:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
