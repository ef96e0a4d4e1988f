"""Insert a ``@migrator`` function into an app's ``migrators.py``, keeping the rest.

The function goes at the end, ``from migrations_registry import migrator``
after the leading imports if missing (placed by libcst's
``AddImportsVisitor``). libcst reproduces every other line
exactly, comments and line endings included. The new code is in the style of
``ruff format``, whatever the style of the file around it
(:mod:`lino_migrate.rewrite.rendering` writes it).

.. versionadded:: 0.1
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Sequence
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node
from packaging.version import InvalidVersion, Version

from lino_migrate.exceptions import MakeMigratorError
from lino_migrate.rewrite.rendering import (
    INDENT,
    MigratorOp,
    migrator_name,
    render_function,
    render_module,
)
from lino_migrate.rewrite.result import RewriteResult

__all__ = ["MigratorOp", "RewriteResult", "add_migrator", "migrator_name"]

_BOM = "\ufeff"


def add_migrator(
    source: str,
    app_label: str,
    version: str,
    operations: Sequence[MigratorOp],
    *,
    doc: Sequence[str] = (),
    path: Path = Path("migrators.py"),
) -> RewriteResult:
    """Return *source* with a migrator of *app_label* to *version* added at the end.

    An empty *source* becomes a new module. A *source* that has a function
    decorated ``@migrator(app_label, version)`` is returned unchanged, with a
    *skip_reason*. A malformed operation is left out, with a warning.

    :param doc: The lines of the new function's docstring.
    :param path: The file *source* was read from, for messages.
    :raises MakeMigratorError: When *source* does not parse.

    .. versionadded:: 0.1
    """
    # libcst drops a byte order mark; it is put back in front of the result.
    bom = _BOM if source.startswith(_BOM) else ""
    module = _parse(source.removeprefix(_BOM), path)
    scan = _Scan(app_label, version)
    module.visit(scan)
    if scan.existing is not None:
        reason = f"{path} has a migrator for {app_label} {version} already"
        return RewriteResult(
            source, False, skip_reason=f"{reason} ({scan.existing}): nothing added."
        )
    result = RewriteResult("", True)
    decorator, imported = _decorator_name(scan, result)
    name = _unique(migrator_name(version), scan.names, result)
    lines = render_function(
        decorator,
        name,
        app_label,
        version,
        operations,
        doc=doc,
        warnings=result.warnings,
    )
    if not module.code.strip():
        # A file of blank lines keeps its line endings too.
        result.code = bom + render_module(app_label, lines, module.default_newline)
        return result
    module = _with_function(module, lines)
    if not imported:
        module = _with_import(module, decorator)
    result.code = bom + module.code
    return result


def _parse(source: str, path: Path) -> cst.Module:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as e:
        raise _parse_error(source, path, e) from e


def _parse_error(
    source: str, path: Path, error: cst.ParserSyntaxError
) -> MakeMigratorError:
    """Return the error to raise for a module that libcst cannot parse."""
    try:
        ast.parse(source, str(path))
    except (SyntaxError, ValueError) as e:
        line = getattr(e, "lineno", None)
        msg = (
            f"the file does not parse ({getattr(e, 'msg', e)}), so no migrator "
            "can be added to it. Fix the error and run makemigrator again; "
            "nothing was written."
        )
        return MakeMigratorError(msg, path, line)
    found = re.sub(r"^parser error: error at \d+:\d+: ", "", error.message)
    msg = (
        f"libcst cannot parse the file ({found}), although Python can. Add the "
        "migrator by hand, or rewrite this line in an older syntax and run "
        "makemigrator again; nothing was written."
    )
    return MakeMigratorError(msg, path, error.editor_line)


class _Scan(cst.CSTVisitor):
    """Find an existing migrator for the version, and the names the module binds."""

    def __init__(self, app_label: str, version: str) -> None:
        super().__init__()
        self.app_label, self.version = app_label, version
        #: the local name of ``migrations_registry.migrator``, if imported
        self.imported: str | None = None
        #: names bound at module level (functions, classes, assignments, imports)
        self.names: set[str] = set()
        self.existing: str | None = None

    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef | cst.ClassDef):
                self.names.add(statement.name.value)
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._bind(small)

    def _bind(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, cst.AnnAssign | cst.AugAssign):
            targets = [small.target]
        elif isinstance(small, cst.Import | cst.ImportFrom):
            self._bind_import(small)
            return
        else:
            return
        self.names.update(t.value for t in targets if isinstance(t, cst.Name))

    def _bind_import(self, node: cst.ImportFrom | cst.Import) -> None:
        ours = isinstance(node, cst.ImportFrom) and _dotted(node.module) in {
            "migrations_registry",
            "migrations_registry.registry",
        }
        if isinstance(node.names, cst.ImportStar):
            self.imported = "migrator" if ours else self.imported
            return
        for alias in node.names:
            bound = _dotted(alias.asname.name if alias.asname else alias.name)
            self.names.add(bound.partition(".")[0])
            if ours and _dotted(alias.name) == "migrator":
                self.imported = bound

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            if self._is_ours(decorator.decorator):
                self.existing = f"def {node.name.value}"

    def _is_ours(self, expression: cst.BaseExpression) -> bool:
        """Return whether *expression* is ``migrator(app_label, version, ...)``."""
        if not isinstance(expression, cst.Call):
            return False
        called = _dotted(expression.func).rpartition(".")[2]
        if called not in {"migrator", self.imported}:
            return False
        args = _call_arguments(expression)
        found = args.get("app_label"), args.get("version", "")
        return found[0] == self.app_label and _same(found[1], self.version)


def _call_arguments(call: cst.Call) -> dict[str, str]:
    """Return the string arguments ``app_label`` and ``version`` of a call."""
    found: dict[str, str] = {}
    positional = ("app_label", "version")
    for index, arg in enumerate(call.args):
        key = arg.keyword.value if arg.keyword else None
        if key is None and index < len(positional) and not arg.star:
            key = positional[index]
        if key is None or not isinstance(arg.value, cst.SimpleString):
            continue
        value = arg.value.evaluated_value
        if isinstance(value, str):
            found[key] = value
    return found


def _same(one: str, other: str) -> bool:
    """Return whether two version strings name the same version (``3`` is ``3.0``)."""
    try:
        return Version(one) == Version(other)
    except InvalidVersion:
        return one == other


def _dotted(node: cst.CSTNode | None) -> str:
    """Return ``a.b.c`` for a Name or an Attribute chain, else ``""``."""
    return (get_full_name_for_node(node) or "") if node is not None else ""


def _unique(name: str, taken: set[str], result: RewriteResult) -> str:
    candidates = (name if i == 1 else f"{name}_{i}" for i in itertools.count(1))
    unique = next(c for c in candidates if c not in taken)
    if unique != name:
        msg = f"the module has a '{name}' already: the new migrator is '{unique}'"
        result.warnings.append(msg)
    return unique


def _decorator_name(scan: _Scan, result: RewriteResult) -> tuple[str, bool]:
    """Return the name to decorate with, and whether the module imports it."""
    if scan.imported is not None:
        return scan.imported, True
    if "migrator" not in scan.names:
        return "migrator", False
    result.warnings.append(
        "the module binds 'migrator' to something else: the new migrator imports "
        "migrations_registry.migrator as 'registry_migrator'"
    )
    return "registry_migrator", False


# Editing the module -----------------------------------------------------------


def _parse_body(module: cst.Module, lines: list[str]) -> Sequence[cst.BaseStatement]:
    """Return the statements of *lines* for *module*: its line endings, four spaces."""
    newline = module.default_newline
    parsed = cst.parse_module(newline.join(lines) + newline)
    return parsed.visit(_FourSpaces()).body


class _FourSpaces(cst.CSTTransformer):
    """Indent every block with four spaces, whatever the module it goes into uses."""

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated.with_changes(indent=updated.indent or INDENT)


def _blank_lines(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(count)]


def _with_function(module: cst.Module, lines: list[str]) -> cst.Module:
    """Return *module* with the function of *lines* last, below its end comments."""
    (function,) = _parse_body(module, lines)
    footer = list(module.footer)
    while footer and footer[-1].comment is None:
        footer.pop()
    function = function.with_changes(leading_lines=[*footer, *_blank_lines(2)])
    return module.with_changes(
        body=[*module.body, function], footer=[], has_trailing_newline=True
    )


def _with_import(module: cst.Module, name: str) -> cst.Module:
    """Return *module* with ``migrator`` imported after its leading imports.

    libcst's :class:`~libcst.codemod.visitors.AddImportsVisitor` chooses the
    place; the blank lines around the new import are then set as ruff
    formats them.
    """
    header, original = list(module.header), list(module.body)
    context = CodemodContext()
    asname = None if name == "migrator" else name
    AddImportsVisitor.add_needed_import(
        context, "migrations_registry", "migrator", asname=asname
    )
    module = AddImportsVisitor(context).transform_module(module)
    body: list[cst.BaseStatement] = list(module.body)
    at = next(i for i, statement in enumerate(body) if _is_ours_import(statement))
    statement = body[at]
    if at and not _is_import(body[at - 1]):
        body[at] = statement.with_changes(leading_lines=_blank_lines(1))
    if at < len(original) and not _is_import(original[at]):
        # The statement below as it was: libcst may have added a blank line.
        following = original[at]
        definition = isinstance(following, cst.FunctionDef | cst.ClassDef)
        if at == 0 and not any(line.comment for line in module.header):
            above: Sequence[cst.EmptyLine] = ()
        else:
            blank = [i for i, line in enumerate(header) if line.comment is None]
            cut = blank[-1] + 1 if blank else len(header)
            above = header[cut:]
            if at == 0:
                module = module.with_changes(header=header[:cut])
        body[at + 1] = _spaced(following, 2 if definition else 1, above)
    return module.with_changes(body=body)


def _is_ours_import(statement: cst.BaseStatement) -> bool:
    """Return whether *statement* imports ``migrator`` from migrations_registry."""
    return _is_import(statement) and any(
        isinstance(small, cst.ImportFrom)
        and _dotted(small.module) == "migrations_registry"
        for small in statement.body  # type: ignore[attr-defined]
    )


def _spaced(
    statement: cst.BaseStatement, wanted: int, above: Sequence[cst.EmptyLine] = ()
) -> cst.BaseStatement:
    """Return *statement* with *above* and at least *wanted* blank lines on top."""
    if not isinstance(statement, cst.SimpleStatementLine | cst.BaseCompoundStatement):
        return statement
    lines = [*above, *statement.leading_lines]
    count = next((i for i, line in enumerate(lines) if line.comment), len(lines))
    lines = [*_blank_lines(wanted - count), *lines]
    return statement.with_changes(leading_lines=lines)


def _import_position(module: cst.Module) -> int:
    """Return the index after the docstring and the imports that open *module*."""
    at = 0 if module.get_docstring(clean=False) is None else 1
    while at < len(module.body) and _is_import(module.body[at]):
        at += 1
    return at


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body
    )
