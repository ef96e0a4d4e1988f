"""The operations that migrators record, and the types of rows and schemas.

A migrator function receives a :class:`~migrations_registry.migration.Migration`
and records operations on it. Each operation is an immutable record of what to do
to the schema and the rows, and of the :class:`~migrations_registry.step.Step`
(the migrator) that asked.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

if TYPE_CHECKING:
    from migrations_registry.step import Step

__all__ = [
    "AddField",
    "AfterLoadHook",
    "HookFunc",
    "Operation",
    "RemoveField",
    "RemoveModel",
    "RenameField",
    "RenameModel",
    "Row",
    "RowFunc",
    "RowResult",
    "RowTransform",
    "Schema",
]

#: A row of a model: a dict keyed by attname.
Row: TypeAlias = dict[str, Any]
#: What a row function returns: a row, ``None`` to drop it, or a sequence of rows
#: and ``(model_label, row)`` pairs.
RowResult: TypeAlias = Row | Sequence[Row | tuple[str, Row]] | None
#: A row function, registered with :meth:`Migration.rows`.
RowFunc: TypeAlias = Callable[[Row], RowResult]
#: A hook run by the loader after all rows are loaded, with the loader's context.
HookFunc: TypeAlias = Callable[[Any], object]
#: A schema: model label -> {field name: attname}.
Schema: TypeAlias = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class AfterLoadHook:
    """A hook recorded by :meth:`Migration.after_load`.

    The loader calls ``hook.func(ctx)`` once all rows are loaded.

    .. versionadded:: 0.1
    """

    step: Step
    func: HookFunc

    @property
    def name(self) -> str:
        """Return the hook function's name."""
        return str(getattr(self.func, "__name__", None) or repr(self.func))


@dataclass(frozen=True)
class Operation:
    """Base class of the operations that migrators record.

    :param step: The migrator that recorded the operation.
    :param model_label: The label of the model that the operation acts on, as it
        is when the operation runs.

    .. versionadded:: 0.1
    """

    verb: ClassVar[str] = "operation"

    step: Step
    model_label: str

    def arguments(self) -> tuple[str, ...]:
        """Return the arguments of the operation, as source text."""
        return (repr(self.model_label),)

    def describe(self) -> str:
        """Return the operation as the call that recorded it."""
        return f"{self.verb}({', '.join(self.arguments())})"

    def __str__(self) -> str:
        return f"{self.step}: {self.describe()}"


@dataclass(frozen=True)
class RenameModel(Operation):
    """Rename the model *model_label* to *new_label*.

    .. versionadded:: 0.1
    """

    verb: ClassVar[str] = "rename_model"

    new_label: str

    def arguments(self) -> tuple[str, ...]:
        """Return the arguments of the operation, as source text."""
        return (repr(self.model_label), repr(self.new_label))


@dataclass(frozen=True)
class RemoveModel(Operation):
    """Remove the model *model_label*, and drop its rows.

    .. versionadded:: 0.1
    """

    verb: ClassVar[str] = "remove_model"


@dataclass(frozen=True)
class RenameField(Operation):
    """Rename the field *old_name* of *model_label* to *new_name*.

    .. versionadded:: 0.1
    """

    verb: ClassVar[str] = "rename_field"

    old_name: str
    new_name: str

    def arguments(self) -> tuple[str, ...]:
        """Return the arguments of the operation, as source text."""
        return (repr(self.model_label), repr(self.old_name), repr(self.new_name))


@dataclass(frozen=True)
class RemoveField(Operation):
    """Remove the field *name* of *model_label*.

    .. versionadded:: 0.1
    """

    verb: ClassVar[str] = "remove_field"

    name: str

    def arguments(self) -> tuple[str, ...]:
        """Return the arguments of the operation, as source text."""
        return (repr(self.model_label), repr(self.name))


@dataclass(frozen=True)
class AddField(Operation):
    """Add the field *name* (column *attname*) to *model_label*, where missing.

    :param default: The value of the field in each row, or a callable that takes
        the row and returns it.

    .. versionadded:: 0.1
    """

    verb: ClassVar[str] = "add_field"

    name: str
    default: Any
    attname: str

    def arguments(self) -> tuple[str, ...]:
        """Return the arguments of the operation, as source text."""
        default = self.default
        text = getattr(default, "__name__", repr(default))
        args = [repr(self.model_label), repr(self.name), f"default={text}"]
        if self.attname != self.name:
            args.append(f"attname={self.attname!r}")
        return tuple(args)


@dataclass(frozen=True)
class RowTransform(Operation):
    """Pass each row of *model_label* through *func*.

    :param todo: Whether *func* is a stub still to be written (``makemigrator``
        marks the stubs it generates): a plan that holds one is refused.
    :param parallel: Whether *func* promises to keep nothing from one row to
        the next, so that batches of rows may go through it in separate
        processes (:meth:`Plan.parallel_safe
        <migrations_registry.plan.Plan.parallel_safe>`).

    .. versionadded:: 0.1
    .. versionchanged:: 0.3 *todo*.
    .. versionchanged:: 0.4 *parallel*.
    """

    verb: ClassVar[str] = "rows"

    func: RowFunc
    todo: bool = False
    parallel: bool = False

    @property
    def name(self) -> str:
        """Return the row function's name."""
        return str(getattr(self.func, "__name__", None) or repr(self.func))

    def arguments(self) -> tuple[str, ...]:
        """Return the arguments of the operation, as source text."""
        todo = ("todo=True",) if self.todo else ()
        parallel = ("parallel=True",) if self.parallel else ()
        return (repr(self.model_label), self.name, *todo, *parallel)

    def location(self) -> str | None:
        """Return ``file, line N`` of the row function, if Python knows it."""
        code = getattr(self.func, "__code__", None)
        if code is None:
            return None
        return f"{code.co_filename}, line {code.co_firstlineno}"
