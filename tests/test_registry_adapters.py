"""Adapters: migrators tied to no version, asked by every plan (#13)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from migrations_registry import (
    AddField,
    DuplicateAdapterError,
    InvalidMigratorError,
    InvalidNameError,
    Migration,
    MigratorRecordingError,
    PlanError,
    Registry,
    RemoveField,
)

Schema = Mapping[str, Mapping[str, str]]

DUMPED = {"shop.item": {"id": "id", "name": "name", "name_fr": "name_fr"}}
CURRENT = {"shop.item": {"id": "id", "label": "label", "name_fr": "name_fr"}}


def drop_stale(m: Migration, dumped: Schema, current: Schema) -> None:
    """Remove every dumped field the current model lacks."""
    for label, fields in dumped.items():
        for name in sorted(set(fields) - set(current.get(label, {}))):
            m.remove_field(label, name)


def test_an_adapter_that_records_nothing_is_left_out() -> None:
    """A plan is unchanged when no adapter has anything to do."""
    registry = Registry()
    registry.register_adapter("site.stale", drop_stale)
    plan = registry.plan({"shop": "1.0"}, {"shop": "1.0"})
    assert plan is registry.adapt(plan, CURRENT, CURRENT)


def test_adapters_see_what_the_migrators_left() -> None:
    """An adapter runs after the migrators, on the schema they made, by name."""
    registry = Registry()
    seen: list[tuple[str, Schema]] = []

    @registry.migrator("shop", "2.0")
    def to_2_0(m: Migration) -> None:
        m.rename_field("shop.item", "name", "label")

    @registry.adapter("z.last")
    def last(m: Migration, dumped: Schema, current: Schema) -> None:
        seen.append(("z.last", dumped))

    @registry.adapter("a.first")
    def first(m: Migration, dumped: Schema, current: Schema) -> None:
        seen.append(("a.first", dumped))
        m.remove_field("shop.item", "name_fr")

    plan = registry.plan({"shop": "1.0"}, {"shop": "2.0"})
    plan = registry.adapt(plan, DUMPED, CURRENT)
    after_migrator = {"shop.item": {"id": "id", "label": "label", "name_fr": "name_fr"}}
    after_first = {"shop.item": {"id": "id", "label": "label"}}
    assert [("a.first", after_migrator), ("z.last", after_first)] == seen
    assert ["shop 2.0 (to_2_0)", "adapter a.first (first)"] == [
        str(s) for s in plan.steps
    ]
    removal = plan.operations[-1]
    assert isinstance(removal, RemoveField)
    assert ("shop.item", "name_fr") == (removal.model_label, removal.name)
    assert {"shop.item": {"id": "id", "label": "label"}} == plan.migrate_schema(DUMPED)


def test_adapter_defaults_fill_rows() -> None:
    """What an adapter adds is applied to rows like a migrator's operation."""
    registry = Registry()

    @registry.adapter("site.fill")
    def fill(m: Migration, dumped: Schema, current: Schema) -> None:
        m.add_field("shop.item", "name_nl", default="")

    plan = registry.adapt(registry.plan({}, {}), DUMPED, CURRENT)
    assert isinstance(plan.operations[0], AddField)
    rows = list(plan.apply("shop.item", [{"id": 1, "name": "a", "name_fr": "b"}]))
    assert [
        ("shop.item", {"id": 1, "name": "a", "name_fr": "b", "name_nl": ""})
    ] == rows


def test_a_failing_adapter_is_a_plan_problem() -> None:
    """An adapter that raises is reported like a migrator that raises."""
    registry = Registry()

    @registry.adapter("site.broken")
    def broken(m: Migration, dumped: Schema, current: Schema) -> None:
        msg = "nope"
        raise KeyError(msg)

    with pytest.raises(PlanError) as info:
        registry.adapt(registry.plan({}, {}), DUMPED, CURRENT)
    (problem,) = info.value.problems
    assert isinstance(problem, MigratorRecordingError)
    assert "The migrator adapter site.broken (broken) raised KeyError" in str(problem)


def test_adapters_are_checked_when_registered() -> None:
    """Names are dotted identifiers, unique; an adapter is callable."""
    registry = Registry()
    registry.register_adapter("lino.languages", drop_stale)
    with pytest.raises(DuplicateAdapterError, match=r"'lino\.languages' is already"):
        registry.register_adapter("lino.languages", drop_stale)
    with pytest.raises(InvalidNameError, match="dotted Python identifiers"):
        registry.register_adapter("lino languages", drop_stale)
    with pytest.raises(InvalidMigratorError, match=r"def adapt\(m, dumped, current\)"):
        registry.register_adapter("site.x", "not a function")  # type: ignore[arg-type]
    assert ["lino.languages"] == [s.app_label for s in registry.adapters()]
