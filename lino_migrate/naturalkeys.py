"""Write references to content types and permissions as natural keys.

Content type and permission ids are made by ``migrate`` and differ from one
database to the next; ``(app_label, model)`` and ``(app_label, model,
codename)`` do not. A dump holds these rows without ids, and every foreign key
to them (and every generic foreign key whose object is one of them) as the
natural key tuple. That makes a dump independent of the ids of the database
it came from: restored into a database with other ids, the references follow,
and a second dump is byte-identical to the first.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from lino_migrate.format.layout import CONTENT_TYPE, KEY_OF_LABEL, PERMISSION
from lino_migrate.schema import model_label

__all__ = [
    "generic_key_columns",
    "read_natural_keys",
    "references",
]


def read_natural_keys(using: str) -> dict[str, dict[Any, tuple[str, ...]]]:
    """Return, per model label, ``{id: natural key}`` of database *using*."""
    found: dict[str, dict[Any, tuple[str, ...]]] = {}
    if not apps.is_installed("django.contrib.contenttypes"):
        return found
    from django.contrib.contenttypes.models import ContentType

    cts = ContentType.objects.using(using).values_list("pk", "app_label", "model")
    found[CONTENT_TYPE] = {pk: (app, model) for pk, app, model in cts}
    if apps.is_installed("django.contrib.auth"):
        from django.contrib.auth.models import Permission

        perms = Permission.objects.using(using).values_list(
            "pk", "content_type", "codename"
        )
        keys = found[CONTENT_TYPE]
        found[PERMISSION] = {
            pk: (*keys[ct], codename) for pk, ct, codename in perms if ct in keys
        }
    return found


def generic_key_columns(
    model: type[models.Model], attnames: tuple[str, ...]
) -> list[tuple[int, int, bool]]:
    """Return ``(content type index, object id index, id is text)`` per generic key.

    Only generic foreign keys whose two columns are both in *attnames* count.
    Without ``contenttypes`` no model has one, and its ``fields`` module,
    which defines ``ContentType``, cannot be imported (#13).
    """
    if not apps.is_installed("django.contrib.contenttypes"):
        return []
    from django.contrib.contenttypes.fields import GenericForeignKey

    pairs = []
    for private in model._meta.private_fields:
        if not isinstance(private, GenericForeignKey):
            continue
        ct_field = model._meta.get_field(private.ct_field)
        id_field = model._meta.get_field(private.fk_field)
        assert isinstance(ct_field, models.Field)
        assert isinstance(id_field, models.Field)
        if ct_field.attname in attnames and id_field.attname in attnames:
            text = isinstance(id_field, models.CharField | models.TextField)
            pairs.append(
                (
                    attnames.index(ct_field.attname),
                    attnames.index(id_field.attname),
                    text,
                )
            )
    return pairs


def references(field: models.Field[Any, Any]) -> str | None:
    """Return the label of the natural-key model that *field* points to, if any."""
    if field.is_relation and field.related_model is not None:
        label = model_label(field.related_model)  # type: ignore[arg-type]
        if label in KEY_OF_LABEL:
            return label
    return None
