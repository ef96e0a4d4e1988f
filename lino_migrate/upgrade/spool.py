"""Rows kept on disk in sorted runs, read back for a merge (``upgradedump``).

The spool of :mod:`lino_migrate.upgrade.upgradedump`: rows that cannot be
written as they come are kept here, so that memory does not grow with the
dump (#11).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

__all__ = ["RUN_ROWS", "SPOOL_BATCH", "Row", "Spool"]

Row = tuple[Any, ...]

#: Rows a spool sorts in memory before it writes them as one run ...
RUN_ROWS = 10000
#: ... in batches of this many rows; a merge holds one batch per run.
SPOOL_BATCH = 250


class Spool:
    """Rows kept in a file, in runs sorted by column *key* (``None``: unsorted).

    Rows are buffered, sorted (stably) and written as a run; a run that
    starts at or above the end of the previous one extends it, so that rows
    that come in order make one run. :meth:`runs` reads them back.
    """

    def __init__(self, path: Path, key: int | None) -> None:
        self.path, self.key = path, key
        self.buffer: list[Row] = []
        #: per run, the offsets of its batches in the file
        self.offsets: list[list[int]] = []
        self.last: Any = None
        self.barrier = True
        self.file: IO[bytes] | None = None

    def __bool__(self) -> bool:
        return bool(self.buffer or self.offsets)

    def add(self, row: Row) -> None:
        """Keep *row*."""
        self.buffer.append(row)
        if len(self.buffer) >= RUN_ROWS:
            self.cut()

    def cut(self, *, barrier: bool = False) -> int:
        """Write the buffered rows; with *barrier*, the next rows open a new run.

        :return: the number of runs written.
        """
        rows, self.buffer = self.buffer, []
        if rows:
            if self.key is not None:
                rows.sort(key=itemgetter(self.key))
            if self.barrier or (self.key is not None and rows[0][self.key] < self.last):
                self.offsets.append([])
            if self.file is None:
                self.file = self.path.open("w+b")
            for start in range(0, len(rows), SPOOL_BATCH):
                self.offsets[-1].append(self.file.tell())
                batch = rows[start : start + SPOOL_BATCH]
                pickle.dump(batch, self.file, pickle.HIGHEST_PROTOCOL)
            self.last = None if self.key is None else rows[-1][self.key]
            self.barrier = False
        self.barrier = self.barrier or barrier
        return len(self.offsets)

    def runs(self) -> list[Iterator[Row]]:
        """Return the runs, each an iterator of rows, in the order written."""
        self.cut()
        return [self._read(offsets) for offsets in self.offsets]

    def _read(self, offsets: list[int]) -> Iterator[Row]:
        for offset in offsets:
            assert self.file is not None
            # Runs are read in turns (a merge): each batch seeks to its place.
            # The file is this process's own: unpickling it is safe.
            self.file.seek(offset)
            yield from pickle.load(self.file)

    def close(self) -> None:
        """Close and remove the file."""
        if self.file is not None:
            self.file.close()
        self.path.unlink(missing_ok=True)
