"""Tests of Plan.apply: streaming dumped rows through the operations."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from migrations_registry import (
    InvalidNameError,
    Migration,
    Plan,
    Registry,
    Row,
    RowTransformError,
)

Migrator = Callable[[Migration], None]


def plan_of(*migrators: tuple[str, Migrator]) -> Plan:
    """Return the plan that runs *migrators*, ("version", func), of app "app"."""
    registry = Registry()
    for version, func in migrators:
        registry.register("app", version, func)
    return registry.plan({"app": "0"}, {"app": "9"})


def run(plan: Plan, label: str, *rows: Row, **kwargs: Any) -> list[tuple[str, Row]]:
    return list(plan.apply(label, [dict(row) for row in rows], **kwargs))


def test_untouched_model_passes_through() -> None:
    """Rows of a model that no operation touches come out unchanged."""
    plan = plan_of(("1", lambda m: m.remove_model("app.other")))
    rows = [{"id": 1}, {"id": 2}]
    expected = [("app.book", {"id": 1}), ("app.book", {"id": 2})]
    assert expected == run(plan, "app.book", *rows)


def test_rename_model_changes_the_label() -> None:
    """rename_model yields the rows under the new label."""
    plan = plan_of(("1", lambda m: m.rename_model("app.client", "app.customer")))
    expected = [("app.customer", {"id": 1})]
    assert expected == run(plan, "app.client", {"id": 1})


def test_remove_model_drops_its_rows_but_reads_them() -> None:
    """remove_model drops every row, still consuming the input."""
    plan = plan_of(("1", lambda m: m.remove_model("app.legacy")))
    rows = iter([{"id": 1}, {"id": 2}])
    assert not list(plan.apply("app.legacy", rows))
    assert not list(rows)


def test_rename_field() -> None:
    """rename_field renames the key of a plain field."""
    plan = plan_of(("1", lambda m: m.rename_field("app.invoice", "amount", "total")))
    expected = [("app.invoice", {"id": 1, "total": 5})]
    assert expected == run(plan, "app.invoice", {"id": 1, "amount": 5})


def test_rename_foreign_key_renames_its_attname() -> None:
    """Renaming ForeignKey "invoice" to "bill" turns key invoice_id into bill_id."""
    plan = plan_of(("1", lambda m: m.rename_field("app.line", "invoice", "bill")))
    expected = [("app.line", {"id": 1, "bill_id": 7})]
    assert expected == run(plan, "app.line", {"id": 1, "invoice_id": 7})


def test_remove_field_and_foreign_key() -> None:
    """remove_field removes the key, name or name + "_id"."""

    def migrator(m: Migration) -> None:
        m.remove_field("app.line", "note")
        m.remove_field("app.line", "invoice")

    rows = run(
        plan_of(("1", migrator)), "app.line", {"id": 1, "note": "", "invoice_id": 7}
    )
    expected = [("app.line", {"id": 1})]
    assert expected == rows


def test_add_field_with_value_and_callable_default() -> None:
    """add_field sets a value, or calls the default with the row, where missing."""

    def migrator(m: Migration) -> None:
        m.add_field("app.invoice", "currency", default="EUR")
        m.add_field("app.invoice", "code", default=lambda row: f"I{row['id']}")
        m.add_field("app.invoice", "customer", default=3, attname="customer_id")

    rows = run(
        plan_of(("1", migrator)), "app.invoice", {"id": 1}, {"id": 2, "currency": "USD"}
    )
    expected = [
        ("app.invoice", {"id": 1, "currency": "EUR", "code": "I1", "customer_id": 3}),
        ("app.invoice", {"id": 2, "currency": "USD", "code": "I2", "customer_id": 3}),
    ]
    assert expected == rows


def test_row_transform_keeps_replaces_and_drops() -> None:
    """A row function may return the row, a new row, or None to drop it."""

    def migrator(m: Migration) -> None:
        @m.rows("app.person")
        def transform(row: Row) -> Row | None:
            if row["id"] == 1:
                return row
            if row["id"] == 2:
                return {"id": 2, "name": "replaced"}
            return None

    rows = run(plan_of(("1", migrator)), "app.person", {"id": 1}, {"id": 2}, {"id": 3})
    expected = [
        ("app.person", {"id": 1}),
        ("app.person", {"id": 2, "name": "replaced"}),
    ]
    assert expected == rows


def test_row_split_emits_a_row_of_another_model() -> None:
    """A row function may emit rows of other models as (label, row) pairs."""

    def migrator(m: Migration) -> None:
        @m.rows("app.person")
        def move_email(row: Row) -> list[Row | tuple[str, Row]]:
            email = row.pop("email")
            return [row, ("app.contact", {"person_id": row["id"], "email": email})]

    rows = run(plan_of(("1", migrator)), "app.person", {"id": 1, "email": "a@b"})
    expected = [
        ("app.person", {"id": 1}),
        ("app.contact", {"person_id": 1, "email": "a@b"}),
    ]
    assert expected == rows


def test_emitted_rows_continue_through_later_operations_of_their_model() -> None:
    """Emitted rows pass the operations after the emitting one, under their label."""

    def to_1(m: Migration) -> None:
        m.rename_field("app.contact", "mail", "email")  # before: must not apply

        @m.rows("app.person")
        def move_email(row: Row) -> list[tuple[str, Row]]:
            return [("app.person", row), ("app.contact", {"mail": row.pop("mail")})]

        m.rename_model("app.contact", "app.address")

    def to_2(m: Migration) -> None:
        m.add_field("app.address", "kind", default="home")
        m.remove_field("app.person", "id")

    rows = run(
        plan_of(("1", to_1), ("2", to_2)), "app.person", {"id": 1, "mail": "a@b"}
    )
    expected = [
        ("app.person", {}),
        ("app.address", {"mail": "a@b", "kind": "home"}),
    ]
    assert expected == rows


def test_merge_two_fields_into_one() -> None:
    """A row function may merge fields; later field operations see the result."""

    def migrator(m: Migration) -> None:
        @m.rows("app.person")
        def merge(row: Row) -> Row:
            row["name"] = f"{row.pop('first')} {row.pop('last')}"
            return row

        m.rename_field("app.person", "name", "full_name")

    rows = run(plan_of(("1", migrator)), "app.person", {"first": "A", "last": "B"})
    expected = [("app.person", {"full_name": "A B"})]
    assert expected == rows


def test_merge_model_into_another_then_remove_it() -> None:
    """Rows moved to another model survive the removal of their old model."""

    def migrator(m: Migration) -> None:
        @m.rows("app.company")
        def to_partner(row: Row) -> list[tuple[str, Row]]:
            return [("app.partner", {**row, "kind": "company"})]

        m.remove_model("app.company")

    rows = run(plan_of(("1", migrator)), "app.company", {"id": 4})
    expected = [("app.partner", {"id": 4, "kind": "company"})]
    assert expected == rows


def test_chain_where_order_matters() -> None:
    """2.0 renames a field, 3.0 transforms it under its new name."""

    def to_2_0(m: Migration) -> None:
        m.rename_field("app.invoice", "amount", "total")

    def to_3_0(m: Migration) -> None:
        @m.rows("app.invoice")
        def cents(row: Row) -> Row:
            row["total"] = row["total"] * 100
            return row

    plan = plan_of(("3.0", to_3_0), ("2.0", to_2_0))
    expected = [("app.invoice", {"total": 500})]
    assert expected == run(plan, "app.invoice", {"amount": 5})


def test_rename_model_then_operations_on_new_label() -> None:
    """After rename_model, operations on the new label apply to the old rows."""

    def migrator(m: Migration) -> None:
        m.rename_model("app.client", "app.customer")
        m.rename_field("app.client", "name", "old")  # old label: no longer matches
        m.rename_field("app.customer", "name", "title")

    expected = [("app.customer", {"title": "x"})]
    assert expected == run(plan_of(("1", migrator)), "app.client", {"name": "x"})


def test_schema_attnames_are_used_when_given() -> None:
    """With the dumped schema, field operations use its attnames, not a guess."""

    def migrator(m: Migration) -> None:
        m.rename_field("app.line", "parent", "owner")
        m.remove_field("app.line", "kind")

    plan = plan_of(("1", migrator))
    schema = {
        "app.line": {"parent": "parent_ref", "kind": "kind_code", "kind_id": "kind_id"}
    }
    row = {"parent_ref": 1, "kind_code": 2, "kind_id": 3}
    expected = [("app.line", {"kind_id": 3, "owner_ref": 1})]
    assert expected == run(plan, "app.line", row, schema=schema)
    expected = [("app.line", {"parent_ref": 1, "kind_code": 2})]
    assert expected == run(plan, "app.line", row)


def test_apply_streams_lazily() -> None:
    """apply reads a row only when the previous result has been consumed."""
    read: list[int] = []

    def source() -> Iterator[Row]:
        for i in range(3):
            read.append(i)
            yield {"id": i}

    def migrator(m: Migration) -> None:
        m.rows("app.book")(lambda row: [row, ("app.copy", {"book_id": row["id"]})])

    results = plan_of(("1", migrator)).apply("app.book", source())
    assert not read
    expected = ("app.book", {"id": 0})
    assert expected == next(results)
    expected = [0]
    assert expected == read
    expected = 5
    assert expected == len(list(results))
    expected = [0, 1, 2]
    assert expected == read


def test_failing_row_function_is_wrapped() -> None:
    """An exception in a row function becomes a RowTransformError with context."""

    def to_2_0(m: Migration) -> None:
        @m.rows("app.person")
        def split_name(row: Row) -> Row:
            row["first"], row["last"] = row.pop("name").split(" ")
            return row

    plan = plan_of(("2.0", to_2_0))
    with pytest.raises(
        RowTransformError,
        match=r"app 2\.0 \(to_2_0\): 'split_name' failed on a row of 'app.person' with KeyError",
    ) as info:
        run(plan, "app.person", {"id": 1, "name": "A B"}, {"id": 2})
    error = info.value
    expected = ("app", "2.0", "split_name")
    assert expected == (
        error.app_label,
        str(error.version),
        error.function,
    )
    expected = ("app.person", {"id": 2})
    assert expected == (error.model_label, error.row)
    assert isinstance(error.__cause__, KeyError)


def test_failing_callable_default_is_wrapped() -> None:
    """An exception in a callable default becomes a RowTransformError."""

    def compute(row: Row) -> object:
        return row["missing"]

    plan = plan_of(("1", lambda m: m.add_field("app.x", "y", default=compute)))
    with pytest.raises(
        RowTransformError, match=r"'compute' failed on a row of 'app\.x'"
    ):
        run(plan, "app.x", {"id": 1})


@pytest.mark.parametrize(
    "result", [42, [42], [("app.x",)], ("app.y", {"id": 1}), [("App.Y", {"id": 1})]]
)
def test_bad_row_function_result_is_an_error(result: object) -> None:
    """A row function must return a dict, None, or a list of rows and pairs."""
    plan = plan_of(("1", lambda m: m.rows("app.x")(lambda row: result)))
    with pytest.raises(
        RowTransformError, match=r"'<lambda>' failed on a row of 'app\.x'"
    ) as info:
        run(plan, "app.x", {"id": 1})
    assert isinstance(info.value.__cause__, TypeError | InvalidNameError)


def test_apply_rejects_malformed_label() -> None:
    """apply checks the model label it is given."""
    with pytest.raises(InvalidNameError):
        plan_of().apply("App.X", [])


def test_emitted_rows_pass_later_row_transforms_of_their_model() -> None:
    """A row emitted for another model goes through that model's later transforms."""

    def to_1(m: Migration) -> None:
        @m.rows("app.person")
        def emit(row: Row) -> list[Row | tuple[str, Row]]:
            return [row, ("app.contact", {"id": row["id"]})]

    def to_2(m: Migration) -> None:
        @m.rows("app.contact")
        def tag(row: Row) -> list[Row]:
            return [{**row, "tag": "a"}, {**row, "tag": "b"}]

    rows = run(plan_of(("1", to_1), ("2", to_2)), "app.person", {"id": 1})
    expected = [
        ("app.person", {"id": 1}),
        ("app.contact", {"id": 1, "tag": "a"}),
        ("app.contact", {"id": 1, "tag": "b"}),
    ]
    assert expected == rows


def test_dict_subclass_result_is_a_row() -> None:
    """A row function may return a dict subclass."""
    plan = plan_of(("1", lambda m: m.rows("app.x")(lambda row: OrderedDict(row))))
    expected = [("app.x", {"id": 1})]
    assert expected == run(plan, "app.x", {"id": 1})


def test_apply_leaves_the_plan_as_it_was() -> None:
    """A plan is its data: applying it, with or without a schema, stores nothing."""

    def migrator(m: Migration) -> None:
        m.rename_field("app.x", "a", "b")

    plan = plan_of(("1", migrator))
    before = dict(vars(plan))
    run(plan, "app.x", {"a": 1}, schema={"app.x": {"a": "a"}})
    run(plan, "app.x", {"a": 1})
    assert before == vars(plan)
    expected = [
        "steps",
        "operations",
        "after_load_hooks",
        "dump_versions",
        "current_versions",
    ]
    assert expected == [field.name for field in dataclasses.fields(plan)]
