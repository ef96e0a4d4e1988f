"""Resolve the natural keys of a dump to the content types and permissions of the target.

Django's ``ContentType`` and ``Permission`` are imported only when a map is
made, so that a site without ``django.contrib.auth`` or ``contenttypes``
(a Lino site) can import this module.

The target database keeps its own content type and permission rows (``migrate``
made them for the current models); the natural keys of the dump are matched
to them, and the ones the target lacks are added.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lino_migrate.exceptions import LoadError
from lino_migrate.format.layout import PERMISSION

__all__ = ["ContentTypeIds", "PermissionIds"]


class ContentTypeIds(dict[tuple[str, ...], Any]):
    """Map ``(app_label, model)`` to the content type id of the target.

    A key the target lacks is added to it when first looked up.
    """

    def __init__(
        self, using: str, renamed: dict[tuple[str, str], tuple[str, str]] | None = None
    ) -> None:
        from django.contrib.contenttypes.models import ContentType

        super().__init__()
        self.manager = ContentType.objects.db_manager(using)
        for ct in self.manager.all():
            self[(ct.app_label, ct.model)] = ct.pk
        for old, new in (renamed or {}).items():
            # A renamed model keeps its content type, as in an in-place upgrade.
            self[old] = self[new]

    def __missing__(self, key: tuple[str, ...]) -> Any:
        app_label, model = key
        self[key] = self.manager.create(app_label=app_label, model=model).pk
        return self[key]

    def keys_of(self, pk: Any) -> list[tuple[str, ...]]:
        """Return every key (current and renamed) of content type *pk*."""
        return [key for key, value in self.items() if value == pk]

    def merge(self, rows: Iterable[dict[str, Any]]) -> int:
        """Add the content types of *rows* that the target lacks; return their count."""
        keys = [(row["app_label"], row["model"]) for row in rows]
        for key in keys:
            if key not in self:
                self.__missing__(key)
        self.manager.clear_cache()
        return len(keys)


class PermissionIds(dict[tuple[str, ...], Any]):
    """Map ``(app_label, model, codename)`` to the permission id of the target."""

    def __init__(self, using: str, content_types: ContentTypeIds) -> None:
        from django.contrib.auth.models import Permission

        super().__init__()
        self.manager = Permission.objects.db_manager(using)
        self.content_types = content_types
        keys_of: dict[Any, list[tuple[str, ...]]] = {}
        for key, pk in content_types.items():
            keys_of.setdefault(pk, []).append(key)
        for perm in self.manager.all():
            for key in keys_of.get(perm.content_type_id, []):
                self[(*key, perm.codename)] = perm.pk
        self.names: dict[tuple[str, ...], str] = {}

    def __missing__(self, key: tuple[str, ...]) -> Any:
        app_label, model, codename = key
        ct = self.content_types[(app_label, model)]
        for other in self.content_types.keys_of(ct):
            if (*other, codename) in self:
                self[key] = self[(*other, codename)]
                return self[key]
        created = self.manager.create(
            name=self.names.get(key, codename),
            content_type_id=ct,
            codename=codename,
        )
        self[key] = created.pk
        return self[key]

    def merge(self, rows: Iterable[dict[str, Any]]) -> int:
        """Add the permissions of *rows* that the target lacks; return their count."""
        count = 0
        for row in rows:
            ct = row["content_type_id"]
            if not (isinstance(ct, tuple) and len(ct) == 2):
                problem = (
                    f"content_type_id is {ct!r}, not a natural key (app_label, model)"
                )
                raise LoadError(PERMISSION, problem, field="content_type")
            key = (*ct, row["codename"])
            self.names[key] = row["name"]
            if key not in self:
                self.__missing__(key)
            count += 1
        return count
