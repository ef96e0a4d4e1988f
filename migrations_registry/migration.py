"""The context a migrator function records its operations on.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from migrations_registry.exceptions import InvalidNameError
from migrations_registry.operations import (
    AddField,
    AfterLoadHook,
    HookFunc,
    Operation,
    RemoveField,
    RemoveModel,
    RenameField,
    RenameModel,
    RowFunc,
    RowTransform,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from migrations_registry.step import Step

__all__ = [
    "AdapterFunc",
    "Migration",
    "MigratorFunc",
    "check_app_label",
    "check_field_name",
    "check_model_label",
]

#: A migrator function: records operations on the :class:`Migration` it gets.
MigratorFunc: TypeAlias = "Callable[[Migration], object]"
#: An adapter: records operations on the :class:`Migration` it gets, given the
#: schema the migrators leave of a dump and the current schema (model label ->
#: {field name: attname}).
AdapterFunc: TypeAlias = (
    "Callable[[Migration, Mapping[str, Mapping[str, str]], "
    "Mapping[str, Mapping[str, str]]], object]"
)

_OperationT = TypeVar("_OperationT", bound=Operation)
_RowFuncT = TypeVar("_RowFuncT", bound=RowFunc)
_HookFuncT = TypeVar("_HookFuncT", bound=HookFunc)


def check_app_label(value: object) -> str:
    """Return *value* if it is an app label.

    :raises InvalidNameError: If it is not a Python identifier, as Django requires.

    .. versionadded:: 0.1
    """
    if not isinstance(value, str) or not value.isidentifier():
        raise InvalidNameError(value, "app label")
    return value


def check_model_label(value: object) -> str:
    """Return *value* if it is a lower-case model label, ``app_label.model_name``.

    :raises InvalidNameError: If it is not.

    .. versionadded:: 0.1
    """
    if not isinstance(value, str) or value != value.lower():
        raise InvalidNameError(value, "model label")
    app_label, _, model_name = value.partition(".")
    if not (app_label.isidentifier() and model_name.isidentifier()):
        raise InvalidNameError(value, "model label")
    return value


def check_field_name(value: object) -> str:
    """Return *value* if it is a field name (a Python identifier).

    :raises InvalidNameError: If it is not.

    .. versionadded:: 0.1
    """
    if not isinstance(value, str) or not value.isidentifier():
        raise InvalidNameError(value, "field name")
    return value


class Migration:
    """Record the operations of one migrator; the ``m`` of ``def to_2_0(m)``.

    Calling a method records an operation; nothing runs on rows until a
    :class:`~migrations_registry.plan.Plan` applies them. Operations name models by
    label and fields by field name; rows are keyed by attname.

    :param step: The migrator whose operations are recorded.

    .. versionadded:: 0.1
    """

    def __init__(self, step: Step) -> None:
        self.step = step
        self._operations: list[Operation] = []
        self._hooks: list[AfterLoadHook] = []

    def __repr__(self) -> str:
        return f"<Migration {self.step}: {len(self._operations)} operations>"

    @property
    def operations(self) -> tuple[Operation, ...]:
        """Return the operations recorded so far, in order."""
        return tuple(self._operations)

    @property
    def after_load_hooks(self) -> tuple[AfterLoadHook, ...]:
        """Return the after-load hooks recorded so far, in order."""
        return tuple(self._hooks)

    def _record(self, operation: _OperationT) -> _OperationT:
        self._operations.append(operation)
        return operation

    def rename_model(self, old_label: str, new_label: str) -> RenameModel:
        """Rename a model; later operations see its rows under *new_label*.

        :raises InvalidNameError: If a label is malformed.
        """
        old, new = check_model_label(old_label), check_model_label(new_label)
        return self._record(RenameModel(self.step, old, new))

    def remove_model(self, label: str) -> RemoveModel:
        """Remove a model: its rows are dropped at this point of the plan.

        :raises InvalidNameError: If the label is malformed.
        """
        return self._record(RemoveModel(self.step, check_model_label(label)))

    def rename_field(
        self, model_label: str, old_name: str, new_name: str
    ) -> RenameField:
        """Rename a field; a ForeignKey's attname follows (``invoice_id`` -> ``bill_id``).

        :raises InvalidNameError: If the label or a name is malformed.
        """
        operation = RenameField(
            self.step,
            check_model_label(model_label),
            check_field_name(old_name),
            check_field_name(new_name),
        )
        return self._record(operation)

    def remove_field(self, model_label: str, name: str) -> RemoveField:
        """Remove a field from the model and from its rows.

        :raises InvalidNameError: If the label or the name is malformed.
        """
        operation = RemoveField(
            self.step, check_model_label(model_label), check_field_name(name)
        )
        return self._record(operation)

    def add_field(
        self,
        model_label: str,
        name: str,
        default: Any = None,
        *,
        attname: str | None = None,
    ) -> AddField:
        """Add a field to every row that does not have it yet.

        :param default: The value, or a callable taking the row and returning it.
        :param attname: The key of the field in rows; defaults to *name* (give
            ``name + "_id"`` for a ForeignKey).
        :raises InvalidNameError: If the label, name or attname is malformed.
        """
        label, name = check_model_label(model_label), check_field_name(name)
        key = name if attname is None else check_field_name(attname)
        return self._record(AddField(self.step, label, name, default, key))

    def rows(
        self, model_label: str, *, todo: bool = False, parallel: bool = False
    ) -> Callable[[_RowFuncT], _RowFuncT]:
        """Register the decorated function as a transform of each row of a model.

        The function takes a row and returns it (changed or not), ``None`` to drop
        it, or a list whose items are rows of this model or ``(model_label, row)``
        pairs for rows of other models. Returned rows go on through the operations
        recorded after this one.

        :param todo: Mark the function as a stub still to be written
            (``makemigrator`` writes its stubs so): every plan that would run
            it is refused (:meth:`Plan.unfinished
            <migrations_registry.plan.Plan.unfinished>`) until the mark is
            removed.
        :param parallel: Promise that the function keeps nothing from one row
            to the next and uses no database: its result depends on the row
            alone. A restore with ``--jobs`` may then run it on batches of rows
            in worker processes (:meth:`Plan.parallel_safe
            <migrations_registry.plan.Plan.parallel_safe>`).
        :raises InvalidNameError: If the label is malformed.

        .. versionchanged:: 0.3 *todo*.
        .. versionchanged:: 0.4 *parallel*.
        """
        label = check_model_label(model_label)

        def decorator(func: _RowFuncT) -> _RowFuncT:
            transform = RowTransform(self.step, label, func, bool(todo), bool(parallel))
            self._record(transform)
            return func

        return decorator

    def after_load(self, func: _HookFuncT) -> _HookFuncT:
        """Register the decorated function to run once all rows are loaded.

        The loader calls it with its context object; the registry only stores it.
        """
        self._hooks.append(AfterLoadHook(self.step, func))
        return func
