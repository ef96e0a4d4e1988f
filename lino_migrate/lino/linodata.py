"""The data files of a Lino dump, read one statement at a time with :mod:`ast`.

A data file of Lino's ``dump2py`` is a sequence of
``loader.save(create_<table>(...))`` calls whose arguments are literals,
``date(...)``, ``dt(...)`` and ``time(...)`` of integers, lists of texts
(babel values) and model names (content types), between ``logger.info(...)``
and ``loader.flush_deferred_objects()`` lines. :func:`read_calls` yields the
calls, and a problem (file, line, what) for any other shape. Nothing is run.

.. versionadded:: 0.3
"""

from __future__ import annotations

import ast
import datetime
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lino_migrate.lino.linocreate import constant_args, source_text

__all__ = ["MAX_STATEMENT_LINES", "Call", "ModelName", "read_calls"]

#: The most physical lines one statement of a data file may span.
MAX_STATEMENT_LINES = 1000
#: The calls of a data file whose integer arguments make a value.
_TEMPORAL = {"date": (3, 3), "dt": (6, 7), "time": (3, 4)}
#: Statements of a data file that log or flush and carry no data.
_HARMLESS = {("logger", "info"), ("logger", "debug"), ("logger", "warning")}
_HARMLESS_LOADER = {"flush_deferred_objects"}


@dataclass(frozen=True)
class ModelName:
    """A model named in a data file, as Lino writes a content type reference."""

    name: str


@dataclass(frozen=True)
class Call:
    """One ``loader.save(create_<table>(...))`` of a data file."""

    file: str
    line: int
    creator: str
    args: tuple[Any, ...]


def read_calls(directory: Path, name: str) -> Iterator[Call | str]:
    """Yield the calls of data file *name*, or a problem (``"file, line N: ..."``).

    The file is read one statement at a time: a statement is one line, or,
    where a line does not parse alone, as many lines as it takes (at most
    :data:`MAX_STATEMENT_LINES`).
    """
    path = directory / name
    problem = _regular_file(path)
    if problem:
        yield f"{name}: {problem}"
        return
    with path.open(encoding="utf-8", errors="strict", newline=None) as file:
        try:
            yield from _calls_in(name, file)
        except UnicodeDecodeError as e:
            yield f"{name}: not UTF-8 text ({e.reason} at byte {e.start})"


def _regular_file(path: Path) -> str | None:
    """Return why *path* is not a regular file that may be read, or ``None``."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as e:
        return f"cannot be read ({e.strerror}); main() in restore.py runs it"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a symbolic link or a special file)"
    return None


def _calls_in(name: str, file: Any) -> Iterator[Call | str]:
    pending: list[str] = []
    start = 0
    for number, line in enumerate(file, start=1):
        if not pending:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            start = number
        pending.append(line)
        try:
            tree = ast.parse("".join(pending))
        except SyntaxError as e:
            if _incomplete(e) and len(pending) < MAX_STATEMENT_LINES:
                continue
            yield f"{name}, line {start}: not valid Python ({e.msg})"
            pending = []
            continue
        except ValueError as e:
            yield f"{name}, line {start}: not valid Python ({e})"
            pending = []
            continue
        pending = []
        for node in tree.body:
            yield from _statement_calls(name, start + node.lineno - 1, node)
    if pending:
        yield f"{name}, line {start}: a statement that does not end (file truncated?)"


def _incomplete(error: SyntaxError) -> bool:
    """Return whether *error* says that the statement goes on in the next lines."""
    return error.msg.endswith("was never closed") or error.msg.startswith(
        ("unterminated triple-quoted", "unexpected EOF", "expected an indented block")
    )


def _statement_calls(name: str, line: int, node: ast.stmt) -> Iterator[Call | str]:
    where = f"{name}, line {line}"
    call = node.value if isinstance(node, ast.Expr) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        owner = call.func.value
        method = call.func.attr
        if isinstance(owner, ast.Name) and owner.id == "loader":
            if method == "save" and len(call.args) == 1 and not call.keywords:
                yield _saved(where, name, line, call.args[0])
                return
            if method in _HARMLESS_LOADER and not call.args and not call.keywords:
                return
        if (
            isinstance(owner, ast.Name)
            and (owner.id, method) in _HARMLESS
            and constant_args(call, str, len(call.args))
            and not call.keywords
        ):
            return
    if isinstance(node, ast.Raise):
        yield f"{where}: Lino's dump2py left this table out: {source_text(node, 200)}"
        return
    yield (
        f"{where}: not understood: {source_text(node)}; a data file holds "
        "loader.save(create_<table>(...)) calls with literal arguments"
    )


def _saved(where: str, name: str, line: int, node: ast.expr) -> Call | str:
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.startswith("create_")
        and not node.keywords
    ):
        return f"{where}: loader.save() of something else than create_<table>(...): {source_text(node)}"
    values = []
    for arg in node.args:
        try:
            values.append(_value(arg))
        except ValueError as e:
            return f"{where}: {e}"
    return Call(name, line, node.func.id, tuple(values))


def _value(node: ast.expr) -> Any:
    """Return the value *node* writes, or raise ValueError saying why it is none."""
    if isinstance(node, ast.Name):
        return ModelName(node.id)
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(item) for item in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        bounds = _TEMPORAL.get(node.func.id)
        count = len(node.args)
        if (
            bounds
            and not node.keywords
            and bounds[0] <= count <= bounds[1]
            and constant_args(node, int, count)
        ):
            return _temporal(node, [a.value for a in node.args])  # type: ignore[attr-defined]
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        msg = f"an argument that is not a literal: {source_text(node)}"
        raise ValueError(msg) from None
    if isinstance(value, dict | set | complex):
        msg = f"a {type(value).__name__} argument, which Lino never writes: {source_text(node)}"
        raise ValueError(msg)
    return value


def _temporal(node: ast.Call, numbers: list[int]) -> Any:
    kind = node.func.id  # type: ignore[attr-defined]
    try:
        if kind == "date":
            return datetime.date(*numbers)
        if kind == "time":
            return datetime.time(*numbers[:4])  # type: ignore[arg-type]
        # Naive, as Lino writes it (in UTC); the importer knows the zone.
        return datetime.datetime(*numbers[:7])  # type: ignore[arg-type]
    except (ValueError, OverflowError) as e:
        msg = f"{source_text(node)} is not a valid {kind}: {e}"
        raise ValueError(msg) from None
