"""A plan: the migrators a dump needs, their operations, and how to apply them.

.. versionadded:: 0.1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migrations_registry._rows import Router
from migrations_registry.exceptions import UnfinishedStubError
from migrations_registry.migration import check_model_label
from migrations_registry.operations import (
    AddField,
    RemoveField,
    RemoveModel,
    RenameField,
    RenameModel,
    RowTransform,
)
from migrations_registry.schema import SchemaTrace, trace_schema

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from packaging.version import Version

    from migrations_registry.operations import (
        AfterLoadHook,
        Operation,
        Row,
        Schema,
    )
    from migrations_registry.step import Step

__all__ = ["Plan"]


@dataclass(frozen=True, eq=False)
class Plan:
    """The migrators that upgrade a dump, in order, with what they recorded.

    Built by :meth:`Registry.plan <migrations_registry.registry.Registry.plan>`.

    :param steps: The migrators to run, in order.
    :param operations: Their operations, in order.
    :param after_load_hooks: Their after-load hooks, in order; the loader calls
        each ``hook.func(ctx)`` once all rows are loaded.
    :param dump_versions: The parsed versions recorded in the dump.
    :param current_versions: The parsed versions of the code.

    .. versionadded:: 0.1
    """

    steps: tuple[Step, ...] = ()
    operations: tuple[Operation, ...] = ()
    after_load_hooks: tuple[AfterLoadHook, ...] = ()
    dump_versions: Mapping[str, Version] = field(default_factory=dict)
    current_versions: Mapping[str, Version] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Return whether no migrator needs to run."""
        return not self.steps

    def unfinished(self) -> list[UnfinishedStubError]:
        """Return a problem per row function still marked as a stub (``todo=True``).

        A restore refuses such a plan: the stub was generated and nobody
        wrote it (#14).

        .. versionadded:: 0.3
        """
        return [
            UnfinishedStubError(op.step, op.name, op.location())
            for op in self.operations
            if isinstance(op, RowTransform) and op.todo
        ]

    def parallel_safe(self, model_label: str) -> bool:
        """Return whether the rows of a dumped model may be migrated batch by batch.

        True when :meth:`apply` gives the same rows for the batches of the
        model applied one by one, in separate processes, as for all its rows
        at once: when no operation its rows can meet keeps anything from one
        row to the next. Renames, removals and ``add_field`` with a value
        keep nothing; a row function keeps nothing only if it says so
        (``@m.rows(..., parallel=True)``); an ``add_field`` whose default is
        a function, and any other operation, may. A row function may return
        rows of any model, which go on through the operations after it: from
        the first row function on, every operation of the plan counts.

        :param model_label: The label of the model in the dump.
        :raises InvalidNameError: If *model_label* is malformed.

        .. versionadded:: 0.4
        """
        label = check_model_label(model_label)
        for index, op in enumerate(self.operations):
            if op.model_label != label:
                continue
            if type(op) is RemoveModel:
                return True
            if type(op) is RenameModel:
                label = op.new_label
            elif type(op) is RowTransform:
                return all(map(_keeps_nothing, self.operations[index:]))
            elif not _keeps_nothing(op):
                return False
        return True

    def trace_schema(self, schema: Schema) -> SchemaTrace:
        """Apply the operations to a dumped schema; return the result and its history.

        :param schema: Model label -> {field name: attname}, as dumped.
        :raises SchemaConflictError: If a rename would replace an existing field.
        """
        return trace_schema(self.operations, schema)[0]

    def migrate_schema(self, schema: Schema) -> dict[str, dict[str, str]]:
        """Return the schema that the operations make of a dumped schema.

        Model and field renames, removals and additions are applied in plan
        order; a model or field that the schema lacks is left alone. Use
        :meth:`trace_schema` to learn which operation explains a difference.

        :param schema: Model label -> {field name: attname}, as dumped.
        :raises SchemaConflictError: If a rename would replace an existing field.
        """
        return self.trace_schema(schema).schema

    def apply(
        self, model_label: str, rows: Iterable[Row], *, schema: Schema | None = None
    ) -> Iterator[tuple[str, Row]]:
        """Stream the dumped rows of one model through every operation, in order.

        Return an iterator of ``(model_label, row)``, one per resulting row,
        under its current label: a row may be renamed, dropped, edited,
        replaced, or split into rows of other models (which go on through the
        operations after the one that emitted them). Rows are edited in place
        and read one at a time, as the result is consumed; the rows of a
        removed model are read and dropped. A model that no operation touches
        costs no Python code per row.

        :param model_label: The label of the model in the dump.
        :param rows: Its rows, dicts keyed by attname.
        :param schema: The dumped schema (model label -> {field name:
            attname}); with it, field operations use the attnames it records;
            without it, a field ``name`` is looked up in a row as ``name``, then
            ``name + "_id"``.
        :raises InvalidNameError: If *model_label* is malformed.
        :raises RowTransformError: While iterating, if a row function or a
            callable default fails on a row.
        :raises SchemaConflictError: If *schema* is given and a rename would
            replace an existing field.
        """
        # A Router per call, not one cached per schema on the plan, so that a
        # frozen plan holds no state that changes. A restore calls this once per
        # dumped model; tracing the schema and compiling the routes of a call
        # (0.07 to 0.2 ms for 300 models of 12 fields) cost about what the key
        # of that cache did (0.16 ms; #11).
        attnames = {} if schema is None else trace_schema(self.operations, schema)[1]
        router = Router(self.operations, attnames)
        return router.stream(router.route(0, check_model_label(model_label)), rows)


def _keeps_nothing(op: Operation) -> bool:
    """Return whether *op* is known to keep nothing from one row to the next."""
    if type(op) is RowTransform:
        return op.parallel
    if type(op) is AddField:
        # A function may count or remember the rows it saw.
        return not callable(op.default)
    return type(op) in (RenameModel, RemoveModel, RenameField, RemoveField)
