"""Worker processes of ``--jobs``: how many, how they start, how they end.

The restore and the dump hand work to worker processes started with
``fork``: they inherit the set-up of Django, the models and the dump's
metadata, and need no database connection of their own (they never use the
one they inherit). A worker must not outlive the process that started it:
on Linux it asks the kernel for SIGKILL when its parent dies, and it
ignores Ctrl-C, which the terminal sends to the whole process group, so
that only the parent decides what an interruption does.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext

from lino_migrate.exceptions import LinoMigrateError

__all__ = [
    "AUTO",
    "MAX_DEFAULT_JOBS",
    "default_jobs",
    "detach_from_terminal",
    "fork_context",
    "forking",
    "parse_jobs",
    "widen_pipe",
]

#: The value of ``--jobs`` that means :func:`default_jobs`.
AUTO = "auto"
#: The most worker processes the default starts, however many cores there are.
MAX_DEFAULT_JOBS = 4

_PR_SET_PDEATHSIG = 1


def default_jobs() -> int:
    """Return the default of ``--jobs``: the cores this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_JOBS))


def parse_jobs(value: str | int | None) -> int:
    """Return the number of processes *value* asks for (``auto`` or ``None``: the default).

    :raises LinoMigrateError: when *value* is neither ``auto`` nor a whole
        number of at least 1.
    """
    if value is None or value == AUTO:
        return default_jobs()
    if isinstance(value, int):
        jobs = value
    else:
        text = value.strip()
        jobs = int(text) if text.isdigit() else 0
    if jobs < 1:
        msg = (
            f"--jobs takes a whole number of at least 1 or {AUTO!r}, not {value!r}. "
            f"{AUTO!r} means {default_jobs()} here (the cores, at most "
            f"{MAX_DEFAULT_JOBS}); --jobs 1 uses no worker process."
        )
        raise LinoMigrateError(msg)
    return jobs


def fork_context() -> ForkContext:
    """Return the multiprocessing context of the workers (``fork``).

    :raises LinoMigrateError: where processes cannot be forked (not POSIX).
    """
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        msg = "--jobs above 1 needs a system that can fork processes: use --jobs 1."
        raise LinoMigrateError(msg)
    context = multiprocessing.get_context("fork")
    assert isinstance(context, ForkContext)
    return context


@contextmanager
def forking() -> Iterator[None]:
    """Fork workers inside this: Ctrl-C is held back, standard streams are flushed.

    A worker forked with SIGINT blocked gets none until it ignores it
    (:func:`detach_from_terminal`); the starting process gets a Ctrl-C
    pressed meanwhile once the block ends, as :exc:`KeyboardInterrupt`.
    Text still buffered at the fork would be written again by every worker
    as it ends (multiprocessing flushes the standard streams). The objects of
    this process are frozen meanwhile (:func:`gc.freeze`).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    # The objects that exist now are left out of the workers' garbage
    # collections: a collection would write to every one of them and so
    # copy all the pages they share with this process.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


#: The bytes a pipe to or from a worker holds (Linux; default 64 KiB).
PIPE_SIZE = 1 << 20


def widen_pipe(pipe: Connection) -> None:
    """Let *pipe* hold a batch or two (Linux): fewer switches between processes."""
    import fcntl  # POSIX only: a restore with --jobs 1 needs none of this

    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setting is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), setting, PIPE_SIZE)


def detach_from_terminal(parent: int) -> None:
    """Make this worker process ignore Ctrl-C and die with its *parent* (a pid).

    Called first thing in a worker forked under :func:`forking`.
    Where ``prctl`` is missing, a worker still ends when it finds its
    parent's end of the pipe closed.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    name = ctypes.util.find_library("c")
    if name is not None:
        try:
            libc = ctypes.CDLL(name, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            pass
    if os.getppid() != parent:
        # The parent died before prctl took effect: nobody waits for us.
        os._exit(1)
