"""The rows of a dump checked as a restore checks them, writing nothing (``dumpplan``).

Every data file is read as the restore reads it (:func:`read_rows`: streamed,
hashed, parsed as literals), and its rows go the restore's way: straight to
a :class:`TableLoader`, or through the plan's operations and a
:class:`RowRouter`, both in a dry run (value checks and conversions, no
write). In place of the database, :class:`_StandIn` checks what the database
would refuse and the rows alone tell: NULL in a NOT NULL column, an integer
outside its column's range, a text longer than its ``varchar`` or holding a
NUL (PostgreSQL), a primary key twice, a foreign key to a row that a model
restored from the dump lacks (#12).

A foreign key to a model the dump does not restore (left out by ``dump2py
--exclude``, skipped by ``--tolerate``) must point to rows the target
database keeps: they are looked up there (#14). What only the database
knows is left to the restore and its ``--simulate``: unique constraints other
than the primary key, check constraints, values a column type parses
(``inet``, ``numeric`` precision), natural keys the target lacks, and rows
that hooks add.

Memory: the primary keys of every restored model are kept, one set per
model (about 60 MB for a million integer keys), and the values of every
foreign key to a restored model.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import DatabaseError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import DumpFormatError, LoadError, plural
from lino_migrate.format.layout import CONTENT_TYPE, NATURAL_KEYS, PERMISSION, FileEntry
from lino_migrate.restore.loader import TableLoader
from lino_migrate.restore.plan import UpgradePlan
from lino_migrate.restore.reader import DumpMeta, read_rows
from lino_migrate.restore.router import RowRouter, decoded_dicts
from lino_migrate.schema import model_label, value_field
from migrations_registry import RegistryError

__all__ = ["SHOWN", "kept_references", "row_problems"]

#: Problems listed; the others are counted.
SHOWN = 20

#: What decoding a literal of the wrong form raises (a date that is no date).
_DECODE_ERRORS = (ValueError, TypeError, ArithmeticError, KeyError, AttributeError)
_VARCHAR = re.compile(r"(?:varchar|character varying)\((\d+)\)", re.IGNORECASE)


def row_problems(
    meta: DumpMeta, upgrade: UpgradePlan, connection: BaseDatabaseWrapper
) -> list[str]:
    """Return what in the rows of *meta* would make its restore fail.

    Every row is read and checked as the restore would, up to the database;
    nothing is written. At most :data:`SHOWN` problems are listed, then
    their count.
    """
    stand_in = _StandIn(connection)
    router = RowRouter(
        connection,
        dict(upgrade.targets),
        _stand_in_ids(),
        stand_in.errors,
        dry_run=stand_in.check,
    )
    for entry in meta.files:
        try:
            _check_file(meta, upgrade, entry, router)
        except (DumpFormatError, LoadError) as e:
            stand_in.add(e)
        except RegistryError as e:
            stand_in.add(LoadError(entry.model, str(e), file=entry.name))
        except _DECODE_ERRORS as e:
            stand_in.add(
                LoadError(entry.model, f"a value cannot be read: {e}", file=entry.name)
            )
    try:
        router.flush_deferred()
    except LoadError as e:
        stand_in.add(e)
    stand_in.check_references(set(router.targets))
    return stand_in.report()


def _check_file(
    meta: DumpMeta, upgrade: UpgradePlan, entry: FileEntry, router: RowRouter
) -> None:
    """Read one data file and send its rows where the restore sends them."""
    label, info = entry.model, meta.schema[entry.model]
    batches = read_rows(meta, entry)
    if label in NATURAL_KEYS:
        # Matched by natural key, not loaded: read and decoded as the restore does.
        if _natural_keys_read(label):
            for _row in decoded_dicts(info, batches):
                pass
        else:
            for _batch in batches:
                pass
        return
    if label in upgrade.direct:
        model = upgrade.targets[upgrade.sources.get(label, label)].model
        loader = router.direct_loader(model, info)
        for batch in batches:
            loader.insert(batch, entry.name)
        return
    rows = decoded_dicts(info, batches)
    migrated = upgrade.plan.apply(label, rows, schema=upgrade.registry_schema)
    router.feed(migrated, entry.name)


def _natural_keys_read(label: str) -> bool:
    """Return whether a restore reads the rows of the natural-key model *label*."""
    if not apps.is_installed("django.contrib.contenttypes"):
        return False
    return label == CONTENT_TYPE or apps.is_installed("django.contrib.auth")


class _AnyIds(dict[Any, Any]):
    """A natural key -> id map that knows every key (the restore adds those missing)."""

    def __missing__(self, key: Any) -> int:
        return 0


def _stand_in_ids() -> dict[str, dict[Any, Any]]:
    """Return the natural key maps of a restore, standing in for the target's ids."""
    ids: dict[str, dict[Any, Any]] = {}
    if apps.is_installed("django.contrib.contenttypes"):
        ids[CONTENT_TYPE] = _AnyIds()
        if apps.is_installed("django.contrib.auth"):
            ids[PERMISSION] = _AnyIds()
    return ids


@dataclass(frozen=True)
class _Column:
    """What the database checks of the values of one column."""

    index: int
    name: str
    null: bool
    bounds: tuple[int, int] | None
    length: int | None
    #: the label of the restored model a foreign key points to, by primary key
    refers: str | None


@dataclass
class _Table:
    """The checks of the rows one loader writes."""

    loader: TableLoader
    label: str
    columns: list[_Column]
    #: whether the loader's key is the model's primary key
    keyed: bool


@dataclass
class _StandIn:
    """The checks a database would make of rows, made on the rows instead."""

    connection: BaseDatabaseWrapper
    #: the errors of the loaders (value checks) and of these checks
    errors: list[LoadError] = field(default_factory=list)
    #: other problems (a file that cannot be read)
    others: list[str] = field(default_factory=list)
    #: per model label, the primary keys of its rows
    keys: dict[str, set[Any]] = field(default_factory=dict)
    #: per (model label, field name, target label), the foreign key values
    #: (as keys) and the values as the loader writes them
    refs: dict[tuple[str, str, str], dict[Any, Any]] = field(default_factory=dict)
    #: labels of models written with keys unknown until then (deferred rows)
    unkeyed: set[str] = field(default_factory=set)
    tables: dict[int, _Table] = field(default_factory=dict)

    def add(self, error: Exception) -> None:
        """Record a problem that ended the reading of a file."""
        if isinstance(error, LoadError):
            self.errors.append(error)
        else:
            self.others.append(str(error))

    def check(
        self, loader: TableLoader, rows: Sequence[tuple[Any, ...]], file: str
    ) -> None:
        """Check a batch of rows that *loader* would insert (its value checks passed)."""
        table = self._table(loader)
        keys = self.keys.setdefault(table.label, set())
        if not table.keyed:
            self.unkeyed.add(table.label)
        for row in rows:
            pk = loader.pk_of(row)
            for column in table.columns:
                value = row[column.index]
                problem = self._problem(column, value)
                if problem is not None:
                    self.errors.append(
                        LoadError(
                            table.label, problem, pk=pk, field=column.name, file=file
                        )
                    )
                elif column.refers is not None and value is not None:
                    self.refs.setdefault(
                        (table.label, column.name, column.refers), {}
                    ).setdefault(_key(value), value)
            if table.keyed and pk is not None:
                key = _key(pk)
                if key in keys:
                    problem = "this primary key is already that of another row"
                    self.errors.append(
                        LoadError(table.label, problem, pk=pk, file=file)
                    )
                keys.add(key)

    def _problem(self, column: _Column, value: Any) -> str | None:
        if value is None:
            return None if column.null else "NULL in a NOT NULL column"
        kind = type(value)
        if kind is int and column.bounds is not None:
            low, high = column.bounds
            if not low <= value <= high:
                return f"{value} is outside the column's range, {low} to {high}"
        elif kind is str:
            if column.length is not None and len(value) > column.length:
                return f"a text of {len(value)} characters, the column holds {column.length}"
            if self.connection.vendor == "postgresql" and "\x00" in value:
                return "a text holding a NUL character, which PostgreSQL does not store"
        return None

    def _table(self, loader: TableLoader) -> _Table:
        table = self.tables.get(id(loader))
        if table is None:
            model = loader.model
            pk = model._meta.pk
            parts = getattr(pk, "fields", None) or [pk]
            real = tuple(f.attname for f in parts if f is not None)
            table = _Table(
                loader,
                model_label(model),
                [
                    self._column(i, info.name, f)
                    for i, (info, f) in enumerate(
                        zip(loader.dumped.fields, loader.columns, strict=True)
                    )
                ],
                tuple(loader.dumped.pk) == real and len(loader.pk_indexes) == len(real),
            )
            # The loader is kept with its checks: its id is not reused.
            self.tables[id(loader)] = table
        return table

    def _column(self, index: int, name: str, f: models.Field[Any, Any]) -> _Column:
        connection = self.connection
        kind = value_field(f).get_internal_type()
        bounds = None
        if kind in connection.ops.integer_field_ranges:
            bounds = connection.ops.integer_field_range(kind)
        length = None
        if connection.vendor != "sqlite":  # SQLite stores any length.
            match = _VARCHAR.fullmatch(f.db_type(connection) or "")
            length = int(match.group(1)) if match else None
        return _Column(index, name, f.null, bounds, length, _refers(f))

    def check_references(self, restored: set[str]) -> None:
        """Record every foreign key to a row that a restored model lacks.

        A foreign key to a model that is not restored points to rows the
        target database keeps: they are looked up there (#14).
        """
        # A model with a refused row lacks it here, not in the dump.
        refused = {e.model_label for e in self.errors}
        for (label, name, target), values in self.refs.items():
            if target not in restored:
                self._check_kept(label, name, target, values)
                continue
            if target in self.unkeyed | refused:
                continue
            missing = values.keys() - self.keys.get(target, set())
            if missing:
                problem = (
                    f"points to {target} rows that the dump lacks "
                    f"({_shown(missing)}); the restore empties that table first"
                )
                self.errors.append(LoadError(label, problem, field=name))

    def _check_kept(
        self, label: str, name: str, target: str, values: dict[Any, Any]
    ) -> None:
        """Record the values of a foreign key to *target* that the database lacks."""
        alias = self.connection.alias
        try:
            with transaction.atomic(using=alias):
                missing = _missing_rows(self.connection, target, list(values.values()))
        except DatabaseError as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else "an error"
            problem = (
                f"points to {target}, which the dump lacks, and the rows of "
                f"{target} in database '{alias}' cannot be read ({reason})"
            )
            self.errors.append(LoadError(label, problem, field=name))
            return
        if missing:
            problem = (
                f"points to {target} rows that neither the dump nor database "
                f"'{alias}' holds ({_shown({_key(v) for v in missing})}): the dump "
                f"lacks {target} (dump2py --exclude, or --tolerate) and the restore "
                f"keeps the rows of {target} that '{alias}' has. Restore into a "
                f"database that holds them, dump without --exclude, or exclude "
                f"{label} too"
            )
            self.errors.append(LoadError(label, problem, field=name))

    def report(self) -> list[str]:
        """Return the problems found, at most :data:`SHOWN`, then their count."""
        found = self.others + [_describe(e) for e in self.errors]
        if len(found) <= SHOWN:
            return found
        return [
            *found[:SHOWN],
            f"... and {plural(len(found) - SHOWN, 'more problem')} in the rows",
        ]


def _shown(values: set[Any]) -> str:
    """Return at most five of *values*, and how many more there are."""
    shown = ", ".join(repr(v) for v in sorted(values, key=repr)[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


#: Values looked up per query.
_CHUNK = 500


def _missing_rows(
    connection: BaseDatabaseWrapper, label: str, values: list[Any]
) -> list[Any]:
    """Return the primary key *values* that model *label*'s table lacks.

    Counted per chunk; the values of a chunk that lacks some are looked up
    one by one, so that every value is compared as the database compares it.
    """
    model = apps.get_model(label)
    qn = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    table, column = qn(model._meta.db_table), qn(pk.column)
    missing = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            sql = f"SELECT COUNT(*) FROM {table} WHERE {column} IN ({marks})"
            cursor.execute(sql, chunk)
            if cursor.fetchone()[0] == len(chunk):
                continue
            for value in chunk:
                cursor.execute(f"SELECT 1 FROM {table} WHERE {column} = %s", [value])
                if cursor.fetchone() is None:
                    missing.append(value)
    return missing


def kept_references(upgrade: UpgradePlan) -> list[tuple[str, str, str]]:
    """Return ``(model, field, target)`` of each foreign key to a model not restored.

    The restore keeps the rows of a model the dump lacks (left out by
    ``dump2py --exclude``, skipped by ``--tolerate``): the target database
    must hold every row that a restored row points to (#14).
    """
    found = []
    for label, target in sorted(upgrade.targets.items()):
        for f in target.columns:
            refers = _refers(f)
            if refers is not None and refers not in upgrade.targets:
                found.append((label, f.name, refers))
    return found


def _refers(f: models.Field[Any, Any]) -> str | None:
    """Return the label of the model *f* points to by its primary key, if checked."""
    if not (f.is_relation and getattr(f, "db_constraint", False)):
        return None
    target = getattr(f, "target_field", None)
    if target is None or not target.primary_key:
        return None
    label = model_label(target.model)
    return None if label in NATURAL_KEYS else label


def _key(value: Any) -> Any:
    """Return *value* as the same key whether decoded (a UUID) or a literal."""
    return str(value) if isinstance(value, uuid.UUID) else value


def _describe(error: LoadError) -> str:
    """Return what *error* says, as a problem of the plan."""
    where = f"'{error.model_label}'"
    if error.pk is not None:
        where += f" row pk={error.pk!r}"
    if error.field is not None:
        where += f" field '{error.field}'"
    if error.file is not None:
        where += f" (file {error.file})"
    return f"{where}: {error.problem}"
