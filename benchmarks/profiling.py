"""Profile the dump and the restore at ``--jobs 1``: where the time goes (#16).

With ``--profile``, ``run.py`` runs ``dump2py`` and the restore once more
under ``python -m cProfile -o FILE`` and prints, for each, the time spent in
each area (each module of lino_migrate, Django, the database driver,
builtins) and the functions of lino_migrate with the most cumulative time.
The profiles stay in the work directory (``--keep``) for ``pstats`` or
``snakeviz``.
"""

from __future__ import annotations

import pstats
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from benchmarks.harness import MANAGE, Server, check_same, run_child, say

__all__ = ["profile_engine"]

#: Lines of each part of a printed profile.
TOP = 15

_METHOD = re.compile(r"<method '\w+' of '(?P<type>[\w.]+)' objects>")
_BUILTIN = re.compile(r"<built-in method (?P<name>[\w.]+)>")
#: A C method reached through ``super()`` from a Python subclass, such as
#: sqlite3's ``executemany`` from Django's ``SQLiteCursorWrapper``.
_SUPER = re.compile(r"<function (?P<name>[\w.]+) at 0x[0-9a-f]+>")


def _builtin_area(name: str) -> str:
    """Return the area of the C function *name*: its type or its module."""
    if found := _METHOD.fullmatch(name):
        owner = found["type"]
        module = owner.partition(".")[0]
        if module in ("sqlite3", "psycopg", "psycopg_c", "psycopg_binary"):
            return f"{module} (C)"
        return f"C methods of {owner}"
    if found := _BUILTIN.fullmatch(name):
        return f"built-in {found['name']}"
    if found := _SUPER.fullmatch(name):
        return f"C code under {found['name']}"
    return "built-in functions"


def _area(path: str, name: str) -> str:
    """Return the area of the function *name* defined in *path*."""
    if "/lino_migrate/" in path:
        module = path.rpartition("/lino_migrate/")[2].removesuffix(".py")
        return "lino_migrate." + module.replace("/", ".")
    for area in ("django", "psycopg", "benchmarks"):
        if f"/{area}/" in path:
            return area
    if path == "~":
        return _builtin_area(name)
    if path.startswith("<frozen importlib"):
        return "imports (importlib)"
    return f"Python: {Path(path).name}" if path else "other"


def _own_by_area(stats: pstats.Stats) -> Counter[str]:
    found: Counter[str] = Counter()
    for (path, _line, name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        found[_area(path, name)] += own
    return found


#: Functions whose cumulative time is within this share of the one above them
#: are a chain of calls; only the innermost is printed.
_CHAIN = 0.98


def _ours(stats: pstats.Stats) -> list[tuple[float, float, int, str]]:
    """Return ``(cumulative, own, calls, where)`` of the functions of lino_migrate.

    Sorted by cumulative time; of a chain of calls that each pass on nearly
    all their time (``handle`` → ``dump`` → ``fill`` ...) only the innermost
    is kept, with the number of callers it stands for.
    """
    found = sorted(
        (cum, own, calls, f"{p.rpartition('/lino_migrate/')[2]}:{line} {name}")
        for (p, line, name), (_cc, calls, own, cum, _) in stats.stats.items()  # type: ignore[attr-defined]
        if "/lino_migrate/" in p and name != "<module>"
    )[::-1]
    kept: list[tuple[float, float, int, str]] = []
    chain = 0
    for entry in found:
        if kept and entry[0] >= _CHAIN * kept[-1][0]:
            chain += 1
            kept[-1] = entry
            continue
        if chain and kept:
            cum, own, calls, where = kept[-1]
            kept[-1] = (cum, own, calls, f"{where} (+{chain} callers)")
        chain = 0
        kept.append(entry)
    return kept


def summarize(path: Path, title: str, kept: bool) -> str:
    """Return the areas and the top cumulative lino_migrate functions of *path*."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    where = f"saved in {path}" if kept else "--keep keeps the file"
    lines = [f"  {title}: {total:.2f} s under cProfile ({where})"]
    lines.append(f"    {'own time by area':<56} {'s':>7} {'%':>5}")
    lines += [
        f"    {area:<56} {own:>7.2f} {100 * own / total:>4.0f}%"
        for area, own in _own_by_area(stats).most_common(TOP)
    ]
    lines.append(f"    {'lino_migrate, by cumulative time':<56} {'cum s':>7} "
                 f"{'own s':>7} {'calls':>9}")  # fmt: skip
    lines += [
        f"    {where[:56]:<56} {cum:>7.2f} {own:>7.2f} {calls:>9,}"
        for cum, own, calls, where in _ours(stats)[:TOP]
    ]
    return "\n".join(lines)


def _profiled(server: Server, db: str, out: Path, *args: str, log: str) -> None:
    command = [sys.executable, "-m", "cProfile", "-o", str(out), *MANAGE, *args]
    run_child(command, server.env(db), server.work / f"{log}.log")


def profile_engine(server: Server, source: str, kept: bool) -> str:
    """Profile ``dump2py`` of *source* and the restore of that dump; summarize."""
    directory = server.work / "dump-profile"
    shutil.rmtree(directory, ignore_errors=True)
    dump_prof = server.work / "dump2py.prof"
    say("dump2py under cProfile")
    args = ("dump2py", str(directory), "--noinput")
    _profiled(server, source, dump_prof, *args, log="profile-dump2py")
    restore_prof = server.work / "restore.prof"
    target = server.fresh("restore_profile")
    say("restore under cProfile")
    args = ("run", str(directory / "restore.py"), "--noinput")
    _profiled(server, target, restore_prof, *args, log="profile-restore")
    check_same(server, source, target, "the restore under cProfile")
    server.drop(target)
    shutil.rmtree(directory)
    return "\n".join(
        [
            summarize(dump_prof, "dump2py DIR (--jobs 1)", kept),
            summarize(restore_prof, "run DIR/restore.py (--jobs 1)", kept),
        ]
    )
