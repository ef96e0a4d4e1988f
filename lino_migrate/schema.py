"""Describe the models of a site as a dump records them in ``SCHEMA``.

A dump stores, per concrete table, the *raw* column values. What a column
holds is described by its field's value type: the internal type of the field
itself, or of the field a relation points to (a foreign key to a UUID primary
key holds UUIDs). An array's value type names the type of its items:
``ArrayField[DateTimeField]`` (#13).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.apps import apps
from django.db import connections, models, router

from lino_migrate.format.codec import RANGE_BOUNDS
from lino_migrate.format.layout import (
    NATURAL_KEY_MODELS,
    NATURAL_KEYS,
    FieldInfo,
    ModelInfo,
)

__all__ = [
    "current_schema",
    "describe",
    "dumpable_models",
    "left_out_models",
    "model_label",
    "value_field",
    "value_type",
]


def model_label(model: type[models.Model]) -> str:
    """Return ``app_label.model_name`` of *model*, in lower case."""
    return model._meta.label_lower


def value_field(field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    """Return the field whose type describes the values stored in *field*."""
    while field.is_relation and field.concrete:
        target = field.target_field  # type: ignore[attr-defined]
        if target is field:
            break
        field = target
    return field


def value_type(field: models.Field[Any, Any]) -> str:
    """Return the value type of *field*: what ``SCHEMA`` records of its values.

    That is the internal type of :func:`value_field`, but for the field types
    of ``django.contrib.postgres`` (and their subclasses): ``HStoreField``,
    the range type, and ``ArrayField[T]`` with ``T`` the value type of the
    array's base field (#13).
    """
    vfield = value_field(field)
    kinds = {
        c.__name__
        for c in type(vfield).__mro__
        if c.__module__.startswith("django.contrib.postgres.")
    }
    if "ArrayField" in kinds:
        return f"ArrayField[{value_type(vfield.base_field)}]"  # type: ignore[attr-defined]
    for kind in (*RANGE_BOUNDS, "HStoreField"):
        if kind in kinds:
            return kind
    return vfield.get_internal_type()


def _stored_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.local_concrete_fields
        if f.column and not getattr(f, "generated", False)
    ]


def describe(model: type[models.Model]) -> ModelInfo:
    """Return the description of the table of *model*.

    The models of :data:`NATURAL_KEYS` are described without their primary
    key; their natural key takes its place.
    """
    label = model_label(model)
    natural_key = NATURAL_KEYS.get(label)
    fields = []
    for f in _stored_fields(model):
        if natural_key and f.primary_key:
            continue
        target = model_label(f.related_model) if f.is_relation else None  # type: ignore[arg-type]
        fields.append(
            FieldInfo(
                f.name,
                f.attname,
                f.column,
                value_type(f),
                f.null,
                target,
            )
        )
    pk = natural_key or _pk_attnames(model)
    return ModelInfo(label, model._meta.db_table, pk, tuple(fields))


def _pk_attnames(model: type[models.Model]) -> tuple[str, ...]:
    pk = model._meta.pk
    assert pk is not None
    parts = getattr(pk, "fields", None)
    if parts:
        return tuple(f.attname for f in parts)
    return (pk.attname,)


def dumpable_models(
    exclude: Iterable[str] = (), using: str | None = None
) -> list[type[models.Model]]:
    """Return the models whose tables a dump holds, in load order.

    Proxy and unmanaged models are left out, as is every model that
    *exclude* names by ``app_label`` or ``app_label.ModelName`` (an excluded
    model takes its automatic many-to-many tables with it). With *using*,
    so is every model that ``migrate`` does not create on that database
    (:func:`left_out_models` says why).

    :raises LookupError: when *exclude* names an unknown app or model.
    """
    excluded = _resolve_excludes(exclude)
    chosen = []
    for model in _concrete_models():
        owner: type[models.Model] = model._meta.auto_created or model  # type: ignore[assignment]
        labels = {model._meta.app_label, model_label(model), model_label(owner)}
        if excluded & labels:
            continue
        if using is not None and _not_migrated_here(model, using) is not None:
            continue
        chosen.append(model)
    return sort_models(chosen)


def left_out_models(using: str) -> list[tuple[str, str]]:
    """Return ``(label, why)`` of each model ``migrate`` does not create on *using*.

    As Django decides it: ``Meta.required_db_vendor``,
    ``Meta.required_db_features`` and the database routers' ``allow_migrate``.
    Such a model has no table there by design, so a dump leaves it out (#13).
    """
    found = []
    for model in _concrete_models():
        why = _not_migrated_here(model, using)
        if why is not None:
            found.append((model_label(model), why))
    return found


def current_schema() -> dict[str, dict[str, str]]:
    """Return the current models as :mod:`migrations_registry` sees a schema.

    Model label -> {field name: attname}, for every model with a table of its
    own, with the fields a dump of it records.
    """
    return {
        model_label(model): {f.name: f.attname for f in describe(model).fields}
        for model in _concrete_models()
    }


def _concrete_models() -> Iterator[type[models.Model]]:
    """Yield the models with a table of their own: not proxy, managed."""
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        owner: type[models.Model] = opts.auto_created or model  # type: ignore[assignment]
        if not (opts.proxy or not opts.managed or not owner._meta.managed):
            yield model


def _not_migrated_here(model: type[models.Model], using: str) -> str | None:
    """Return why ``migrate`` creates no table of *model* on *using*, or ``None``."""
    connection = connections[using]
    owner: type[models.Model] = model._meta.auto_created or model  # type: ignore[assignment]
    vendor = owner._meta.required_db_vendor
    if vendor and vendor != connection.vendor:
        return f"Meta.required_db_vendor is '{vendor}', not '{connection.vendor}'"
    missing = [
        feature
        for feature in owner._meta.required_db_features
        if not getattr(connection.features, feature, False)
    ]
    if missing:
        return f"the database lacks Meta.required_db_features {', '.join(missing)}"
    if not router.allow_migrate_model(using, model):
        return f"the database routers do not migrate it on '{using}'"
    return None


def _resolve_excludes(exclude: Iterable[str]) -> set[str]:
    names = set()
    for item in exclude:
        if "." in item:
            names.add(apps.get_model(item)._meta.label_lower)
        else:
            names.add(apps.get_app_config(item).label)
    return names


def sort_models(chosen: Sequence[type[models.Model]]) -> list[type[models.Model]]:
    """Return *chosen* with natural-key models first, then targets before users.

    Cycles are broken by label; the order only has to be deterministic
    because constraints are checked once all rows are in.
    """
    by_label = {model_label(m): m for m in chosen}
    deps = {
        label: sorted(
            {
                model_label(f.related_model)  # type: ignore[arg-type]
                for f in _stored_fields(m)
                if f.is_relation and model_label(f.related_model) in by_label  # type: ignore[arg-type]
            }
            - {label}
        )
        for label, m in by_label.items()
    }
    order: list[str] = [label for label in NATURAL_KEY_MODELS if label in by_label]
    done = set(order)
    visiting: set[str] = set()

    def visit(label: str) -> None:
        if label in done or label in visiting:
            return
        visiting.add(label)
        for dep in deps[label]:
            visit(dep)
        visiting.discard(label)
        done.add(label)
        order.append(label)

    for label in sorted(by_label):
        visit(label)
    return [by_label[label] for label in order]
