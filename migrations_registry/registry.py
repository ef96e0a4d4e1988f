"""The registry of migrators, and planning: which migrators run, in which order.

.. versionadded:: 0.1
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from packaging.version import InvalidVersion, Version

from migrations_registry._graph import find_cycle, order_steps
from migrations_registry.exceptions import (
    DependencyCycleError,
    DowngradeError,
    DuplicateAdapterError,
    DuplicateMigratorError,
    InvalidAppVersionError,
    InvalidDependencyError,
    InvalidMigratorError,
    InvalidMigratorVersionError,
    InvalidNameError,
    MigratorAboveCurrentError,
    MigratorRecordingError,
    PlanError,
    RegistryError,
    UnknownDependencyError,
)
from migrations_registry.migration import (
    AdapterFunc,
    Migration,
    MigratorFunc,
    check_app_label,
)
from migrations_registry.plan import Plan
from migrations_registry.step import Step

__all__ = ["Registry", "adapter", "default_registry", "migrator"]

_MigratorFuncT = TypeVar("_MigratorFuncT", bound=MigratorFunc)
_AdapterFuncT = TypeVar("_AdapterFuncT", bound=AdapterFunc)
#: An adapter's name: dotted identifiers, e.g. ``lino.languages``.
_ADAPTER_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
#: The version an adapter's step carries: adapters have none.
_NO_VERSION = Version("0")


def _parse_migrator_version(app_label: str, version: str | Version) -> Version:
    if isinstance(version, Version):
        return version
    try:
        return Version(version)
    except (InvalidVersion, TypeError):
        raise InvalidMigratorVersionError(app_label, str(version)) from None


def _parse_dependencies(
    app_label: str, version: str, depends_on: Iterable[tuple[str, str | Version]]
) -> tuple[tuple[str, Version], ...]:
    parsed = []
    for dependency in depends_on:
        if not (isinstance(dependency, tuple | list) and len(dependency) == 2):
            raise InvalidDependencyError(app_label, version, dependency)
        dep_app, dep_version = dependency
        if not (isinstance(dep_app, str) and dep_app):
            raise InvalidDependencyError(app_label, version, dependency)
        parsed.append((dep_app, _parse_migrator_version(dep_app, dep_version)))
    return tuple(parsed)


def _parse_app_versions(
    versions: Mapping[str, str | Version], source: str, problems: list[RegistryError]
) -> dict[str, Version]:
    parsed = {}
    for app_label, version in versions.items():
        try:
            parsed[app_label] = (
                version if isinstance(version, Version) else Version(version)
            )
        except (InvalidVersion, TypeError):
            problems.append(InvalidAppVersionError(app_label, version, source))
    return parsed


class Registry:
    """Hold the migrators of every app, and plan which of them a dump needs.

    Duplicate and malformed registrations are rejected when registered; problems
    that depend on the versions at hand are found by :meth:`plan`.

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        self._migrators: dict[str, dict[Version, Step]] = {}
        self._adapters: dict[str, Step] = {}

    def __repr__(self) -> str:
        return f"<Registry: {len(self.migrators())} migrators>"

    def register(
        self,
        app_label: str,
        version: str | Version,
        func: MigratorFunc,
        *,
        depends_on: Iterable[tuple[str, str | Version]] = (),
    ) -> Step:
        """Register *func* as the migrator of *app_label* to *version*.

        :param depends_on: ``(app_label, version)`` pairs: migrators of other apps
            that must run before this one.
        :return: The registered step.
        :raises InvalidNameError: If *app_label* is not an identifier.
        :raises InvalidMigratorVersionError: If a version is not PEP 440.
        :raises InvalidMigratorError: If *func* is not callable.
        :raises InvalidDependencyError: If *depends_on* holds something else than
            ``(app_label, version)`` pairs.
        :raises DuplicateMigratorError: If the app has a migrator for *version*.
        """
        check_app_label(app_label)
        parsed = _parse_migrator_version(app_label, version)
        if not callable(func):
            raise InvalidMigratorError(app_label, str(version), func)
        dependencies = _parse_dependencies(app_label, str(version), depends_on)
        known = self._migrators.setdefault(app_label, {})
        if parsed in known:
            raise DuplicateMigratorError(parsed, app_label, known[parsed])
        step = Step(app_label, parsed, func, inspect.getdoc(func), dependencies)
        known[parsed] = step
        return step

    def migrator(
        self,
        app_label: str,
        version: str | Version,
        *,
        depends_on: Iterable[tuple[str, str | Version]] = (),
    ) -> Callable[[_MigratorFuncT], _MigratorFuncT]:
        """Register the decorated function as a migrator; see :meth:`register`.

        :raises RegistryError: As :meth:`register`, when the function is decorated.
        """

        def decorator(func: _MigratorFuncT) -> _MigratorFuncT:
            self.register(app_label, version, func, depends_on=depends_on)
            return func

        return decorator

    def register_adapter(self, name: str, func: AdapterFunc) -> Step:
        """Register *func* as the adapter *name*.

        An adapter is a migrator tied to no version: every plan asks it, with
        the schema that the migrators leave of the dump and the current
        schema, what to do about a difference that comes from configuration
        rather than from a release (Lino's ``Site.languages`` adds and drops
        columns). It records operations like a migrator, or none.

        :return: The registered step.
        :raises InvalidNameError: If *name* is not dotted identifiers.
        :raises InvalidMigratorError: If *func* is not callable.
        :raises DuplicateAdapterError: If an adapter of that name is registered.

        .. versionadded:: 0.3
        """
        if not (isinstance(name, str) and _ADAPTER_NAME.fullmatch(name)):
            raise InvalidNameError(name, "adapter name")
        if not callable(func):
            raise InvalidMigratorError(name, "adapter", func)
        if name in self._adapters:
            raise DuplicateAdapterError(name, self._adapters[name])
        doc = inspect.getdoc(func)
        step = Step(name, _NO_VERSION, func, doc, adapter=True)
        self._adapters[name] = step
        return step

    def adapter(self, name: str) -> Callable[[_AdapterFuncT], _AdapterFuncT]:
        """Register the decorated function as an adapter; see :meth:`register_adapter`.

        .. versionadded:: 0.3
        """

        def decorator(func: _AdapterFuncT) -> _AdapterFuncT:
            self.register_adapter(name, func)
            return func

        return decorator

    def adapters(self) -> tuple[Step, ...]:
        """Return the registered adapters, by name.

        .. versionadded:: 0.3
        """
        return tuple(step for _, step in sorted(self._adapters.items()))

    def adapt(
        self,
        plan: Plan,
        dumped: Mapping[str, Mapping[str, str]],
        current: Mapping[str, Mapping[str, str]],
    ) -> Plan:
        """Return *plan* followed by what the adapters record, in name order.

        Each adapter sees the schema that *plan* and the adapters before it
        make of *dumped*; one that records nothing is left out of the plan.

        :param dumped: The dumped schema: model label -> {field name: attname}.
        :param current: The current schema, in the same shape.
        :raises PlanError: If an adapter raises.

        .. versionadded:: 0.3
        """
        problems: list[RegistryError] = []
        for step in self.adapters():
            migration = Migration(step)
            schema = plan.migrate_schema({k: dict(v) for k, v in dumped.items()})
            try:
                step.func(migration, schema, current)
            except Exception as error:
                # Reported with the other problems of the plan, as a migrator's.
                problems.append(MigratorRecordingError(step, error))
                continue
            if migration.operations or migration.after_load_hooks:
                plan = dataclasses.replace(
                    plan,
                    steps=(*plan.steps, step),
                    operations=(*plan.operations, *migration.operations),
                    after_load_hooks=(
                        *plan.after_load_hooks,
                        *migration.after_load_hooks,
                    ),
                )
        if problems:
            raise PlanError(problems)
        return plan

    def migrators(self, app_label: str | None = None) -> tuple[Step, ...]:
        """Return the registered migrators, of one app or all, by (app, version)."""
        apps = [app_label] if app_label is not None else sorted(self._migrators)
        return tuple(
            step
            for app in apps
            for _, step in sorted(self._migrators.get(app, {}).items())
        )

    def plan(
        self,
        dump_versions: Mapping[str, str | Version],
        current_versions: Mapping[str, str | Version],
    ) -> Plan:
        """Return the plan that upgrades a dump made at *dump_versions*.

        For each app of *current_versions*, every migrator with dump version <
        version <= current version runs, in version order; apps are ordered by
        ``depends_on``, ties broken by ``(app_label, version)``. An app missing
        from *dump_versions* is new: the dump has no rows of it, nothing runs.

        :param dump_versions: App label -> version, as recorded in the dump.
        :param current_versions: App label -> version of the code.
        :raises PlanError: With every problem found: invalid versions, a dump
            newer than the code, migrators above the current version, unknown
            or cyclic dependencies, migrator functions that fail.
        """
        problems: list[RegistryError] = []
        dump = _parse_app_versions(dump_versions, "dump", problems)
        current = _parse_app_versions(current_versions, "current", problems)
        selected = self._select(dump, current, problems)
        problems.extend(self._unknown_dependencies(current))
        ordered, left = order_steps(selected)
        if left:
            by_key = {step.key: step for step in selected}
            problems.append(DependencyCycleError(find_cycle(left, by_key)))
        migrations = _record(ordered + left, problems)
        if problems:
            raise PlanError(problems)
        return Plan(
            steps=tuple(ordered),
            operations=tuple(op for m in migrations for op in m.operations),
            after_load_hooks=tuple(h for m in migrations for h in m.after_load_hooks),
            dump_versions=dump,
            current_versions=current,
        )

    def _select(
        self,
        dump: Mapping[str, Version],
        current: Mapping[str, Version],
        problems: list[RegistryError],
    ) -> list[Step]:
        """Return the migrators to run; add found problems to *problems*."""
        selected: list[Step] = []
        for app_label, current_version in sorted(current.items()):
            steps = self.migrators(app_label)
            problems.extend(
                MigratorAboveCurrentError(step, current_version)
                for step in steps
                if step.version > current_version
            )
            dump_version = dump.get(app_label)
            if dump_version is None:
                continue
            if dump_version > current_version:
                problems.append(
                    DowngradeError(app_label, dump_version, current_version)
                )
                continue
            selected.extend(
                step for step in steps if dump_version < step.version <= current_version
            )
        return selected

    def _unknown_dependencies(
        self, current: Mapping[str, Version]
    ) -> list[UnknownDependencyError]:
        """Return a problem per ``depends_on`` that names no registered migrator."""
        problems = []
        for app_label in sorted(current):
            for step in self.migrators(app_label):
                for dep_app, dep_version in step.depends_on:
                    known = self._migrators.get(dep_app, {})
                    if dep_version not in known:
                        problems.append(
                            UnknownDependencyError(
                                step, dep_app, dep_version, sorted(known)
                            )
                        )
        return problems


def _record(steps: Iterable[Step], problems: list[RegistryError]) -> list[Migration]:
    """Call each migrator function with a fresh :class:`Migration`."""
    migrations = []
    for step in steps:
        migration = Migration(step)
        try:
            step.func(migration)
        except Exception as error:
            # Any failure is a problem of the plan, reported with the others.
            problems.append(MigratorRecordingError(step, error))
        migrations.append(migration)
    return migrations


#: The registry that :func:`migrator` registers into.
default_registry = Registry()


def migrator(
    app_label: str,
    version: str | Version,
    *,
    depends_on: Iterable[tuple[str, str | Version]] = (),
) -> Callable[[_MigratorFuncT], _MigratorFuncT]:
    """Register the decorated function as a migrator in :data:`default_registry`.

    :param app_label: The app whose rows the migrator upgrades.
    :param version: The version it upgrades them to (PEP 440).
    :param depends_on: ``(app_label, version)`` pairs: migrators of other apps
        that must run before this one.
    :raises RegistryError: As :meth:`Registry.register`.

    .. versionadded:: 0.1
    """
    return default_registry.migrator(app_label, version, depends_on=depends_on)


def adapter(name: str) -> Callable[[_AdapterFuncT], _AdapterFuncT]:
    """Register the decorated function as an adapter in :data:`default_registry`.

    ``@adapter("mysite.colours")`` on ``def colours(m, dumped, current)``:
    *dumped* is the schema the migrators leave of a dump, *current* the
    current one (model label -> {field name: attname}); record operations on
    *m* as a migrator does, or none.

    :raises RegistryError: As :meth:`Registry.register_adapter`.

    .. versionadded:: 0.3
    """
    return default_registry.adapter(name)
