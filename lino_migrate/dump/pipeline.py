"""Dump big tables through worker processes: one reads, the others write (#16).

With ``--jobs N`` (N > 1) the process that holds the read transaction reads
every table itself and dumps the small ones as ``--jobs 1`` does
(:meth:`DumpJob.dump_model <lino_migrate.dump.job.DumpJob.dump_model>`). A
table of more than :data:`MIN_ROWS` rows goes through the pipeline: its raw
rows are read in batches and each data file (``--max-row-count`` rows) is
handed to the least busy of N worker processes, which encodes the values,
formats, hashes, compresses and writes it, and sends back its
:class:`~lino_migrate.format.layout.FileEntry`. So one big table is spread
over the workers while the reader goes on reading. On a SQLite file in a
rollback journal mode the workers read the rows themselves: this process
sends each the key range of a data file (:mod:`lino_migrate.dump.sharedfile`),
the biggest files of all big tables first, :data:`AHEAD` at a time.

The workers are forked (:func:`lino_migrate.workers.fork_context`) when the
first big table comes, after the natural keys and every row encoder were
made here: they never use the database connection they inherit
(:mod:`lino_migrate.dump.pipeworker`, the other end). Each has a
pipe for its tasks, fed by a thread from a queue of at most
:data:`QUEUED_BATCHES` batches, and a pipe for its answers; memory
is bounded by the batches queued, whatever the size of a table. The answers
are put back in the order of a dump in one process, so the files and
``restore.py`` are byte for byte those of ``--jobs 1``.

A worker that fails ends the dump with :class:`DumpWorkerError` naming the
model and the file (with ``--tolerate``, an unwritable value skips the
model, as in one process); a worker that dies does too. Workers ignore
Ctrl-C, die with this process and are killed when the dump fails.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext
from multiprocessing.process import BaseProcess
from typing import Any

from django.db import DatabaseError, connections, models, transaction

from lino_migrate.dump.job import DumpJob, ModelOutcome, row_encoder
from lino_migrate.dump.pipeworker import KILL_WORKER, Encoder, pack, work, writer_of
from lino_migrate.dump.sharedfile import SharedFile, ranges
from lino_migrate.dump.snapshot import read_batches
from lino_migrate.exceptions import DumpReadError, DumpWorkerError
from lino_migrate.format.layout import NATURAL_KEYS, FileEntry, ModelInfo
from lino_migrate.schema import describe, model_label
from lino_migrate.workers import fork_context, forking, widen_pipe

__all__ = ["HAND_OFF", "KILL_WORKER", "MIN_ROWS", "QUEUED_BATCHES", "Pipeline"]

#: A table of at most this many rows is dumped by the reading process itself:
#: measured, the pipeline gains nothing below it, and a site without a bigger
#: table forks no worker (docs/performance.md, "The dump pipeline").
MIN_ROWS = 5000
#: Batches of rows waiting for one worker, at most.
QUEUED_BATCHES = 32
#: Seconds between two looks at whether a worker still lives.
POLL = 0.2
#: Data files that a worker reads itself, handed to it ahead of its work:
#: the others wait, so that the worker done first takes the next one, the
#: biggest first (rows times columns), which leaves the smallest for the end.
AHEAD = 2
#: Test hook and measurement switch: with ``LINO_MIGRATE_HAND_OFF=1`` in the
#: environment, the reading process sends the rows of every big table, even
#: where the workers could read them (:mod:`lino_migrate.dump.sharedfile`).
HAND_OFF = "LINO_MIGRATE_HAND_OFF"


@dataclass
class _Model:
    """A model going through the pipeline: its files as they come back."""

    info: ModelInfo
    #: the data files handed out so far, numbered from 1
    sent: int = 0
    answered: int = 0
    read_all: bool = False
    entries: dict[int, FileEntry] = field(default_factory=dict)
    #: why the model is skipped (``--tolerate``), by file number; a failed
    #: read counts as the last file
    failures: dict[int, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """Return whether every file handed out was answered."""
        return self.read_all and self.answered == self.sent


@dataclass
class _Worker:
    """One worker process, its two pipes and the thread that feeds it tasks."""

    process: BaseProcess
    #: this process's ends: tasks written, answers read
    tasks: Connection
    answers: Connection
    queue: queue.Queue[bytes | None] = field(
        default_factory=lambda: queue.Queue(QUEUED_BATCHES)
    )
    #: the files handed to it and not answered, oldest first: (model, number)
    files: list[tuple[int, int]] = field(default_factory=list)
    feeder: threading.Thread | None = None

    def start_feeding(self) -> None:
        """Send the queued tasks from a thread: the reader waits only on a full queue."""
        self.feeder = threading.Thread(
            target=self._feed, name="lino-migrate-feeder", daemon=True
        )
        self.feeder.start()

    def _feed(self) -> None:
        while (data := self.queue.get()) is not None:
            try:
                self.tasks.send_bytes(data)
            except OSError:  # the worker died: the reader finds out and says so
                return

    def stop(self, *, failed: bool) -> None:
        """End the worker: ask it to stop, or kill it; then close its pipes."""
        if failed:
            self.process.kill()
            with contextlib.suppress(queue.Full):
                # Else the feeder is writing, and fails on the dead worker's pipe.
                self.queue.put_nowait(None)
        else:
            self.queue.put(pack(("stop",)))
            self.queue.put(None)
        self.process.join()
        if self.feeder is not None:
            self.feeder.join(timeout=5)
        self.tasks.close()
        self.answers.close()


@dataclass
class Pipeline:
    """The workers of one dump and the models they write, in the read transaction.

    Use as a context manager: leaving it stops the workers, or kills them
    when the block failed.

    :param jobs: the number of worker processes.
    :param start: called with each model when its rows are about to be read.
    """

    job: DumpJob
    jobs: int
    start: Callable[[type[models.Model]], None] = lambda model: None
    models_: list[type[models.Model]] = field(default_factory=list)
    workers: list[_Worker] = field(default_factory=list)
    states: dict[int, _Model] = field(default_factory=dict)
    #: per model index, from the first big model on: its description and encoder
    encoders: dict[int, tuple[ModelInfo, Encoder]] = field(default_factory=dict)
    finished: dict[int, ModelOutcome] = field(default_factory=dict)
    parent: int = field(default_factory=os.getpid)
    #: the SQLite file the workers read themselves, if they can
    shared: SharedFile | None = None
    #: the files to read that no worker has yet: (size, model, number, task)
    waiting: list[tuple[int, int, int, bytes]] = field(default_factory=list)
    #: the worker that the rows of a file are being sent to: it gets no task
    #: in between
    streaming: _Worker | None = None
    handing_out: bool = False

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.stop(failed=kind is not None)

    def outcomes(self, models_: list[type[models.Model]]) -> Iterator[ModelOutcome]:
        """Yield the outcome of dumping each of *models_*, in their order.

        :raises DumpReadError: when a model cannot be read, unless tolerated.
        :raises DumpWorkerError: when a worker fails or dies.
        """
        self.models_ = list(models_)
        following = 0
        for index, model in enumerate(self.models_):
            self.start(model)
            if self._is_big(model):
                self._send_model(index, model)
            else:
                self.finished[index] = self.job.dump_model(model)
            self._collect(block=False)
            while following in self.finished:
                yield self.finished.pop(following)
                following += 1
        while following < len(self.models_):
            while following not in self.finished:
                self._collect(block=True)
            yield self.finished.pop(following)
            following += 1

    def _is_big(self, model: type[models.Model]) -> bool:
        """Return whether *model* has more than :data:`MIN_ROWS` rows to dump."""
        if model_label(model) in NATURAL_KEYS:
            return False  # sorted by natural key: written where they are read
        connection = connections[self.job.using]
        table = connection.ops.quote_name(model._meta.db_table)
        sql = f"SELECT 1 FROM {table} LIMIT 1 OFFSET %s"
        try:
            with transaction.atomic(using=self.job.using), connection.cursor() as c:
                c.execute(sql, [MIN_ROWS])
                return c.fetchone() is not None
        except DatabaseError:
            return False  # dump_model says what is wrong, or skips the model

    def _send_model(self, index: int, model: type[models.Model]) -> None:
        """Hand out the data files of *model* to the workers, its rows or their keys.

        Where the workers read the file themselves, each gets the key range
        of a data file to read; else this process reads the rows and sends
        them.
        """
        if not self.workers:
            self._fork(index)
        info = self.encoders[index][0]
        connection = connections[self.job.using]
        parts = None
        if self.shared is not None:
            with contextlib.suppress(DatabaseError):  # said below, by reading
                parts = ranges(connection, info, self.job.max_row_count)
        if parts:  # an empty table gets its empty file by the hand-off
            self.states[index] = _Model(info, sent=len(parts), read_all=True)
            for number, part in enumerate(parts, 1):
                task = ("read", index, number, part.sql, part.params, part.rows)
                size = part.rows * len(info.fields)
                self.waiting.append((size, index, number, pack(task)))
            self.waiting.sort(key=lambda waiting: waiting[0])
            self._hand_out()
            return
        state = self.states[index] = _Model(info)
        batches = read_batches(model, info, connection)
        sending = _Sending(self, index, state)
        try:
            if self.job.tolerate:
                # A savepoint: a failed read must not end the read transaction.
                with transaction.atomic(using=self.job.using):
                    sending.send(batches)
            else:
                sending.send(batches)
        except DatabaseError as e:
            sending.abort()
            if not self.job.tolerate:
                raise DumpReadError(info.label, e) from e
            state.failures[sys.maxsize] = str(e).strip()
        state.read_all = True

    def _fork(self, first: int) -> None:
        """Start the workers, once the encoders of the models from *first* on exist."""
        connection = connections[self.job.using]
        for index in range(first, len(self.models_)):
            model = self.models_[index]
            info = describe(model)
            encode = row_encoder(model, info, connection, self.job.keys)
            self.encoders[index] = (info, encode)
        if os.environ.get(HAND_OFF) != "1":
            self.shared = SharedFile.of(connection)
        context = fork_context()
        with forking():
            self._start(context)
        for worker in self.workers:
            worker.start_feeding()

    def _start(self, context: ForkContext) -> None:
        """Start the worker processes."""
        for _ in range(self.jobs):
            task_reader, task_writer = context.Pipe(duplex=False)
            widen_pipe(task_writer)
            answer_reader, answer_writer = context.Pipe(duplex=False)
            # The worker closes this process's ends, so that a pipe breaks
            # when one of its two processes dies.
            ours = [c for w in self.workers for c in (w.tasks, w.answers)]
            process = context.Process(
                target=work,
                args=(
                    self.job,
                    self.encoders,
                    self.parent,
                    (task_reader, answer_writer),
                    [*ours, task_writer, answer_reader],
                    self.shared,
                ),
                name="lino-migrate-dump",
                daemon=True,
            )
            process.start()
            task_reader.close()
            answer_writer.close()
            self.workers.append(_Worker(process, task_writer, answer_reader))

    def put(self, worker: _Worker, data: bytes) -> None:
        """Queue the message *data* for *worker*; while its queue is full, take answers."""
        while True:
            try:
                worker.queue.put(data, timeout=POLL)
                return
            except queue.Full:
                self._collect(block=False)

    def least_busy(self) -> _Worker:
        """Return the worker with the fewest files to write (the first of them)."""
        return min(self.workers, key=lambda w: len(w.files))

    def _hand_out(self) -> None:
        """Give the files waiting to be read to the workers with fewer than AHEAD.

        Not to the worker that rows are being sent to, and not from within
        itself (:meth:`put` takes answers while a queue is full): a worker's
        tasks must reach it in the order of its list of files.
        """
        if self.handing_out:
            return
        self.handing_out = True
        try:
            while self.waiting:
                free = [w for w in self.workers if w is not self.streaming]
                worker = min(free, key=lambda w: len(w.files), default=None)
                if worker is None or len(worker.files) >= AHEAD:
                    return
                _, index, number, task = self.waiting.pop()
                worker.files.append((index, number))
                self.put(worker, task)
        finally:
            self.handing_out = False

    def _collect(self, *, block: bool) -> None:
        """Take the workers' answers; keep the outcomes of the models completed.

        :param block: wait a moment for an answer first.
        :raises DumpWorkerError: when a worker failed or died.
        """
        self._hand_out()
        busy = [w for w in self.workers if w.files]
        if block and busy:
            wait([w.answers for w in busy] + [w.process.sentinel for w in busy], POLL)
        for worker in busy:
            try:
                while worker.files and worker.answers.poll():
                    self._take(worker, worker.answers.recv())
            except EOFError:
                self._died(worker)
            if worker.files and not worker.process.is_alive():
                self._died(worker)
        self._hand_out()
        for index in [i for i, state in self.states.items() if state.done]:
            self.finished[index] = self._outcome(self.states.pop(index))

    def _take(self, worker: _Worker, answer: tuple[str, Any]) -> None:
        """Record the answer of *worker* about its oldest file.

        :raises DumpWorkerError: for a failure that ends the dump.
        :raises OSError: for one of the operating system (a full disk).
        """
        index, number = worker.files.pop(0)
        state = self.states[index]
        state.answered += 1
        kind, value = answer
        if kind == "ok":
            state.entries[number] = FileEntry(*value)
        elif kind in ("encode", "read") and self.job.tolerate:
            state.failures[number] = value
        elif kind == "oserror":
            raise OSError(*value)
        elif kind == "read":
            raise DumpReadError(state.info.label, DatabaseError(value))
        elif kind in ("encode", "error"):
            name = self._file_name(state.info, number)
            fix = "" if kind == "encode" else None  # an EncodeError says the fix
            raise DumpWorkerError(state.info.label, name, value, fix)

    def _died(self, worker: _Worker) -> None:
        """Raise :class:`DumpWorkerError`: *worker* ended with files to write."""
        worker.process.join()
        index, number = worker.files[0]
        code = worker.process.exitcode or 0
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        info = self.states[index].info
        name = self._file_name(info, number)
        raise DumpWorkerError(info.label, name, f"the process ended ({how})")

    def _outcome(self, state: _Model) -> ModelOutcome:
        """Return what a model gave: its files in order, or why it was skipped."""
        entries = [state.entries[n] for n in sorted(state.entries)]
        if not state.failures:
            return ModelOutcome(entries, state.info.as_literal())
        if self.job.work is not None:
            for entry in entries:
                (self.job.work / entry.name).unlink(missing_ok=True)
        return ModelOutcome(skipped=state.failures[min(state.failures)])

    def _file_name(self, info: ModelInfo, number: int) -> str:
        return writer_of(self.job).file_name(info, number)


@dataclass
class _Sending:
    """The rows of one model handed out as data files, as they are read."""

    pipeline: Pipeline
    index: int
    state: _Model
    #: the worker writing the file being sent, and the rows sent into it
    worker: _Worker | None = None
    count: int = 0
    #: whether the rows are still marshalled, not pickled
    marshalled: bool = True

    def send(self, batches: Iterator[list[tuple[Any, ...]]]) -> None:
        """Send the rows of *batches*, starting a new file every ``max_row_count``."""
        most = self.pipeline.job.max_row_count
        for batch in batches:
            start = 0
            while start < len(batch):
                if self.worker is None or self.count == most:
                    self._next_file()
                rows = batch[start : start + most - self.count]
                self._put(("rows", rows))
                self.count += len(rows)
                start += len(rows)
        if self.worker is None:
            self._next_file()  # no rows: one empty file, as in one process
        self._end("end")

    def abort(self) -> None:
        """Tell the worker of the file being sent to drop it."""
        if self.worker is not None:
            self._end("abort")

    def _next_file(self) -> None:
        if self.worker is not None:
            self._end("end")
        self.state.sent += 1
        self.worker = self.pipeline.streaming = self.pipeline.least_busy()
        self.worker.files.append((self.index, self.state.sent))
        self._put(("file", self.index, self.state.sent))
        self.count = 0

    def _end(self, kind: str) -> None:
        self._put((kind,))
        self.worker = self.pipeline.streaming = None

    def _put(self, message: tuple[Any, ...]) -> None:
        """Send *message* to the worker of the file, marshalled while that works."""
        try:
            data = pack(message, marshalled=self.marshalled)
        except ValueError:  # a value marshal does not know: pickle from now on
            self.marshalled = False
            data = pack(message, marshalled=False)
        self.pipeline.put(self.worker, data)  # type: ignore[arg-type]
