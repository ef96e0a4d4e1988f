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
from lino_migrate.exceptions import SchemaMismatchError
from lino_migrate.naturalkeys import CONTENT_TYPE, PERMISSION, references
from lino_migrate.restore.checks import check_foreign_keys
from lino_migrate.restore.loader import TableLoader, delete_rows
from lino_migrate.restore.naturalkeys import ContentTypeIds, PermissionIds
from lino_migrate.restore.reader import DumpMeta, read_meta, read_rows, verify_files
from lino_migrate.schema import NATURAL_KEYS, ModelInfo, describe

__all__ = ["ModelReport", "RestoreContext", "RestoreReport", "restore"]

Progress = Callable[[str, int], None]
Hook = Callable[["RestoreContext"], None]


@dataclass
class ModelReport:
    """What happened to the rows of one model."""

    label: str
    in_dump: int = 0
    written: int = 0


@dataclass
class RestoreReport:
    """What a restore did, per model."""

    database: str
    models: dict[str, ModelReport] = field(default_factory=dict)

    @property
    def written(self) -> int:
        """Return the number of rows written in all."""
        return sum(m.written for m in self.models.values())


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
) -> RestoreReport:
    """Restore the dump whose ``restore.py`` is *script* into database *using*.

    The dump is verified first (format, checksums, row counts, fit with the
    current models); then, in one transaction, the rows of every dumped model
    are replaced, constraints are checked and sequences reset. Any error
    rolls the whole restore back.

    :param hooks: namespace holding ``before_restore``/``after_restore``.
    :raises LinoMigrateError: for a bad dump or a row the database refuses.
    """
    script = Path(script)
    if script.is_dir():
        script = script / "restore.py"
    meta = read_meta(script)
    verify_files(meta)
    targets = _match_models(meta)
    connection = connections[using]
    report = RestoreReport(using)
    ctx = RestoreContext(using, meta, report)
    with transaction.atomic(using=using):
        _call_hook(hooks, "before_restore", ctx)
        plain = [label for label in targets if label not in NATURAL_KEYS]
        delete_rows(connection, [targets[label]._meta.db_table for label in plain])
        remaps = _merge_natural_keys(meta, using, report)
        for entry in meta.files:
            if entry.model in NATURAL_KEYS:
                continue
            loader = _loader(
                targets[entry.model], meta.schema[entry.model], connection, remaps
            )
            for batch in read_rows(meta, entry):
                loader.insert(batch, entry.name)
            model_report = report.models.setdefault(
                entry.model, ModelReport(entry.model)
            )
            model_report.in_dump += entry.rows
            model_report.written += loader.written
            if progress:
                progress(f"{entry.name}: {loader.written} rows", 2)
        _call_hook(hooks, "after_restore", ctx)
        check_foreign_keys(connection, [targets[label] for label in plain])
        _reset_sequences(connection, list(targets.values()))
    _clear_caches()
    return report


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


def _match_models(meta: DumpMeta) -> dict[str, type[models.Model]]:
    """Return the current model of every dumped model, or raise with every misfit."""
    problems: list[str] = []
    targets: dict[str, type[models.Model]] = {}
    for label, dumped in meta.schema.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            problems.append(
                f"model '{label}' is in the dump but not in the current code"
            )
            continue
        problems += _column_problems(dumped, describe(model))
        targets[label] = model
    if problems:
        raise SchemaMismatchError(problems)
    return targets


def _column_problems(dumped: ModelInfo, current: ModelInfo) -> list[str]:
    have = {f.attname for f in current.fields}
    want = {f.attname for f in dumped.fields}
    problems = [
        f"field '{f.name}' of '{dumped.label}' is in the dump but not in the model"
        for f in dumped.fields
        if f.attname not in have
    ]
    problems += [
        f"field '{f.name}' of '{dumped.label}' is in the model but not in the dump"
        for f in current.fields
        if f.attname not in want
    ]
    return problems


def _merge_natural_keys(
    meta: DumpMeta, using: str, report: RestoreReport
) -> dict[str, dict[Any, Any]]:
    """Match content types, then permissions; return natural key -> id maps."""
    if not apps.is_installed("django.contrib.contenttypes"):
        return {}
    content_types = ContentTypeIds(using)
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
