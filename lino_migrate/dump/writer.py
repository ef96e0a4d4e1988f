"""Write the data files of a dump: literals only, in chunks, hashed as written.

Every data file is valid Python made of literals only, one row per line, so
that a reader parses it in batches as :func:`ast.literal_eval` would
(:mod:`lino_migrate.format.literals`) and never runs code from it. Output
is deterministic: the same rows give the same bytes. With a compression
(:mod:`lino_migrate.format.compression`), the text is compressed as it is
written; its sha256 and row count are those of the text (#15).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from lino_migrate.format.compression import compressed_name, compressing
from lino_migrate.format.layout import FileEntry, ModelInfo, data_file_name, data_header

__all__ = ["FileWriter"]

#: Rows formatted, hashed and written at a time.
WRITE_BATCH = 1000


@dataclass
class FileWriter:
    """Write the rows of one model into files of at most *max_rows* rows.

    With *directory* ``None`` nothing is written (``--simulate``); the rows are
    still encoded, counted and hashed. With a *compression* (``gzip``,
    ``xz``, ``zstd``), the files are compressed and named accordingly.
    """

    directory: Path | None
    max_rows: int
    entries: list[FileEntry] = field(default_factory=list)
    compression: str | None = None

    def write(
        self, info: ModelInfo, rows: Iterable[tuple[Any, ...]]
    ) -> list[FileEntry]:
        """Write *rows* of *info*'s model and return the files written."""
        written: list[FileEntry] = []
        chunks = _chunks(iter(rows), self.max_rows)
        for number, chunk in enumerate(chunks, start=1):
            written.append(self.write_file(info, number, chunk))
            # Recorded at once, so that a caller that drops the model after a
            # failure in a later file removes this one too (#16).
            self.entries.append(written[-1])
        return written

    def write_file(
        self, info: ModelInfo, number: int, rows: Iterable[tuple[Any, ...]]
    ) -> FileEntry:
        """Write *rows* (at most *max_rows*) as data file *number* of *info*'s model.

        A worker process of ``--jobs`` writes one file at a time (#16); the
        file is not added to :attr:`entries`.
        """
        chunk = iter(rows)
        return self.write_batches(
            info, number, iter(lambda: list(islice(chunk, WRITE_BATCH)), [])
        )

    def write_batches(
        self, info: ModelInfo, number: int, batches: Iterable[list[tuple[Any, ...]]]
    ) -> FileEntry:
        """Write data file *number* of *info*'s model from *batches* of rows.

        What :meth:`write_file` does, for rows that come in lists already (a
        worker of ``--jobs`` receives them so, #16).
        """
        name = self.file_name(info, number)
        header = data_header(info).encode()
        digest = hashlib.sha256(header)
        count = 0
        with self._open(name) as out:
            out.write(header)
            for batch in batches:
                if not batch:
                    continue
                # One join of the rows' repr(): a tenth faster than a line each.
                data = ("    " + ",\n    ".join(map(repr, batch)) + ",\n").encode()
                digest.update(data)
                out.write(data)
                count += len(batch)
            out.write(b")\n")
            digest.update(b")\n")
        return FileEntry(info.label, name, count, digest.hexdigest())

    def file_name(self, info: ModelInfo, number: int) -> str:
        """Return the name of data file *number* of *info*'s model."""
        return compressed_name(data_file_name(info.label, number), self.compression)

    def _open(self, name: str) -> IO[bytes]:
        if self.directory is None:
            return _NullFile()  # type: ignore[return-value]
        if self.compression is None:
            return (self.directory / name).open("xb")
        return _Compressed((self.directory / name).open("xb"), self.compression)  # type: ignore[return-value]


class _Compressed:
    """A new file written compressed: closing it ends the stream, then the file."""

    def __init__(self, raw: IO[bytes], compression: str) -> None:
        self.raw = raw
        try:
            self.stream = compressing(raw, compression)
        except BaseException:
            raw.close()
            raise

    def write(self, data: bytes) -> int:
        """Compress and write *data*."""
        return int(self.stream.write(data))

    def __enter__(self) -> _Compressed:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stream.close()
        finally:
            self.raw.close()


class _NullFile:
    """A binary sink that discards what is written (``--simulate``)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def __enter__(self) -> _NullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _chunks(
    rows: Iterator[tuple[Any, ...]], size: int
) -> Iterator[Iterator[tuple[Any, ...]]]:
    """Yield iterators of at most *size* rows; one empty one when there are none."""
    first = next(rows, None)
    if first is None:
        yield iter(())
        return
    while first is not None:
        yield _take(first, rows, size)
        first = next(rows, None)


def _take(
    first: tuple[Any, ...], rows: Iterator[tuple[Any, ...]], size: int
) -> Iterator[tuple[Any, ...]]:
    yield first
    for _ in range(size - 1):
        row = next(rows, None)
        if row is None:
            return
        yield row
