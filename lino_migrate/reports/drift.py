"""Compare a database with the models and migrations of the code (schema drift).

:func:`check_database` (``manage.py dump2py DIR --simulate``) compares, in one
read transaction, the tables and columns with the models, the applied
migrations with the code's, and reads and encodes every row as a dump would.
Nothing here prints. Only what introspection reports reliably is compared:
types by family and only on SQLite and PostgreSQL, never integer widths
(Django gives ``auth``'s automatic many-to-many tables 64-bit ids where its
models say 32-bit; SQLite reports every integer primary key alike). See
``docs/upgrading.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.dump.dumper import DumpResult, dump
from lino_migrate.dump.snapshot import read_transaction
from lino_migrate.exceptions import plural
from lino_migrate.reports.table import Block, Table, plain_text
from lino_migrate.schema import dumpable_models, model_label, value_field

__all__ = [
    "DriftReport",
    "MigrationDrift",
    "ModelDrift",
    "Problem",
    "check_database",
    "compare_migrations",
    "compare_models",
    "extra_tables",
    "format_report",
    "report_blocks",
]

_TEXT_TYPES = (
    "CharField", "TextField", "SlugField", "EmailField", "URLField",
    "FilePathField", "FileField", "ImageField",
)  # fmt: skip
_INTEGER_TYPES = (
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
    "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveBigIntegerField", "PositiveSmallIntegerField",
)  # fmt: skip

#: The family of the column that holds the values of each internal type.
FAMILIES = {
    **dict.fromkeys(_INTEGER_TYPES, "integer"), **dict.fromkeys(_TEXT_TYPES, "text"),
    "BooleanField": "boolean", "DecimalField": "decimal", "FloatField": "float",
    "DateField": "date", "DateTimeField": "datetime", "TimeField": "time",
    "DurationField": "duration", "UUIDField": "uuid", "GenericIPAddressField": "inet",
    "BinaryField": "binary", "JSONField": "json",
}  # fmt: skip

#: Per vendor whose introspection is trusted for types: the families that
#: share one storage family there. Other vendors get no type comparison.
STORAGE: dict[str, dict[str, str]] = {
    "postgresql": {},
    "sqlite": {"duration": "integer", "uuid": "text", "inet": "text", "json": "text"},
}

_LENGTH = re.compile(r"^\s*(?:var)?char(?:acter)?(?: varying)?\s*\(\s*(\d+)\s*\)\s*$")


@dataclass(frozen=True)
class Problem:
    """One difference between the database and the code.

    *kind* is one of ``missing_table``, ``missing_column``, ``extra_column``,
    ``null``, ``type``, ``max_length``, ``precision`` and ``unreadable``.

    .. versionadded:: 0.1
    """

    kind: str
    message: str
    column: str | None = None
    expected: Any = None
    found: Any = None

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-able dict."""
        return asdict(self)


@dataclass
class ModelDrift:
    """How the table of one model differs from the model.

    .. versionadded:: 0.1
    """

    label: str
    table: str
    problems: list[Problem] = field(default_factory=list)
    rows: int | None = None
    readable: bool = True

    @property
    def status(self) -> str:
        """Return ``ok``, ``drift`` or ``unreadable`` (a dump cannot read it)."""
        if not self.readable:
            return "unreadable"
        return "drift" if self.problems else "ok"

    def as_dict(self) -> dict[str, Any]:
        """Return the model's drift as a JSON-able dict."""
        return {
            "table": self.table,
            "rows": self.rows,
            "status": self.status,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class MigrationDrift:
    """Django migrations that the database and the code disagree on.

    Names are ``app_label.migration_name``; *unapplied* in the order
    ``migrate`` would apply them, *unknown* sorted.

    .. versionadded:: 0.1
    """

    unapplied: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass
class DriftReport:
    """The result of comparing a database with the code.

    .. versionadded:: 0.1
    """

    database: str
    vendor: str
    models: dict[str, ModelDrift]
    extra_tables: list[str]
    migrations: MigrationDrift
    dump: DumpResult

    @property
    def drift(self) -> bool:
        """Return whether the database differs from the code in any way."""
        return bool(
            self.extra_tables
            or self.migrations.unapplied
            or self.migrations.unknown
            or any(m.status != "ok" for m in self.models.values())
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-able dict (dump with sorted keys)."""
        return {
            "database": self.database,
            "vendor": self.vendor,
            "drift": self.drift,
            "extra_tables": list(self.extra_tables),
            "migrations": {
                "unapplied": list(self.migrations.unapplied),
                "unknown": list(self.migrations.unknown),
            },
            "models": {label: m.as_dict() for label, m in self.models.items()},
        }

    def summary(self) -> str:
        """Return the last line of the report."""
        if not self.drift:
            return (
                f"No drift: the {len(self.models)} models match the database, "
                "every row can be dumped, and the migrations agree."
            )
        differ = [m for m in self.models.values() if m.status != "ok"]
        unreadable = sum(1 for m in differ if m.status == "unreadable")
        return (
            f"Drift: {len(differ)} of {plural(len(self.models), 'model')} differ "
            f"({unreadable} unreadable), "
            f"{plural(len(self.extra_tables), 'extra table')}, "
            f"{plural(len(self.migrations.unapplied), 'migration')} not applied, "
            f"{plural(len(self.migrations.unknown), 'applied migration')} "
            "unknown to the code."
        )


def check_database(
    target: Path | str,
    *,
    using: str = "default",
    exclude: Iterable[str] = (),
    max_row_count: int = DEFAULT_MAX_ROW_COUNT,
) -> DriftReport:
    """Compare database *using* with the code and simulate a dump to *target*.

    Everything happens in one read transaction: the comparison of tables,
    columns and migrations, and a simulated dump (nothing is written) that
    reads and encodes every row and records each model it cannot read.

    :param exclude: app labels or ``app_label.ModelName`` to leave out.
    :raises LookupError: when *exclude* names an unknown app or model.
    :raises django.db.DatabaseError: when the database cannot be read at all.
    :raises LinoMigrateError: when the dump cannot start.

    .. versionadded:: 0.1
    """
    exclude = tuple(exclude)
    connection = connections[using]
    models_ = dumpable_models(exclude, using)
    with read_transaction(connection):
        found = compare_models(connection, models_)
        extra = extra_tables(connection)
        migrations = compare_migrations(connection)
        result = dump(
            target, using=using, exclude=exclude, simulate=True, tolerate=True,
            max_row_count=max_row_count,
        )  # fmt: skip
    _add_reads(found, result)
    return DriftReport(using, connection.vendor, found, extra, migrations, result)


def _add_reads(found: dict[str, ModelDrift], result: DumpResult) -> None:
    """Record the rows a simulated dump read, and the models it could not read."""
    rows = result.rows
    for label, drift in found.items():
        drift.rows = rows.get(label)
        if label in result.skipped:
            drift.readable = False
            message = f"cannot be read: {result.skipped[label]}"
            drift.problems.append(Problem("unreadable", message))


def compare_models(
    connection: BaseDatabaseWrapper, models_: Sequence[type[models.Model]]
) -> dict[str, ModelDrift]:
    """Return, per model label, how the table of each of *models_* differs.

    .. versionadded:: 0.1
    """
    introspection = connection.introspection
    found = {}
    with connection.cursor() as cursor:
        tables = set(introspection.table_names(cursor))
        for model in models_:
            table = model._meta.db_table
            drift = ModelDrift(model_label(model), table)
            found[drift.label] = drift
            if introspection.identifier_converter(table) not in tables:
                message = f"table '{table}' does not exist"
                drift.problems.append(Problem("missing_table", message))
                continue
            columns = {
                c.name: c for c in introspection.get_table_description(cursor, table)
            }
            drift.problems.extend(_table_problems(connection, model, columns))
    return found


def _table_problems(
    connection: BaseDatabaseWrapper,
    model: type[models.Model],
    columns: dict[str, Any],
) -> list[Problem]:
    table = model._meta.db_table
    problems = []
    expected = [f for f in model._meta.local_concrete_fields if f.column]
    for f in expected:
        column = columns.get(f.column)
        if column is None:
            message = (
                f"column '{f.column}' of field '{f.name}' is missing from '{table}'"
            )
            problems.append(Problem("missing_column", message, f.column))
        else:
            problems.extend(_column_problems(connection, f, column))
    known = {f.column for f in expected}
    for name in sorted(set(columns) - known):
        message = f"column '{name}' of '{table}' belongs to no field of the model"
        problems.append(Problem("extra_column", message, name))
    return problems


def _column_problems(
    connection: BaseDatabaseWrapper, field: models.Field[Any, Any], column: Any
) -> list[Problem]:
    checks = (_null_problem, _type_problem, _length_problem, _precision_problem)
    return [p for check in checks if (p := check(connection, field, column))]


def _null_problem(
    connection: BaseDatabaseWrapper, field: models.Field[Any, Any], column: Any
) -> Problem | None:
    # Oracle stores '' as NULL, so Django makes its text columns nullable.
    empty_is_null = connection.features.interprets_empty_strings_as_nulls
    if (
        field.primary_key
        or getattr(field, "generated", False)
        or (field.empty_strings_allowed and empty_is_null)
        or bool(column.null_ok) == field.null
    ):
        return None
    found = "NULL" if column.null_ok else "NOT NULL"
    expected = "NULL" if field.null else "NOT NULL"
    message = (
        f"column '{column.name}' is {found} but field '{field.name}' is {expected}"
    )
    return Problem("null", message, column.name, field.null, bool(column.null_ok))


def _stored_field(field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    """Return the field whose type the column of *field* has."""
    if getattr(field, "generated", False):
        return field.output_field  # type: ignore[attr-defined,no-any-return]
    return value_field(field)


def _families(
    connection: BaseDatabaseWrapper, field: models.Field[Any, Any], column: Any
) -> tuple[str, str] | None:
    """Return the storage families of *field* and *column*, if both are known."""
    storage = STORAGE.get(connection.vendor)
    if storage is None:
        return None
    try:
        found_type = connection.introspection.get_field_type(column.type_code, column)
    except KeyError:
        return None
    expected = FAMILIES.get(_stored_field(field).get_internal_type())
    found = FAMILIES.get(found_type)
    if expected is None or found is None:
        return None
    return storage.get(expected, expected), storage.get(found, found)


def _type_problem(
    connection: BaseDatabaseWrapper, field: models.Field[Any, Any], column: Any
) -> Problem | None:
    families = _families(connection, field, column)
    if families is None or families[0] == families[1]:
        return None
    expected, found = families
    internal = _stored_field(field).get_internal_type()
    message = (
        f"column '{column.name}' has the type family {found} but field "
        f"'{field.name}' ({internal}) needs {expected}"
    )
    return Problem("type", message, column.name, expected, found)


def _length_problem(
    connection: BaseDatabaseWrapper, field: models.Field[Any, Any], column: Any
) -> Problem | None:
    families = _families(connection, field, column)
    if families is None or families != ("text", "text"):
        return None
    match = _LENGTH.match(field.db_type(connection) or "")
    expected = int(match.group(1)) if match else None
    found = column.display_size
    if expected == found:
        return None
    message = (
        f"column '{column.name}' holds {_length_words(found)} but field "
        f"'{field.name}' allows {_length_words(expected)}"
    )
    return Problem("max_length", message, column.name, expected, found)


def _length_words(length: int | None) -> str:
    return "text of any length" if length is None else f"{length} characters"


def _precision_problem(
    connection: BaseDatabaseWrapper, field: models.Field[Any, Any], column: Any
) -> Problem | None:
    stored = _stored_field(field)
    if stored.get_internal_type() != "DecimalField" or column.precision is None:
        return None
    expected = [stored.max_digits, stored.decimal_places]  # type: ignore[attr-defined]
    found = [column.precision, column.scale]
    if expected == found:
        return None
    message = (
        f"column '{column.name}' holds decimals of {found[0]} digits, {found[1]} "
        f"after the point, but field '{field.name}' has max_digits={expected[0]}, "
        f"decimal_places={expected[1]}"
    )
    return Problem("precision", message, column.name, expected, found)


def extra_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """Return the tables of the database that belong to no installed model.

    The table of Django's migration recorder, database cache tables and
    SQLite's own tables are not counted.

    .. versionadded:: 0.1
    """
    convert = connection.introspection.identifier_converter
    known = {
        convert(m._meta.db_table)
        for m in apps.get_models(include_auto_created=True, include_swapped=True)
    }
    known.add(convert(MigrationRecorder.Migration._meta.db_table))
    known.update(convert(name) for name in _cache_tables())
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(
        name
        for name in names
        if name not in known
        and not (connection.vendor == "sqlite" and name.startswith("sqlite_"))
    )


def _cache_tables() -> list[str]:
    return [
        cache["LOCATION"]
        for cache in getattr(settings, "CACHES", {}).values()
        if cache.get("BACKEND", "").endswith("DatabaseCache") and "LOCATION" in cache
    ]


def compare_migrations(connection: BaseDatabaseWrapper) -> MigrationDrift:
    """Return the migrations not applied yet and the applied ones the code lacks.

    An applied migration is unknown when it is recorded for an installed app
    and neither a migration of the code nor replaced by a squashed one.

    .. versionadded:: 0.1
    """
    executor = MigrationExecutor(connection)
    loader = executor.loader
    plan = executor.migration_plan(loader.graph.leaf_nodes())
    unapplied = tuple(
        f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards
    )
    known = set(loader.disk_migrations or {})
    for migration in loader.replacements.values():
        known.update(migration.replaces)
    installed = {config.label for config in apps.get_app_configs()}
    applied = MigrationRecorder(connection).applied_migrations()
    unknown = tuple(
        sorted(
            f"{app}.{name}"
            for app, name in applied
            if app in installed and (app, name) not in known
        )
    )
    return MigrationDrift(unapplied, unknown)


def format_report(report: DriftReport) -> str:
    """Return *report* as plain text for a person: models, tables, migrations, summary.

    .. versionadded:: 0.1
    """
    return plain_text(report_blocks(report))


def report_blocks(report: DriftReport) -> list[Block]:
    """Return *report* for a person: a table of the models, then its lines.

    .. versionadded:: 0.1
    """
    vendor = report.vendor
    table = Table(
        [
            (label, None if d.rows is None else plural(d.rows, "row"), d.status)
            for label, d in report.models.items()
        ],
        align="<><",
        notes=[[f"- {p.message}" for p in d.problems] for d in report.models.values()],
        note_prefix="  ",
        plain=_model_line,
    )
    lines: list[Block] = [
        f"Database '{report.database}' ({vendor}) compared with the code:",
        table,
    ]
    migrations = report.migrations
    lines += [
        f"Extra tables: {_listing(report.extra_tables)}",
        f"Migrations not applied: {_listing(migrations.unapplied)}",
        f"Migrations applied but unknown to the code: {_listing(migrations.unknown)}",
    ]
    rows = report.dump.rows
    lines.append(
        f"Would write {plural(sum(rows.values()), 'row')} of "
        f"{plural(len(rows), 'model')} in {plural(len(report.dump.files), 'file')} "
        f"to {report.dump.path}."
    )
    lines.append(report.summary())
    return lines


def _model_line(row: Sequence[object]) -> str:
    """Return the plain line of a model: ``label: rows, status``."""
    label, rows, status = row
    counted = "" if rows is None else f"{rows}, "
    return f"{label}: {counted}{status}"


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names) + "." if names else "none."
