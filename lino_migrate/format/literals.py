"""Parse the row lines of a data file: Python literals, without running code.

A data file holds one row per line, written by :func:`repr` of a tuple:
``    (1, 'text', None, 2.5, True),``. Handing every line to CPython's compiler
or to :func:`ast.literal_eval` costs 20 to 50 µs a row, most of a restore's
time. :func:`parse_rows` reads a batch of lines in three ways, fastest first:

* as JSON: a few replacements (``'`` to ``"``, ``(`` to ``[``, ``None`` to
  ``null``...) turn the lines repr() writes into one JSON array, which the
  C decoder of :mod:`json` reads at about 1 µs a row. A row is kept only if
  :func:`repr` of the value read gives its line back, character for
  character: then the line is what repr() writes for that value, and
  :func:`ast.literal_eval` reads it as that value. A replacement that hit
  the inside of a string (``'None of it'``) or a token JSON has not
  (``b'...'``, ``(1,)``) fails that check or the decoder, and the line
  takes the next way (#16);
* by one regular expression that knows the tokens repr() writes (integers,
  floats, ``None``, ``True``, ``False``, strings and bytes with the escapes
  ``repr()`` uses, natural keys), at a few µs a row;
* any other line (a line a person reformatted, an escape ``repr()`` does
  not write) goes to :func:`parse_literal`, which is :func:`ast.literal_eval`:
  literals only, no expression, nothing run.

All ways give the value :func:`ast.literal_eval` gives for the same line, or
refuse it as it does; the tests take :func:`ast.literal_eval` as their
reference, on generated lines, hostile ones included.
"""

from __future__ import annotations

import ast
import codecs
import json
import re
import warnings
from typing import Any

__all__ = ["parse_literal", "parse_rows"]

# The escapes repr() writes in a string, and the characters it writes as
# they are (anything but the quote, a backslash, NUL and line breaks).
_ESCAPE = r"\\(?:[\\'\"tnr]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})"
# In bytes, repr() writes printable ASCII as it is and escapes the rest.
_BYTE_ESCAPE = r"\\(?:[\\'\"tnr]|x[0-9a-f]{2})"
_NAME = r"'[a-zA-Z0-9_ .-]*'"
# A simple token: a string or bytes as repr() writes them, a decimal number
# as repr() writes it, a keyword, or a tuple of plain names (a natural key).
# Every kind starts with a character of its own and ends before ", " or ")".
_TOKEN = (
    rf"'[^'\\\n\r\x00]*(?:{_ESCAPE}[^'\\\n\r\x00]*)*'"
    rf'|"[^"\\\n\r\x00]*(?:{_ESCAPE}[^"\\\n\r\x00]*)*"'
    rf"|b'[ -&(-\[\]-~]*(?:{_BYTE_ESCAPE}[ -&(-\[\]-~]*)*'"
    rf'|b"[ !#-\[\]-~]*(?:{_BYTE_ESCAPE}[ !#-\[\]-~]*)*"'
    r"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?"
    r"|None|True|False"
    rf"|\({_NAME}(?:, {_NAME})+\)"
)
# Each token with the text before it: the tuple's opening or a separator.
_TOKENS = re.compile(rf"(?:^    \(|, )({_TOKEN})")
_KEYWORDS: dict[str, Any] = {"None": None, "True": True, "False": False}


def _value(token: str) -> Any:
    first = token[0]
    if first == "'" or first == '"':
        if "\\" not in token:
            return token[1:-1]
        # Characters beyond Latin-1 become escapes too, then all are decoded.
        raw = token[1:-1].encode("latin-1", "backslashreplace")
        return raw.decode("unicode_escape")
    if first == "b":
        return codecs.escape_decode(token[2:-1])[0]
    if first == "(":
        return tuple(token[2:-2].split("', '"))
    if first in "NTF":
        return _KEYWORDS[token]
    if "." in token or "e" in token:
        return float(token)
    return int(token)


def parse_rows(lines: list[str]) -> list[Any]:
    """Return the values of the row *lines* of a data file, one per line.

    A line that is not a literal makes the whole call fail.

    :raises ValueError, SyntaxError: naming nothing; the caller knows the file.
    """
    if not lines:
        return []
    text = "\n".join(lines)
    if any(token in text for token in _BYTES):
        # Bytes, which JSON has not: read by their tokens.
        return _parse_tokens(lines)
    values: list[Any] = []
    start, misses = 0, 0
    while start < len(lines):
        try:
            values += _parse_json(lines[start:], text if start == 0 else None)
            return values
        except (ValueError, RecursionError) as e:
            # The decoder stops at the first line it cannot read: the lines
            # before it are read as JSON again, that one by its tokens.
            line = start + getattr(e, "lineno", 1) - 1
            values += _parse_json_or_tokens(lines[start:line])
            values += _parse_tokens(lines[line : line + 1])
            start, misses = line + 1, misses + 1
            if misses == _MAX_MISSES:
                values += _parse_tokens(lines[start:])
                return values
    return values


#: How a bytes token starts, after the opening of a row or a separator.
_BYTES = ("(b'", ", b'", '(b"', ', b"')
#: Lines the JSON decoder may fail on in one batch before the rest of the
#: batch is read by its tokens: each failure reads what follows again.
_MAX_MISSES = 8
# JSON's NaN and Infinity read as floats whose repr() ('nan', 'inf') is not
# the line: such a line fails the check like any other it does not match.
_decode = json.JSONDecoder().decode


def _parse_json(lines: list[str], text: str | None = None) -> list[Any]:
    """Return the values of *lines*, read as JSON and checked against repr().

    :param text: the *lines* joined by newlines, when the caller has them.
    :raises ValueError: (a :class:`json.JSONDecodeError` with the line
        number) when the lines do not form a JSON array.
    """
    if not lines:
        return []
    if text is None:
        text = "\n".join(lines)
    array = (
        text.replace('"', '\\"')
        .replace("'", '"')
        .replace("(", "[")
        .replace(")", "]")
        .replace("None", "null")
        .replace("True", "true")
        .replace("False", "false")
    )
    # Each line ends with the comma after its row: not the last one.
    found = _decode("[" + array[:-1] + "]")
    rows: list[Any] = [tuple(row) if type(row) is list else row for row in found]
    if len(rows) != len(lines):
        # Lines that are not one value each: each is checked by its tokens.
        return _parse_tokens(lines)
    if f"    {rows[0]!r}," == lines[0] and _written(rows) == text:
        return rows
    # JSON reads a natural key as a list: the rows may be right as tuples.
    nested = [
        tuple([tuple(v) if type(v) is list else v for v in row])
        if type(row) is tuple
        else row
        for row in rows
    ]
    if _written(nested) == text:
        return nested
    wrong: list[int] = []
    for n, line in enumerate(lines):
        if f"    {nested[n]!r}," == line:
            rows[n] = nested[n]
        elif f"    {rows[n]!r}," != line:
            wrong.append(n)
    if wrong:
        for n, row in zip(wrong, _parse_tokens([lines[n] for n in wrong]), strict=True):
            rows[n] = row
    return rows


def _written(rows: list[Any]) -> str:
    """Return the lines that repr() writes for *rows*, as a data file holds them."""
    return "\n".join([f"    {row!r}," for row in rows])


def _parse_json_or_tokens(lines: list[str]) -> list[Any]:
    """Return the values of *lines*: as JSON, or else by their tokens."""
    try:
        return _parse_json(lines)
    except (ValueError, RecursionError):
        return _parse_tokens(lines)


def _parse_tokens(lines: list[str]) -> list[Any]:
    """Return the values of *lines* by the tokens repr() writes, else as Python does."""
    values: list[Any] = []
    slow: list[int] = []
    tokens, value = _TOKENS.findall, _value
    for line in lines:
        # The line is simple when it is exactly its tokens, joined as repr()
        # joins the items of a tuple: then they are the items Python reads.
        found = tokens(line)
        if len(found) > 1:
            simple = line == "    (" + ", ".join(found) + "),"
        else:
            simple = len(found) == 1 and line == "    (" + found[0] + ",),"
        if simple:
            # A plain string, the most common token, is read without a call.
            row = [
                t[1:-1] if t[0] == "'" and "\\" not in t else value(t) for t in found
            ]
            values.append(tuple(row))
        else:
            slow.append(len(values))
            values.append(None)
    if slow:
        parsed = parse_literal("(\n" + "\n".join(lines[i] for i in slow) + "\n)")
        if type(parsed) is not tuple or len(parsed) != len(slow):
            msg = "the lines do not form one value each"
            raise ValueError(msg)
        for i, row in zip(slow, parsed, strict=True):
            values[i] = row
    return values


def parse_literal(source: str) -> Any:
    """Return the value of *source*, a Python literal, without running code.

    Exactly what :func:`ast.literal_eval` accepts is accepted: an expression
    that CPython would fold into a constant (``'ab' * 2048``, ``2 ** 10``,
    ``not 0``) is refused, not evaluated (#12).

    :raises ValueError, SyntaxError: when *source* is not a literal, or is
        nested too deeply to read.
    """
    with warnings.catch_warnings():
        # A hand-edited line such as '\9' or (1 2) makes the compiler warn;
        # the line is refused or read all the same, the warning only confuses.
        warnings.simplefilter("ignore")
        try:
            return ast.literal_eval(source)
        except (RecursionError, MemoryError) as e:
            msg = f"a value is nested too deeply or is too large to read ({e!r})"
            raise ValueError(msg) from None
