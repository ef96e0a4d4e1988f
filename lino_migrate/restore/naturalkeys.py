"""Match content types and permissions by natural key instead of by id.

The target database keeps its own content type and permission rows (``migrate``
made them for the current models); rows of the dump are matched to them by
``(app_label, model)`` and ``(content type, codename)``, missing ones are
added, and every reference to an old id follows the map built here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

__all__ = ["merge_content_types", "merge_permissions"]


def merge_content_types(using: str, rows: Iterable[dict[str, Any]]) -> dict[Any, Any]:
    """Return ``{dump id: target id}``, adding the content types the target lacks."""
    manager = ContentType.objects.db_manager(using)
    existing = {(ct.app_label, ct.model): ct.pk for ct in manager.all()}
    mapping = {}
    for row in rows:
        key = (row["app_label"], row["model"])
        if key not in existing:
            existing[key] = manager.create(app_label=key[0], model=key[1]).pk
        mapping[row["id"]] = existing[key]
    manager.clear_cache()
    return mapping


def merge_permissions(
    using: str, rows: Iterable[dict[str, Any]], content_types: dict[Any, Any]
) -> dict[Any, Any]:
    """Return ``{dump id: target id}``, adding the permissions the target lacks.

    :param content_types: the map returned by :func:`merge_content_types`.
    """
    manager = Permission.objects.db_manager(using)
    existing = {(p.content_type_id, p.codename): p.pk for p in manager.all()}
    mapping = {}
    for row in rows:
        ct = content_types.get(row["content_type_id"], row["content_type_id"])
        key = (ct, row["codename"])
        if key not in existing:
            created = manager.create(
                name=row["name"], content_type_id=ct, codename=key[1]
            )
            existing[key] = created.pk
        mapping[row["id"]] = existing[key]
    return mapping
