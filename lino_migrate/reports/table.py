"""Render the aligned tables of the reports: plain text, or rich tables on a terminal.

Every report (``dumpplan``, ``dumpcompare``, the drift report, the restore
report) lays out its tables here and nowhere else: the width of each column
comes from its content, so a long label widens its column instead of pushing
the next one out of line. A report is built once, as a list of blocks
(:data:`Block`), each a line of text or a :class:`Table`, and written as
plain text or as rich tables from the same blocks.

:class:`ReportOutput` is the one place a text report is written. On a
terminal it draws each table as a `rich <https://rich.readthedocs.io>`_
table with box lines, the same columns aligned the same way (#14);
anywhere else (a pipe, a file, CI, ``TERM=dumb``) it writes the plain text
of :func:`plain_text`, which programs and the docs' captures read.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table as RichTable
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import JustifyMethod

__all__ = [
    "Block",
    "ReportOutput",
    "Table",
    "is_terminal",
    "plain_text",
    "render_table",
]

_ALIGNS = "<>"

#: What :meth:`ReportOutput.rows` yields: ``add(row, notes=())``.
AddRow = Callable[..., None]


class Table:
    """A table whose column widths fit its header and rows.

    A cell is shown with :func:`str` (``None`` as nothing). Columns are
    separated by *gap* spaces and every line starts with *indent* spaces;
    lines carry no trailing spaces. *align* gives each column ``<`` (left) or
    ``>`` (right); a column it leaves out is right-aligned when its cells are
    all numbers (or ``None``), left-aligned otherwise. The header of a column
    is aligned like its cells.

    :param rows: the rows, each a sequence of cells; rows may differ in length.
    :param headers: the header row, if any.
    :param notes: per row, the lines shown beneath it (details of the row),
        each after *note_prefix* in plain text; on a terminal, in the row's
        last cell, below its text.
    :param fit: more rows the columns are fitted to, not shown: the rows of
        a table written one at a time (:meth:`ReportOutput.rows`).
    :param plain: how a row reads as plain text, instead of aligned columns:
        the drift report keeps its ``label: rows, status`` lines.
    :raises ValueError: when *align* holds anything but ``<`` and ``>``.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        rows: Iterable[Sequence[object]] = (),
        *,
        headers: Sequence[str] | None = None,
        align: str = "",
        indent: int = 0,
        gap: int = 2,
        notes: Iterable[Sequence[str]] | None = None,
        note_prefix: str = "      ",
        fit: Iterable[Sequence[object]] = (),
        plain: Callable[[Sequence[object]], str] | None = None,
    ) -> None:
        wrong = sorted(set(align) - set(_ALIGNS))
        if wrong:
            msg = f"align takes only '<' and '>', not {', '.join(map(repr, wrong))}."
            raise ValueError(msg)
        self.rows = [tuple(row) for row in rows]
        self.notes = [tuple(lines) for lines in notes or ()]
        self.notes += [()] * (len(self.rows) - len(self.notes))
        self.headers: tuple[object, ...] | None = None
        if headers is not None:
            self.headers = tuple(headers)
        self.indent, self.gap = indent, gap
        self.note_prefix, self.plain = note_prefix, plain
        fitted = [*self.rows, *map(tuple, fit)]
        count = max(map(len, [*fitted, self.headers or ()]), default=0)
        self.align = align + "".join(
            ">" if _numeric(row[i] for row in fitted if i < len(row)) else "<"
            for i in range(len(align), count)
        )
        every = [self.headers, *fitted] if self.headers is not None else fitted
        self.widths = tuple(
            max(len(_text(row[i])) for row in every if i < len(row))
            for i in range(count)
        )

    def _all(self) -> list[tuple[object, ...]]:
        return [self.headers, *self.rows] if self.headers is not None else self.rows

    def add(self, row: Sequence[object], notes: Sequence[str] = ()) -> None:
        """Add *row*, and the *notes* beneath it; the widths stay as they were."""
        self.rows.append(tuple(row))
        self.notes.append(tuple(notes))

    def line(self, row: Sequence[object]) -> str:
        """Return *row* as a line of this table.

        *row* need not be one of the table's rows: a cell wider than its column
        pushes the rest of the line to the right, and a cell beyond the last
        column is left-aligned.
        """
        if self.plain is not None:
            return self.plain(row)
        cells = []
        for i, cell in enumerate(row):
            text, width = _text(cell), self.widths[i] if i < len(self.widths) else 0
            right = self.align[i : i + 1] == ">"
            cells.append(text.rjust(width) if right else text.ljust(width))
        return (" " * self.indent + (" " * self.gap).join(cells)).rstrip()

    def row_lines(self, row: Sequence[object], notes: Sequence[str] = ()) -> list[str]:
        """Return the line of *row* and, beneath it, its *notes* after the prefix."""
        return [self.line(row), *(self.note_prefix + note for note in notes)]

    def lines(self) -> list[str]:
        """Return the header line, if any, then the lines of each row."""
        head = [] if self.headers is None else [self.line(self.headers)]
        return head + [
            line
            for row, notes in zip(self.rows, self.notes, strict=True)
            for line in self.row_lines(row, notes)
        ]

    def rich(self) -> RenderableType:
        """Return the table as rich draws it: box lines, the same columns and alignment.

        The notes of a row are lines of its last cell, below the cell's text.
        """
        count = max(map(len, self.rows), default=0)
        count = max(count, len(self.widths))
        table = RichTable(box=box.SQUARE, show_header=self.headers is not None)
        for i in range(count):
            header = self.headers[i] if self.headers and i < len(self.headers) else ""
            # As in line(): a column beyond the fitted ones is left-aligned.
            justify: JustifyMethod = "right" if self.align[i : i + 1] == ">" else "left"
            table.add_column(Text(_text(header)), justify=justify)
        for row, notes in zip(self.rows, self.notes, strict=True):
            cells = [_text(row[i]) if i < len(row) else "" for i in range(count)]
            if notes and cells:
                cells[-1] = "\n".join([cells[-1], *notes])
            table.add_row(*map(Text, cells))
        return Padding(table, (0, 0, 0, self.indent))


#: A piece of a report: a line of text, or a table.
Block = str | Table


def render_table(
    rows: Iterable[Sequence[object]],
    *,
    headers: Sequence[str] | None = None,
    align: str = "",
    indent: int = 0,
    gap: int = 2,
) -> list[str]:
    """Return the lines of a table of *rows*; see :class:`Table` for the rest.

    .. versionadded:: 0.1
    """
    table = Table(rows, headers=headers, align=align, indent=indent, gap=gap)
    return table.lines()


def plain_text(blocks: Iterable[Block]) -> str:
    """Return the report *blocks* as plain text, each line ended.

    .. versionadded:: 0.1
    """
    lines = [
        line
        for block in blocks
        for line in ([block] if isinstance(block, str) else block.lines())
    ]
    return "\n".join(lines) + "\n"


class ReportOutput:
    """Where a text report goes: rich tables on a terminal, plain text elsewhere.

    Rich tables are drawn when *stream* is a terminal that is not dumb
    (``TERM=dumb``); elsewhere the output is :func:`plain_text`, written as
    each piece is ready. ``FORCE_COLOR`` does not make a pipe a terminal: a
    program reads plain text there.

    .. versionadded:: 0.1

    :param stream: where the report goes.
    :param write: writes plain text (default: ``stream.write``), such as above
        a progress bar.
    :param color: whether rich may use colors and styles (a command's
        ``--no-color``); ``NO_COLOR`` takes the colors off, as rich does.
    :param console: the rich console to draw on instead of one on *stream*
        (the docs record one); the report is then rich.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        write: Callable[[str], object] | None = None,
        color: bool = True,
        console: Console | None = None,
    ) -> None:
        self._write = write or stream.write
        if console is None:
            terminal = is_terminal(stream)
            # NO_COLOR is read by rich itself; --no-color leaves out styles too.
            console = Console(
                file=stream, force_terminal=terminal, highlight=False,
                no_color=None if color else True,
                color_system="auto" if color else None,
            )  # fmt: skip
            self.rich = terminal and not console.is_dumb_terminal
        else:
            self.rich = True
        self.console = console

    def write(self, text: str) -> None:
        """Write *text*, a message of whole lines, as it is."""
        if self.rich:
            self._print(text)
        else:
            self._write(text)

    def report(self, blocks: Iterable[Block]) -> None:
        """Write the report *blocks*: its lines of text and its tables."""
        if not self.rich:
            self._write(plain_text(blocks))
            return
        for block in blocks:
            if isinstance(block, str):
                self._print(block + "\n")
            elif block.rows or block.headers is not None:
                self.console.print(block.rich())

    @contextmanager
    def rows(self, table: Table) -> Iterator[AddRow]:
        """Yield ``add(row, notes=())``, which writes a row of *table* and its notes.

        In plain text each row is written at once, in the columns *table* was
        fitted to; on a terminal the table is drawn once the block ends (rich
        fits its columns to every row).
        """
        if not self.rich:

            def write_row(row: Sequence[object], notes: Sequence[str] = ()) -> None:
                self._write("\n".join(table.row_lines(row, notes)) + "\n")

            yield write_row
            return
        yield table.add
        self.console.print(table.rich())

    def _print(self, text: str) -> None:
        self.console.print(
            text, end="", markup=False, highlight=False, emoji=False, soft_wrap=True
        )


def is_terminal(stream: Any) -> bool:
    """Return whether *stream* is a terminal (``False`` once it is closed).

    .. versionadded:: 0.1
    """
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _text(cell: object) -> str:
    return "" if cell is None else str(cell)


def _numeric(cells: Iterable[object]) -> bool:
    """Return whether *cells* hold a number and otherwise only numbers or ``None``."""
    found = [cell for cell in cells if cell is not None]
    return bool(found) and all(
        isinstance(cell, numbers.Number) and not isinstance(cell, bool)
        for cell in found
    )
