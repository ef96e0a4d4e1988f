"""The schema of an empty database created before a restore (``--migrate``, #13).

Lino operators restore into an empty database: ``restore.py --migrate``
runs Django's ``migrate`` (with ``--run-syncdb``, for apps without
migrations, as Lino's are) before the restore's transaction. DDL is not
part of that transaction: when the restore then fails, its rows are rolled
back but the schema stays.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.management import call_command
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from lino_migrate.exceptions import (
    MigrateFailedError,
    RehearsalNeedsSchemaError,
    plural,
)

__all__ = ["SchemaWork", "create_schema", "schema_work"]

Progress = Callable[[str, int], None]


@dataclass
class SchemaWork:
    """What ``migrate --run-syncdb`` would do to a database.

    :param database: the alias of the database.
    :param migrations: the migrations to apply, as ``app_label.name``.
    :param tables: the tables of apps without migrations to create.
    """

    database: str
    migrations: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Return whether there is anything to do."""
        return bool(self.migrations or self.tables)

    def __str__(self) -> str:
        """Return the work as a phrase: ``apply 18 migrations and create 2 tables``."""
        parts = []
        if self.migrations:
            parts.append(f"apply {plural(len(self.migrations), 'migration')}")
        if self.tables:
            parts.append(f"create {plural(len(self.tables), 'table')}")
        return " and ".join(parts) or "nothing"


def schema_work(using: str) -> SchemaWork:
    """Return what ``migrate --run-syncdb`` would do to the database *using*.

    The unapplied migrations of every app, and the missing tables of the
    apps without migrations, found as ``migrate`` finds them.

    :raises MigrateFailedError: when the migrations cannot even be loaded
        (conflicts, an inconsistent history).
    """
    connection = connections[using]
    try:
        executor = MigrationExecutor(connection)
        graph = executor.loader.graph
        plan = executor.migration_plan(graph.leaf_nodes())
        tables = _missing_syncdb_tables(connection, executor.loader.unmigrated_apps)
    except Exception as e:
        raise MigrateFailedError(using, _describe(using), e) from e
    migrations = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    return SchemaWork(using, migrations, tables)


def _missing_syncdb_tables(
    connection: BaseDatabaseWrapper, unmigrated: set[str]
) -> list[str]:
    """Return the tables that ``migrate --run-syncdb`` creates for *unmigrated* apps."""
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
    convert = connection.introspection.identifier_converter
    missing = []
    for config in apps.get_app_configs():
        if config.models_module is None or config.label not in unmigrated:
            continue
        for model in router.get_migratable_models(config, connection.alias):
            opts = model._meta
            if opts.can_migrate(connection) and convert(opts.db_table) not in existing:
                missing.append(opts.db_table)
    return sorted(missing)


def create_schema(
    using: str, *, simulate: bool = False, progress: Progress | None = None
) -> SchemaWork:
    """Run ``migrate --run-syncdb`` on the database *using*, if it has anything to do.

    A database that is fully migrated is left alone (``migrate`` is not
    called). Nothing that ``migrate`` writes reaches standard output.

    :param simulate: a rehearsal: refuse rather than create a schema.
    :param progress: told what was done (level 1) or not needed (level 2).
    :return: what was done; false when nothing was.
    :raises RehearsalNeedsSchemaError: with *simulate*, when there is work.
    :raises MigrateFailedError: when ``migrate`` fails.

    .. versionadded:: 0.3
    """
    work = schema_work(using)
    say = progress or (lambda message, level: None)
    if not work:
        say(f"Database '{using}' is fully migrated; --migrate has nothing to do.", 2)
        return work
    if simulate:
        raise RehearsalNeedsSchemaError(using, _describe(using), str(work))
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            call_command(
                "migrate", database=using, run_syncdb=True, interactive=False,
                verbosity=0, stdout=output, stderr=output,
            )  # fmt: skip
    except Exception as e:
        raise MigrateFailedError(using, _describe(using), e) from e
    say(f"Created the schema of database '{using}': migrate did {work}.", 1)
    return work


def _describe(using: str) -> str:
    """Return which database *using* is: its vendor and the ``NAME`` of its settings."""
    connection = connections[using]
    return f"{connection.display_name} {connection.settings_dict.get('NAME') or ''}"
