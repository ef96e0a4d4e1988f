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
from lino_migrate.restore.checks import check_foreign_keys
from lino_migrate.restore.loader import TableLoader, delete_rows
from lino_migrate.restore.naturalkeys import merge_content_types, merge_permissions
from lino_migrate.restore.reader import DumpMeta, read_meta, read_rows, verify_files
from lino_migrate.schema import ModelInfo, describe

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
        plain = [label for label in targets if label not in _NATURAL_KEYS]
        delete_rows(connection, [targets[label]._meta.db_table for label in plain])
        remaps = _merge_natural_keys(meta, using, report)
        for entry in meta.files:
            if entry.model in _NATURAL_KEYS:
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
    ContentType.objects.clear_cache()
    return report


_NATURAL_KEYS = ("contenttypes.contenttype", "auth.permission")


def _loader(
    model: type[models.Model],
    info: ModelInfo,
    connection: BaseDatabaseWrapper,
    remaps: dict[str, dict[Any, Any]],
) -> TableLoader:
    fk_maps = {}
    for f in model._meta.local_concrete_fields:
        if f.is_relation and f.related_model is not None:
            key = f.related_model._meta.label_lower  # type: ignore[union-attr]
            if key in remaps:
                fk_maps[f.attname] = remaps[key]
    return TableLoader(model, info, connection, fk_maps)


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
    """Match content types, then permissions; return their id maps by label."""
    remaps: dict[str, dict[Any, Any]] = {}
    ct_label, perm_label = _NATURAL_KEYS
    if ct_label in meta.schema:
        rows = _dict_rows(meta, ct_label)
        remaps[ct_label] = merge_content_types(using, rows)
        report.models[ct_label] = ModelReport(ct_label, len(rows), len(rows))
    if perm_label in meta.schema:
        rows = _dict_rows(meta, perm_label)
        remaps[perm_label] = merge_permissions(using, rows, remaps.get(ct_label, {}))
        report.models[perm_label] = ModelReport(perm_label, len(rows), len(rows))
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
