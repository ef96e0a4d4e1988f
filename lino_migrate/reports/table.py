"""Render the aligned tables of the reports as plain text.

Every report (``dumpplan``, ``dumpcompare``, the restore report) lays out
its tables here and nowhere else: the width of each column comes from its
content, so a long label widens its column instead of pushing the next one
out of line. This is the one module to change when the reports move to
``rich`` (a later issue); until then it stays plain text with no dependency.
Nothing here prints: a table returns its lines.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

__all__ = ["Table", "render_table"]

_ALIGNS = "<>"


class Table:
    """A plain-text table whose column widths fit its header and rows.

    A cell is shown with :func:`str` (``None`` as nothing). Columns are
    separated by *gap* spaces and every line starts with *indent* spaces;
    lines carry no trailing spaces. *align* gives each column ``<`` (left) or
    ``>`` (right); a column it leaves out is right-aligned when its cells are
    all numbers (or ``None``), left-aligned otherwise. The header of a column
    is aligned like its cells.

    :param rows: the rows, each a sequence of cells; rows may differ in length.
    :param headers: the header row, if any.
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
    ) -> None:
        wrong = sorted(set(align) - set(_ALIGNS))
        if wrong:
            msg = f"align takes only '<' and '>', not {', '.join(map(repr, wrong))}."
            raise ValueError(msg)
        self.rows = [tuple(row) for row in rows]
        self.headers: tuple[object, ...] | None = None
        if headers is not None:
            self.headers = tuple(headers)
        self.indent, self.gap = indent, gap
        count = max(map(len, [*self.rows, self.headers or ()]), default=0)
        self.align = align + "".join(
            ">" if _numeric(row[i] for row in self.rows if i < len(row)) else "<"
            for i in range(len(align), count)
        )
        self.widths = tuple(
            max(len(_text(row[i])) for row in self._all() if i < len(row))
            for i in range(count)
        )

    def _all(self) -> list[tuple[object, ...]]:
        return [self.headers, *self.rows] if self.headers is not None else self.rows

    def line(self, row: Sequence[object]) -> str:
        """Return *row* as a line of this table.

        *row* need not be one of the table's rows: a cell wider than its column
        pushes the rest of the line to the right, and a cell beyond the last
        column is left-aligned.
        """
        cells = []
        for i, cell in enumerate(row):
            text, width = _text(cell), self.widths[i] if i < len(self.widths) else 0
            right = self.align[i : i + 1] == ">"
            cells.append(text.rjust(width) if right else text.ljust(width))
        return (" " * self.indent + (" " * self.gap).join(cells)).rstrip()

    def lines(self) -> list[str]:
        """Return the header line, if any, then a line per row."""
        return [self.line(row) for row in self._all()]


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


def _text(cell: object) -> str:
    return "" if cell is None else str(cell)


def _numeric(cells: Iterable[object]) -> bool:
    """Return whether *cells* hold a number and otherwise only numbers or ``None``."""
    found = [cell for cell in cells if cell is not None]
    return bool(found) and all(
        isinstance(cell, numbers.Number) and not isinstance(cell, bool)
        for cell in found
    )
