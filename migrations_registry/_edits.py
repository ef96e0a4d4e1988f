"""Fuse consecutive field operations into one generated row function.

A Python call costs more than a dict edit, so the field operations between two
row transforms are compiled into a single function, as :mod:`dataclasses` does
for ``__init__``. The generated source holds no value from the operations or the
schema: names and defaults are passed in as closure variables, so no text of a
migrator or a dump can inject code.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from migrations_registry.exceptions import RowTransformError
from migrations_registry.operations import (
    AddField,
    Operation,
    RemoveField,
    RenameField,
    Row,
)

__all__ = ["Edit", "fuse_edits"]

#: A fused edit: changes a row in place and returns it.
Edit = Callable[[Row], Row]


class _Source:
    """Lines of a generated function, and the closure variables they use."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: list[Any] = []

    def var(self, value: Any) -> str:
        """Return the name of a new closure variable holding *value*."""
        self.values.append(value)
        return f"v{len(self.values) - 1}"

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)


def _rename(source: _Source, known: tuple[str, ...] | None, op: RenameField) -> None:
    if known is not None:
        old, new = source.var(known[0]), source.var(known[1])
        source.add(f"if {old} in row:", f"    row[{new}] = row.pop({old})")
        return
    old, new = source.var(op.old_name), source.var(op.new_name)
    old_id, new_id = source.var(f"{op.old_name}_id"), source.var(f"{op.new_name}_id")
    source.add(
        f"if {old} in row:",
        f"    row[{new}] = row.pop({old})",
        f"elif {old_id} in row:",
        f"    row[{new_id}] = row.pop({old_id})",
    )


def _remove(source: _Source, known: tuple[str, ...] | None, op: RemoveField) -> None:
    if known is not None:
        source.add(f"row.pop({source.var(known[0])}, None)")
        return
    name, name_id = source.var(op.name), source.var(f"{op.name}_id")
    source.add(f"if {name} in row:", f"    del row[{name}]", "else:")
    source.add(f"    row.pop({name_id}, None)")


def _computed(operation: AddField) -> Callable[[Row], Any]:
    """Return ``default(row)``, wrapping its errors in RowTransformError."""
    default = operation.default
    function = str(getattr(default, "__name__", None) or repr(default))

    def compute(row: Row) -> Any:
        try:
            return default(row)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            label = operation.model_label
            raise RowTransformError(
                operation.step, function, label, row, reason
            ) from error

    return compute


def _add(source: _Source, operation: AddField) -> None:
    attname = source.var(operation.attname)
    if callable(operation.default):
        value = f"{source.var(_computed(operation))}(row)"
    else:
        value = source.var(operation.default)
    source.add(f"if {attname} not in row:", f"    row[{attname}] = {value}")


def fuse_edits(
    operations: Sequence[tuple[int, Operation]],
    attnames: Mapping[int, tuple[str, ...]],
) -> Edit | None:
    """Return one function that applies the field *operations* to a row in order.

    :param operations: ``(index, operation)`` pairs of field operations.
    :param attnames: Per index, the attnames found in the dumped schema; a field
        operation without them looks up ``name``, then ``name + "_id"``.
    :return: The function, or ``None`` if there is no operation.
    :raises TypeError: If an operation is not a field operation.
    """
    source = _Source()
    for index, operation in operations:
        known = attnames.get(index)
        if isinstance(operation, RenameField):
            _rename(source, known, operation)
        elif isinstance(operation, RemoveField):
            _remove(source, known, operation)
        elif isinstance(operation, AddField):
            _add(source, operation)
        else:
            msg = f"{operation!r} is not a field operation."
            raise TypeError(msg)
    if not source.lines:
        return None
    names = ", ".join(f"v{i}" for i in range(len(source.values)))
    body = "".join(f"        {line}\n" for line in source.lines)
    text = f"def make({names}):\n    def edit(row):\n{body}        return row\n"
    text += "    return edit\n"
    namespace: dict[str, Any] = {}
    # The text is built from fixed templates only: see the module docstring.
    exec(compile(text, "<migrations_registry field edits>", "exec"), namespace)
    edit: Edit = namespace["make"](*source.values)
    return edit
