"""Capture the terminal output that the docs show, from a throwaway demo shop (#14).

Run from anywhere with the Python that has the project installed::

    .venv/bin/python docs/capture.py [--out docs/captured]

The demo shop of ``demo/`` is built in a temporary directory as
``demo/run.py`` builds it: a database at release 1 gets demo data and is
dumped, a database at release 3 gets the dump through the migrators. Every
report is the output of a real ``demo/manage.py`` process (standard output,
then standard error), saved as ``.txt`` after the command line that made it,
or as ``.json`` for ``--format json``. The progress bars are drawn by rich
itself, in a process of their own that runs the dump or the restore on a
recording console: one frame, taken midway, is saved as ``.svg``. So is the
plan of ``dumpplan`` as a terminal shows it, its tables drawn by rich.

The output is normalised, so that running this again changes no file unless
the output really changed: the temporary directory becomes ``/backups`` (the
dumps) and ``/srv/shop`` (the databases); the dumps are dated two fixed
nights (``SOURCE_DATE_EPOCH``); the clock of the bars counts rows instead of
seconds (:data:`RATE` rows a second), which fixes their times and rates;
trailing spaces are dropped. A file is written only when its content
differs. Django's version is shown as it is.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from lino_migrate.reports.progress import Progress

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "captured"
#: The releases of the demo shop before and after the upgrade (see demo/run.py).
OLD, NEW = "1", "3"
#: The orders of the demo data (demo/run.py's default): 4,245 rows in all.
ORDERS = 1000
#: The creation times of the two dumps (``SOURCE_DATE_EPOCH``): two nights.
NIGHTS = tuple(
    int(datetime.datetime(2026, 11, day, 2, tzinfo=datetime.UTC).timestamp())
    for day in (25, 26)
)
#: Rows per second of the bars' clock, which counts rows instead of seconds.
RATE = 200
#: The width of the terminal of the bars, in characters.
WIDTH = 100
#: The width of the terminal of the tables, in characters.
TABLE_WIDTH = 140
#: Per bar: the model at whose start the frame is taken. The bar is redrawn
#: then, before any more rows are counted (later in the model, the frame
#: would be that of rich's last refresh, whenever that was).
BARS = {"dump2py": "shop.order", "restore": "shop.orderline"}


class CaptureError(Exception):
    """A command did not end as the capture expects; the message says how."""


@dataclass
class Shop:
    """The demo shop in the temporary directory *work*, and what was captured."""

    work: Path
    #: The normalised captures, by file name.
    captured: dict[str, str] = field(default_factory=dict)

    def db(self, name: str) -> Path:
        """Return the SQLite file of the database *name*."""
        return self.work / "site" / f"{name}.sqlite3"

    def dump(self, name: str) -> Path:
        """Return the directory of the dump *name*."""
        return self.work / "backups" / name

    def env(self, db: Path, release: str, night: int) -> dict[str, str]:
        """Return the environment of a process of the shop at *release* on *db*.

        A dump written there is dated *night* (seconds since 1970).
        """
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="demo.settings")
        # SQLite files, whatever the caller's environment says (as demo/run.py).
        env.pop("DEMO_DB_ENGINE", None)
        env.update(DEMO_DB=str(db), DEMO_SHOP_RELEASE=release, PYTHONPATH=str(REPO))
        env.update(PYTHONIOENCODING="utf-8", SOURCE_DATE_EPOCH=str(night))
        return env

    def manage(
        self, db: Path, release: str, *args: str, status: int = 0, night: int = 0
    ) -> subprocess.CompletedProcess[str]:
        """Run ``demo/manage.py ARGS``; return the result.

        :param night: the index in :data:`NIGHTS` of the date of a dump written.
        :raises CaptureError: when its exit status is not *status*.
        """
        command = [REPO / "demo" / "manage.py", *args]
        return self.run(db, release, command, status, NIGHTS[night])

    def run(
        self, db: Path, release: str, command: list[Any], status: int, night: int
    ) -> subprocess.CompletedProcess[str]:
        """Run the Python script *command* in the shop; see :meth:`manage`."""
        done = subprocess.run(
            [sys.executable, *map(str, command)], cwd=self.work,
            env=self.env(db, release, night), capture_output=True, encoding="utf-8",
            stdin=subprocess.DEVNULL, check=False, timeout=300,
        )  # fmt: skip
        if done.returncode != status:
            msg = (
                f"`{shlex.join(map(str, command))}` exited with status "
                f"{done.returncode}, not {status}:\n{done.stdout}{done.stderr}"
            )
            raise CaptureError(msg)
        return done

    def capture(
        self, name: str, db: Path, release: str, *args: str, status: int = 0
    ) -> None:
        """Run ``manage.py ARGS`` and keep what it printed as the capture *name*.

        A ``.json`` capture is the standard output; any other is a transcript:
        the command line, the standard output, then the standard error.
        """
        done = self.manage(db, release, *args, status=status)
        if name.endswith(".json"):
            text = done.stdout
        else:
            text = f"$ {self.command(*args)}\n{done.stdout}{done.stderr}"
        self.captured[name] = self.normalise(text)

    def command(self, *args: str) -> str:
        """Return ``python manage.py ARGS`` as the docs show it."""
        return self.normalise(shlex.join(["python", "manage.py", *args])).rstrip()

    def normalise(self, text: str) -> str:
        """Return *text* with fixed paths, no trailing spaces and one line end."""
        for real in {self.work, self.work.resolve()}:
            text = text.replace(str(real / "backups"), "/backups")
            text = text.replace(str(real / "site"), "/srv/shop")
        lines = [line.rstrip() for line in text.strip("\n").splitlines()]
        return "\n".join(lines) + "\n"


def _build(shop: Shop) -> tuple[Path, Path, Path]:
    """Make the release-1 database with data, dump it, migrate release 3.

    Return the release-1 database, its dump and the release-3 database.
    """
    old, new, dump = shop.db("release1"), shop.db("db"), shop.dump("2026-11-25")
    old.parent.mkdir(parents=True)
    shop.manage(old, OLD, "migrate", "--noinput", "-v", "0")
    shop.manage(old, OLD, "generate_demo_data", "--rows", str(ORDERS))
    shop.capture("dump2py.txt", old, OLD, "dump2py", str(dump), "--noinput")
    shop.manage(new, NEW, "migrate", "--noinput", "-v", "0")
    return old, dump, new


def _upgrade(shop: Shop, dump: Path, new: Path) -> None:
    """Capture the plan of the upgrade, the restore and the check after it.

    The JSON report is that of a restore into a copy of *new*: a second
    restore into *new* would give the contacts it creates other ids.
    """
    script, json = str(dump / "restore.py"), ("--format", "json")
    shop.capture("dumpplan.txt", new, NEW, "dumpplan", str(dump))
    shop.capture("dumpplan.json", new, NEW, "dumpplan", str(dump), *json)
    staging = shop.db("staging")
    shutil.copyfile(new, staging)
    shop.capture("restore.txt", new, NEW, "run", script, "--noinput")
    shop.capture("restore.json", staging, NEW, "run", script, "--noinput", *json)
    check = str(shop.dump("check"))
    shop.capture("drift-clean.txt", new, NEW, "dump2py", check, "--simulate")


def _compare(shop: Shop, dump: Path, new: Path) -> None:
    """Dump the upgraded database and capture ``dumpcompare`` of the two dumps."""
    after = shop.dump("after-upgrade")
    shop.manage(new, NEW, "dump2py", str(after), "--noinput", night=1)
    args = ("dumpcompare", str(dump), str(after), "--limit", "3")
    shop.capture("dumpcompare.txt", new, NEW, *args, status=1)
    shop.capture("dumpcompare-migrate.txt", new, NEW, *args, "--migrate", status=1)
    json = ("--format", "json")
    shop.capture("dumpcompare.json", new, NEW, *args, "--migrate", *json, status=1)


def _drift(shop: Shop, new: Path) -> None:
    """Capture the drift report of a copy of *new* changed behind Django's back."""
    drifted = shop.db("drifted")
    shutil.copyfile(new, drifted)
    with closing(sqlite3.connect(drifted)) as conn, conn:
        conn.execute("ALTER TABLE shop_product ADD COLUMN legacy_code varchar(20)")
        conn.execute("CREATE TABLE old_notes (id integer PRIMARY KEY, note text)")
    check = str(shop.dump("check"))
    args = ("dump2py", check, "--simulate")
    shop.capture("drift.txt", drifted, NEW, *args, status=1)
    shop.capture("drift.json", drifted, NEW, *args, "--format", "json", status=1)


def _mistakes(shop: Shop, dump: Path, new: Path) -> None:
    """Capture the refusals of two common mistakes."""
    shop.capture("refusal-run-dir.txt", new, NEW, "run", str(dump), status=1)
    args = ("run", str(dump / "restore.py"), "--noinput")
    empty = shop.db("empty")
    shop.capture("refusal-not-migrated.txt", empty, NEW, *args, status=1)


def _bars(shop: Shop, old: Path, dump: Path, new: Path) -> None:
    """Capture a frame of the bar of a dump and of a restore, as SVG."""
    tonight = shop.dump("2026-11-26")
    runs = {
        "dump2py": (old, OLD, tonight, ("dump2py", str(tonight))),
        "restore": (new, NEW, dump, ("run", str(dump / "restore.py"), "--noinput")),
    }
    for kind, (db, release, directory, args) in runs.items():
        command = [__file__, "--bar", kind, directory, shop.command(*args)]
        svg = shop.run(db, release, command, 0, NIGHTS[1]).stdout
        shop.captured[f"progress-{kind}.svg"] = svg.rstrip("\n") + "\n"


def _tables(shop: Shop, dump: Path, new: Path) -> None:
    """Capture the plan of the upgrade as a terminal shows it, as SVG."""
    shown = shop.normalise(str(dump)).rstrip()
    command = [__file__, "--table", dump, shown, shop.command("dumpplan", str(dump))]
    svg = shop.run(new, NEW, command, 0, NIGHTS[1]).stdout
    shop.captured["table-dumpplan.svg"] = svg.rstrip("\n") + "\n"


def collect(work: Path) -> dict[str, str]:
    """Build the demo shop in the empty directory *work*; return the captures.

    :raises CaptureError: when a command does not end as expected.
    """
    shop = Shop(work)
    old, dump, new = _build(shop)
    _upgrade(shop, dump, new)
    _compare(shop, dump, new)
    _drift(shop, new)
    _mistakes(shop, dump, new)
    _bars(shop, old, dump, new)
    _tables(shop, dump, new)
    return dict(sorted(shop.captured.items()))


def write(out: Path, captured: dict[str, str]) -> list[Path]:
    """Write the *captured* files into *out*; return those that changed."""
    out.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in captured.items():
        path = out / name
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            changed.append(path)
    return changed


def capture(out: Path) -> list[Path]:
    """Capture everything into *out* (see the module); return the files changed.

    :raises CaptureError: when a command does not end as expected.
    """
    with tempfile.TemporaryDirectory(prefix="lino-migrate-capture-") as work:
        return write(out, collect(Path(work)))


class _RowClock:
    """A clock that counts rows done instead of seconds: :data:`RATE` a second."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self) -> float:
        return self.rows / RATE


def _console(clock: Callable[[], float], width: int = WIDTH) -> Console:
    """Return a recording terminal of fixed size and colours, on *clock*."""
    from rich.console import Console

    return Console(
        file=io.StringIO(), record=True, force_terminal=True, width=width,
        height=10, color_system="truecolor", no_color=False, legacy_windows=False,
        get_time=clock,
        # Nothing from the environment (TERM=dumb, COLUMNS, NO_COLOR...).
        _environ={},
    )  # fmt: skip


def _recorded(command: str, model: str) -> tuple[Progress, list[str]]:
    """Return a progress drawn on a recording console, and the list of its frames.

    A frame (an SVG of the line ``$ command`` above the bar) is taken when
    the rows of *model* start.
    """
    from lino_migrate.reports.progress import Progress

    clock, frames = _RowClock(), list[str]()

    class Recorded(Progress):
        """A progress whose clock counts its rows, and that takes the frame."""

        def advance(self, label: str, rows: int) -> None:
            clock.rows += rows  # first: the bar reads the clock when it counts
            super().advance(label, rows)
            if label == model and not frames:
                frames.append(_frame(self, command))

    console = _console(clock)
    return Recorded(io.StringIO(), 1, terminal=True, console=console), frames


def _frame(progress: Progress, command: str) -> str:
    """Return the SVG of ``$ command`` and, below it, the bar as last drawn.

    Writing the line draws the bar again below it, as rich rendered it last:
    at the start of a model, just now. The frame is taken again if rich's
    own refresh drew the bar once more in between.
    """
    console = progress.console
    assert console is not None
    name = command.split()[2]
    for _ in range(10):
        console.export_text(clear=True)
        progress.write(f"$ {command}\n")
        if len(console.export_text(clear=False).splitlines()) == 2:
            title, key = f"manage.py {name}", f"progress-{name}"
            return console.export_svg(title=title, unique_id=key)
    msg = "the bar was redrawn while its frame was taken, 10 times"
    raise CaptureError(msg)


def _run_dump(progress: Progress, directory: Path) -> None:
    """Dump the database into *directory* with *progress*, as ``dump2py`` does."""
    from lino_migrate.dump.dumper import dump, dumped_labels

    with progress.shown(rows=None, models=len(dumped_labels([], "default"))):
        dump(directory, overwrite=True, progress=progress, advance=progress.advance)


def _run_restore(progress: Progress, directory: Path) -> None:
    """Restore the dump *directory* with *progress*, as ``run restore.py`` does."""
    from lino_migrate.restore.cli import build_parser, run_restore

    script = str(directory / "restore.py")
    options = vars(build_parser(script).parse_args(["--noinput"]))
    run_restore(script, options, None, io.StringIO().write, progress)


def record_bar(kind: str, directory: Path, command: str) -> str:
    """Run the dump or the restore *kind* on the demo shop; return a frame as SVG.

    Runs in a process of the shop (``DEMO_DB``, ``DEMO_SHOP_RELEASE``).

    :raises CaptureError: when no frame was taken.
    """
    import django

    django.setup()
    progress, frames = _recorded(command, BARS[kind])
    run = _run_dump if kind == "dump2py" else _run_restore
    run(progress, directory)
    if not frames:
        msg = f"{kind}: no frame taken; no rows of {BARS[kind]} (see BARS)"
        raise CaptureError(msg)
    return frames[0]


def record_table(directory: Path, shown: str, command: str) -> str:
    """Return the plan of restoring the dump *directory*, as SVG of a terminal.

    Runs in a process of the shop, as :func:`record_bar`; the plan is what
    ``dumpplan`` writes on a terminal, below the line ``$ command``, with
    *shown* as the dump's directory.
    """
    import django

    django.setup()
    from django.db import connections

    from lino_migrate.reports.plantext import plan_blocks, plan_report
    from lino_migrate.reports.table import ReportOutput
    from lino_migrate.restore.reader import open_dump

    report = plan_report(open_dump(directory), connection=connections["default"])
    report["dump"]["directory"] = shown
    console = _console(lambda: 0.0, TABLE_WIDTH)
    output = ReportOutput(io.StringIO(), console=console)
    output.write(f"$ {command}\n")
    output.report(plan_blocks(report))
    return console.export_svg(title="manage.py dumpplan", unique_id="table-dumpplan")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, metavar="DIR",
        help=f"Where the captures go (default {OUT.relative_to(REPO)}).",
    )  # fmt: skip
    # Internal: KIND DIR COMMAND, the process of a bar (see _bars).
    parser.add_argument("--bar", nargs=3, help=argparse.SUPPRESS)
    # Internal: DIR SHOWN COMMAND, the process of the tables (see _tables).
    parser.add_argument("--table", nargs=3, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Capture the docs' terminal output; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.bar:
            kind, directory, command = args.bar
            sys.stdout.write(record_bar(kind, Path(directory), command))
            return 0
        if args.table:
            directory, shown, command = args.table
            sys.stdout.write(record_table(Path(directory), shown, command))
            return 0
        changed = capture(args.out)
    except CaptureError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"Wrote {path}")
    print(f"{len(changed)} file(s) changed in {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
