"""A Lino Noi site in a work directory, and its ``manage.py`` run as measured processes.

The site has three settings modules: ``settings`` (a plain Noi site, so Lino's
own ``dump2py`` and ``run`` are used), ``settings_migrate`` (the same site with
lino-migrate enabled the documented way) and ``settings_example`` (that, plus
the example migrators of ``noi_migrators.py``). Every step works on the
site's database file, ``default.db``; :meth:`NoiSite.use` puts a copy of
another database there first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PLAIN", "WITH_EXAMPLE", "WITH_MIGRATE", "Child", "NoiSite", "StepError"]

PLAIN, WITH_MIGRATE, WITH_EXAMPLE = "settings", "settings_migrate", "settings_example"

_HERE = Path(__file__).resolve().parent
_MANAGE = '''\
#!/usr/bin/env python
"""Run a command of this Noi site (written by benchmarks/lino/run.py)."""

import atexit
import os
import sys


def record_peak_rss():
    """At exit, write VmHWM (KiB) of this process into $LINOBENCH_PEAK_FILE."""
    path = os.environ.get("LINOBENCH_PEAK_FILE")

    def write():
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    with open(path, "w", encoding="ascii") as out:
                        out.write(line.split()[1])

    if path:
        atexit.register(write)


if __name__ == "__main__":
    record_peak_rss()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
'''
_SETTINGS = '''\
"""Settings of the Noi demo site (written by benchmarks/lino/run.py)."""

from lino_noi.lib.noi.settings import *


class Site(Site):
    languages = "en de fr"
    default_ui = "lino_react.react"


SITE = Site(globals())
'''
_ENABLE = """
# lino-migrate, enabled the documented way: after SITE = Site(globals()).
from lino_migrate.lino import enable

enable(globals())
"""
_EXAMPLE = """
# The example migrators (#13, point 6) and the versions they upgrade between.
LINO_MIGRATE["MIGRATORS"] = [*LINO_MIGRATE["MIGRATORS"], "noi_migrators"]
LINO_MIGRATE["VERSIONS"] = {"tickets": os.environ.get("NOI_TICKETS_VERSION", "2.0")}
"""


class StepError(Exception):
    """A step of the Lino check could not run; the message says which and why."""


@dataclass(frozen=True)
class Child:
    """A finished ``manage.py`` process: status, wall time, peak RSS, output."""

    returncode: int
    seconds: float
    rss_mb: float
    output: str

    def tail(self, lines: int = 15) -> str:
        """Return the last *lines* lines of the output, indented."""
        return "\n".join(f"    {line}" for line in self.output.splitlines()[-lines:])


class NoiSite:
    """The Noi site in ``WORK/site``, run by the virtualenv's *python*."""

    def __init__(self, python: Path, work: Path) -> None:
        self.python, self.work = python, work
        self.directory, self.logs = work / "site", work / "logs"
        self.database = self.directory / "default.db"

    def write(self) -> None:
        """Write ``manage.py``, the settings modules and the example migrators."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        files = {
            "manage.py": _MANAGE,
            f"{PLAIN}.py": _SETTINGS,
            f"{WITH_MIGRATE}.py": _SETTINGS + _ENABLE,
            f"{WITH_EXAMPLE}.py": "import os\n\n" + _SETTINGS + _ENABLE + _EXAMPLE,
        }
        for name, text in files.items():
            (self.directory / name).write_text(text, encoding="utf-8")
        shutil.copyfile(_HERE / "noi_migrators.py", self.directory / "noi_migrators.py")

    def use(self, database: Path) -> None:
        """Make a copy of *database* the site's database."""
        shutil.copyfile(database, self.database)
        # Lino's ddt deletes the site's tmp directory, and Lino's restore then
        # refuses the upload volume that lives there.
        (self.directory / "tmp").mkdir(exist_ok=True)

    def save(self, database: Path) -> Path:
        """Copy the site's database to *database*; return it."""
        shutil.copyfile(self.database, database)
        return database

    def env(self, settings: str) -> dict[str, str]:
        """Return the environment of a process of the site with *settings*."""
        # Lino's ddt runs `python manage.py ...`: that must be the virtualenv's.
        path = f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return dict(os.environ, DJANGO_SETTINGS_MODULE=settings, PATH=path,
                    PYTHONIOENCODING="utf-8", PYTHONDONTWRITEBYTECODE="1")  # fmt: skip

    def manage(self, settings: str, *args: str, log: str) -> Child:
        """Run ``manage.py ARGS`` with *settings*; return the finished process."""
        return self.shell([str(self.python), "manage.py", *args], settings, log=log)

    def shell(self, command: list[str] | str, settings: str, *, log: str) -> Child:
        """Run *command* (a shell line if a string) in the site's directory."""
        path = self.logs / f"{log}.log"
        peak = path.with_suffix(".peak")
        peak.unlink(missing_ok=True)
        env = {**self.env(settings), "LINOBENCH_PEAK_FILE": str(peak)}
        with path.open("w", encoding="utf-8") as out:
            started = time.perf_counter()
            proc = subprocess.Popen(
                command, cwd=self.directory, env=env, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                shell=isinstance(command, str),
            )  # fmt: skip
            _pid, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
        # VmHWM counts from the exec of manage.py on; ru_maxrss only if it wrote none.
        kib = int(peak.read_text()) if peak.exists() else usage.ru_maxrss
        output = path.read_text(encoding="utf-8", errors="replace")
        child = Child(os.waitstatus_to_exitcode(status), seconds, kib / 1024, output)
        failed = f", exit status {child.returncode}" if child.returncode else ""
        print(f"  {log}: {seconds:.1f} s, peak RSS {child.rss_mb:.0f} MB{failed}")
        return child

    def must(self, settings: str, *args: str, log: str) -> Child:
        """Run ``manage.py ARGS`` like :meth:`manage`; raise StepError if it fails."""
        child = self.manage(settings, *args, log=log)
        if child.returncode != 0:
            shown = " ".join(args)
            msg = f"`manage.py {shown}` exited with status {child.returncode}:\n"
            raise StepError(msg + child.tail())
        return child
