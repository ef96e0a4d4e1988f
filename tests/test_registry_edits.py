"""A plan's chained field edits do what the operations say, row for row."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from migrations_registry import (
    AddField,
    Operation,
    RemoveField,
    RenameField,
    Row,
    RowTransform,
    RowTransformError,
    Step,
)
from migrations_registry._edits import Edit, chain_edits

STEP = Step("app", Version("1.0"), lambda m: None)
LABEL = "app.thing"
NAMES = ("a", "b", "c")
KEYS = (*NAMES, "a_id", "b_id", "c_id", "x")


def size(row: Row) -> int:
    """Return the number of keys of *row*: a default that reads the row."""
    return len(row)


def need_a(row: Row) -> object:
    """Return ``row["a"]``: a default that fails on a row without it."""
    return row["a"]


names = st.sampled_from(NAMES)
keys = st.sampled_from(KEYS)
defaults = st.sampled_from([0, None, "v", size, need_a])
renames = st.builds(RenameField, st.just(STEP), st.just(LABEL), names, names)
removes = st.builds(RemoveField, st.just(STEP), st.just(LABEL), names)
adds = st.builds(AddField, st.just(STEP), st.just(LABEL), names, defaults, keys)
rows = st.dictionaries(keys, st.integers(0, 9)).flatmap(
    lambda row: st.sampled_from([row, OrderedDict(row)])
)


@st.composite
def field_operations(
    draw: st.DrawFn,
) -> tuple[list[tuple[int, Operation]], dict[int, tuple[str, ...]]]:
    """Draw ``(index, operation)`` pairs and, for some, the attnames found."""
    operations: list[Operation] = draw(st.lists(renames | removes | adds, max_size=8))
    indexed = list(enumerate(operations))
    attnames: dict[int, tuple[str, ...]] = {}
    for index, operation in indexed:
        if isinstance(operation, AddField) or not draw(st.booleans()):
            continue
        count = 2 if isinstance(operation, RenameField) else 1
        attnames[index] = tuple(draw(st.lists(keys, min_size=count, max_size=count)))
    return indexed, attnames


def outcome(edit: Edit | None, row: Row) -> tuple[Any, ...]:
    """Return what *edit* makes of a copy of *row*, or the error it raises."""
    row = type(row)(row)
    if edit is None:
        return ("none",)
    try:
        result = edit(row)
    except RowTransformError as error:
        attributes = (error.function, error.model_label, error.step, error.row)
        cause = type(error.__cause__)
        return ("error", str(error), attributes, cause, list(row.items()))
    return ("row", result is row, type(result), list(result.items()))


def by_hand(
    indexed: list[tuple[int, Operation]], attnames: dict[int, tuple[str, ...]], row: Row
) -> tuple[Any, ...]:
    """Apply the operations to a copy of *row* as the migrators page says.

    The oracle: a rename or removal takes the attnames found in the dumped
    schema, else the field name, else ``name_id``; an add fills a missing
    attname with the default, called with the row when it is callable.
    """
    row = type(row)(row)
    for index, op in indexed:
        known = attnames.get(index)
        if isinstance(op, RenameField):
            pairs = [known] if known else [
                (op.old_name, op.new_name), (f"{op.old_name}_id", f"{op.new_name}_id")
            ]  # fmt: skip
            for old, new in pairs:
                if old in row:
                    row[new] = row.pop(old)
                    break
        elif isinstance(op, RemoveField):
            for name in [known[0]] if known else [op.name, f"{op.name}_id"]:
                if name in row:
                    del row[name]
                    break
        elif isinstance(op, AddField) and op.attname not in row:
            default = op.default
            try:
                row[op.attname] = default(row) if callable(default) else default
            except KeyError:
                return ("error", list(row.items()))
    return ("row", True, type(row), list(row.items()))


@settings(database=None, max_examples=300)
@given(operations=field_operations(), row=rows)
def test_edits_do_what_the_operations_say(
    operations: tuple[list[tuple[int, Operation]], dict[int, tuple[str, ...]]],
    row: Row,
) -> None:
    """Keys, values, key order and the row returned are as computed by hand.

    A default that fails is a RowTransformError naming the function, the
    model and the row as it was then.
    """
    indexed, attnames = operations
    expected = by_hand(indexed, attnames, row)
    actual = outcome(chain_edits(indexed, attnames), row)
    if not indexed:
        assert ("none",) == actual
    elif expected[0] == "error":
        assert "error" == actual[0]
        assert ("need_a", LABEL) == actual[2][:2]
        assert expected[1] == actual[4]
    else:
        assert expected == actual


@pytest.mark.parametrize("fuse", [chain_edits])
def test_no_operation_gives_no_edit(
    fuse: Callable[[list[tuple[int, Operation]], dict[int, Any]], Edit | None],
) -> None:
    """Without field operations there is no function to call on each row."""
    assert fuse([], {}) is None


@pytest.mark.parametrize("fuse", [chain_edits])
def test_row_transform_is_not_a_field_operation(
    fuse: Callable[[list[tuple[int, Operation]], dict[int, Any]], Edit | None],
) -> None:
    """Only field operations can be fused."""
    transform = RowTransform(STEP, LABEL, size)
    with pytest.raises(TypeError, match=r"RowTransform\(.*\) is not a field operation"):
        fuse([(0, transform)], {})
