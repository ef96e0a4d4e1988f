"""Tests of planning: which migrators run, in which order, and planning errors."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from migrations_registry import (
    DependencyCycleError,
    DowngradeError,
    InvalidAppVersionError,
    Migration,
    MigratorAboveCurrentError,
    MigratorRecordingError,
    PlanError,
    Registry,
    UnknownDependencyError,
)


def noop(m: Migration) -> None:
    """Do nothing."""


def registry_with(versions: dict[str, Iterable[str]]) -> Registry:
    registry = Registry()
    for app_label, app_versions in versions.items():
        for version in app_versions:
            registry.register(app_label, version, noop)
    return registry


def keys(
    registry: Registry, dump: dict[str, str], current: dict[str, str]
) -> list[str]:
    plan = registry.plan(dump, current)
    return [f"{step.app_label} {step.version}" for step in plan.steps]


ALL = ["1.0", "2.0", "2.5", "3.0"]


@pytest.mark.parametrize(
    ("migrators", "dump", "current", "expected"),
    [
        (ALL, "1.0", "3.0", ["2.0", "2.5", "3.0"]),
        (ALL, "0.9", "3.0", ALL),
        (ALL, "2.0", "3.0", ["2.5", "3.0"]),
        (ALL, "2.2", "3.0", ["2.5", "3.0"]),
        (ALL, "3.0", "3.0", []),
        (ALL, "3.0", "3.0.1", []),
        (ALL, "1.0", "3.0.post1", ["2.0", "2.5", "3.0"]),
        (ALL, "3.0.dev1", "3.0", ["3.0"]),
        (ALL, "2.5rc1", "3.1", ["2.5", "3.0"]),
        (["1.0", "2.0", "2.5"], "1.0", "2.7", ["2.0", "2.5"]),
        (["1.0", "2.0", "2.5"], "2.5", "2.5", []),
        ([], "1.0", "2.0", []),
    ],
)
def test_migrators_between_dump_and_current_run(
    migrators: list[str], dump: str, current: str, expected: list[str]
) -> None:
    """Migrators with dump version < V <= current version run, in version order."""
    registry = registry_with({"ledger": reversed(migrators)})
    assert [f"ledger {v}" for v in expected] == keys(
        registry, {"ledger": dump}, {"ledger": current}
    )


def test_migrator_above_current_version_is_an_error() -> None:
    """A migrator above the current version of its app fails the plan."""
    registry = registry_with({"ledger": ["1.0", "2.0", "3.0", "3.1"]})
    with pytest.raises(
        PlanError, match=r"ledger 3\.1 \(noop\) is for a version above"
    ) as info:
        registry.plan({"ledger": "1.0"}, {"ledger": "3.0"})
    (problem,) = info.value.problems
    assert isinstance(problem, MigratorAboveCurrentError)
    assert (Version("3.1"), Version("3.0")) == (
        problem.version,
        problem.current_version,
    )


def test_dump_newer_than_code_is_an_error() -> None:
    """A dump made with a newer app version than the code's is a downgrade."""
    registry = registry_with({"ledger": ["1.0"]})
    expected = (
        "The dump was made with ledger 3.0 but the code has ledger 1.0: "
        "restore it with code at ledger 3.0 or later."
    )
    with pytest.raises(PlanError, match=expected) as info:
        registry.plan({"ledger": "3.0"}, {"ledger": "1.0"})
    (problem,) = info.value.problems
    assert isinstance(problem, DowngradeError)
    assert ("ledger", Version("3.0"), Version("1.0")) == (
        problem.app_label,
        problem.dump_version,
        problem.current_version,
    )


@pytest.mark.parametrize(
    ("dump", "current", "source"),
    [({"ledger": "one"}, {"ledger": "1.0"}, "dump"), ({}, {"ledger": "?"}, "current")],
)
def test_unparsable_app_version_is_an_error(
    dump: dict[str, str], current: dict[str, str], source: str
) -> None:
    """An unparsable version in either mapping fails the plan, naming the app."""
    with pytest.raises(
        PlanError, match="for 'ledger', which is not a valid version"
    ) as info:
        Registry().plan(dump, current)
    (problem,) = info.value.problems
    assert isinstance(problem, InvalidAppVersionError)
    assert ("ledger", source) == (problem.app_label, problem.source)


def test_unknown_dependency_is_an_error() -> None:
    """A depends_on naming an unregistered migrator fails the plan."""
    registry = registry_with({"community": ["2.0"]})
    registry.register("ledger", "2.0", noop, depends_on=[("community", "3.0")])
    with pytest.raises(
        PlanError, match=r"depends on community 3\.0, but no such migrator .* 2\.0\)"
    ) as info:
        registry.plan({"ledger": "2.0"}, {"ledger": "2.0", "community": "3.0"})
    (problem,) = info.value.problems
    assert isinstance(problem, UnknownDependencyError)
    assert ("community", Version("3.0")) == (problem.app_label, problem.version)


def test_dependency_cycle_is_an_error() -> None:
    """Migrators that depend on each other in a cycle fail the plan."""
    registry = Registry()
    registry.register("ledger", "2.0", noop, depends_on=[("community", "3.0")])
    registry.register("community", "3.0", noop, depends_on=[("ledger", "2.0")])
    with pytest.raises(
        PlanError, match=r"community 3\.0 \(noop\) -> ledger 2\.0"
    ) as info:
        registry.plan(
            {"ledger": "1", "community": "2"}, {"ledger": "2", "community": "3"}
        )
    (problem,) = info.value.problems
    assert isinstance(problem, DependencyCycleError)
    expected = ["community", "ledger"]
    assert expected == [step.app_label for step in problem.cycle]


def test_failing_migrator_function_is_an_error() -> None:
    """A migrator that raises while recording fails the plan, keeping the cause."""
    registry = Registry()

    @registry.migrator("ledger", "2.0")
    def broken(m: Migration) -> None:
        m.remove_model("Ledger.Invoice")

    with pytest.raises(
        PlanError, match=r"ledger 2\.0 \(broken\) raised InvalidNameError"
    ) as info:
        registry.plan({"ledger": "1.0"}, {"ledger": "2.0"})
    (problem,) = info.value.problems
    assert isinstance(problem, MigratorRecordingError)
    assert problem.__cause__ is problem.error


def test_all_problems_are_reported_together() -> None:
    """Every planning problem is collected into one PlanError, one per line."""
    registry = registry_with({"ledger": ["2.0", "9.0"]})
    registry.register("auth", "2.0", noop, depends_on=[("nowhere", "1.0")])
    with pytest.raises(PlanError, match=r"\(4 problems\):\n- ") as info:
        registry.plan(
            {"ledger": "1.0", "auth": "1.0", "community": "5.0", "bad": "x"},
            {"ledger": "2.0", "auth": "2.0", "community": "4.0"},
        )
    kinds = {type(problem) for problem in info.value.problems}
    assert {
        InvalidAppVersionError,
        MigratorAboveCurrentError,
        DowngradeError,
        UnknownDependencyError,
    } == kinds
    lines = str(info.value).splitlines()[1:]
    assert [f"- {problem}" for problem in info.value.problems] == lines


def test_new_app_runs_no_migrators() -> None:
    """An app missing from the dump is new: none of its migrators run."""
    registry = registry_with({"ledger": ["1.0", "2.0"]})
    assert not keys(registry, {}, {"ledger": "2.0"})


def test_apps_only_in_registry_or_dump_are_ignored() -> None:
    """Migrators of uninstalled apps and dumped versions of removed apps are ignored."""
    registry = registry_with({"gone": ["2.0"], "ledger": ["2.0"]})
    expected = ["ledger 2.0"]
    assert expected == keys(
        registry, {"ledger": "1.0", "gone": "1.0", "old": "1.0"}, {"ledger": "2.0"}
    )


def test_apps_without_dependencies_run_by_label_then_version() -> None:
    """Without depends_on, the order is stable: by app label, then version."""
    registry = registry_with({"ledger": ["2.0", "3.0"], "auth": ["5.0"], "b": ["1.1"]})
    dump = {"ledger": "1.0", "auth": "4.0", "b": "1.0"}
    current = {"ledger": "3.0", "auth": "5.0", "b": "1.1"}
    expected = ["auth 5.0", "b 1.1", "ledger 2.0", "ledger 3.0"]
    assert expected == keys(registry, dump, current)


def test_depends_on_orders_across_apps() -> None:
    """A migrator runs after the migrators of other apps it depends on."""
    registry = registry_with({"auth": ["2.0"], "community": ["2.0"]})
    registry.register("community", "3.0", noop, depends_on=[("ledger", "2.0")])
    registry.register("ledger", "2.0", noop, depends_on=[("zeta", "1.0")])
    registry.register("zeta", "1.0", noop)
    dump = {"auth": "1", "community": "1", "ledger": "1", "zeta": "0.1"}
    current = {"auth": "2", "community": "3", "ledger": "2", "zeta": "1"}
    expected = [
        "auth 2.0",
        "community 2.0",
        "zeta 1.0",
        "ledger 2.0",
        "community 3.0",
    ]
    assert expected == keys(registry, dump, current)


def test_dependency_already_in_dump_does_not_constrain() -> None:
    """A dependency on a migrator that the dump needs no more is satisfied."""
    registry = registry_with({"community": ["3.0", "4.0"]})
    registry.register("auth", "2.0", noop, depends_on=[("community", "3.0")])
    dump = {"auth": "1.0", "community": "3.0"}
    current = {"auth": "2.0", "community": "4.0"}
    expected = ["auth 2.0", "community 4.0"]
    assert expected == keys(registry, dump, current)


def test_plan_records_operations_and_hooks_in_plan_order() -> None:
    """The plan holds each step's operations and hooks, in plan order."""
    registry = Registry()

    @registry.migrator("ledger", "2.0", depends_on=[("community", "3.0")])
    def to_2_0(m: Migration) -> None:
        m.remove_model("ledger.old")
        m.after_load(print)

    @registry.migrator("community", "3.0")
    def to_3_0(m: Migration) -> None:
        m.remove_model("community.old")

    plan = registry.plan(
        {"ledger": "1", "community": "2"}, {"ledger": "2", "community": "3"}
    )
    expected = ["community.old", "ledger.old"]
    assert expected == [op.model_label for op in plan.operations]
    assert [print] == [hook.func for hook in plan.after_load_hooks]
    assert not plan.is_empty
    assert {"ledger": Version("1"), "community": Version("2")} == plan.dump_versions


def test_empty_plan() -> None:
    """A dump at the current versions gives an empty plan."""
    plan = registry_with({"ledger": ["2.0"]}).plan({"ledger": "2.0"}, {"ledger": "2.0"})
    assert plan.is_empty
    assert not plan.operations


# Property tests.

versions = st.builds(
    lambda major, minor: Version(f"{major}.{minor}"),
    st.integers(0, 6),
    st.integers(0, 3),
)


@settings(database=None, max_examples=200)
@given(
    migrators=st.sets(versions, max_size=12),
    dump=versions,
    current=versions,
)
def test_selection_property(
    migrators: set[Version], dump: Version, current: Version
) -> None:
    """Exactly the migrators with dump < V <= current run, in ascending order."""
    registry = registry_with({"app": [str(v) for v in migrators]})
    above = sorted(v for v in migrators if v > current)
    try:
        plan = registry.plan({"app": str(dump)}, {"app": str(current)})
    except PlanError as error:
        found = error.problems
        assert above == [
            p.version for p in found if isinstance(p, MigratorAboveCurrentError)
        ]
        assert (dump > current) == any(isinstance(p, DowngradeError) for p in found)
        return
    assert not above
    assert dump <= current
    expected = sorted(v for v in migrators if dump < v <= current)
    assert expected == [step.version for step in plan.steps]


steps = st.lists(
    st.tuples(st.sampled_from("abcd"), st.integers(1, 4)),
    min_size=1,
    max_size=10,
    unique=True,
)


@settings(database=None, max_examples=200)
@given(data=st.data(), nodes=steps)
def test_order_property(data: st.DataObject, nodes: list[tuple[str, int]]) -> None:
    """The order respects version order and depends_on, or a real cycle is reported."""
    edges = data.draw(
        st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)))
    )
    deps: dict[tuple[str, int], set[tuple[str, int]]] = {node: set() for node in nodes}
    for node, dep in edges:
        if node[0] != dep[0]:
            deps[node].add(dep)
    registry = Registry()
    for app, major in nodes:
        depends_on = [(a, f"{m}.0") for a, m in sorted(deps[(app, major)])]
        registry.register(app, f"{major}.0", noop, depends_on=depends_on)
    apps = {app for app, _ in nodes}
    try:
        plan = registry.plan({a: "0" for a in apps}, {a: "9" for a in apps})
    except PlanError as error:
        (problem,) = error.problems
        assert isinstance(problem, DependencyCycleError)
        cycle = [(s.app_label, s.version.major) for s in problem.cycle]
        for node, dep in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            assert dep in deps[node] or (dep[0] == node[0] and dep[1] < node[1])
        return
    order = [(s.app_label, s.version.major) for s in plan.steps]
    assert sorted(nodes) == sorted(order)
    position = {node: i for i, node in enumerate(order)}
    for node in nodes:
        for dep in deps[node]:
            assert position[dep] < position[node]
        earlier = [n for n in nodes if n[0] == node[0] and n[1] < node[1]]
        assert all(position[n] < position[node] for n in earlier)
