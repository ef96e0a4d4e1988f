"""Describe the models of a site as a dump records them in ``SCHEMA``.

A dump stores, per concrete table, the *raw* column values. What a column
holds is described by its field's value type: the internal type of the field
itself, or of the field a relation points to (a foreign key to a UUID primary
key holds UUIDs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import apps
from django.db import models

from lino_migrate.format.layout import (
    NATURAL_KEY_MODELS,
    NATURAL_KEYS,
    FieldInfo,
    ModelInfo,
)

__all__ = [
    "describe",
    "dumpable_models",
    "model_label",
    "value_field",
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
                value_field(f).get_internal_type(),
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


def dumpable_models(exclude: Iterable[str] = ()) -> list[type[models.Model]]:
    """Return the models whose tables a dump holds, in load order.

    Proxy and unmanaged models are left out, as is every model that
    *exclude* names by ``app_label`` or ``app_label.ModelName`` (an excluded
    model takes its automatic many-to-many tables with it).

    :raises LookupError: when *exclude* names an unknown app or model.
    """
    excluded = _resolve_excludes(exclude)
    chosen = []
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        owner: type[models.Model] = opts.auto_created or model  # type: ignore[assignment]
        if opts.proxy or not opts.managed or not owner._meta.managed:
            continue
        if excluded & {opts.app_label, model_label(model), model_label(owner)}:
            continue
        chosen.append(model)
    return sort_models(chosen)


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
