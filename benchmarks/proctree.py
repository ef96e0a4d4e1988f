"""Sample the memory of a process and all its descendants from ``/proc``.

A command with ``--jobs N`` starts worker processes (multiprocessing); they
leave with ``os._exit``, so they cannot report their own peak at exit as the
main process does (:func:`benchmarks.rawio.record_peak_rss`). The benchmark
therefore polls the whole tree from outside while the command runs and keeps
the highest sum of ``Pss`` (proportional set size, from
``/proc/PID/smaps_rollup``). A page shared by *n* processes counts ``1/n`` in
each, so the sum is what the tree holds in memory; summing ``Rss`` would
count twice the shared libraries, and the pages a forked worker shares with
its parent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

__all__ = ["POLL_SECONDS", "TreeSampler", "descendants", "hwm_kib", "pss_kib"]

#: Seconds between two samples of the tree.
POLL_SECONDS = 0.05

_PROC = Path("/proc")


def _children_file(pid: int) -> Iterator[int]:
    """Yield the children of *pid* from ``/proc/PID/task/*/children``.

    :raises OSError: when the kernel has no such file (``CONFIG_PROC_CHILDREN``).
    """
    tasks = list((_PROC / str(pid) / "task").iterdir())
    for task in tasks:
        text = (task / "children").read_text(encoding="ascii")
        yield from (int(child) for child in text.split())


def _parents() -> dict[int, int]:
    """Return ``{pid: parent pid}`` of every process, from ``/proc/*/stat``."""
    found = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: split after it.
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1:
            found[int(entry.name)] = int(fields[1])
    return found


def descendants(pid: int) -> list[int]:
    """Return *pid* and every process below it; processes that exit are skipped."""
    try:
        tree, todo = [pid], [pid]
        while todo:
            tree_pid = todo.pop()
            children = list(_children_file(tree_pid))
            tree.extend(children)
            todo.extend(children)
        return tree
    except OSError:
        pass
    parents = _parents()
    tree, todo = [pid], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        tree.extend(children)
        todo.extend(children)
    return tree


def pss_kib(pid: int) -> int:
    """Return the ``Pss`` of *pid* in KiB, 0 when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def hwm_kib(pid: int) -> int:
    """Return ``VmHWM`` of *pid* in KiB, 0 when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler:
    """The peak of the summed ``Pss`` of a process tree, over repeated samples.

    It also keeps the last ``VmHWM`` read of the root process: the peak RSS
    of a program that cannot report its own (``pg_dump``). The last, not the
    highest: a first sample may still see the copy of the benchmark's
    process that ``exec`` then replaces.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self.root_hwm_kib = 0
        self.most_processes = 0
        self.samples = 0

    def sample(self) -> None:
        """Add one sample of the tree below :attr:`pid`."""
        tree = descendants(self.pid)
        total = sum(pss_kib(pid) for pid in tree)
        self.samples += 1
        self.peak_kib = max(self.peak_kib, total)
        self.most_processes = max(self.most_processes, len(tree))
        self.root_hwm_kib = hwm_kib(self.pid) or self.root_hwm_kib

    @property
    def peak_mb(self) -> float | None:
        """Return the peak in MiB, ``None`` if no sample saw the process."""
        return self.peak_kib / 1024 if self.peak_kib else None
