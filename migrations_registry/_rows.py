"""Stream rows through a plan's operations.

For each ``(position, label)`` pair a row can enter at, the operations that can
touch it are compiled once into a :class:`Route`: the field operations up to the
next row transform, fused into one function, then that transform. A row of a
model that no operation touches is passed on by ``zip``, with no per-row Python
code at all; one that only field operations touch, by ``zip`` and ``map``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from migrations_registry._edits import Edit, chain_edits
from migrations_registry.exceptions import InvalidNameError, RowTransformError
from migrations_registry.migration import check_model_label
from migrations_registry.operations import (
    Operation,
    RemoveModel,
    RenameModel,
    Row,
    RowTransform,
)

__all__ = ["Route", "Router"]

_Emitted = Iterator[tuple[str, Row]]
_EXPECTED = "expected a dict, None, or a list of dicts and (model_label, dict) pairs"


@dataclass(frozen=True, slots=True)
class Route:
    """What happens to a row that enters the operations at some position.

    :param label: The row's label after the edits; ``None`` if it is dropped.
    :param edit: The fused field operations, or ``None`` if there are none.
    :param then: The row transform that follows the edits, with the route of the
        rows it returns under the same label; ``None`` if there is none.
    :param index: The position of that transform among the operations.
    """

    label: str | None
    edit: Edit | None
    then: tuple[RowTransform, Route] | None = None
    index: int = -1


def _failure(
    transform: RowTransform, row: Any, error: BaseException
) -> RowTransformError:
    reason = f"{type(error).__name__}: {error}"
    return RowTransformError(
        transform.step, transform.name, transform.model_label, row, reason
    )


def _bad_result(transform: RowTransform, row: Row, found: object) -> RowTransformError:
    error = TypeError(f"returned {found!r}: {_EXPECTED}")
    failure = _failure(transform, row, error)
    failure.__cause__ = error
    return failure


def _drained(rows: Iterable[Row]) -> _Emitted:
    for _ in rows:
        pass
    yield from ()


class Router:
    """Compile and cache the routes of rows through *operations*.

    :param attnames: Per operation index, the attnames a field operation acts
        on, as found in the dumped schema; other field operations look up
        ``name``, then ``name + "_id"``, in each row.
    """

    def __init__(
        self, operations: Sequence[Operation], attnames: Mapping[int, tuple[str, ...]]
    ) -> None:
        self._operations = operations
        self._attnames = attnames
        self._routes: dict[tuple[int, str], Route] = {}

    def route(self, start: int, label: str) -> Route:
        """Return the route of a row of *label* entering at operation *start*."""
        key = (start, label)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._compile(start, label)
        return route

    def stream(self, route: Route, rows: Iterable[Row]) -> _Emitted:
        """Return ``(label, row)`` for each row that comes out of *route*."""
        if route.then is not None:
            return self._transformed(route, rows)
        if route.label is None:
            return _drained(rows)
        if route.edit is None:
            return zip(repeat(route.label), rows)
        return zip(repeat(route.label), map(route.edit, rows))

    def _compile(self, start: int, label: str) -> Route:
        edits: list[tuple[int, Operation]] = []
        for index in range(start, len(self._operations)):
            operation = self._operations[index]
            if operation.model_label != label:
                continue
            if isinstance(operation, RenameModel):
                label = operation.new_label
            elif isinstance(operation, RemoveModel):
                return Route(None, None)
            elif isinstance(operation, RowTransform):
                then = (operation, self.route(index + 1, label))
                return Route(label, chain_edits(edits, self._attnames), then, index)
            else:
                edits.append((index, operation))
        return Route(label, chain_edits(edits, self._attnames))

    def _transformed(self, first: Route, rows: Iterable[Row]) -> _Emitted:
        for row in rows:
            route = first
            while True:
                if route.edit is not None:
                    route.edit(row)
                then = route.then
                if then is None:
                    if route.label is not None:
                        yield route.label, row
                    break
                transform, same = then
                try:
                    result = transform.func(row)
                except Exception as error:
                    raise _failure(transform, row, error) from error
                if type(result) is dict:
                    row, route = result, same
                    continue
                if result is None:
                    break
                for after, emitted in self._expand(route.index, then, row, result):
                    if after.then is not None:
                        yield from self._transformed(after, (emitted,))
                    elif after.label is not None:
                        # The common case, no transform follows: no generator.
                        if after.edit is not None:
                            after.edit(emitted)
                        yield after.label, emitted
                break

    def _expand(
        self, index: int, then: tuple[RowTransform, Route], row: Row, result: object
    ) -> list[tuple[Route, Row]]:
        """Return the route of each row in a transform's result but a plain dict.

        :param index: The position of the transform among the operations.
        :param then: The transform, and the route of the rows it returns under
            the label it transforms.
        """
        transform, same = then
        if type(result) is list:
            items: list[Any] | tuple[Any, ...] = result
        elif isinstance(result, dict):
            items = [result]
        elif isinstance(result, list | tuple):
            items = result
        else:
            raise _bad_result(transform, row, result)
        expanded = []
        for item in items:
            if isinstance(item, dict):
                expanded.append((same, item))
            elif type(item) is tuple and len(item) == 2 and isinstance(item[1], dict):
                label = item[0]
                if label == transform.model_label:
                    expanded.append((same, item[1]))
                else:
                    after = (
                        self._routes.get((index + 1, label))
                        if type(label) is str
                        else None
                    )
                    if after is None:
                        after = self._emitted_route(index, transform, label, row)
                    expanded.append((after, item[1]))
            else:
                raise _bad_result(transform, row, item)
        return expanded

    def _emitted_route(
        self, index: int, transform: RowTransform, label: object, row: Row
    ) -> Route:
        """Return the route of a row of a new *label* that a transform returned."""
        try:
            check_model_label(label)
        except InvalidNameError as error:
            raise _failure(transform, row, error) from error
        return self.route(index + 1, str(label))
