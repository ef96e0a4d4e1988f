"""The generated field edits that ``migrations_registry`` used before #11.

Kept here, outside the package, only as the baseline of
``benchmarks/registry_edits.py``: the field operations are compiled into the
source of one function and ``exec``-ed. The package now chains closures
(``migrations_registry._edits.chain_edits``) and executes no generated code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migrations_registry import AddField, Operation, RemoveField, RenameField
from migrations_registry._edits import Edit, _computed


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
