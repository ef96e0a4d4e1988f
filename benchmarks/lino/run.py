"""Check and measure lino-migrate on a real Lino site, the Lino Noi demo (#13).

Run from anywhere with any Python 3.11 (the standard library is enough)::

    python3 benchmarks/lino/run.py --check             # what CI runs
    python3 benchmarks/lino/run.py --size 200k --keep  # the benchmark, up to ~1 h

It makes (or reuses, ``--venv``) a virtualenv with Lino Noi from PyPI and
lino-migrate from this checkout, writes a Noi site into a work directory and
builds its demo database (``manage.py prep``), then, with lino-migrate
enabled by ``lino_migrate.lino.enable()``:

* our ``dump2py A``, restore of A into a blank copy of the schema, every
  table compared raw with the original, ``dump2py B`` and ``diff -r A B``;
* Lino's double-dump test, ``manage.py ddt --noinput``;
* a cron line written for Lino's ``dump2py`` (``-o -m 1000 -t``, ``-b --quick``);
* the example migrators of ``noi_migrators.py`` on a Noi dump;
* a change of ``Site.languages`` (``en de fr`` -> ``en de nl``) restored
  through the ``lino.languages`` adapter (``languagescheck.py``);
* ``importlinodump`` on a dump of Lino's (``importcheck.py``);

and, with the plain settings, Lino's own ``dump2py`` and restore, measured
and compared like ours. A failed check of lino-migrate makes the exit status
1; what Lino's own tools lose is reported, never a failure.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The repository root: ``benchmarks.lino`` and the report renderer import from it.
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.lino import checks, example  # noqa: E402
from benchmarks.lino.databases import build_demo, grow  # noqa: E402
from benchmarks.lino.install import SetupError, default_venv, ensure_venv  # noqa: E402
from benchmarks.lino.noisite import PLAIN, WITH_MIGRATE, NoiSite, StepError  # noqa: E402
from benchmarks.lino.report import format_checks, format_differences, format_tools  # noqa: E402

#: Rows of the database of each ``--size`` (None: the demo as ``prep`` makes it).
SIZES = {"demo": None, "200k": 200_000}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    add = parser.add_argument
    add("--check", action="store_true",
        help="CI mode: the demo size; exit status 1 if a check of lino-migrate "
        "fails (it does without --check too).")  # fmt: skip
    add("--size", choices=tuple(SIZES), default="demo",
        help="demo: the Noi demo, ~6,000 rows (default); 200k: grown to about "
        "200,000 rows (Lino's restore alone then takes 10 to 45 min).")  # fmt: skip
    add("--venv", type=Path, default=default_venv(), metavar="PATH",
        help="The virtualenv to make or reuse (default %(default)s).")  # fmt: skip
    add("--workdir", type=Path, metavar="DIR",
        help="Work in DIR (kept; its demo database is reused) instead of a "
        "new temporary directory.")  # fmt: skip
    add("--keep", action="store_true", help="Keep the temporary work directory.")
    add("--skip-lino", action="store_true",
        help="Do not measure Lino's own dump2py and restore.")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the checks and the measurements; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.check and args.size != "demo":
        parser.error("--check runs at the demo size only")
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = (
        args.workdir or Path(tempfile.mkdtemp(prefix="lino-migrate-noi-"))
    ).resolve()
    started, status = time.monotonic(), 2
    try:
        status = _run(args, work)
    except (SetupError, StepError) as e:
        print(f"\nERROR: {e}", file=sys.stderr)
    finally:
        if args.keep or args.workdir or status:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    verdict = {0: "passed", 1: "FAILED", 2: "could not run"}[status]
    print(f"\nLino site check {verdict} in {time.monotonic() - started:.0f} s.")
    return status


def _run(args: argparse.Namespace, work: Path) -> int:
    """Set up the site, run every check and measurement, print the report."""
    print(f"Working in {work}")
    python = ensure_venv(args.venv.expanduser().resolve(), REPO, work / "pip.log")
    site = NoiSite(python, work)
    site.write()
    print(_versions(python))
    pristine = _database(site, args.size)
    print("Our dump2py, restore into a blank copy, compare, dump2py again")
    ours, redump = checks.our_round_trip(site, pristine)
    found = [ours.table_check("every table equal after dump2py + restore"), redump]
    print("Lino's ddt, then a cron line, with lino-migrate enabled")
    found += [checks.check_ddt(site, pristine), checks.check_cron(site, pristine)]
    print("The example migrators on a Noi dump")
    found.append(example.check_example(site, pristine))
    print("Site.languages en de fr -> en de nl (benchmarks/lino/languagescheck.py)")
    found.append(check_languages(work, site, pristine))
    results = [ours]
    if not args.skip_lino:
        print("Lino's own dump2py and restore (plain settings)")
        results.insert(0, checks.lino_round_trip(site, pristine))
    found.append(check_import(work, site, pristine))
    _print_report(results, found)
    return 1 if any(check.passed is False for check in found) else 0


def _database(site: NoiSite, size: str) -> Path:
    """Return the pristine database of *size*, built or reused in the work directory."""
    demo = build_demo(site, site.work / "pristine-demo.db")
    rows = SIZES[size]
    if rows is None:
        return demo
    target = site.work / f"pristine-{size}.db"
    if not target.exists():
        print(f"Growing the demo database to about {rows:,} rows")
        grow(demo, target, rows)
    return target


def check_languages(work: Path, site: NoiSite, pristine: Path) -> checks.Check:
    """Check that a dump at ``en de fr`` restores at ``en de nl`` (languagescheck.py).

    The check runs in a project of its own, ``WORK/languages``, whose
    ``default.db`` is a copy of *pristine*.
    """
    from benchmarks.lino import languagescheck

    project = work / "languages"
    project.mkdir(exist_ok=True)
    shutil.copyfile(site.directory / "manage.py", project / "manage.py")
    shutil.copyfile(pristine, project / "default.db")
    status = languagescheck.check(str(site.python), project)
    name = "Site.languages en de fr -> en de nl, through lino.languages"
    return checks.Check(name, status == 0, "see the languages report above")


def check_import(work: Path, site: NoiSite, pristine: Path) -> checks.Check:
    """Check ``importlinodump`` on Lino's own dump of *pristine* (importcheck.py).

    Called last: Lino's dump is then in ``WORK/dumps/lino``. Skipped, with a
    note, while the installed lino_migrate has no ``importlinodump`` command,
    and with ``--skip-lino`` (no Lino dump).
    """
    name = "importlinodump of a Lino dump"
    command = "lino_migrate/management/commands/importlinodump.py"
    probe = "import lino_migrate, pathlib; print(pathlib.Path(lino_migrate.__file__).parents[1])"
    where = subprocess.run([str(site.python), "-c", probe], capture_output=True,
                           text=True, check=False).stdout.strip()  # fmt: skip
    lino_dump = work / "dumps" / "lino"
    if not (Path(where) / command).is_file():
        print(f"Note: {command} is not installed; the import check is skipped.")
        return checks.Check(name, None, "importlinodump is not installed")
    if not (lino_dump / "restore.py").is_file():
        return checks.Check(name, None, "no dump of Lino's (--skip-lino)")
    from benchmarks.lino import importcheck

    print("importlinodump of Lino's dump (benchmarks/lino/importcheck.py)")
    runner = importcheck.Site(site.directory, str(site.python), WITH_MIGRATE, PLAIN)
    try:
        status = importcheck.check(runner, lino_dump, pristine)
    except RuntimeError as e:
        return checks.Check(name, False, str(e))
    return checks.Check(name, status == 0, "see the importcheck report above")


def _versions(python: Path) -> str:
    """Return the versions of what the virtualenv runs, as one line."""
    names = ("lino", "lino-noi", "lino-xl", "Django", "lino-migrate")
    probe = ("import sqlite3, sys; from importlib.metadata import version; "
             f"print(*[n + ' ' + version(n) for n in {names!r}], "
             "'SQLite ' + sqlite3.sqlite_version, 'Python ' + sys.version.split()[0], "
             "sep=', ')")  # fmt: skip
    proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                          check=False)  # fmt: skip
    return proc.stdout.strip() or proc.stderr.strip()


def _print_report(results: list[checks.ToolResult], found: list[checks.Check]) -> None:
    """Print the side-by-side table, the differences and the checks."""
    print()
    print(format_tools(results))
    for result in results:
        print()
        print(format_differences(result))
    print("\nChecks of lino-migrate on the Noi site:")
    print(format_checks(found))


if __name__ == "__main__":
    sys.exit(main())
