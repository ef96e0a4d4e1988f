"""The checks of lino-migrate on the Noi site, and the same dump and restore by Lino.

Each function runs its steps as ``manage.py`` processes of the site and
returns what it found; none raises for a failed check, so that one run
reports every check.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.lino.databases import blank_copy
from benchmarks.lino.noisite import PLAIN, WITH_MIGRATE, Child, NoiSite
from benchmarks.lino.tables import TableDiff, compare_databases

__all__ = ["Check", "ToolResult", "check_cron", "check_ddt", "lino_round_trip",
           "our_round_trip"]  # fmt: skip


@dataclass
class Check:
    """One check: passed (True), failed (False) or skipped (None), and why."""

    name: str
    passed: bool | None
    detail: str = ""


@dataclass
class ToolResult:
    """A dump and a restore by one tool, and the tables it got back."""

    tool: str
    dump: Child | None = None
    restore: Child | None = None
    tables: list[TableDiff] = field(default_factory=list)
    error: str = ""

    @property
    def equal(self) -> int:
        """Return the number of tables restored exactly."""
        return sum(diff.equal for diff in self.tables)

    def table_check(self, name: str) -> Check:
        """Return the check that every table came back exactly."""
        if self.error:
            return Check(name, False, self.error)
        bad = [diff.table for diff in self.tables if not diff.equal]
        detail = f"{self.equal} of {len(self.tables)} tables equal"
        return Check(
            name, not bad, detail + (f"; differ: {', '.join(bad)}" if bad else "")
        )


def our_round_trip(site: NoiSite, pristine: Path) -> tuple[ToolResult, Check]:
    """Dump *pristine* to A, restore A into a blank copy, compare, dump B, diff A B.

    Return the result (for the side-by-side table) and the redump check.
    """
    dumps = (
        _fresh(site.work / "dumps" / "ours-a"),
        _fresh(site.work / "dumps" / "ours-b"),
    )
    result = ToolResult("lino-migrate")
    site.use(pristine)
    result.dump = _step(
        site, result, "dump2py", str(dumps[0]), "--noinput", log="ours-dump"
    )
    if result.error:
        return result, Check("redump identical", False, "no dump")
    site.use(blank_copy(pristine, site.work / "blank.db"))
    result.restore = _step(site, result, "run", str(dumps[0] / "restore.py"),
                           "--noinput", log="ours-restore")  # fmt: skip
    if result.error:
        return result, Check("redump identical", False, "no restore")
    result.tables = compare_databases(pristine, site.save(site.work / "ours.db"))
    _step(site, result, "dump2py", str(dumps[1]), "--noinput", log="ours-redump")
    if result.error:
        return result, Check("redump identical", False, result.error)
    return result, _same_dumps(*dumps)


def lino_round_trip(site: NoiSite, pristine: Path) -> ToolResult:
    """Dump *pristine* with Lino's ``dump2py``, restore it with Lino's ``run``, compare.

    Lino's restore runs ``initdb`` first, so it gets a copy of *pristine*.
    """
    dump = _fresh(site.work / "dumps" / "lino")
    result = ToolResult("Lino")
    site.use(pristine)
    result.dump = _step(site, result, "dump2py", str(dump), "--noinput",
                        log="lino-dump", settings=PLAIN)  # fmt: skip
    if not result.error:
        result.restore = _step(site, result, "run", str(dump / "restore.py"),
                               "--noinput", log="lino-restore", settings=PLAIN)  # fmt: skip
    if not result.error:
        result.tables = compare_databases(pristine, site.save(site.work / "lino.db"))
    return result


def check_ddt(site: NoiSite, pristine: Path) -> Check:
    """Run Lino's double-dump test, ``manage.py ddt --noinput``, with ours enabled."""
    site.use(pristine)
    child = site.manage(WITH_MIGRATE, "ddt", "--noinput", log="ddt")
    if child.returncode:
        return Check(
            "Lino's ddt", False, f"exit status {child.returncode}:\n{child.tail()}"
        )
    return Check("Lino's ddt", True, f"passed in {child.seconds:.0f} s")


def check_cron(site: NoiSite, pristine: Path) -> Check:
    """Run a cron line written for Lino's ``dump2py`` twice; compare the database.

    The second run replaces the first dump (``-o``), as a daily cron job does.
    """
    name = "cron line for Lino's dump2py"
    target = site.work / "dumps" / "cron"
    line = (f"python manage.py dump2py -o -m 1000 -t {target} && "
            f"python manage.py run {target}/restore.py -b --quick")  # fmt: skip
    print(f"  {line}")
    site.use(pristine)
    for run in (1, 2):
        child = site.shell(line, WITH_MIGRATE, log=f"cron-{run}")
        if child.returncode:
            detail = f"run {run}: exit status {child.returncode}:\n{child.tail()}"
            return Check(name, False, f"`{line}`\n{detail}")
    diffs = compare_databases(pristine, site.database)
    bad = [diff.table for diff in diffs if not diff.equal]
    if bad:
        return Check(
            name, False, f"tables differ after the cron line: {', '.join(bad)}"
        )
    return Check(name, True, f"ran twice, {len(diffs)} tables equal")


def _step(
    site: NoiSite,
    result: ToolResult,
    *args: str,
    log: str,
    settings: str = WITH_MIGRATE,
) -> Child | None:
    """Run ``manage.py ARGS``; on failure set ``result.error`` and return None."""
    child = site.manage(settings, *args, log=log)
    if child.returncode == 0:
        return child
    result.error = (
        f"`manage.py {' '.join(args)}` exited with {child.returncode}:\n{child.tail()}"
    )
    return None


def _same_dumps(first: Path, second: Path) -> Check:
    """Return whether two dump directories are byte-identical (``diff -r``)."""
    name = "redump identical (diff -r A B)"
    proc = subprocess.run(
        ["diff", "-r", str(first), str(second)], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if proc.returncode == 0:
        files = sum(1 for path in first.iterdir() if path.is_file())
        return Check(name, True, f"{files} files identical")
    shown = "\n".join(f"    {line}" for line in proc.stdout.splitlines()[:12])
    return Check(name, False, f"the dumps differ:\n{shown}{proc.stderr}")


def _fresh(path: Path) -> Path:
    """Remove *path* if it exists and return it."""
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
