"""Tests of Plan.parallel_safe: which rows may be migrated batch by batch (#16)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from migrations_registry import (
    InvalidNameError,
    Migration,
    Plan,
    Registry,
    Row,
    RowTransform,
)

Migrator = Callable[[Migration], None]


def plan_of(*migrators: Migrator) -> Plan:
    """Return the plan that runs *migrators*, as versions 1, 2, ... of app "app"."""
    registry = Registry()
    for version, func in enumerate(migrators, start=1):
        registry.register("app", str(version), func)
    return registry.plan({"app": "0"}, {"app": "9"})


def same(row: Row) -> Row:
    """Return the row as it is."""
    return row


def rows(label: str, *, parallel: bool = False) -> Migrator:
    """Return a migrator that records a row function of *label*."""

    def migrator(m: Migration) -> None:
        m.rows(label, parallel=parallel)(same)

    return migrator


def field_ops(m: Migration) -> None:
    """Rename, remove and add fields and models of "app.book"."""
    m.rename_field("app.book", "title", "name")
    m.remove_field("app.book", "legacy")
    m.add_field("app.book", "pages", default=0)
    m.rename_model("app.book", "app.volume")


def counted(m: Migration) -> None:
    """Add a field whose default is a function of the row."""
    m.add_field("app.book", "number", default=lambda row: len(row))


def removed(m: Migration) -> None:
    """Remove the model "app.book"."""
    m.remove_model("app.book")


def renamed(m: Migration) -> None:
    """Rename "app.book" to "app.volume"."""
    m.rename_model("app.book", "app.volume")


CASES: list[tuple[str, list[Migrator], bool]] = [
    ("no operation", [], True),
    ("field and model operations", [field_ops], True),
    ("a parallel row function", [rows("app.book", parallel=True)], True),
    ("a row function", [rows("app.book")], False),
    ("an add_field with a function", [counted], False),
    ("another model's row function", [rows("app.other")], True),
    (
        "another model's row function before the model's own",
        [rows("app.other"), rows("app.book", parallel=True)],
        True,
    ),
    (
        "another model's row function after the model's own: emitted rows reach it",
        [rows("app.book", parallel=True), rows("app.other")],
        False,
    ),
    (
        "another model's add_field with a function after the model's row function",
        [rows("app.book", parallel=True), lambda m: m.add_field("app.x", "n", len)],
        False,
    ),
    (
        "a row function under the model's new name",
        [renamed, rows("app.volume", parallel=True)],
        True,
    ),
    ("a row function after a rename", [renamed, rows("app.volume")], False),
    (
        "a row function of the old name after a rename",
        [renamed, rows("app.book")],
        True,
    ),
    ("a row function after the model is removed", [removed, rows("app.book")], True),
    (
        "two parallel row functions and field operations",
        [rows("app.book", parallel=True), field_ops, rows("app.volume", parallel=True)],
        True,
    ),
    (
        "a parallel row function then a row function",
        [rows("app.book", parallel=True), rows("app.book")],
        False,
    ),
]


@pytest.mark.parametrize(
    ("migrators", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in CASES],
)
def test_parallel_safe(migrators: list[Migrator], expected: bool) -> None:
    """Rows may be migrated per batch only if nothing they can meet keeps state."""
    assert expected == plan_of(*migrators).parallel_safe("app.book")


def test_a_removed_model_is_safe_whatever_comes_after_it() -> None:
    """Rows of a removed model are dropped before any row function."""
    plan = plan_of(rows("app.book"), removed)
    assert not plan.parallel_safe("app.book")
    assert plan_of(removed, rows("app.other")).parallel_safe("app.book")


def test_a_malformed_label_is_refused() -> None:
    """parallel_safe checks the label as apply does."""
    with pytest.raises(InvalidNameError, match="Book"):
        plan_of().parallel_safe("app.Book")


def test_the_flag_is_recorded_and_described() -> None:
    """rows(parallel=True) is kept on the RowTransform and in its description."""
    plan = plan_of(rows("app.book", parallel=True), rows("app.book"))
    first, second = plan.operations
    assert isinstance(first, RowTransform)
    assert isinstance(second, RowTransform)
    assert (True, False) == (first.parallel, second.parallel)
    assert "rows('app.book', same, parallel=True)" == first.describe()
    assert "rows('app.book', same)" == second.describe()


def test_a_safe_plan_gives_the_same_rows_batch_by_batch() -> None:
    """Applied per batch, a parallel-safe plan gives the rows computed by hand."""

    def split(m: Migration) -> None:
        @m.rows("app.book", parallel=True)
        def move_pages(row: Row) -> Any:
            pages = {"book_id": row["id"], "count": row.pop("pages")}
            return [row, ("app.pages", pages)]

        m.rename_field("app.pages", "count", "total")

    plan = plan_of(split)
    assert plan.parallel_safe("app.book")
    dumped = [{"id": n, "pages": 10 * n} for n in range(1, 6)]
    found = []
    for start in range(0, 5, 2):
        batch = [dict(row) for row in dumped[start : start + 2]]
        found += list(plan.apply("app.book", batch))
    expected = []
    for n in range(1, 6):
        expected += [
            ("app.book", {"id": n}),
            ("app.pages", {"book_id": n, "total": 10 * n}),
        ]
    assert expected == found
