"""Insert a ``@migrator`` function into an app's ``migrators.py``, keeping the rest.

The function goes at the end, ``from migrations_registry import migrator``
after the leading imports if missing. libcst reproduces every other line
exactly, comments and line endings included. The new code is in the style of
``ruff format``, whatever the style of the file around it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import ast
import itertools
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import libcst as cst
from libcst.helpers import get_full_name_for_node
from packaging.version import InvalidVersion, Version

from lino_migrate.exceptions import MakeMigratorError

__all__ = ["MigratorOp", "RewriteResult", "add_migrator", "migrator_name"]

#: What ``ruff format`` allows on a line.
LINE_LENGTH = 88

_INDENT = "    "
_BOM = "\ufeff"
_LABEL = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*\Z")
_IMPORT = "from migrations_registry import migrator"

OpKind = Literal["rename_model", "remove_model", "rename_field", "remove_field",
                 "add_field", "rows", "note"]  # fmt: skip


@dataclass(frozen=True)
class MigratorOp:
    """One inferred step of a new migrator: an operation, a row stub or a note.

    :param kind: ``rename_model``, ``remove_model``, ``rename_field``,
        ``remove_field``; ``add_field`` (a field that needs a value: written
        with ``default=None`` and a TODO); ``rows`` (a stub of a row function
        that computes field *name*); ``note`` (a comment, *text*).
    :param model_label: The model, labelled as it is when the step runs.
    :param name: The field, if the step is about one.
    :param new: The new label (``rename_model``) or field name (``rename_field``).
    :param attname: The key of field *name* in rows, when it is not *name*
        (``customer_id`` for the ForeignKey ``customer``).
    :param text: The comment of a ``note``.

    .. versionadded:: 0.1
    """

    kind: OpKind
    model_label: str
    name: str = ""
    new: str = ""
    attname: str = ""
    text: str = ""

    @property
    def key(self) -> str:
        """Return the key of the field in rows."""
        return self.attname or self.name


@dataclass
class RewriteResult:
    """The new source, whether it differs, and what was not done as asked.

    :param skip_reason: Why nothing was added, when nothing was.
    """

    code: str
    changed: bool
    warnings: list[str] = field(default_factory=list)
    skip_reason: str | None = None


def migrator_name(version: str) -> str:
    """Return the name of the migrator function to *version*: ``to_3_0`` for 3.0."""
    return "to_" + re.sub(r"\W", "_", version, flags=re.ASCII)


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
    lines = [
        f"@{decorator}({_quote(app_label)}, {_quote(version)})",
        f"def {_unique(migrator_name(version), scan.names, result)}(m):",
        *_docstring(doc or [f"Upgrade the rows of {app_label} to {version}."]),
        *_body_lines(operations, result),
    ]
    if not module.code.strip():
        result.code = bom + _new_module(app_label, lines)
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


# Generated source ------------------------------------------------------------


def _body_lines(operations: Sequence[MigratorOp], result: RewriteResult) -> list[str]:
    """Return the lines of the operations, indented, without line endings."""
    lines: list[str] = []
    stubs = _stub_names(operations)
    after_def = False
    for op in operations:
        chunk = _render(op, stubs, result)
        if chunk is None:
            continue
        is_def = op.kind == "rows"
        if is_def or after_def:
            lines.append("")
        lines += [_INDENT + line if line else "" for line in chunk]
        after_def = is_def
    return lines


def _docstring(doc: Sequence[str]) -> list[str]:
    # Every quote is escaped: one next to the triple quotes would end the string.
    escaped = [line.rstrip().replace("\\", "\\\\").replace('"', '\\"') for line in doc]
    if len(escaped) == 1:
        return [f'{_INDENT}"""{escaped[0]}"""']
    return [
        f'{_INDENT}"""{escaped[0]}',
        *[_INDENT + line if line else "" for line in escaped[1:]],
        f'{_INDENT}"""',
    ]


def _render(
    op: MigratorOp, stubs: dict[tuple[str, str], str], result: RewriteResult
) -> list[str] | None:
    """Return the lines of *op* at the function's indentation, or None with a warning."""
    if _malformed(op):
        result.warnings.append(f"left out {op}: a label or a name is malformed")
        return None
    label = _quote(op.model_label)
    match op.kind:
        case "rename_model":
            return _call("m.rename_model", [label, _quote(op.new)])
        case "remove_model":
            app = op.model_label.partition(".")[0]
            hint = f'm.rename_model({label}, "{app}.<new>")'
            return _call("m.remove_model", [label], f"TODO: or {hint}")
        case "rename_field":
            args = [label, _quote(op.name), _quote(op.new)]
            return _call("m.rename_field", args)
        case "remove_field":
            return _call("m.remove_field", [label, _quote(op.name)])
        case "add_field":
            args = [label, _quote(op.name), "default=None"]
            if op.key != op.name:
                args.append(f"attname={_quote(op.key)}")
            stub = stubs.get((op.model_label, op.name))
            todo = f"{stub} below computes it, or give a default" if stub else "a value"
            return _call("m.add_field", args, f"TODO: {todo}")
        case "rows":
            return _stub(op, stubs[(op.model_label, op.name)])
        case "note":
            width = LINE_LENGTH - len(_INDENT) - 2
            return [f"# {line}" for line in textwrap.wrap(op.text, width)]
    result.warnings.append(f"left out {op}: unknown kind {op.kind!r}")
    return None


_NAMED = {"rename_field", "remove_field", "add_field", "rows"}


def _malformed(op: MigratorOp) -> bool:
    """Return whether a label or a name of *op* is not an identifier."""
    labels = [op.model_label, op.new] if op.kind == "rename_model" else [op.model_label]
    names = [n for n in (op.name, op.attname) if n]
    if op.kind == "rename_field":
        names.append(op.new)
    return (
        (op.kind in _NAMED and not op.name)
        or not all(_LABEL.match(label) for label in labels)
        or not all(name.isidentifier() for name in names)
    )


def _stub_names(operations: Sequence[MigratorOp]) -> dict[tuple[str, str], str]:
    """Return the name of each row stub: ``fill_<name>``, else with the model."""
    names: dict[tuple[str, str], str] = {}
    for op in operations:
        if op.kind != "rows" or _malformed(op):
            continue
        name = f"fill_{op.name}"
        if name in names.values():
            name = f"fill_{op.model_label.partition('.')[2]}_{op.name}"
        names[(op.model_label, op.name)] = name
    return names


def _stub(op: MigratorOp, name: str) -> list[str]:
    return [
        f"@m.rows({_quote(op.model_label)})",
        f"def {name}(row):",
        f"{_INDENT}# TODO: compute row[{_quote(op.key)}] from the old fields",
        f"{_INDENT}return row",
    ]


def _call(func: str, args: list[str], comment: str = "") -> list[str]:
    """Return a call as ``ruff format`` lays it out at the function's indentation."""
    width = LINE_LENGTH - len(_INDENT)
    one = f"{func}({', '.join(args)})"
    if len(one) <= width:
        lines = [one]
    elif len(_INDENT + ", ".join(args)) <= width:
        lines = [f"{func}(", _INDENT + ", ".join(args), ")"]
    else:
        lines = [f"{func}(", *[f"{_INDENT}{a}," for a in args], ")"]
    if not comment:
        return lines
    if len(lines[-1]) + 2 + len(comment) + 2 <= width:
        return [*lines[:-1], f"{lines[-1]}  # {comment}"]
    return [f"# {comment}", *lines]


def _quote(value: str) -> str:
    """Return *value* as a double-quoted literal, as ``ruff format`` writes it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _new_module(app_label: str, lines: list[str]) -> str:
    docstring = (
        f'"""Migrators of the {app_label} app: they upgrade the rows of older dumps."""'
    )
    return "\n".join([docstring, "", _IMPORT, "", "", *lines]) + "\n"


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
        return updated.with_changes(indent=updated.indent or _INDENT)


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
    """Return *module* with ``migrator`` imported after its leading imports."""
    text = _IMPORT if name == "migrator" else f"{_IMPORT} as {name}"
    (statement,) = _parse_body(module, [text])
    at = _import_position(module)
    body: list[cst.BaseStatement] = list(module.body)
    if not at and body:
        # Comments right above the first statement stay with it, below the import.
        blank = [i for i, line in enumerate(module.header) if line.comment is None]
        cut = blank[-1] + 1 if blank else len(module.header)
        body[0] = _spaced(body[0], 0, module.header[cut:])
        module = module.with_changes(header=module.header[:cut])
    if at and _is_import(body[at - 1]):
        return module.with_changes(body=[*body[:at], statement, *body[at:]])
    if at:
        statement = statement.with_changes(leading_lines=_blank_lines(1))
    if at < len(body):
        definition = isinstance(body[at], cst.FunctionDef | cst.ClassDef)
        body[at] = _spaced(body[at], 2 if definition else 1)
    return module.with_changes(body=[*body[:at], statement, *body[at:]])


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
