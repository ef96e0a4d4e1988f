"""Read tables in parallel processes that share one snapshot (PostgreSQL).

The process that runs ``dump2py`` opens its read transaction as always and
exports its snapshot (``pg_export_snapshot()``). Each worker process is
forked from it (Django is set up already), sets aside the database
connections it inherits, which it never uses or closes (they are the parent's
sessions), opens its own connection, and reads every model it is given
inside a transaction that imports that snapshot (``SET TRANSACTION
SNAPSHOT``): all
of them see the database at the same instant as the main process, which
dumps models itself between handing them out and keeps its transaction open
until the last worker is done. Each model's files are written by one
process; the main process collects what was written in the order of a dump
in one process, so that the dump is byte for byte the same.
"""

from __future__ import annotations

import os
import re
import threading
import time
import traceback
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.dump.job import ModelOutcome
from lino_migrate.dump.snapshot import KeyRange, key_ranges
from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.format.layout import NATURAL_KEYS
from lino_migrate.schema import describe
from lino_migrate.workers import detach_from_terminal, fork_context, forking

if TYPE_CHECKING:
    from lino_migrate.dump.job import DumpJob

__all__ = [
    "AUTO_MIN_BYTES",
    "PIPELINE_ON_POSTGRES",
    "check_jobs",
    "dump_in_parallel",
    "shares_snapshot",
]

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)+")

#: The job of this worker process and the snapshot it imports.
_worker: tuple[DumpJob, str] | None = None
#: The database connections a worker inherited: kept, so that they are never
#: closed here (closing one would end the parent's session).
_inherited: list[BaseDatabaseWrapper] = []


#: Test hook and measurement switch (#16): with ``LINO_MIGRATE_PIPELINE=1`` in
#: the environment, a dump on PostgreSQL goes through the pipeline of
#: :mod:`lino_migrate.dump.pipeline` instead of these readers.
PIPELINE_ON_POSTGRES = "LINO_MIGRATE_PIPELINE"
#: With ``--jobs auto``, the readers start only when the tables hold this
#: many bytes: below it, starting them costs what they save (#16). Measured
#: with forked readers on 2 cores: equal at 3 MB of tables, 0.15 to 0.2 s
#: faster at 20 MB (64 MB while the readers were spawned, half a second each).
AUTO_MIN_BYTES = 8 << 20


def shares_snapshot(
    jobs: int, connection: BaseDatabaseWrapper, tables: list[str], *, auto: bool
) -> bool:
    """Return whether a dump with *jobs* workers uses the readers of this module.

    On PostgreSQL they are faster than the pipeline, whose one reading
    process spends most of its time in the driver's conversion of values
    (docs/performance.md, "The dump pipeline"). With *auto*, only when
    *tables* are big enough.
    """
    if jobs < 2 or connection.vendor != "postgresql":
        return False
    if os.environ.get(PIPELINE_ON_POSTGRES) == "1":
        return False
    if not auto:
        return True
    return sum(_table_sizes(connection, tables).values()) >= AUTO_MIN_BYTES


def check_jobs(jobs: int, connection: BaseDatabaseWrapper) -> None:
    """Refuse a number of jobs that cannot work here.

    :raises LinoMigrateError: for fewer than one job.
    """
    if jobs < 1:
        msg = f"--jobs must be at least 1, not {jobs}."
        raise LinoMigrateError(msg)


def dump_in_parallel(
    job: DumpJob,
    models_: Sequence[type[models.Model]],
    jobs: int,
    connection: BaseDatabaseWrapper,
) -> list[ModelOutcome]:
    """Return the outcome of dumping each of *models_*, in their order.

    Must run inside the read transaction of *connection*, whose snapshot the
    *jobs* worker processes import; this process dumps models too, in that
    transaction. (Before #16, *jobs* counted this process too: ``--jobs N``
    now means N workers beside it, as for the restore and on SQLite.)

    :raises LinoMigrateError: with the worker's message when a model fails.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
    sizes = _table_sizes(connection, [m._meta.db_table for m in models_])
    setup = (job, snapshot, os.getpid())
    with ProcessPoolExecutor(jobs, fork_context(), _start_worker, setup) as pool:
        with forking():
            # A pool that forks starts all its processes at the first task.
            pool.submit(os.getpid).result()
        dispatcher = _Dispatcher(job, list(models_), sizes, pool, jobs)
        try:
            return dispatcher.run()
        except BaseException:
            # Nothing of the dump is kept: a reader in the middle of a big
            # table is killed, not waited for (Ctrl-C, a failed model).
            _kill_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the processes of *pool* (it has no public way to, before Python 3.14)."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.kill()


@dataclass
class _Dispatcher:
    """Hand out models to the workers and dump models here in between.

    The biggest tables go to the workers first, two tasks per worker at a
    time, so that a worker has its next task while this process dumps the
    smallest model left and comes back to hand out more. A table of more
    than one data file is cut by primary key (:func:`key_ranges`) when its
    turn comes: its files go to the workers one by one, so that one big table
    is read by all of them (#16).
    """

    job: DumpJob
    models_: list[type[models.Model]]
    sizes: dict[str, int]
    pool: ProcessPoolExecutor
    workers: int
    outcomes: dict[int, ModelOutcome] = field(default_factory=dict)
    running: dict[Future[tuple[str, Any]], int] = field(default_factory=dict)
    #: per model cut by key: the outcome of each of its files, as they come
    parts: dict[int, dict[int, ModelOutcome | None]] = field(default_factory=dict)

    def run(self) -> list[ModelOutcome]:
        """Dump every model; return the outcomes in the order of the models."""
        order = sorted(
            range(len(self.models_)),
            key=lambda i: -self.sizes.get(self.models_[i]._meta.db_table, 0),
        )
        queue: deque[tuple[int, KeyRange | None]] = deque((i, None) for i in order)
        while queue or self.running:
            self._collect()
            while queue and len(self.running) < 2 * self.workers:
                index, part = queue.popleft()
                if part is None and (cut := self._cut(index)):
                    queue.extendleft(reversed([(index, p) for p in cut]))
                    continue
                label = self.models_[index]._meta.label_lower
                self.running[self.pool.submit(_dump_model, label, part)] = index
            if queue:
                index, part = queue.pop()
                model = self.models_[index]
                if part is None:
                    self.outcomes[index] = self.job.dump_model(model)
                else:
                    self._part_done(index, part.number, self.job.dump_part(model, part))
            elif self.running:
                wait(self.running, return_when=FIRST_COMPLETED)
        return [self.outcomes[i] for i in range(len(self.models_))]

    def _cut(self, index: int) -> list[KeyRange] | None:
        """Return the key ranges of the files of model *index*, if worth cutting."""
        model = self.models_[index]
        if model._meta.label_lower in NATURAL_KEYS:
            return None  # sorted by natural key, not by primary key
        connection = connections[self.job.using]
        try:
            with transaction.atomic(using=self.job.using):
                parts = key_ranges(connection, describe(model), self.job.max_row_count)
        except DatabaseError:
            return None  # dump_model says what is wrong, or skips the model
        if parts is None or len(parts) < 2:
            return None
        self.parts[index] = dict.fromkeys((p.number for p in parts), None)
        return parts

    def _collect(self) -> None:
        """Take the outcomes of the finished workers; raise the first error."""
        for future in [f for f in self.running if f.done()]:
            index = self.running.pop(future)
            kind, value = _result(future, self.models_[index]._meta.label_lower)
            if kind == "error":
                raise LinoMigrateError(value)
            number, outcome = value
            if number is None:
                self.outcomes[index] = outcome
            else:
                self._part_done(index, number, outcome)

    def _part_done(self, index: int, number: int, outcome: ModelOutcome) -> None:
        """Record file *number* of model *index*; once all are in, the model's outcome."""
        files = self.parts[index]
        files[number] = outcome
        done = [o for o in files.values() if o is not None]
        if len(done) < len(files):
            return
        skipped = next((o.skipped for o in done if o.skipped is not None), None)
        if skipped is None:
            entries = [e for n in sorted(files) for e in files[n].entries]  # type: ignore[union-attr]
            self.outcomes[index] = ModelOutcome(entries, done[0].schema)
            return
        if self.job.work is not None:
            for entry in (e for o in done for e in o.entries):
                (self.job.work / entry.name).unlink(missing_ok=True)
        self.outcomes[index] = ModelOutcome(skipped=skipped)


def _result(future: Future[tuple[str, Any]], label: str) -> tuple[str, Any]:
    """Return what a worker returned, or an error when the worker died."""
    try:
        return future.result()
    except BrokenProcessPool as e:
        return "error", f"The worker process dumping {label} died: {e}"


def _table_sizes(connection: BaseDatabaseWrapper, tables: list[str]) -> dict[str, int]:
    """Return the size on disk of each of *tables* that exists."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relname = ANY(%s)",
            [tables],
        )
        return dict(cursor.fetchall())


#: Seconds between two looks of a worker at whether its parent still lives.
PARENT_POLL = 0.2


def _start_worker(job: DumpJob, snapshot: str, parent: int) -> None:
    """Make a forked process a reader of the snapshot (the Pool's initializer).

    The worker dies with its parent (*parent* is its pid): a ``dump2py``
    killed with SIGKILL cannot tell its workers to stop, and a worker busy
    with a big table would otherwise read on, holding its connection and
    its transaction, for as long as the table takes (#12). It ignores
    Ctrl-C, which the terminal sends to the whole process group: the parent
    decides. The connections it inherited are set aside, never closed (they
    are the parent's sessions), and new ones take their place.
    """
    detach_from_terminal(parent)
    threading.Thread(
        target=_exit_with_parent, args=(parent,), name="watch-parent", daemon=True
    ).start()
    for alias in connections:
        _inherited.append(connections[alias])
        connections[alias] = connections.create_connection(alias)
    global _worker  # one job per worker process
    _worker = (job, snapshot)


def _exit_with_parent(parent: int) -> None:
    """End this process as soon as *parent* is no longer its parent.

    A process whose parent dies is given another parent (init or a
    subreaper), so ``getppid()`` changes; ``os._exit`` ends the process at
    once, whatever its main thread is waiting for, and the database server
    ends the transaction of the connection it leaves.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _dump_model(label: str, part: KeyRange | None = None) -> tuple[str, Any]:
    """Dump the model *label* (or its file *part*) in the shared snapshot; never raise.

    :return: ``("ok", (file number or None, outcome))``, or ``("error",
        message)`` for an error the main process reports (exceptions of this
        package need not pickle).
    """
    from django.apps import apps

    from lino_migrate.dump.pipeworker import obey_kill_hook, writer_of

    if _worker is None:
        return "error", "the worker process was not set up"
    job, snapshot = _worker
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        return "error", f"not a snapshot id: {snapshot!r}"
    try:
        with transaction.atomic(using=job.using):
            with connections[job.using].cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            model = apps.get_model(label)
            number = 1 if part is None else part.number
            obey_kill_hook(writer_of(job).file_name(describe(model), number))
            if part is None:
                return "ok", (None, job.dump_model(model))
            return "ok", (number, job.dump_part(model, part))
    except LinoMigrateError as e:
        return "error", str(e)
    except Exception as e:  # anything else: reported by the main process
        detail = "".join(traceback.format_exception_only(e)).strip()
        return "error", f"Dumping {label} failed in a worker process: {detail}"
