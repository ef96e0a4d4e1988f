"""A worker process of the dump pipeline, and the messages it exchanges (#16).

:mod:`lino_migrate.dump.pipeline` forks the workers and sends each of them,
over a pipe, the data files to write: ``("file", model, number)``, then
``("rows", batch)`` messages, then ``("end",)``, or ``("abort",)`` when the
reading failed; or, where the workers read a SQLite file themselves
(:mod:`lino_migrate.dump.sharedfile`), ``("read", model, number, sql,
params, rows)``, the query of one data file; ``("stop",)`` ends the worker.
A worker answers each file with ``("ok", FileEntry literal)``,
``("aborted", None)`` or what went wrong: ``("encode", message)``,
``("read", message)`` (the file could not be read), ``("oserror", (errno,
strerror, filename))`` or ``("error", message)``. It never uses the
database connection of the reading process.
"""

from __future__ import annotations

import marshal
import os
import pickle
import signal
import sqlite3
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from lino_migrate.dump.job import DumpJob, remove_data_file
from lino_migrate.dump.sharedfile import (
    FileRange,
    FileReader,
    ReadMismatchError,
    SharedFile,
)
from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import EncodeError
from lino_migrate.format.layout import ModelInfo
from lino_migrate.workers import detach_from_terminal

__all__ = [
    "KILL_WORKER",
    "Encoder",
    "obey_kill_hook",
    "pack",
    "unpack",
    "work",
    "writer_of",
]

#: Test hook (#16): with ``LINO_MIGRATE_KILL_WORKER=NAME[:SIGNAL]`` in the
#: environment, the worker about to write the data file NAME sends itself
#: SIGNAL (default ``SIGKILL``; ``SIGSTOP`` makes a worker that hangs). A
#: reader of :mod:`lino_migrate.dump.parallel` does so before the first data
#: file of a model, in the transaction of the shared snapshot.
KILL_WORKER = "LINO_MIGRATE_KILL_WORKER"
_KILL_AT = os.environ.get(KILL_WORKER) or None

Encoder = Callable[[tuple[Any, ...]], tuple[Any, ...]]


class _DroppedError(Exception):
    """The reading process dropped the file being written."""


@dataclass
class _Rows:
    """The rows of one data file from the reading process, encoded, in batches."""

    tasks: Connection
    encode: Encoder
    ended: bool = False

    def __iter__(self) -> Iterator[list[tuple[Any, ...]]]:
        while not self.ended:
            message = unpack(self.tasks.recv_bytes())
            if message[0] == "rows":
                yield list(map(self.encode, message[1]))
                continue
            self.ended = True
            if message[0] != "end":
                raise _DroppedError

    def drain(self) -> None:
        """Receive, unread, what is left of the file."""
        while not self.ended:
            self.ended = unpack(self.tasks.recv_bytes())[0] != "rows"


@dataclass
class _ReadRows:
    """The rows of one data file, read by this worker from the shared file, encoded."""

    reader: FileReader
    part: FileRange
    encode: Encoder

    def __iter__(self) -> Iterator[list[tuple[Any, ...]]]:
        for batch in self.reader.batches(self.part):
            yield list(map(self.encode, batch))

    def drain(self) -> None:
        """Nothing to receive: the reading process sent the query only."""


def pack(message: tuple[Any, ...], *, marshalled: bool = True) -> bytes:
    """Return *message* as bytes for a pipe: marshalled, or pickled.

    :mod:`marshal` takes the values SQLite gives (numbers, text, bytes,
    ``None``) three times as fast as :mod:`pickle`, which takes the dates,
    decimals and UUIDs PostgreSQL's driver gives (#16).

    :raises ValueError: when *marshalled* and a value is not marshallable.
    """
    if marshalled:
        return b"m" + marshal.dumps(message)
    return b"p" + pickle.dumps(message, pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> tuple[Any, ...]:
    """Return the message that :func:`pack` made *data* of."""
    body = memoryview(data)[1:]
    return marshal.loads(body) if data[:1] == b"m" else pickle.loads(body)  # type: ignore[no-any-return]


def writer_of(job: DumpJob) -> FileWriter:
    """Return the writer of the data files of *job* (its directory, size, compression)."""
    return FileWriter(job.work, job.max_row_count, compression=job.compression)


def work(
    job: DumpJob,
    encoders: dict[int, tuple[ModelInfo, Encoder]],
    parent: int,
    pipes: tuple[Connection, Connection],
    others: list[Connection],
    shared: SharedFile | None = None,
) -> None:
    """Write the data files the tasks bring, one after another (a worker process).

    Forked from the reading process (*parent*, a pid): *encoders* holds, per
    model index, its description and row encoder; *pipes* are this worker's
    ends (tasks read, answers written); *others* are the ends of the reading
    process, closed here, so that a pipe breaks when one of its two
    processes dies. *shared*, if given, is the SQLite file that the
    ``"read"`` tasks read.
    """
    detach_from_terminal(parent)
    for connection in others:
        connection.close()
    tasks, answers = pipes
    writer = writer_of(job)
    reader = None if shared is None else FileReader(shared)
    try:
        while (message := unpack(tasks.recv_bytes()))[0] in ("file", "read"):
            info, encode = encoders[message[1]]
            number = message[2]
            rows: _Rows | _ReadRows
            if message[0] == "file":
                rows = _Rows(tasks, encode)
            else:
                assert reader is not None, "a read task without a shared file"
                rows = _ReadRows(reader, FileRange(*message[3:]), encode)
            answers.send(_write_file(writer, info, number, rows))
    except (EOFError, OSError):
        os._exit(1)  # the reading process is gone: nobody to answer


def _write_file(
    writer: FileWriter, info: ModelInfo, number: int, rows: _Rows | _ReadRows
) -> tuple[str, Any]:
    """Write data file *number* of *info*'s model; return the answer to send."""
    name = writer.file_name(info, number)
    obey_kill_hook(name)
    try:
        entry = writer.write_batches(info, number, rows)
    except _DroppedError:
        remove_data_file(writer, name)
        return "aborted", None
    except Exception as e:
        remove_data_file(writer, name)
        rows.drain()
        return _failure(e)
    return "ok", entry.as_literal()


def obey_kill_hook(name: str) -> None:
    """Signal this process if the test hook :data:`KILL_WORKER` names file *name*."""
    if _KILL_AT is None:
        return
    target, _, how = _KILL_AT.partition(":")
    if name == target:
        os.kill(os.getpid(), signal.Signals[how or "SIGKILL"])


def _failure(error: Exception) -> tuple[str, Any]:
    """Return the answer that tells the reading process about *error*."""
    if isinstance(error, EncodeError):
        return "encode", str(error)
    if isinstance(error, sqlite3.Error):
        return "read", str(error)
    if isinstance(error, ReadMismatchError):
        return "error", str(error)
    if isinstance(error, OSError):
        return "oserror", (error.errno, error.strerror or str(error), error.filename)
    detail = "".join(traceback.format_exception_only(error)).strip()
    return "error", detail
