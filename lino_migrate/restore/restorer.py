"""Restore a dump into a database: verify, plan, load, check, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.dump.values import literal_decoder
from lino_migrate.dump.writer import FileEntry
from lino_migrate.exceptions import LoadError
from lino_migrate.naturalkeys import CONTENT_TYPE, PERMISSION, references
from lino_migrate.restore.checks import check_foreign_keys
from lino_migrate.restore.loader import TableLoader, delete_rows
from lino_migrate.restore.naturalkeys import ContentTypeIds, PermissionIds
from lino_migrate.restore.reader import DumpMeta, read_meta, read_rows, verify_files
from lino_migrate.restore.router import RowRouter, decoded_dicts
from lino_migrate.schema import NATURAL_KEYS, ModelInfo
from lino_migrate.upgrade import UpgradePlan, plan_upgrade
from migrations_registry import Registry, RegistryError

__all__ = ["ModelReport", "RestoreContext", "RestoreReport", "restore"]

Progress = Callable[[str, int], None]
Hook = Callable[["RestoreContext"], None]


@dataclass
class ModelReport:
    """What happened to the rows of one model (under its current label)."""

    label: str
    in_dump: int = 0
    written: int = 0

    @property
    def dropped(self) -> int:
        """Return how many more rows the dump had than were written."""
        return max(self.in_dump - self.written, 0)

    @property
    def created(self) -> int:
        """Return how many more rows were written than the dump had."""
        return max(self.written - self.in_dump, 0)


@dataclass
class RestoreReport:
    """What a restore did, per model."""

    database: str
    models: dict[str, ModelReport] = field(default_factory=dict)

    @property
    def written(self) -> int:
        """Return the number of rows written in all."""
        return sum(m.written for m in self.models.values())

    def model(self, label: str) -> ModelReport:
        """Return the report of model *label*, adding it when new."""
        return self.models.setdefault(label, ModelReport(label))


@dataclass
class RestoreContext:
    """What the hooks of ``restore.py`` receive."""

    using: str
    meta: DumpMeta
    report: RestoreReport

    @property
    def connection(self) -> BaseDatabaseWrapper:
        """Return the connection the restore writes through."""
        return connections[self.using]


def restore(
    script: Path | str,
    *,
    using: str = "default",
    hooks: dict[str, Any] | None = None,
    progress: Progress | None = None,
    registry: Registry | None = None,
) -> RestoreReport:
    """Restore the dump whose ``restore.py`` is *script* into database *using*.

    The dump is verified first (format, checksums, row counts, fit with the
    current models); then, in one transaction, the rows of every dumped model
    are replaced, constraints are checked and sequences reset. Any error
    rolls the whole restore back.

    :param hooks: namespace holding ``before_restore``/``after_restore``.
    :param registry: the migrators to plan with; by default those that
        ``@migrator`` registered.
    :raises LinoMigrateError: for a bad dump or a row the database refuses.
    """
    script = Path(script)
    if script.is_dir():
        script = script / "restore.py"
    meta = read_meta(script)
    verify_files(meta)
    upgrade = plan_upgrade(meta, registry)
    connection = connections[using]
    report = RestoreReport(using)
    ctx = RestoreContext(using, meta, report)
    with transaction.atomic(using=using):
        _call_hook(hooks, "before_restore", ctx)
        tables = [t.model._meta.db_table for t in upgrade.targets.values()]
        delete_rows(connection, tables)
        remaps = _merge_natural_keys(meta, using, report, upgrade.renamed_keys)
        router = RowRouter(connection, upgrade.targets, remaps)
        for entry in meta.files:
            if entry.model not in NATURAL_KEYS:
                _load_file(meta, entry, upgrade, router, report)
                if progress:
                    progress(f"{entry.name}: {entry.rows} rows", 2)
        restored = [t.model for t in upgrade.targets.values()]
        _reset_sequences(connection, restored)
        router.flush_deferred()
        _add_current_natural_keys(using)
        for hook in upgrade.plan.after_load_hooks:
            hook.func(ctx)
        _call_hook(hooks, "after_restore", ctx)
        for label, count in router.written().items():
            report.model(label).written += count
        check_foreign_keys(connection, restored)
        _reset_sequences(connection, restored)
    _clear_caches()
    return report


def _load_file(
    meta: DumpMeta,
    entry: FileEntry,
    upgrade: UpgradePlan,
    router: RowRouter,
    report: RestoreReport,
) -> None:
    """Load one data file: straight into its table, or through the migrators."""
    label = entry.model
    current = upgrade.sources.get(label, label)
    report.model(current).in_dump += entry.rows
    batches = read_rows(meta, entry)
    if label in upgrade.direct:
        target = upgrade.targets[current]
        loader = _loader(
            target.model, meta.schema[label], router.connection, router.remaps
        )
        for batch in batches:
            loader.insert(batch, entry.name)
        report.model(current).written += loader.written
        return
    rows = upgrade.plan.apply(
        label,
        decoded_dicts(meta.schema[label], batches),
        schema=upgrade.registry_schema,
    )
    try:
        router.feed(rows, entry.name)
    except RegistryError as e:
        raise LoadError(label, str(e), file=entry.name) from e


def _add_current_natural_keys(using: str) -> None:
    """Create the content types and permissions of every current model.

    As ``migrate`` does after it ran: a model the dump lacks has them too.
    """
    if not apps.is_installed("django.contrib.contenttypes"):
        return
    from django.contrib.contenttypes.management import create_contenttypes

    ContentType.objects.clear_cache()
    for config in apps.get_app_configs():
        create_contenttypes(config, verbosity=0, interactive=False, using=using)
    if apps.is_installed("django.contrib.auth"):
        from django.contrib.auth.management import create_permissions

        for config in apps.get_app_configs():
            create_permissions(config, verbosity=0, interactive=False, using=using)


def _clear_caches() -> None:
    """Forget the rows Django caches per process: their ids may have changed."""
    ContentType.objects.clear_cache()
    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site

        Site.objects.clear_cache()


def _loader(
    model: type[models.Model],
    info: ModelInfo,
    connection: BaseDatabaseWrapper,
    remaps: dict[str, dict[Any, Any]],
) -> TableLoader:
    fk_maps = {}
    for f in model._meta.local_concrete_fields:
        target = references(f)
        if target is not None and target in remaps:
            fk_maps[f.attname] = remaps[target]
    return TableLoader(model, info, connection, fk_maps, remaps)


def _call_hook(hooks: dict[str, Any] | None, name: str, ctx: RestoreContext) -> None:
    hook = (hooks or {}).get(name)
    if callable(hook):
        hook(ctx)


def _merge_natural_keys(
    meta: DumpMeta,
    using: str,
    report: RestoreReport,
    renamed: dict[tuple[str, str], tuple[str, str]],
) -> dict[str, dict[Any, Any]]:
    """Match content types, then permissions; return natural key -> id maps.

    :param renamed: ``(app_label, model)`` of renamed models -> current ones:
        their content types follow the rename, with their permissions.
    """
    if not apps.is_installed("django.contrib.contenttypes"):
        return {}
    content_types = ContentTypeIds(using, renamed)
    remaps: dict[str, dict[Any, Any]] = {CONTENT_TYPE: content_types}
    if CONTENT_TYPE in meta.schema:
        count = content_types.merge(_dict_rows(meta, CONTENT_TYPE))
        report.models[CONTENT_TYPE] = ModelReport(CONTENT_TYPE, count, count)
    if apps.is_installed("django.contrib.auth"):
        permissions = PermissionIds(using, content_types)
        remaps[PERMISSION] = permissions
        if PERMISSION in meta.schema:
            count = permissions.merge(_dict_rows(meta, PERMISSION))
            report.models[PERMISSION] = ModelReport(PERMISSION, count, count)
    return remaps


def _dict_rows(meta: DumpMeta, label: str) -> list[dict[str, Any]]:
    info = meta.schema.get(label)
    if info is None:
        return []
    decoders = [literal_decoder(f.type) for f in info.fields]
    rows = []
    for entry in meta.files:
        if entry.model != label:
            continue
        for batch in read_rows(meta, entry):
            for row in batch:
                rows.append(
                    {
                        f.attname: (v if dec is None or v is None else dec(v))
                        for f, dec, v in zip(info.fields, decoders, row, strict=True)
                    }
                )
    return rows


def _reset_sequences(
    connection: BaseDatabaseWrapper, restored: list[type[models.Model]]
) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), restored)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
