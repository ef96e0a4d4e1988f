"""Read the ``restore.py`` of a dump of Lino's ``dump2py`` without running any of it.

A Lino dump is a directory of Python code: ``restore.py`` records the
site's version (``SOURCE_VERSION``), binds a variable to each model
(``x = resolve_model("app.Model")``), gives the languages of babel values
(``bv2kw``), defines one ``create_<table>(...)`` function per model
(:mod:`lino_migrate.lino.linocreate`), and ``main()`` runs the data files in
load order (:mod:`lino_migrate.lino.linodata`).

:func:`read_lino_dump` reads those statements with :mod:`ast` and nothing
else: no code of the dump is ever executed or imported. Lino's machinery
(imports, helper functions, ``if __name__ == "__main__"``) carries no data
and is passed over. Whatever carries data and has another shape is a
problem, named with its file and line; all are collected into one
:class:`~lino_migrate.exceptions.LinoDumpError`. It knows no Django:
:mod:`lino_migrate.lino.importer` gives the dump its meaning.

.. versionadded:: 0.3
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lino_migrate.exceptions import LinoDumpError
from lino_migrate.lino.linocreate import (
    Creator,
    Problem,
    constant_args,
    is_call,
    read_creator,
    source_text,
)

__all__ = ["LinoDump", "read_lino_dump"]

#: The largest ``restore.py`` read; Lino's own are well under a megabyte.
MAX_SCRIPT_SIZE = 64 << 20


@dataclass
class LinoDump:
    """What the ``restore.py`` of a Lino dump says, read without running it.

    :param values: its upper-case literal assignments (``SOURCE_VERSION``...).
    :param languages: the languages of the babel values, in their order.
    :param models: per model variable, the label given to ``resolve_model``.
    :param files: the data files ``main()`` runs, in order.
    """

    directory: Path
    values: dict[str, Any]
    languages: tuple[str, ...]
    models: dict[str, str]
    creators: dict[str, Creator]
    files: tuple[str, ...]

    @property
    def source_version(self) -> str | None:
        """Return the site version the dump records (``SOURCE_VERSION``)."""
        value = self.values.get("SOURCE_VERSION")
        return None if value is None else str(value)


def read_lino_dump(directory: Path | str) -> LinoDump:
    """Return what the ``restore.py`` of the Lino dump *directory* says.

    :raises LinoDumpError: listing every construct that cannot be read
        (file and line), or when *directory* is no Lino dump.
    """
    directory = Path(directory)
    script = directory / "restore.py"
    tree = _parse_script(directory, script)
    reader = _ScriptReader(directory)
    for node in tree.body:
        reader.statement(node)
    dump = reader.finish()
    if reader.problems:
        raise LinoDumpError(directory, reader.problems)
    return dump


def _parse_script(directory: Path, script: Path) -> ast.Module:
    if not directory.is_dir() or not script.is_file() or script.is_symlink():
        found = "a directory without restore.py" if directory.is_dir() else "nothing"
        problem = (
            f"restore.py: not found ({found} at '{directory}'); give the "
            "directory that Lino's `manage.py dump2py` wrote"
        )
        raise LinoDumpError(directory, [problem])
    if script.stat().st_size > MAX_SCRIPT_SIZE:
        problem = f"restore.py: larger than {MAX_SCRIPT_SIZE} bytes, not Lino's"
        raise LinoDumpError(directory, [problem])
    try:
        return ast.parse(script.read_bytes(), filename="restore.py")
    except (SyntaxError, ValueError) as e:
        line = getattr(e, "lineno", None) or 0
        problem = f"restore.py, line {line}: not valid Python ({e.msg if isinstance(e, SyntaxError) else e})"
        raise LinoDumpError(directory, [problem]) from None


def _where(file: str, node: ast.AST | int) -> str:
    line = node if isinstance(node, int) else getattr(node, "lineno", 0)
    return f"{file}, line {line}"


class _ScriptReader:
    """Read the statements of ``restore.py`` one by one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[str] = []
        self.values: dict[str, Any] = {}
        self.languages: tuple[str, ...] | None = None
        self.models: dict[str, str] = {}
        self.creators: dict[str, Creator] = {}
        self.files: list[str] | None = None

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            self._assign(node)
        elif isinstance(node, ast.FunctionDef):
            self._function(node)
        # Anything else (imports, the helper functions, `if __name__ ...`)
        # is Lino's machinery: it carries no data and is never run.

    def _assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            return
        name = node.targets[0].id
        value = node.value
        if name.startswith("create_"):
            self._problem(node, f"{name} is assigned, not defined with def")
        elif is_call(value, "resolve_model") and constant_args(value, str, 1):
            self.models[name] = value.args[0].value  # type: ignore[attr-defined]
        elif name.isupper():
            try:
                self.values[name] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                self._problem(node, f"{name} is not a literal: {source_text(value)}")

    def _function(self, node: ast.FunctionDef) -> None:
        if node.name.startswith("create_"):
            if node.name in self.creators:
                self._problem(node, f"{node.name} is defined twice")
                return
            creator = read_creator(node, self._problem)
            if creator is not None:
                self.creators[node.name] = creator
        elif node.name == "bv2kw":
            self.languages = _languages(node, self._problem)
        elif node.name == "main":
            self.files = _data_files(node, self._problem)

    def _problem(self, node: ast.AST | int, what: str) -> None:
        self.problems.append(f"{_where('restore.py', node)}: {what}")

    def finish(self) -> LinoDump:
        """Return the dump read; check what refers to what."""
        if not self.creators and not self.problems:
            self._problem(
                1, "no create_<table>() function: not a dump of Lino's dump2py"
            )
        if self.files is None:
            self._problem(1, "no main() that runs the data files (execfile(...))")
        for creator in self.creators.values():
            for var in (creator.model, creator.parent):
                if var is not None and var not in self.models:
                    what = f"{creator.name} makes a {var}, which no "
                    self._problem(
                        creator.line, what + f"`{var} = resolve_model(...)` defines"
                    )
            if self.languages is None and any(c.babel for c in creator.columns):
                self._problem(
                    creator.line, f"{creator.name} uses bv2kw, which is not defined"
                )
        return LinoDump(
            self.directory, self.values, self.languages or (), self.models,
            self.creators, tuple(self.files or ()),
        )  # fmt: skip


def _languages(node: ast.FunctionDef, problem: Problem) -> tuple[str, ...] | None:
    """Return the languages ``bv2kw`` passes to ``babelkw``, by position."""
    for call in ast.walk(node):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "babelkw"
        ):
            continue
        found: dict[int, str] = {}
        for keyword in call.keywords:
            value = keyword.value
            if (
                keyword.arg is None
                or not isinstance(value, ast.Subscript)
                or not isinstance(value.slice, ast.Constant)
                or type(value.slice.value) is not int
            ):
                problem(
                    keyword.value,
                    f"bv2kw: not a language=values[i]: {source_text(keyword.value)}",
                )
                return None
            found[value.slice.value] = keyword.arg
        if sorted(found) != list(range(len(found))):
            problem(call, f"bv2kw: the positions {sorted(found)} are not 0, 1, ...")
            return None
        return tuple(found[i] for i in range(len(found)))
    problem(
        node, "bv2kw does not call settings.SITE.babelkw(name, lang=values[i], ...)"
    )
    return None


def _data_files(node: ast.FunctionDef, problem: Problem) -> list[str]:
    """Return the data files ``main()`` runs with ``execfile``, in order."""
    files = []
    for statement in node.body:
        if isinstance(statement, ast.Raise):
            problem(statement, f"main() raises: {source_text(statement)}")
        if not (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
        ):
            continue
        call = statement.value
        if not (isinstance(call.func, ast.Name) and call.func.id == "execfile"):
            continue
        first = call.args[0] if call.args else None
        if not (isinstance(first, ast.Constant) and type(first.value) is str):
            problem(
                statement,
                f"execfile of a name that is not a literal: {source_text(call)}",
            )
            continue
        name = first.value
        if (
            os.sep in name
            or "/" in name
            or name.startswith(".")
            or not name.endswith(".py")
        ):
            problem(statement, f"execfile({name!r}): not a file of the dump directory")
            continue
        files.append(name)
    return files
