"""Parse the row lines of a data file: Python literals, without running code.

A data file holds one row per line, written by :func:`repr` of a tuple:
``    (1, 'text', None, 2.5, True),``. Handing every line to CPython's compiler
or to :func:`ast.literal_eval` costs 20 to 50 µs a row, most of a restore's time. Nearly every line is made
of tokens as :func:`repr` writes them (integers, floats, ``None``, ``True``,
``False``, strings and bytes with the escapes ``repr()`` uses, natural keys),
which :func:`parse_rows` reads with one regular expression at a few µs a
row. Any other line (a line a person reformatted, an escape ``repr()`` does
not write) goes to :func:`parse_literal`, which is :func:`ast.literal_eval`:
literals only, no expression, nothing run. Both paths give the value
:func:`ast.literal_eval` gives for the same line, or refuse it as it does;
the tests take :func:`ast.literal_eval` as their reference, on generated
lines, hostile ones included.
"""

from __future__ import annotations

import ast
import codecs
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
