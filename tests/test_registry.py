"""Tests of migrator registration and of the Migration recording context."""

from __future__ import annotations

import uuid

import pytest
from packaging.version import Version

import migrations_registry
from migrations_registry import (
    AddField,
    DuplicateMigratorError,
    InvalidDependencyError,
    InvalidMigratorError,
    InvalidMigratorVersionError,
    InvalidNameError,
    Migration,
    Registry,
    RegistryError,
    RemoveField,
    RemoveModel,
    RenameField,
    RenameModel,
    RowTransform,
    Step,
)


def noop(m: Migration) -> None:
    """Do nothing."""


def make_step(app_label: str = "ledger", version: str = "2.0") -> Step:
    return Step(app_label, Version(version), noop, None)


def test_register_returns_step_with_parsed_version_and_docstring() -> None:
    """Registering stores a Step with a packaging Version and the docstring."""
    registry = Registry()
    step = registry.register("ledger", "2.0", noop)
    assert Step("ledger", Version("2.0"), noop, "Do nothing.") == step
    assert (step,) == registry.migrators()
    expected = "ledger 2.0 (noop)"
    assert expected == str(step)


def test_decorator_registers_and_returns_function() -> None:
    """The migrator decorator registers the function and returns it unchanged."""
    registry = Registry()

    @registry.migrator("ledger", "2.0", depends_on=[("community", "3.0")])
    def to_2_0(m: Migration) -> None:
        """Upgrade ledger to 2.0."""

    (step,) = registry.migrators("ledger")
    assert to_2_0 is step.func
    assert (("community", Version("3.0")),) == step.depends_on
    expected = "Upgrade ledger to 2.0."
    assert expected == step.doc


def test_duplicate_versions_are_rejected() -> None:
    """Duplicate versions are rejected, also when spelled differently."""
    registry = Registry()
    first = registry.register("ledger", "2.0", noop)
    with pytest.raises(
        DuplicateMigratorError,
        match=r"'2\.0\.0' is already registered for 'ledger': ledger 2\.0 \(noop\)",
    ) as info:
        registry.register("ledger", "2.0.0", lambda m: None)
    assert Version("2.0") == info.value.version
    expected = "ledger"
    assert expected == info.value.app_label
    assert first == info.value.existing
    assert isinstance(info.value, ValueError)


def test_same_version_in_other_app_is_accepted() -> None:
    """Two apps may each have a migrator for the same version."""
    registry = Registry()
    registry.register("ledger", "2.0", noop)
    registry.register("community", "2.0", noop)
    expected = ["community", "ledger"]
    assert expected == [s.app_label for s in registry.migrators()]


def test_unparsable_version_is_rejected_naming_app_and_string() -> None:
    """An unparsable version raises InvalidMigratorVersionError naming both."""
    registry = Registry()
    with pytest.raises(
        InvalidMigratorVersionError, match=r"'two' for 'ledger'"
    ) as info:
        registry.register("ledger", "two", noop)
    expected = ("ledger", "two")
    assert expected == (info.value.app_label, info.value.version)
    assert isinstance(info.value, ValueError)
    assert not registry.migrators()


def test_unparsable_dependency_version_is_rejected() -> None:
    """A depends_on version that is not PEP 440 is rejected at registration."""
    registry = Registry()
    with pytest.raises(InvalidMigratorVersionError, match=r"'x' for 'community'"):
        registry.register("ledger", "2.0", noop, depends_on=[("community", "x")])


@pytest.mark.parametrize("dependency", ["community", ("community",), (1, "2.0")])
def test_malformed_dependency_is_rejected(dependency: object) -> None:
    """A depends_on entry must be an (app_label, version) pair."""
    registry = Registry()
    with pytest.raises(
        InvalidDependencyError, match=r"expected an \(app_label, version\)"
    ):
        registry.register("ledger", "2.0", noop, depends_on=[dependency])  # type: ignore[list-item]


def test_not_callable_is_rejected() -> None:
    """A migrator must be callable."""
    with pytest.raises(InvalidMigratorError, match="not callable"):
        Registry().register("ledger", "2.0", "to_2_0")  # type: ignore[arg-type]


@pytest.mark.parametrize("app_label", ["", "led.ger", "led ger", 3])
def test_invalid_app_label_is_rejected(app_label: object) -> None:
    """An app label must be a Python identifier."""
    with pytest.raises(InvalidNameError, match="Invalid app label"):
        Registry().register(app_label, "2.0", noop)  # type: ignore[arg-type]


def test_registration_errors_share_the_root_class() -> None:
    """Every registration error is a RegistryError."""
    registry = Registry()
    registry.register("ledger", "2.0", noop)
    for args in [("ledger", "2.0", noop), ("ledger", "bad", noop)]:
        with pytest.raises(RegistryError):
            registry.register(*args)


def test_module_level_migrator_registers_into_default_registry() -> None:
    """The module-level migrator decorator registers into default_registry."""
    app_label = f"test_registry_{uuid.uuid4().hex}"

    @migrations_registry.migrator(app_label, "1.0")
    def to_1_0(m: Migration) -> None:
        pass

    (step,) = migrations_registry.default_registry.migrators(app_label)
    assert to_1_0 is step.func


def test_migration_records_each_operation_in_order() -> None:
    """Calling Migration's methods records operations, in call order."""
    step = make_step()
    m = Migration(step)
    m.rename_model("ledger.client", "ledger.customer")
    m.remove_model("ledger.legacy")
    m.rename_field("ledger.invoice", "amount", "total")
    m.remove_field("ledger.invoice", "flag")
    m.add_field("ledger.invoice", "currency", default="EUR")
    m.add_field("ledger.invoice", "customer", default=None, attname="customer_id")

    @m.rows("ledger.invoice")
    def upper(row: dict[str, object]) -> dict[str, object]:
        return row

    assert (
        RenameModel(step, "ledger.client", "ledger.customer"),
        RemoveModel(step, "ledger.legacy"),
        RenameField(step, "ledger.invoice", "amount", "total"),
        RemoveField(step, "ledger.invoice", "flag"),
        AddField(step, "ledger.invoice", "currency", "EUR", "currency"),
        AddField(step, "ledger.invoice", "customer", None, "customer_id"),
        RowTransform(step, "ledger.invoice", upper),
    ) == m.operations


def test_after_load_records_hook_and_returns_function() -> None:
    """after_load stores the hook with its migrator and returns the function."""
    m = Migration(make_step())

    def fix_totals(ctx: object) -> None:
        pass

    assert fix_totals is m.after_load(fix_totals)
    (hook,) = m.after_load_hooks
    assert (m.step, fix_totals, "fix_totals") == (hook.step, hook.func, hook.name)
    assert not m.operations


def test_operations_describe_the_call_that_recorded_them() -> None:
    """An operation's str names its migrator and the call that recorded it."""
    m = Migration(make_step())
    op = m.add_field("ledger.invoice", "customer", default=None, attname="customer_id")
    expected = (
        "ledger 2.0 (noop): add_field('ledger.invoice', 'customer', "
        "default=None, attname='customer_id')"
    )
    assert expected == str(op)
    expected = "remove_model('ledger.x')"
    assert expected == m.remove_model("ledger.x").describe()


@pytest.mark.parametrize(
    "label", ["Ledger.Invoice", "ledger", "ledger.invoice.x", ".invoice", "ledger."]
)
def test_malformed_model_labels_are_rejected(label: str) -> None:
    """Model labels must be 'app_label.model_name' in lower case."""
    with pytest.raises(InvalidNameError, match="Invalid model label") as info:
        Migration(make_step()).remove_model(label)
    assert (label, "model label") == (info.value.value, info.value.kind)


@pytest.mark.parametrize("name", ["", "1st", "a-b", None])
def test_malformed_field_names_are_rejected(name: object) -> None:
    """Field names must be Python identifiers."""
    with pytest.raises(InvalidNameError, match="Invalid field name"):
        Migration(make_step()).remove_field("ledger.invoice", name)  # type: ignore[arg-type]


def test_public_api_is_exported() -> None:
    """Every name in __all__ is importable from the package."""
    for name in migrations_registry.__all__:
        assert hasattr(migrations_registry, name), name


def test_version_objects_are_accepted() -> None:
    """A packaging Version may be given instead of a string."""
    step = Registry().register("ledger", Version("2.0"), noop)
    expected = "<Step ledger 2.0 (noop)>"
    assert expected == repr(step)


def test_callable_default_is_described_by_name() -> None:
    """An add_field with a callable default describes it by the callable's name."""

    def today(row: dict[str, object]) -> str:
        return "2026-01-01"

    op = Migration(make_step()).add_field("ledger.invoice", "date", default=today)
    expected = "add_field('ledger.invoice', 'date', default=today)"
    assert expected == op.describe()
