"""Upgrade a dump to the current code without a database (``upgradedump``).

The rows of an old dump go through the migrators as a restore would take
them, and are written as a new dump at the current versions. Its
``restore.py`` is the old one with the metadata replaced (libcst), so that a
person's hooks and comments survive. Restoring the new dump gives the same
database as restoring the old one.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from lino_migrate.dump.dumper import _move_into_place
from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import DumpExistsError, LoadError
from lino_migrate.format.codec import literal_encoder
from lino_migrate.format.layout import (
    CONTENT_TYPE,
    FORMAT,
    PERMISSION,
    FileEntry,
    ModelInfo,
)
from lino_migrate.naturalkeys import generic_key_columns, references
from lino_migrate.restore.plan import Target, UpgradePlan, make_target, plan_upgrade
from lino_migrate.restore.reader import DumpMeta, open_dump, read_rows
from lino_migrate.restore.router import decoded_dicts
from lino_migrate.rewrite.restore_script import replace_metadata
from lino_migrate.schema import describe, sort_models
from lino_migrate.versions import app_versions
from migrations_registry import Registry, RegistryError

__all__ = ["UpgradeResult", "upgrade_dump"]

Rename = dict[tuple[str, str], tuple[str, str]]


@dataclass
class UpgradeResult:
    """What ``upgradedump`` wrote."""

    path: Path
    files: list[FileEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def upgrade_dump(
    old: Path | str,
    new: Path | str,
    *,
    overwrite: bool = False,
    max_row_count: int = 50000,
    registry: Registry | None = None,
) -> UpgradeResult:
    """Write *new*, the dump *old* migrated to the current code.

    :raises LinoMigrateError: for a bad dump, a failed plan, or *new* existing
        without *overwrite*.
    """
    old, new = Path(old), Path(new)
    meta = open_dump(old)
    upgrade = plan_upgrade(meta, registry)
    if new.exists() and not overwrite:
        raise DumpExistsError(new)
    new.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{new.name}.", dir=new.parent))
    try:
        result = UpgradeResult(new)
        writer = FileWriter(work, max_row_count)
        schema = _write_rows(meta, upgrade, writer)
        result.files = writer.entries
        # Bytes, not text: universal newlines would turn CRLF into LF.
        source = (meta.directory / "restore.py").read_bytes().decode("utf-8")
        rewritten = replace_metadata(source, _metadata(meta, schema, writer))
        result.warnings = rewritten.warnings
        (work / "restore.py").write_bytes(rewritten.code.encode("utf-8"))
        _move_into_place(work, new)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result


def _metadata(
    meta: DumpMeta, schema: dict[str, Any], writer: FileWriter
) -> dict[str, Any]:
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves: dict[str, list[str]] = {}
    for app, name in sorted(graph.leaf_nodes()):
        leaves.setdefault(app, []).append(name)
    return {
        "FORMAT": FORMAT,
        "CREATED": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "DJANGO": django.__version__,
        "ENGINE": meta.values["ENGINE"],
        "PARTIAL": meta.partial,
        "SKIPPED": meta.values["SKIPPED"],
        "VERSIONS": app_versions(),
        "MIGRATIONS": {app: tuple(names) for app, names in leaves.items()},
        "SCHEMA": schema,
        "FILES": tuple(e.as_literal() for e in writer.entries),
    }


def _write_rows(
    meta: DumpMeta, upgrade: UpgradePlan, writer: FileWriter
) -> dict[str, Any]:
    """Write every model's rows in load order; return the new ``SCHEMA``."""
    renamed = upgrade.renamed_keys
    migrated = _migrate(meta, upgrade)
    schema: dict[str, Any] = {}
    for label in (CONTENT_TYPE, PERMISSION):
        if label in meta.schema:
            info = meta.schema[label]
            writer.write(info, _natural_key_rows(meta, label, renamed))
            schema[label] = info.as_literal()
    for model in sort_models([t.model for t in upgrade.targets.values()]):
        target = upgrade.targets[model._meta.label_lower]
        info = describe(model)
        rows = _target_rows(meta, upgrade, target, info, migrated.get(target.label, []))
        writer.write(info, rows)
        schema[info.label] = info.as_literal()
    return schema


def _migrate(meta: DumpMeta, upgrade: UpgradePlan) -> dict[str, list[dict[str, Any]]]:
    """Return the migrated rows of every model that does not go in directly."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in meta.files:
        label = entry.model
        if label in upgrade.direct or label in (CONTENT_TYPE, PERMISSION):
            continue
        rows = decoded_dicts(meta.schema[label], read_rows(meta, entry))
        try:
            for target, row in upgrade.plan.apply(
                label, rows, schema=upgrade.registry_schema
            ):
                found.setdefault(target, []).append(row)
        except RegistryError as e:
            raise LoadError(label, str(e), file=entry.name) from e
    for label in found:
        if label in upgrade.targets:
            continue
        try:
            model = apps.get_model(label)
        except LookupError as e:
            problem = "a migrator made rows of this model, which the code does not have"
            raise LoadError(label, problem) from e
        upgrade.targets[label] = make_target(label, model)
    return found


def _target_rows(
    meta: DumpMeta,
    upgrade: UpgradePlan,
    target: Target,
    info: ModelInfo,
    migrated: list[dict[str, Any]],
) -> Iterable[tuple[Any, ...]]:
    """Return the rows of *target* as literal tuples, ordered by primary key."""
    rename = _reference_renamer(target, info, upgrade.renamed_keys)
    direct = [
        row
        for entry in meta.files
        if entry.model in upgrade.direct
        and upgrade.sources.get(entry.model) == target.label
        for batch in read_rows(meta, entry)
        for row in batch
    ]
    if not migrated:
        return [rename(row) for row in direct] if upgrade.renamed_keys else direct
    rows = direct + [
        _encode(target, info, row) for row in _numbered(target, info, migrated, direct)
    ]
    pk = info.attnames.index(info.pk[0])
    return sorted((rename(row) for row in rows), key=lambda row: row[pk])


def _numbered(
    target: Target,
    info: ModelInfo,
    rows: list[dict[str, Any]],
    direct: list[tuple[Any, ...]],
) -> list[dict[str, Any]]:
    """Give rows without their automatic primary key the ids a restore would."""
    pk = target.model._meta.pk
    if pk is None or not pk.get_internal_type().endswith("AutoField"):
        return rows
    index = info.attnames.index(pk.attname)
    taken = [row[pk.attname] for row in rows if row.get(pk.attname) is not None]
    taken += [row[index] for row in direct]
    next_id = max(taken, default=0) + 1
    for row in rows:
        if row.get(pk.attname) is None:
            row[pk.attname] = next_id
            next_id += 1
    return rows


def _encode(target: Target, info: ModelInfo, row: dict[str, Any]) -> tuple[Any, ...]:
    values = []
    for f in info.fields:
        value = row[f.attname] if f.attname in row else target.fills[f.attname]()
        encode = literal_encoder(f.type)
        values.append(
            encode(value)
            if encode and value is not None and type(value) is not tuple
            else value
        )
    return tuple(values)


def _reference_renamer(
    target: Target, info: ModelInfo, renamed: Rename
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Return a function renaming the natural keys a row refers to."""
    columns = [
        i
        for i, f in enumerate(info.fields)
        if references(target.model._meta.get_field(f.name)) is not None  # type: ignore[arg-type]
    ]
    columns += [
        oid for _ct, oid, _text in generic_key_columns(target.model, info.attnames)
    ]
    if not columns or not renamed:
        return lambda row: row

    def rename(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i in columns:
            values[i] = _renamed_key(values[i], renamed)
        return tuple(values)

    return rename


def _renamed_key(value: Any, renamed: Rename) -> Any:
    if type(value) is tuple and len(value) >= 2 and value[:2] in renamed:
        return renamed[value[:2]] + value[2:]
    return value


def _natural_key_rows(
    meta: DumpMeta, label: str, renamed: Rename
) -> list[tuple[Any, ...]]:
    """Return the rows of content types or permissions, renamed, unique, sorted.

    A content type row is its natural key; a permission row holds its content
    type's natural key.
    """
    info = meta.schema[label]
    key = [info.attnames.index(a) for a in info.pk]
    rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for entry in meta.files:
        if entry.model != label:
            continue
        for batch in read_rows(meta, entry):
            for row in batch:
                if label == CONTENT_TYPE:
                    row = _renamed_key(tuple(row), renamed)
                else:
                    row = tuple(_renamed_key(v, renamed) for v in row)
                rows.setdefault(tuple(row[i] for i in key), row)
    return [rows[k] for k in sorted(rows)]
