"""What a long command shows while it works: a bar on a terminal, lines elsewhere.

Library code never prints (#14): the dump, the restore, ``upgradedump`` and
``dumpcompare`` call two callbacks, ``progress(message, level)`` for a line
and ``advance(label, rows)`` when *rows* more rows of the model *label* are
done (``0`` when its work starts). A :class:`Progress` is both: its
:meth:`~Progress.__call__` writes the lines that the verbosity asks for, and
its :meth:`~Progress.advance` moves a `rich <https://rich.readthedocs.io>`_
progress bar, shown by :meth:`~Progress.shown` on a terminal only. The bar
is transient: once the work is done it is erased and the command's summary
takes its place.

The verbosity means the same in every command: 0 silent, 1 a summary (and
the bar on a terminal), 2 a line per model or file, 3 a line per operation.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as Bar
from rich.text import Text

from lino_migrate.reports.table import is_terminal

if TYPE_CHECKING:
    from rich.progress import Task, TaskID

    from lino_migrate.format.layout import FileEntry

__all__ = ["VERBOSITY_HELP", "Progress", "command_progress"]

#: The help of ``-v`` / ``--verbosity``, the same in every command.
VERBOSITY_HELP = (
    "0: silent, 1: a summary (and a progress bar on a terminal), 2: a line per "
    "model or file, 3: a line per operation."
)


class Progress:
    """The lines and the progress bar of one command.

    .. versionadded:: 0.1

    :param stream: where the lines and the bar go.
    :param verbosity: 0 shows nothing; a line of level *n* is shown from
        verbosity *n* on, the bar from 1 on.
    :param terminal: whether *stream* is a terminal: only there is a bar
        drawn, and never one elsewhere.
    :param lines: whether to write lines at all (not beside a JSON report).
    :param color: whether the bar may use colors (``NO_COLOR`` is honoured too).
    :param console: the rich console of the bar (and of the lines while it
        is shown) instead of one on *stream*, *color* then unused: the docs
        record one, with a clock of their own (#14).
    """

    def __init__(
        self,
        stream: TextIO,
        verbosity: int,
        *,
        terminal: bool = False,
        lines: bool = True,
        color: bool = True,
        console: Console | None = None,
    ) -> None:
        self.stream, self.verbosity, self.console = stream, verbosity, console
        self.terminal = terminal and verbosity >= 1
        self.lines, self.color = lines, color
        self._bar: Bar | None = None
        self._task: TaskID | None = None
        self._label: str | None = None
        self._seen: set[str] = set()
        self._rows = 0
        self._by_rows = True

    def __call__(self, message: str, level: int) -> None:
        """Write the line *message* if the verbosity reaches *level*."""
        if self.lines and self.verbosity >= level:
            self.write(message + "\n")

    def write(self, text: str) -> None:
        """Write *text* as it is, above the bar while the bar is shown."""
        if self._bar is None:
            self.stream.write(text)
            return
        self._bar.console.print(
            text, end="", markup=False, highlight=False, emoji=False, soft_wrap=True
        )

    def advance(self, label: str, rows: int) -> None:
        """Count *rows* more rows of the model *label* done; ``0``: it starts.

        Cheap without a bar; with one, the bar is redrawn at once for a new
        model and otherwise some times a second (rich's refresh thread).
        """
        if self._bar is None or self._task is None:
            return
        new = label != self._label
        if new:
            self._label = label
            self._seen.add(label)
        self._rows += rows
        self._update(refresh=new)

    @contextmanager
    def shown(self, *, rows: int | None, models: int) -> Iterator[Progress]:
        """Show the bar while the block runs, if on a terminal; then erase it.

        :param rows: the rows to do in all, or ``None`` when they are not known
            beforehand (a dump): the bar then counts models, and shows the
            time elapsed instead of the time left.
        :param models: the models to do in all.
        """
        if not self.terminal or self._bar is not None:
            yield self
            return
        self._by_rows = by_rows = rows is not None
        self._bar = _bar(
            self.stream, color=self.color, by_rows=by_rows, console=self.console
        )
        self._task = self._bar.add_task(
            "",
            total=rows if by_rows else models,
            models=models,
            by_rows=by_rows,
            done=0,
            rows=0,
        )
        self._label, self._seen, self._rows = None, set(), 0
        try:
            with self._bar:
                yield self
                self._seen.add("")  # the end: the last model is done too
                self._update(refresh=True)
        finally:
            self._bar = self._task = None

    def reading(self, files: Iterable[FileEntry]) -> AbstractContextManager[Progress]:
        """Show the bar while the rows of the data *files* of a dump are read."""
        files = list(files)
        models = len({entry.model for entry in files})
        return self.shown(rows=sum(entry.rows for entry in files), models=models)

    def _update(self, *, refresh: bool) -> None:
        """Show the counts on the bar: rows or models done, the current model."""
        assert self._bar is not None
        assert self._task is not None
        done = max(len(self._seen) - 1, 0)
        self._bar.update(
            self._task,
            completed=self._rows if self._by_rows else done,
            description=self._label or "",
            done=done,
            rows=self._rows,
            refresh=refresh,
        )


def command_progress(
    stdout: TextIO,
    stderr: TextIO,
    verbosity: int,
    *,
    json: bool = False,
    color: bool = True,
    console: Console | None = None,
) -> Progress:
    """Return the progress of a command whose report goes to *stdout*.

    As text, the lines and the bar go to *stdout*, the bar when it is a
    terminal. Beside a JSON report, *stdout* holds the JSON and nothing else:
    no lines, and the bar goes to *stderr* when that is a terminal and
    *stdout* is not (a program reads it; JSON written to a terminal while a
    bar is drawn on the same screen would be torn).

    :param console: the rich console of *stdout* for the bar of a text
        report, shared with the report's tables drawn while it is shown
        (``dumpcompare``).
    """
    if not json:
        terminal = is_terminal(stdout)
        return Progress(
            stdout, verbosity, terminal=terminal, color=color, console=console
        )
    terminal = is_terminal(stderr) and not is_terminal(stdout)
    return Progress(stderr, verbosity, terminal=terminal, lines=False, color=color)


def _bar(
    stream: TextIO, *, color: bool, by_rows: bool, console: Console | None = None
) -> Bar:
    """Return a transient bar on *stream*: by rows with the time left, or by models."""
    if console is None:
        # None: rich reads NO_COLOR itself.
        no_color = None if color else True
        console = Console(
            file=stream, force_terminal=True, no_color=no_color, highlight=False
        )
    return Bar(
        BarColumn(),
        _CountsColumn(),
        _RateColumn(),
        TimeRemainingColumn() if by_rows else TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),
        console=console,
        transient=True,
        # Redrawn a few times a second, besides at each new model: enough for
        # a person, little for the work sharing the interpreter.
        refresh_per_second=4,
        # print() while the bar is shown (a hook of restore.py) goes above it.
        redirect_stdout=stream is sys.stdout,
        redirect_stderr=False,
    )


class _CountsColumn(ProgressColumn):
    """Rows done (of how many, when known) and models done of how many."""

    def render(self, task: Task) -> Text:
        """Return ``1,200/4,445 rows  3/12 models`` or ``1,200 rows  3/12 models``."""
        fields = task.fields
        rows = f"{fields['rows']:,}"
        if fields["by_rows"]:
            rows += f"/{int(task.total or 0):,}"
        return Text(f"{rows} rows  {fields['done']}/{fields['models']} models")


class _RateColumn(ProgressColumn):
    """Rows per second since the start."""

    def render(self, task: Task) -> Text:
        """Return ``5,230 rows/s``, or nothing before the first second."""
        elapsed = task.elapsed
        if not elapsed or elapsed < 1:
            return Text("")
        return Text(f"{task.fields['rows'] / elapsed:,.0f} rows/s")
