"""A stream that says it is a terminal, and what a terminal shows of its output.

Shared by the tests of the progress bars and of the report tables (#14).
"""

from __future__ import annotations

import io
import re

#: A control sequence (CSI), a line end or a run of text.
_TOKEN = re.compile(r"\x1b\[([?\d;]*)([A-Za-z])|(\r)|(\n)|([^\x1b\r\n]+)")
#: The characters rich draws the boxes of its tables with (``box.SQUARE``).
BOX = frozenset("┌┬┐├┼┤└┴┘─│")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Return true: this stream is a terminal."""
        return True


def screen(output: str) -> list[str]:
    """Return the lines a terminal shows after *output*, trailing blanks dropped.

    Understood: text (overwriting), ``\\r``, ``\\n``, cursor up (``ESC[nA``)
    and erase line (``ESC[2K``); other sequences (colors, cursor shown or
    hidden) change nothing on the screen.
    """
    lines, row, column = [""], 0, 0
    for match in _TOKEN.finditer(output):
        argument, command, cr, lf, text = match.groups()
        if text:
            line = lines[row].ljust(column)
            lines[row] = line[:column] + text + line[column + len(text) :]
            column += len(text)
        elif cr:
            column = 0
        elif lf:
            row, column = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif command == "A":
            row = max(row - int(argument or 1), 0)
        elif command == "K" and argument == "2":
            lines[row] = ""
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.rstrip() for line in lines]


def without_controls(output: str) -> str:
    """Return *output* without its control sequences."""
    return re.sub(r"\x1b\[[?\d;]*[A-Za-z]", "", output)


def words(lines: list[str]) -> list[str]:
    """Return the words of *lines* in order, box characters left out.

    A report drawn as rich tables holds the words of its plain text in the
    same order: a row's cells read left to right, and the notes of a row are
    lines of its last cell.
    """
    text = "\n".join(lines)
    return "".join(" " if char in BOX else char for char in text).split()
