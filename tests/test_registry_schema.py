"""Tests of Plan.migrate_schema and Plan.trace_schema."""

from __future__ import annotations

import pytest

from migrations_registry import (
    Migration,
    Plan,
    Registry,
    RemoveField,
    RenameField,
    RenameModel,
    RowTransform,
    SchemaConflictError,
)

SCHEMA = {
    "ledger.client": {"id": "id", "name": "name"},
    "ledger.invoice": {
        "id": "id",
        "amount": "amount",
        "client": "client_id",
        "legacy_flag": "legacy_flag",
    },
    "ledger.legacy": {"id": "id"},
}


def to_2_0(m: Migration) -> None:
    """Upgrade the ledger to 2.0."""
    m.rename_model("ledger.client", "ledger.customer")
    m.rename_field("ledger.invoice", "amount", "total")
    m.rename_field("ledger.invoice", "client", "customer")
    m.remove_field("ledger.invoice", "legacy_flag")
    m.add_field("ledger.invoice", "currency", default="EUR")
    m.add_field("ledger.invoice", "payer", attname="payer_id")
    m.remove_model("ledger.legacy")
    m.rows("ledger.customer")(lambda row: row)


def plan_of(func: object = to_2_0) -> Plan:
    registry = Registry()
    registry.register("ledger", "2.0", func)  # type: ignore[arg-type]
    return registry.plan({"ledger": "1.0"}, {"ledger": "2.0"})


def test_migrate_schema_applies_operations_in_order() -> None:
    """Renames, removals and additions give the schema of the current models."""
    expected = {
        "ledger.customer": {"id": "id", "name": "name"},
        "ledger.invoice": {
            "id": "id",
            "total": "total",
            "customer": "customer_id",
            "currency": "currency",
            "payer": "payer_id",
        },
    }
    assert expected == plan_of().migrate_schema(SCHEMA)


def test_migrate_schema_does_not_change_its_input() -> None:
    """migrate_schema works on a copy."""
    before = {label: dict(fields) for label, fields in SCHEMA.items()}
    plan_of().migrate_schema(SCHEMA)
    assert before == SCHEMA


def test_absent_models_and_fields_are_left_alone() -> None:
    """Operations on a model or field that the dump lacks change nothing."""
    schema = {"ledger.invoice": {"id": "id"}}
    expected = {
        "ledger.invoice": {"id": "id", "currency": "currency", "payer": "payer_id"}
    }
    assert expected == plan_of().migrate_schema(schema)


def test_explain_field_removal() -> None:
    """A removed field is explained by the operation that removed it."""
    trace = plan_of().trace_schema(SCHEMA)
    (operation,) = trace.explain("ledger.invoice", "legacy_flag")
    assert isinstance(operation, RemoveField)
    expected = "ledger 2.0 (to_2_0): remove_field('ledger.invoice', 'legacy_flag')"
    assert expected == str(operation)


def test_explain_renamed_field_by_either_name() -> None:
    """A renamed field is explained under its old and its new name."""
    trace = plan_of().trace_schema(SCHEMA)
    old = trace.explain("ledger.invoice", "amount")
    assert old == trace.explain("ledger.invoice", "total")
    assert [RenameField] == [type(op) for op in old]


def test_explain_model_lists_model_operations_and_origin() -> None:
    """A renamed model is explained by its rename and its row transforms."""
    trace = plan_of().trace_schema(SCHEMA)
    assert [RenameModel, RowTransform] == [
        type(op) for op in trace.explain("ledger.customer")
    ]
    assert trace.explain("ledger.client") == trace.explain("ledger.customer")
    expected = "ledger.client"
    assert expected == trace.origins["ledger.customer"]
    assert "ledger.legacy" not in trace.origins
    assert not trace.explain("ledger.invoice", "id")


def test_explain_field_of_renamed_model() -> None:
    """Field operations after a model rename are found under the new label."""

    def migrator(m: Migration) -> None:
        m.rename_model("ledger.client", "ledger.customer")
        m.remove_field("ledger.customer", "name")

    trace = plan_of(migrator).trace_schema(SCHEMA)
    expected = {"id": "id"}
    assert expected == trace.schema["ledger.customer"]
    assert [RemoveField] == [
        type(op) for op in trace.explain("ledger.customer", "name")
    ]


def test_removed_then_added_field_explains_both() -> None:
    """A name removed and added again is explained by both operations."""

    def migrator(m: Migration) -> None:
        m.remove_field("ledger.client", "name")
        m.add_field("ledger.client", "name", default="")

    trace = plan_of(migrator).trace_schema(SCHEMA)
    expected = ["remove_field", "add_field"]
    assert expected == [op.verb for op in trace.explain("ledger.client", "name")]


def test_rename_onto_existing_field_is_a_conflict() -> None:
    """Renaming a field onto a field the model has raises SchemaConflictError."""

    def migrator(m: Migration) -> None:
        m.rename_field("ledger.invoice", "amount", "legacy_flag")

    with pytest.raises(
        SchemaConflictError, match="would replace field 'legacy_flag'"
    ) as info:
        plan_of(migrator).migrate_schema(SCHEMA)
    expected = ("ledger.invoice", "legacy_flag")
    assert expected == (
        info.value.model_label,
        info.value.name,
    )


def test_rename_model_onto_existing_model_merges_fields() -> None:
    """Renaming a model onto another merges their fields."""

    def migrator(m: Migration) -> None:
        m.rename_model("ledger.legacy", "ledger.client")

    expected = {"id": "id", "name": "name"}
    assert expected == plan_of(migrator).migrate_schema(SCHEMA)["ledger.client"]


def test_merged_models_with_different_attnames_conflict() -> None:
    """Merging two models whose same-named fields differ in attname is a conflict."""

    def migrator(m: Migration) -> None:
        m.rename_model("ledger.legacy", "ledger.client")

    schema = {"ledger.legacy": {"name": "name_id"}, "ledger.client": {"name": "name"}}
    with pytest.raises(
        SchemaConflictError, match=r"field 'name' that 'ledger\.client'"
    ):
        plan_of(migrator).migrate_schema(schema)


def test_schema_of_plan_with_absent_models() -> None:
    """Renaming or removing a model the dump lacks changes nothing."""
    schema = {"ledger.invoice": {"id": "id"}}
    trace = plan_of().trace_schema(schema)
    assert "ledger.customer" not in trace.schema
    assert trace.explain("ledger.legacy")


def test_field_history_survives_model_rename() -> None:
    """A field keeps its history, and its attname rule, across a model rename."""

    def migrator(m: Migration) -> None:
        m.rename_field("ledger.client", "name", "title")
        m.rename_field("ledger.client", "id", "key")
        m.rename_model("ledger.client", "ledger.customer")
        m.remove_field("ledger.customer", "title")
        m.remove_model("ledger.customer")

    schema = {"ledger.client": {"id": "pk_column", "name": "name"}}
    trace = plan_of(migrator).trace_schema(schema)
    assert not trace.schema
    expected = ["rename_field", "remove_field"]
    assert expected == [op.verb for op in trace.explain("ledger.client", "name")]
    assert trace.explain("ledger.client", "name") == trace.explain(
        "ledger.customer", "title"
    )
    expected = ["rename_model", "remove_model"]
    assert expected == [op.verb for op in trace.explain("ledger.customer")]


def test_custom_attname_is_kept_on_rename() -> None:
    """An attname that does not start with the field name is kept by a rename."""

    def migrator(m: Migration) -> None:
        m.rename_field("ledger.client", "id", "key")

    schema = {"ledger.client": {"id": "pk_column"}}
    expected = {"ledger.client": {"key": "pk_column"}}
    assert expected == plan_of(migrator).migrate_schema(schema)
