"""Prepare the rows of data files in worker processes while this one writes (#16).

The restoring process holds the one transaction and is the only one that
writes. With ``--jobs N``, N worker processes are forked once the rows of
the dumped tables were deleted and the natural keys merged; they read every
data file whose rows go straight into their table. Worker *w* parses,
checks and converts the batches *k* of a file with ``k % N == w`` into the
parameters the driver takes, and sends them over its own pipe. The writer
takes batch 0 from worker 0, batch 1 from worker 1, and so on: rows are
written in the order of the file, and no worker is more than what its pipe
holds (1 MiB) ahead of the writer, so memory stays flat. On PostgreSQL a
worker sends the text of COPY, and the writer streams a run of such texts
into one COPY (:func:`grouped`). Each worker reads and hashes every
byte of every file and sends its last batch of a file only once the file's
checksum and row count were verified, as the one-process reader does
(:func:`~lino_migrate.restore.reader.read_share`).

The rows of a file that meet row functions take this way too when the
plan may migrate them batch by batch (:meth:`Plan.parallel_safe
<migrations_registry.plan.Plan.parallel_safe>`: every row function they can
meet is declared ``parallel=True``): a worker decodes its batches, applies
the plan to them, and sends the ``(model label, row)`` pairs that come out
(:class:`MigratedBatch`); the writer routes them, in the order of the file,
as ``--jobs 1`` does. A batch that a worker cannot migrate (a row function
fails, a value does not decode, a row does not pickle) is sent as read,
and the writer migrates it itself, meeting the error ``--jobs 1`` meets.

A batch that a worker cannot prepare (a value refused, a natural key the
target lacks, which only the writer may add) is sent as read, and the
writer prepares it itself as ``--jobs 1`` does: the same message, or in a
rehearsal the same list of refused rows. When a worker cannot read a file
(bad format, changed checksum), or the database refuses a prepared batch,
the writer reads the rest of that file itself from that batch on, and meets
the error that ``--jobs 1`` meets. A worker that dies ends the restore with
:class:`~lino_migrate.exceptions.WorkerError`: the transaction rolls back.
Workers die with the writer (:func:`~lino_migrate.workers.detach_from_terminal`)
and are killed when it leaves the pipeline early.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from types import TracebackType
from typing import Any

from django.db import connections

from lino_migrate.exceptions import WorkerError
from lino_migrate.format.layout import FileEntry, ModelInfo
from lino_migrate.restore.loader import CopyData, TableLoader
from lino_migrate.restore.reader import DumpMeta, read_share
from lino_migrate.restore.router import decoded_dicts
from lino_migrate.workers import (
    detach_from_terminal,
    fork_context,
    forking,
    widen_pipe,
)
from migrations_registry import Plan

__all__ = [
    "COPIES",
    "MIGRATED",
    "PREPARED",
    "READ",
    "FileStream",
    "MigratedBatch",
    "PipedFile",
    "Pipeline",
    "RowMigration",
    "grouped",
]

#: A batch prepared: the parameters the driver takes, or the text of COPY.
PREPARED = "prepared"
#: A batch as read: the writer prepares it itself.
READ = "read"
#: A batch migrated: the rows that came out of the plan (:class:`MigratedBatch`).
MIGRATED = "migrated"
#: The worker cannot read the file from this batch on.
FAILED = "failed"
#: The worker has sent all its batches of the file.
END = "end"
#: A run of prepared COPY texts, written as one COPY (:func:`grouped`).
COPIES = "copies"
#: The worker met an error of its own (a bug): its text follows.
CRASHED = "crashed"

Message = tuple[str, Any]

#: The most rows of COPY text written as one COPY under one savepoint.
JOIN_ROWS = 50_000


@dataclass(frozen=True)
class MigratedBatch:
    """What came out of the plan for one batch of a data file, in a worker."""

    #: the rows read
    rows: int
    #: copies of the first rows read, decoded, for the samples of the report
    before: list[dict[str, Any]]
    #: ``(current model label, row)`` pairs, in the order the plan gave them
    output: list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class RowMigration:
    """How a worker migrates the batches of a dumped model's data files.

    Only for a model whose rows the plan may migrate batch by batch
    (:meth:`Plan.parallel_safe <migrations_registry.plan.Plan.parallel_safe>`).

    :param schema: the dumped schema as the plan takes it.
    :param sample: how many rows of a batch to copy, as read, into
        :attr:`MigratedBatch.before`.
    """

    plan: Plan
    info: ModelInfo
    schema: dict[str, dict[str, str]]
    sample: int = 0

    def migrate(self, rows: list[tuple[Any, ...]]) -> MigratedBatch:
        """Decode and migrate one batch of rows, as read.

        :raises Exception: whatever decoding a value or a row function raises.
        """
        dicts = list(decoded_dicts(self.info, [rows]))
        before = [dict(row) for row in dicts[: self.sample]]
        with _no_database():
            output = list(self.plan.apply(self.info.label, dicts, schema=self.schema))
        return MigratedBatch(len(rows), before, output)


@dataclass(frozen=True)
class PipedFile:
    """A data file the workers prepare, with the loader they prepare it with.

    The loader comes from ``RowRouter.direct_loader(..., frozen=True)``: it
    never writes to the database and raises at the first refused value. A
    file whose rows go through the migrators has a *migration* instead.
    """

    entry: FileEntry
    loader: TableLoader | None = None
    migration: RowMigration | None = None

    def prepare(self, rows: list[tuple[Any, ...]]) -> Message | bytes:
        """Return the message of a batch a worker prepared; bytes when pickled.

        A migrated batch is pickled here, so that a value that does not
        pickle sends the batch as read instead of ending the worker.

        :raises Exception: when the batch cannot be prepared.
        """
        if self.migration is not None:
            batch = self.migration.migrate(rows)
            return bytes(ForkingPickler.dumps((MIGRATED, batch)))
        assert self.loader is not None
        loader = self.loader
        return PREPARED, loader.pack(loader.prepare(rows, self.entry.name)[1])


class Pipeline:
    """*jobs* worker processes preparing the batches of *files*, in their order.

    Use it as a context manager: the workers start on entry and are gone
    on exit, killed if they are not done.

    :param kill_at: a test hook (``LINO_MIGRATE_KILL_AT``): ``worker:NAME``
        makes the first worker kill itself when it starts data file NAME.
    """

    def __init__(
        self,
        meta: DumpMeta,
        files: Sequence[PipedFile],
        jobs: int,
        kill_at: str | None = None,
    ) -> None:
        self.meta, self.files, self.jobs = meta, list(files), jobs
        self.kill_at = kill_at
        self.names = {f.entry.name for f in self.files}
        self.workers: list[tuple[BaseProcess, Connection]] = []

    def __contains__(self, entry: FileEntry) -> bool:
        return entry.name in self.names

    def __enter__(self) -> Pipeline:
        context = fork_context()
        parent = os.getpid()
        try:
            with forking():
                for share in range(self.jobs):
                    receive, send = context.Pipe(duplex=False)
                    widen_pipe(send)
                    process = context.Process(
                        target=self._work,
                        args=(share, send, parent),
                        name=f"lino-migrate restore worker {share + 1}",
                        daemon=True,
                    )
                    process.start()
                    # Only the worker holds its end now: its death reads as EOF.
                    send.close()
                    self.workers.append((process, receive))
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """End every worker (killed if not done) and wait for it."""
        for process, _receive in self.workers:
            if process.is_alive():
                process.kill()
        for process, receive in self.workers:
            process.join()
            receive.close()
        self.workers = []

    def stream(self, entry: FileEntry) -> FileStream:
        """Return the batches of data file *entry*, in their order."""
        return FileStream(self, entry)

    def receive(self, share: int, entry: FileEntry) -> Message:
        """Return the next message of worker *share*, which works on *entry*.

        :raises WorkerError: when the worker died or failed.
        """
        process, receive = self.workers[share]
        try:
            message: Message = receive.recv()
        except (EOFError, OSError):
            process.join(timeout=5)
            raise WorkerError(entry.name, _ending(process.exitcode)) from None
        if message[0] == CRASHED:
            raise WorkerError(entry.name, f"failed ({message[1]})")
        return message

    def _work(self, share: int, send: Connection, parent: int) -> None:
        """Prepare this worker's share of every file (in the worker process)."""
        detach_from_terminal(parent)
        for _process, receive in self.workers:
            receive.close()  # the writer's ends of the other workers' pipes
        try:
            for piped in self.files:
                if share == 0 and self.kill_at == f"worker:{piped.entry.name}":
                    os.kill(os.getpid(), signal.SIGKILL)
                for message in _prepared(self.meta, piped, share, self.jobs):
                    if isinstance(message, bytes):
                        send.send_bytes(message)
                    else:
                        send.send(message)
                send.send((END, None))
        except (BrokenPipeError, EOFError):
            pass  # the writer stopped listening: it failed, or was stopped
        except Exception as e:  # a bug: tell the writer, no traceback
            send.send((CRASHED, f"{type(e).__name__}: {e}"))
        finally:
            send.close()


class FileStream:
    """The batches of one data file, as the workers send them, in order.

    Iterating yields ``(PREPARED, params)``, ``(MIGRATED, batch)``,
    ``(READ, rows)`` or ``(FAILED, None)``, after which nothing more comes.
    A caller that stops early calls :meth:`finish`, so that the workers'
    messages about this file are read and the next file starts clean.
    """

    def __init__(self, pipeline: Pipeline, entry: FileEntry) -> None:
        self.pipeline, self.entry = pipeline, entry
        self.index = 0
        self.ended: set[int] = set()

    def __iter__(self) -> Iterator[Message]:
        jobs = self.pipeline.jobs
        while len(self.ended) < jobs:
            share = self.index % jobs
            message = self.pipeline.receive(share, self.entry)
            if message[0] == END:
                self.ended.add(share)
                self._expect_ends()
                return
            self.index += 1
            yield message
            if message[0] == FAILED:
                self.finish()
                return

    def _expect_ends(self) -> None:
        """Read the end of every other worker: no batch k means none after it."""
        for share in range(self.pipeline.jobs):
            if share not in self.ended:
                kind = self.pipeline.receive(share, self.entry)[0]
                if kind != END:
                    how = "sent a batch past the end of the file"
                    raise WorkerError(self.entry.name, how)
                self.ended.add(share)

    def finish(self) -> None:
        """Read what the workers still send about this file, up to their ends."""
        for share in range(self.pipeline.jobs):
            while share not in self.ended:
                if self.pipeline.receive(share, self.entry)[0] == END:
                    self.ended.add(share)


def grouped(
    messages: Iterable[Message], limit: int = JOIN_ROWS
) -> Iterator[tuple[int, str, Any]]:
    """Yield *messages* with the number of their batch; runs of COPY texts as one.

    A prepared batch of COPY text starts a run, yielded as ``(number,
    COPIES, texts)``: *texts* iterates over it and the prepared COPY texts
    that follow, up to *limit* rows, as they arrive. PostgreSQL then runs one
    COPY under one savepoint for them, working on the first batches while
    the workers still make the next, instead of one COPY per 1,000 rows. The
    number is that of the run's first batch, from which the caller reads the
    file again if the database refuses the run. Consume *texts* before
    asking for the next item.
    """
    items = enumerate(messages)
    held: tuple[int, Message] | None = None
    while True:
        item = held if held is not None else next(items, None)
        held = None
        if item is None:
            return
        index, (kind, payload) = item
        if kind != PREPARED or not isinstance(payload, CopyData):
            yield index, kind, payload
            continue
        after: list[tuple[int, Message]] = []
        texts = _run(payload, items, limit, after)
        yield index, COPIES, texts
        for _rest in texts:
            pass  # what the caller left of the run
        held = after[0] if after else None


def _run(
    first: CopyData,
    items: Iterator[tuple[int, Message]],
    limit: int,
    after: list[tuple[int, Message]],
) -> Iterator[CopyData]:
    """Yield *first* and the COPY texts of *items* after it, up to *limit* rows.

    The item that ends the run is put into *after*.
    """
    yield first
    rows = first.rows
    for found in items:
        kind, text = found[1]
        if (
            kind != PREPARED
            or not isinstance(text, CopyData)
            or (rows + text.rows > limit)
        ):
            after.append(found)
            return
        rows += text.rows
        yield text


def _prepared(
    meta: DumpMeta, piped: PipedFile, share: int, shares: int
) -> Iterator[Message | bytes]:
    """Yield the messages of one worker's share of one file."""
    batches = read_share(meta, piped.entry, share, shares)
    while True:
        try:
            found = next(batches, None)
        except Exception:  # the writer reads on and meets it
            yield FAILED, None
            return
        if found is None:
            return
        rows = found[1]
        try:
            prepared = piped.prepare(rows)
        except Exception:  # the writer prepares it, names it
            yield READ, rows
        else:
            yield prepared


class _DatabaseInWorkerError(Exception):
    """A row function run in a worker process used the database."""


def _refuse(*args: Any) -> None:
    msg = "a row function declared parallel=True used the database in a worker"
    raise _DatabaseInWorkerError(msg)


def _no_database() -> ExitStack:
    """Return a context in which a query of this worker raises instead of running.

    A worker shares the writer's connections: a query would break them. A
    row function that queries fails so, and the writer migrates its batch.
    """
    stack = ExitStack()
    for connection in connections.all():
        stack.enter_context(connection.execute_wrapper(_refuse))
    return stack


def _ending(code: int | None) -> str:
    """Say how a worker process with exit *code* ended."""
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown"
        return f"was killed by signal {-code} ({name}) before it was done"
    return f"exited with status {code} before it was done"
