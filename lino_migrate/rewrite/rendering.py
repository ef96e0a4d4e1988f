"""Write the source of a new ``@migrator`` function from the steps inferred for it.

The source is laid out as ``ruff format`` lays it out, whatever the style of
the file it goes into: :mod:`lino_migrate.rewrite.migrators` inserts it with
libcst.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "IMPORT",
    "INDENT",
    "LINE_LENGTH",
    "MigratorOp",
    "OpKind",
    "migrator_name",
    "render_function",
    "render_module",
]

#: What ``ruff format`` allows on a line.
LINE_LENGTH = 88
#: One level of indentation, as ``ruff format`` writes it.
INDENT = "    "
#: The import that the ``@migrator`` decorator needs.
IMPORT = "from migrations_registry import migrator"

_LABEL = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*\Z")

OpKind = Literal["rename_model", "remove_model", "rename_field", "remove_field",
                 "add_field", "rows", "note"]  # fmt: skip


@dataclass(frozen=True)
class MigratorOp:
    """One inferred step of a new migrator: an operation, a row stub or a note.

    :param kind: ``rename_model``, ``remove_model``, ``rename_field``,
        ``remove_field``; ``add_field`` (a field that needs a value: written
        with ``default=None`` and a TODO); ``rows`` (a stub of a row function
        that computes field *name*, marked ``todo=True``); ``note`` (a comment, *text*).
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


def migrator_name(version: str) -> str:
    """Return the name of the migrator function to *version*: ``to_3_0`` for 3.0.

    .. versionadded:: 0.1
    """
    return "to_" + re.sub(r"\W", "_", version, flags=re.ASCII)


def render_function(
    decorator: str,
    name: str,
    app_label: str,
    version: str,
    operations: Sequence[MigratorOp],
    *,
    doc: Sequence[str] = (),
    warnings: list[str],
) -> list[str]:
    """Return the lines of the migrator function, without line endings.

    A malformed operation is left out, with a warning appended to *warnings*.

    :param decorator: The name ``migrations_registry.migrator`` is bound to.
    :param name: The name of the function.
    :param doc: The lines of its docstring; default: one line saying what it does.
    """
    return [
        f"@{decorator}({_quote(app_label)}, {_quote(version)})",
        f"def {name}(m):",
        *_docstring(doc or [f"Upgrade the rows of {app_label} to {version}."]),
        *_body_lines(operations, warnings),
    ]


def render_module(app_label: str, function: Sequence[str], newline: str = "\n") -> str:
    """Return a new ``migrators.py`` holding the lines of *function*.

    :param newline: The line ending of every line.
    """
    docstring = (
        f'"""Migrators of the {app_label} app: they upgrade the rows of older dumps."""'
    )
    return newline.join([docstring, "", IMPORT, "", "", *function]) + newline


def _body_lines(operations: Sequence[MigratorOp], warnings: list[str]) -> list[str]:
    """Return the lines of the operations, indented, without line endings."""
    lines: list[str] = []
    stubs = _stub_names(operations)
    after_def = False
    for op in operations:
        chunk = _render(op, stubs, warnings)
        if chunk is None:
            continue
        is_def = op.kind == "rows"
        if is_def or after_def:
            lines.append("")
        lines += [INDENT + line if line else "" for line in chunk]
        after_def = is_def
    return lines


def _docstring(doc: Sequence[str]) -> list[str]:
    # Every quote is escaped: one next to the triple quotes would end the string.
    escaped = [line.rstrip().replace("\\", "\\\\").replace('"', '\\"') for line in doc]
    if len(escaped) == 1:
        return [f'{INDENT}"""{escaped[0]}"""']
    return [
        f'{INDENT}"""{escaped[0]}',
        *[INDENT + line if line else "" for line in escaped[1:]],
        f'{INDENT}"""',
    ]


def _render(
    op: MigratorOp, stubs: dict[tuple[str, str], str], warnings: list[str]
) -> list[str] | None:
    """Return the lines of *op* at the function's indentation, or None with a warning."""
    if _malformed(op):
        warnings.append(f"left out {op}: a label or a name is malformed")
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
            width = LINE_LENGTH - len(INDENT) - 2
            return [f"# {line}" for line in textwrap.wrap(op.text, width)]
    warnings.append(f"left out {op}: unknown kind {op.kind!r}")
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
    """Return a row-function stub, marked ``todo=True`` so that plans refuse it (#14)."""
    todo = f"TODO: compute row[{_quote(op.key)}] from the old fields, then remove todo=True"
    return [
        *_call("@m.rows", [_quote(op.model_label), "todo=True"]),
        f"def {name}(row):",
        f"{INDENT}# {todo}",
        f"{INDENT}return row",
    ]


def _call(func: str, args: list[str], comment: str = "") -> list[str]:
    """Return a call as ``ruff format`` lays it out at the function's indentation."""
    width = LINE_LENGTH - len(INDENT)
    one = f"{func}({', '.join(args)})"
    if len(one) <= width:
        lines = [one]
    elif len(INDENT + ", ".join(args)) <= width:
        lines = [f"{func}(", INDENT + ", ".join(args), ")"]
    else:
        lines = [f"{func}(", *[f"{INDENT}{a}," for a in args], ")"]
    if not comment:
        return lines
    if len(lines[-1]) + 2 + len(comment) + 2 <= width:
        return [*lines[:-1], f"{lines[-1]}  # {comment}"]
    return [f"# {comment}", *lines]


def _quote(value: str) -> str:
    """Return *value* as a double-quoted literal, as ``ruff format`` writes it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
