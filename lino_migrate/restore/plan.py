"""Plan the upgrade of a dump to the current code, before anything is written.

The dump's app versions and the current ones select the migrators to run
(:mod:`migrations_registry`); the dump's ``SCHEMA``, transformed by their
operations, must then fit the current models. Every problem is collected and
reported at once, each with the operation that would fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import NOT_PROVIDED
from packaging.version import InvalidVersion, Version

from lino_migrate.exceptions import DatabaseNotReadyError, LoadError, UpgradeError
from lino_migrate.format.layout import NATURAL_KEYS, ModelInfo
from lino_migrate.restore.reader import DumpMeta
from lino_migrate.schema import current_schema, describe
from lino_migrate.versions import app_versions
from migrations_registry import (
    AddField,
    Operation,
    Plan,
    Registry,
    RegistryError,
    RemoveModel,
    RenameModel,
    RowTransform,
    SchemaTrace,
    default_registry,
)

__all__ = [
    "Target",
    "UpgradePlan",
    "emitted_target",
    "make_target",
    "missing_tables",
    "plan_upgrade",
    "require_tables",
    "runs_row_functions",
]


@dataclass
class Target:
    """A current model that receives rows, and how to fill what rows lack.

    :param columns: the stored fields rows are written to: those the migrated
        dump has, and those the model adds with a default.
    :param fills: per attname, the function returning the value of a row that
        lacks the field.
    """

    label: str
    model: type[models.Model]
    columns: list[models.Field[Any, Any]]
    fills: dict[str, Any] = field(default_factory=dict)


@dataclass
class UpgradePlan:
    """What a restore does with the rows of each dumped model."""

    plan: Plan
    trace: SchemaTrace | None
    dumped: dict[str, ModelInfo]
    targets: dict[str, Target]
    #: dumped model label -> current label (absent: the model was removed)
    sources: dict[str, str]
    #: dumped labels whose rows go to their table unchanged, as tuples
    direct: set[str]
    #: (app_label, model) of a dumped model -> that of the current model
    renamed_keys: dict[tuple[str, str], tuple[str, str]]
    versions: dict[str, tuple[str | None, str]]
    problems: list[str] = field(default_factory=list)
    #: the app versions the dump records
    dump_versions: dict[str, str] = field(default_factory=dict)

    @property
    def registry_schema(self) -> dict[str, dict[str, str]]:
        """Return the dumped schema as :mod:`migrations_registry` wants it."""
        return _registry_schema(self.dumped)


def _registry_schema(dumped: Mapping[str, ModelInfo]) -> dict[str, dict[str, str]]:
    return {
        label: {f.name: f.attname for f in info.fields}
        for label, info in dumped.items()
    }


def plan_upgrade(meta: DumpMeta, registry: Registry | None = None) -> UpgradePlan:
    """Return how the rows of the dump *meta* become rows of the current models.

    :raises UpgradeError: listing every problem: planning errors of the
        registry and schema differences that no migrator explains.
    """
    upgrade = examine_upgrade(meta, registry)
    if upgrade.problems:
        raise UpgradeError(upgrade.problems)
    return upgrade


def examine_upgrade(meta: DumpMeta, registry: Registry | None = None) -> UpgradePlan:
    """Return the upgrade plan of *meta* with its problems, raising nothing.

    When the registry cannot plan at all, the plan is empty and its problems
    say why.
    """
    registry = registry or default_registry
    current = _current_versions(meta.versions, registry)
    versions = {app: (meta.versions.get(app), v) for app, v in current.items()}
    dumped = {k: v for k, v in meta.schema.items() if k not in NATURAL_KEYS}
    upgrade = UpgradePlan(Plan(), None, dumped, {}, {}, set(), {}, versions)
    upgrade.dump_versions = meta.versions
    try:
        plan = registry.plan(meta.versions, current)
        if registry.adapters():
            plan = registry.adapt(plan, _registry_schema(dumped), current_schema())
        trace = plan.trace_schema(_registry_schema(dumped)) if plan.steps else None
    except RegistryError as e:
        upgrade.problems = [str(p) for p in getattr(e, "problems", [e])]
        return upgrade
    upgrade.plan, upgrade.trace = plan, trace
    upgrade.problems += [str(p) for p in plan.unfinished()]
    upgrade.problems += _null_defaults(plan.operations)
    _match(upgrade)
    return upgrade


def _current_versions(dumped: Mapping[str, str], registry: Registry) -> dict[str, str]:
    """Return the version of every installed app, and of apps only migrators know.

    An app that the dump has and the site no longer installs has no current
    version; when migrators of it are registered (in a module of
    ``LINO_MIGRATE["MIGRATORS"]``) above its version in the dump, its highest
    migrator's version stands for it, so that they run (#14).
    """
    current = app_versions()
    for app, version in dumped.items():
        steps = registry.migrators(app) if app not in current else ()
        try:
            if steps and Version(version) < steps[-1].version:
                current[app] = str(steps[-1].version)
        except InvalidVersion:
            continue  # The plan reports it, naming the app.
    return current


def _null_defaults(operations: tuple[Operation, ...]) -> list[str]:
    """Return a problem per ``add_field(default=None)`` of a NOT NULL field.

    Unless a row function of the model runs after it, which may compute the
    value (``dumpplan`` then checks every row it makes), every row would get
    NULL, which the database refuses (#14).
    """
    problems = []
    for index, op in enumerate(operations):
        if not (isinstance(op, AddField) and op.default is None):
            continue
        label = _label_after(operations[index + 1 :], op.model_label)
        if label is None:
            continue
        try:
            f = apps.get_model(label)._meta.get_field(op.name)
        except (LookupError, FieldDoesNotExist):
            continue
        if _fill(f) is _no_fill:
            problems.append(
                f"{op.step}: {op.describe()} gives NULL to the field '{op.name}' of "
                f"'{label}', which is NOT NULL and has no default, and no row "
                "function of the model runs after it: the database would refuse "
                "every row. Give a default (a value, or a function of the row), or "
                "compute the value in a row function after the add_field."
            )
    return problems


def _label_after(operations: tuple[Operation, ...], label: str) -> str | None:
    """Return the current label of the model *label* after *operations*.

    ``None`` when a row function of it runs (it may fill the field) or it
    is removed.
    """
    for op in operations:
        if op.model_label != label:
            continue
        if isinstance(op, RowTransform | RemoveModel):
            return None
        if isinstance(op, RenameModel):
            label = op.new_label
    return label


def runs_row_functions(plan: Plan, label: str) -> bool:
    """Return whether a row function of *plan* runs on the dumped rows of *label*.

    Only such rows are worth migrating in the workers of ``--jobs`` (#16):
    renames and removals alone cost less than sending the rows as dicts.
    """
    for op in plan.operations:
        if op.model_label != label:
            continue
        if isinstance(op, RowTransform):
            return True
        if isinstance(op, RemoveModel):
            return False
        if isinstance(op, RenameModel):
            label = op.new_label
    return False


def _migrated_schema(
    upgrade: UpgradePlan,
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Return the migrated schema and, per current label, its dumped label."""
    if upgrade.trace is None:
        schema = _registry_schema(upgrade.dumped)
        return schema, {label: label for label in schema}
    return upgrade.trace.schema, dict(upgrade.trace.origins)


def _match(upgrade: UpgradePlan) -> None:
    schema, origins = _migrated_schema(upgrade)
    touched: set[str] = set()
    for op in upgrade.plan.operations:
        touched.add(op.model_label)
        touched.add(getattr(op, "new_label", op.model_label))
    for label, names in schema.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            source = origins.get(label, label)
            upgrade.problems.append(
                _missing_model(label, source, upgrade.dump_versions)
            )
            continue
        target = _target(upgrade, label, model, names)
        origin = origins.get(label)
        if origin is not None:
            # Also when its fields do not fit: the model is changed, not removed.
            upgrade.sources[origin] = label
        if target is None:
            continue
        upgrade.targets[label] = target
        if origin is None:
            continue
        if origin != label:
            old_app, _, old_model = origin.partition(".")
            new_key = (model._meta.app_label, model._meta.model_name or "")
            upgrade.renamed_keys[(old_app, old_model)] = new_key
        info = upgrade.dumped[origin]
        same = [f.attname for f in target.columns] == list(info.attnames)
        if origin not in touched and label not in touched and same:
            upgrade.direct.add(origin)


def _missing_model(label: str, origin: str, dumped: Mapping[str, str]) -> str:
    app = origin.partition(".")[0]
    if app not in apps.app_configs:
        # A site that lost an app says so first: the usual fix is settings (#14).
        version = dumped.get(app, "?")
        return (
            f"model '{label}' is in the dump but its app '{app}' is not installed: "
            f"add '{app}' to INSTALLED_APPS; or leave its rows out of the restore "
            f"with --exclude {app} (run DIR/restore.py --exclude {app}, or "
            f"restoredump --exclude {app}; dumpplan --exclude {app} checks it); or "
            f"drop them with m.remove_model('{label}') in a migrator "
            f"@migrator('{app}', V), V above the dump's {app} {version}, in a "
            "module listed in LINO_MIGRATE['MIGRATORS']"
        )
    return (
        f"model '{label}' is in the dump but not in the current code, and no "
        f"migrator renames or removes it: add m.rename_model('{label}', "
        f"'{app}.<new name>') or m.remove_model('{label}') to a migrator of '{app}'"
    )


def _target(
    upgrade: UpgradePlan,
    label: str,
    model: type[models.Model],
    names: Mapping[str, str],
) -> Target | None:
    current = {f.name: f for f in model._meta.local_concrete_fields if f.column}
    problems = [
        f"field '{name}' of '{label}' is in the dump but not in the current "
        f"model: add m.remove_field('{label}', '{name}') or "
        f"m.rename_field('{label}', '{name}', '<new name>')"
        for name in names
        if name not in current
    ]
    target = make_target(label, model, present=set(names))
    problems += [
        f"field '{f.name}' of '{label}' is new, NOT NULL and has no default: "
        f"add m.add_field('{label}', '{f.name}', default=...)"
        for f in target.columns
        if f.name not in names and target.fills[f.attname] is _no_fill
    ]
    upgrade.problems += problems
    return None if problems else target


def make_target(
    label: str, model: type[models.Model], present: set[str] | None = None
) -> Target:
    """Return the target of the rows of *model*.

    :param present: the names of the fields the rows have; ``None`` when not
        known (rows that a migrator emits for a model the dump lacks). A field
        that rows lack and the database fills (``db_default``) is not written.
    """
    stored = {f.attname for f in describe(model).fields}
    columns = []
    fills = {}
    for f in model._meta.local_concrete_fields:
        if f.attname not in stored:
            continue
        fill = _fill(f)
        if fill is _DB_FILLS and (present is None or f.name not in present):
            continue
        columns.append(f)
        fills[f.attname] = _none if fill is _DB_FILLS else fill
    return Target(label, model, columns, fills)


def emitted_target(targets: dict[str, Target], label: str) -> Target:
    """Return the target of *label*, added to *targets* if it is not there yet.

    A migrator may make rows of a model the dump lacks (a row function that
    returns rows of another model): such a model gets its target here.

    :raises LoadError: when the current code has no model *label*.
    """
    target = targets.get(label)
    if target is None:
        try:
            model = apps.get_model(label)
        except LookupError as e:
            problem = "a migrator made rows of this model, which the code does not have"
            raise LoadError(label, problem) from e
        target = targets[label] = make_target(label, model)
    return target


_DB_FILLS = object()


def _fill(f: models.Field[Any, Any]) -> Any:
    """Return how to fill field *f* for rows that lack it."""
    if f.has_default():
        return f.get_default
    if getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
        return _DB_FILLS
    if f.null or f.primary_key:
        return _none
    return _no_fill


def _none() -> None:
    return None


def _no_fill() -> None:
    """Fill a NOT NULL field without default: the database will refuse the row."""
    return None


def missing_tables(
    upgrade: UpgradePlan, connection: BaseDatabaseWrapper
) -> list[tuple[str, str]]:
    """Return ``(table, model label)`` of each table the restore writes that is missing.

    The tables of the current models that receive rows, and those of content
    types and permissions, which every restore writes where their apps are
    installed.
    """
    needed = {t.model._meta.db_table: t.label for t in upgrade.targets.values()}
    for label in NATURAL_KEYS:
        app_label, _, model_name = label.partition(".")
        if apps.is_installed(f"django.contrib.{app_label}"):
            model = apps.get_model(app_label, model_name)
            needed.setdefault(model._meta.db_table, label)
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
    return sorted((t, label) for t, label in needed.items() if t not in existing)


def require_tables(upgrade: UpgradePlan, connection: BaseDatabaseWrapper) -> None:
    """Refuse a database that lacks a table the restore of *upgrade* writes.

    :raises DatabaseNotReadyError: naming the missing tables and what to do.
    """
    missing = missing_tables(upgrade, connection)
    if missing:
        raise DatabaseNotReadyError(connection.alias, missing)
