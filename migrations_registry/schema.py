"""Run a plan's operations on a schema, remembering which operation did what.

A schema maps each model label to ``{field name: attname}``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrations_registry.exceptions import SchemaConflictError
from migrations_registry.operations import (
    AddField,
    Operation,
    RemoveField,
    RemoveModel,
    RenameField,
    RenameModel,
    RowTransform,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from migrations_registry.operations import Schema

__all__ = ["SchemaTrace", "renamed_attname", "trace_schema"]

_Key = tuple[str, str | None]


def renamed_attname(attname: str, old_name: str, new_name: str) -> str:
    """Return the attname of a field renamed from *old_name* to *new_name*.

    The attname keeps what follows the name (``invoice_id`` -> ``bill_id``); an
    attname that does not start with the name is kept as it is.

    .. versionadded:: 0.1
    """
    if attname.startswith(old_name):
        return new_name + attname[len(old_name) :]
    return attname


@dataclass(frozen=True)
class SchemaTrace:
    """The schema after a plan's operations, and which operation explains what.

    :param schema: The resulting schema: model label -> {field name: attname}.
    :param origins: Resulting model label -> its label in the dumped schema, for
        the models that come from the dump.

    .. versionadded:: 0.1
    """

    schema: dict[str, dict[str, str]]
    origins: Mapping[str, str]
    _history: Mapping[_Key, tuple[Operation, ...]]

    def explain(
        self, model_label: str, field_name: str | None = None
    ) -> tuple[Operation, ...]:
        """Return the operations that touched a model or one of its fields.

        A model or field is found by any label or name it had, so a removed one
        is found by the name it had when removed. For a model, the result holds
        the operations on the model (renames, removal, row transforms); for a
        field, those on the field (renames, removal, addition). Both in plan
        order; empty when no operation touched it.
        """
        return self._history.get((model_label, field_name), ())


class _Walk:
    """Apply operations to a copy of a schema, keeping a history per entity.

    An entity is one model or field across its renames; a label or name that two
    entities bore in turn (removed, then added again) explains both.
    """

    def __init__(self, schema: Schema) -> None:
        self.models = {label: dict(fields) for label, fields in schema.items()}
        self.origins = {label: label for label in schema}
        self.attnames: dict[int, tuple[str, ...]] = {}
        self._ids: dict[_Key, int] = {}
        self._counter = itertools.count()
        self._bearers: defaultdict[_Key, list[int]] = defaultdict(list)
        self._history: defaultdict[int, list[int]] = defaultdict(list)

    def entity(self, key: _Key) -> int:
        """Return the entity now known as *key*, created if there is none."""
        if key not in self._ids:
            self._ids[key] = next(self._counter)
            self._bearers[key].append(self._ids[key])
        return self._ids[key]

    def note(self, key: _Key, index: int) -> None:
        """Record that operation *index* touched the entity known as *key*."""
        self._history[self.entity(key)].append(index)

    def rekey(self, old: _Key, new: _Key) -> None:
        """Let the entity known as *old* be known as *new* from now on."""
        entity = self.entity(old)
        del self._ids[old]
        self._ids[new] = entity
        self._bearers[new].append(entity)

    def field_keys(self, label: str) -> list[_Key]:
        """Return the keys of the field entities now known under model *label*."""
        return [key for key in self._ids if key[0] == label and key[1] is not None]

    def forget(self, key: _Key) -> None:
        """Let no entity be known as *key* from now on."""
        self._ids.pop(key, None)

    def explained(
        self, operations: Sequence[Operation]
    ) -> dict[_Key, tuple[Operation, ...]]:
        """Return, per label or name ever borne, the operations that explain it."""
        explained = {}
        for key, entities in self._bearers.items():
            indexes = sorted({i for entity in entities for i in self._history[entity]})
            if indexes:
                explained[key] = tuple(operations[i] for i in indexes)
        return explained


def _rename_model(walk: _Walk, index: int, operation: RenameModel) -> None:
    old, new = operation.model_label, operation.new_label
    walk.note((old, None), index)
    walk.rekey((old, None), (new, None))
    for _, name in walk.field_keys(old):
        walk.rekey((old, name), (new, name))
    fields = walk.models.pop(old, None)
    if fields is None:
        return
    target = walk.models.setdefault(new, {})
    for name, attname in fields.items():
        if target.setdefault(name, attname) != attname:
            raise SchemaConflictError(operation, new, name)
    walk.origins.setdefault(new, walk.origins.pop(old))


def _remove_model(walk: _Walk, index: int, operation: RemoveModel) -> None:
    label = operation.model_label
    walk.note((label, None), index)
    walk.forget((label, None))
    for key in walk.field_keys(label):
        walk.forget(key)
    walk.models.pop(label, None)
    walk.origins.pop(label, None)


def _rename_field(walk: _Walk, index: int, operation: RenameField) -> None:
    label, old, new = operation.model_label, operation.old_name, operation.new_name
    walk.note((label, old), index)
    walk.rekey((label, old), (label, new))
    fields = walk.models.get(label)
    if fields is None or old not in fields:
        return
    if new in fields:
        raise SchemaConflictError(operation, label, new)
    attname = fields.pop(old)
    fields[new] = renamed_attname(attname, old, new)
    walk.attnames[index] = (attname, fields[new])


def _remove_field(walk: _Walk, index: int, operation: RemoveField) -> None:
    label, name = operation.model_label, operation.name
    walk.note((label, name), index)
    walk.forget((label, name))
    fields = walk.models.get(label)
    if fields is not None and name in fields:
        walk.attnames[index] = (fields.pop(name),)


def _add_field(walk: _Walk, index: int, operation: AddField) -> None:
    label = operation.model_label
    walk.note((label, operation.name), index)
    fields = walk.models.get(label)
    if fields is not None:
        fields.setdefault(operation.name, operation.attname)


def trace_schema(
    operations: Sequence[Operation], schema: Schema
) -> tuple[SchemaTrace, dict[int, tuple[str, ...]]]:
    """Apply *operations* to *schema*; return the trace and the attnames used.

    The attnames map the index of each field operation that found its field to
    the attnames it acted on: ``(old, new)`` for a rename, ``(attname,)`` for a
    removal. A model or field that the schema lacks is left alone.

    :raises SchemaConflictError: If a rename would replace an existing field.

    .. versionadded:: 0.1
    """
    walk = _Walk(schema)
    for index, operation in enumerate(operations):
        match operation:
            case RenameModel():
                _rename_model(walk, index, operation)
            case RemoveModel():
                _remove_model(walk, index, operation)
            case RenameField():
                _rename_field(walk, index, operation)
            case RemoveField():
                _remove_field(walk, index, operation)
            case AddField():
                _add_field(walk, index, operation)
            case RowTransform():
                walk.note((operation.model_label, None), index)
    trace = SchemaTrace(walk.models, walk.origins, walk.explained(operations))
    return trace, walk.attnames
