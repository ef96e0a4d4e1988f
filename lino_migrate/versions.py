"""Find the version of every installed app and the migrations applied to a database."""

from __future__ import annotations

import importlib.metadata
from functools import cache

import django
from django.apps import AppConfig, apps
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from packaging.version import InvalidVersion, Version

from lino_migrate.conf import configured_versions
from lino_migrate.exceptions import LinoMigrateError

__all__ = ["AppVersionError", "app_version", "app_versions", "applied_migrations"]

#: The version recorded for an app that declares none anywhere.
UNVERSIONED = "0"


class AppVersionError(LinoMigrateError, ValueError):
    """An app declares a version that is not a valid version string."""

    def __init__(self, app_label: str, value: object, source: str) -> None:
        self.app_label, self.value, self.source = app_label, value, source
        super().__init__(
            f"The version {value!r} of app '{app_label}' (from {source}) is not a "
            "valid version (PEP 440, e.g. '2.1' or '1.0.post3'). Fix it there."
        )


@cache
def _distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def _declared_version(config: AppConfig) -> tuple[object, str] | None:
    declared = getattr(config, "migrate_version", None)
    if declared is not None:
        return declared, f"{type(config).__qualname__}.migrate_version"
    configured = configured_versions()
    if config.label in configured:
        return configured[config.label], 'settings.LINO_MIGRATE["VERSIONS"]'
    top = config.name.partition(".")[0]
    if config.name.startswith("django.contrib."):
        return django.__version__, "the installed Django"
    for dist in _distributions().get(top, []):
        try:
            return importlib.metadata.version(dist), f"the installed {dist}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def app_version(config: AppConfig) -> Version:
    """Return the version of the app of *config*.

    First found: ``AppConfig.migrate_version``, ``settings.LINO_MIGRATE
    ["VERSIONS"][app_label]``, Django's version for ``django.contrib`` apps,
    the version of the installed distribution holding the app's package,
    else ``0``.

    :raises AppVersionError: when the declared version does not parse.
    """
    found = _declared_version(config)
    if found is None:
        return Version(UNVERSIONED)
    value, source = found
    try:
        return Version(str(value))
    except InvalidVersion as e:
        raise AppVersionError(config.label, value, source) from e


def app_versions() -> dict[str, str]:
    """Return ``{app_label: version}`` for every installed app that has models."""
    return {
        config.label: str(app_version(config))
        for config in sorted(apps.get_app_configs(), key=lambda c: c.label)
        if any(True for _ in config.get_models(include_auto_created=True))
    }


def applied_migrations(connection: BaseDatabaseWrapper) -> dict[str, tuple[str, ...]]:
    """Return the leaf names of the migrations applied to *connection*, per app.

    A leaf is an applied migration that no other applied migration of the
    same app depends on.
    """
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return {}
    applied = set(recorder.applied_migrations())
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(connection, ignore_no_migrations=True).graph
    leaves: dict[str, list[str]] = {}
    for app_label, name in sorted(applied):
        node = graph.node_map.get((app_label, name))
        children = node.children if node is not None else set()
        if not any(c in applied and c[0] == app_label for c in children):
            leaves.setdefault(app_label, []).append(name)
    return {app: tuple(names) for app, names in leaves.items()}
