"""The row transform of the benchmark: one value of every row of every bench model.

The migrator of ``bench`` 1.1 (:mod:`benchmarks.bench.migrators`) applies
:data:`CHANGES` to the rows of a 1.0 dump while they are restored; the
benchmark (:mod:`benchmarks.steps`) checks the restored database against the
same table. This module imports no Django, so that the benchmark can use it
without setting Django up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CHANGES",
    "DUMP_VERSION",
    "RESTORE_VERSION",
    "Change",
    "plus_one",
    "row_function",
    "unchanged",
]

#: The version of the bench app that writes the dump ...
DUMP_VERSION = "1.0"
#: ... and the one that restores it, through the migrator to this version.
RESTORE_VERSION = "1.1"

Row = dict[str, Any]


def plus_one(value: int) -> int:
    """Return *value* plus one."""
    return value + 1


def unchanged(value: Any) -> Any:
    """Return *value*: for a model without a field worth changing."""
    return value


@dataclass(frozen=True)
class Change:
    """The value that the transform changes in every row of one model.

    :param label: the model label, as in the dump.
    :param column: the attname of the value, which is also its column.
    :param func: the new value, from the old one.
    :param key: the primary key column, to match the rows of two databases.
    """

    label: str
    column: str
    func: Callable[[Any], Any]
    key: str = "id"

    @property
    def table(self) -> str:
        """Return the table of the model (Django's default ``db_table``)."""
        return self.label.replace(".", "_")

    @property
    def changes_every_row(self) -> bool:
        """Return whether every row must come out with another value."""
        return self.func is not unchanged


#: One change per bench model. ``bench.product_tags`` (the automatic
#: many-to-many table) has only its id and two foreign keys, none of which can
#: change without breaking a link or a unique pair: its transform reads
#: ``tag_id`` and writes the same value back.
CHANGES = (
    Change("bench.country", "name", str.upper),
    Change("bench.tag", "name", str.upper),
    Change("bench.partner", "name", str.upper),
    Change("bench.person", "last_name", str.upper, key="partner_ptr_id"),
    Change("bench.company", "employees", plus_one, key="partner_ptr_id"),
    Change("bench.product", "name", str.upper),
    Change("bench.product_tags", "tag_id", unchanged),
    Change("bench.order", "status", str.upper),
    Change("bench.orderline", "qty", plus_one),
    Change("bench.payment", "method", str.upper),
    Change("bench.team", "name", str.upper),
    Change("bench.membership", "role", str.upper),
    Change("bench.note", "subject", str.upper),
    Change("bench.event", "kind", str.upper),
)


def row_function(change: Change) -> Callable[[Row], Row]:
    """Return the row function of *change*: it edits a row in place and returns it."""
    column, func = change.column, change.func

    def transform(row: Row) -> Row:
        row[column] = func(row[column])
        return row

    transform.__name__ = transform.__qualname__ = f"{func.__name__}_{column}"
    return transform
