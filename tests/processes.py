"""Find live processes by what /proc says of them: workers that must be gone (#16)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["alive", "children", "processes_with", "until"]


def alive(pid: int) -> bool:
    """Return whether process *pid* exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    """Return the processes whose parent is *pid*."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(proc.name))
    return found


def processes_with(item: str, where: str = "environ") -> list[int]:
    """Return the live processes (this one aside) whose *where* holds *item*.

    :param where: ``environ`` (an item is ``NAME=value``) or ``cmdline`` (an
        argument); *item* must be one of its NUL-separated entries.
    """
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            entries = (proc / where).read_bytes().split(b"\0")
        except OSError:
            continue  # gone, or not ours to read
        if item.encode() in entries:
            found.append(int(proc.name))
    return [pid for pid in found if alive(pid)]


def until(condition: Callable[[], object], seconds: float) -> bool:
    """Wait up to *seconds* for *condition* to hold; return whether it does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def stopped(pid: int) -> bool:
    """Return whether process *pid* is stopped (SIGSTOP); ``False`` if it is gone."""
    try:
        return (
            Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "T"
        )
    except OSError:
        return False
