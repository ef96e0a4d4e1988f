"""Check the constraints of restored tables and name the row that breaks one.

On PostgreSQL the foreign keys of the restored tables are dropped before
their rows are deleted and added again, with the same names and
definitions, when the rows are all written (:func:`drop_foreign_keys`,
:func:`check_foreign_keys`), inside the restore's one transaction, as
``pg_restore`` creates them after the data. Adding a foreign key checks all
rows with one query per key: 0.5 s for the 1M rows of the benchmark, where
checking each row's deferred trigger at the end took 5.5 s (#16). The
definitions are PostgreSQL's own (``pg_get_constraintdef``); if the restore
fails, is refused or is killed, the transaction rolls back and the keys are
as they were. Meanwhile the tables are locked against readers too
(``ALTER TABLE`` takes an ``ACCESS EXCLUSIVE`` lock). Where the keys cannot
be dropped (the database user does not own the tables), they stay and are
checked at the end as on other databases. A rehearsal (``--simulate``) keeps
them too: it locks out writers only, as it may run on a site in use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import LoadError
from lino_migrate.schema import model_label

__all__ = ["ForeignKey", "check_foreign_keys", "drop_foreign_keys"]


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key constraint of PostgreSQL, as it is added again."""

    #: the table, as PostgreSQL names it in SQL (``regclass``)
    table: str
    #: the name of the constraint, quoted for SQL (``quote_ident``)
    name: str
    #: ``FOREIGN KEY (...) REFERENCES ...``, from ``pg_get_constraintdef``
    definition: str


def drop_foreign_keys(
    connection: BaseDatabaseWrapper, tables: Iterable[str]
) -> list[ForeignKey]:
    """Drop the foreign keys of *tables* on PostgreSQL; return them.

    Call it inside the restore's transaction and pass what it returns to
    :func:`check_foreign_keys`. Elsewhere, or when PostgreSQL refuses to
    drop them (the user does not own a table), nothing is dropped. A key
    created ``NOT VALID`` is kept: added back, it would check no row, where
    kept it checks the rows written.
    """
    if connection.vendor != "postgresql":
        return []
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, quote_ident(c.conname), "
            "pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype = 'f' AND c.convalidated "
            "AND c.conrelid = ANY("
            "SELECT to_regclass(t) FROM unnest(%s::text[]) t) ORDER BY 1, 2",
            [[qn(table) for table in tables]],
        )
        keys = [ForeignKey(*row) for row in cursor.fetchall()]
        sid = transaction.savepoint(using=connection.alias)
        try:
            for key in keys:
                cursor.execute(f"ALTER TABLE {key.table} DROP CONSTRAINT {key.name}")
        except DatabaseError:
            transaction.savepoint_rollback(sid, using=connection.alias)
            return []
        transaction.savepoint_commit(sid, using=connection.alias)
    return keys


def check_foreign_keys(
    connection: BaseDatabaseWrapper,
    restored: Iterable[type[models.Model]],
    violations: list[LoadError] | None = None,
    dropped: Iterable[ForeignKey] = (),
) -> None:
    """Raise :class:`LoadError` for the first row whose foreign key points nowhere.

    The foreign keys *dropped* for the load are added again, which checks
    their rows; then the database checks every other constraint, once (on
    PostgreSQL it would check the deferred ones again at commit otherwise).
    Only when that fails are the restored tables searched one foreign key at
    a time, so that the error names the model, row and field; a violation
    outside them (a row that pointed at a deleted row) is reported as the
    database words it.

    :param violations: when a list (rehearsal), every violation found (up to
        :data:`SHOWN` per field) is added to it instead of raising.
    :param dropped: what :func:`drop_foreign_keys` dropped (a rehearsal
        drops none); when a check fails they are not added back, since the
        transaction then rolls back.
    """
    sid = transaction.savepoint(using=connection.alias)
    try:
        with connection.cursor() as cursor:
            for key in dropped:
                cursor.execute(
                    f"ALTER TABLE {key.table} ADD CONSTRAINT {key.name} "
                    f"{key.definition}"
                )
        connection.check_constraints()
    except DatabaseError as e:
        transaction.savepoint_rollback(sid, using=connection.alias)
        _name_violations(connection, restored, violations, e)
        return
    transaction.savepoint_commit(sid, using=connection.alias)


def _name_violations(
    connection: BaseDatabaseWrapper,
    restored: Iterable[type[models.Model]],
    violations: list[LoadError] | None,
    error: DatabaseError,
) -> None:
    """Find the rows behind the failed check *error*; raise or record them."""
    found: list[LoadError] = []
    for model in restored:
        for field in model._meta.local_concrete_fields:
            if field.is_relation and getattr(field, "db_constraint", False):
                found += _check_field(connection, model, field)
                if found and violations is None:
                    raise found[0] from error
    if not found:
        problem = str(error).strip().replace("\n", " ")
        found = [LoadError("(database)", f"a constraint check failed: {problem}")]
    if violations is None:
        raise found[0] from error
    violations += found


#: Violations reported per foreign key in a rehearsal.
SHOWN = 10


def _check_field(
    connection: BaseDatabaseWrapper, model: type[models.Model], field: Any
) -> list[LoadError]:
    qn = connection.ops.quote_name
    target = field.target_field
    table, column = qn(model._meta.db_table), qn(field.column)
    ref_table, ref_column = qn(target.model._meta.db_table), qn(target.column)
    # A CompositePrimaryKey (Django 5.2) has no column: its fields have (#12).
    pk_fields = _pk_fields(model)
    pk = ", ".join(f"t.{qn(f.column)}" for f in pk_fields)
    sql = (
        f"SELECT {pk}, t.{column} FROM {table} t WHERE t.{column} IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {ref_table} r WHERE r.{ref_column} = t.{column})"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY {pk} LIMIT {SHOWN}")
        found = cursor.fetchall()
    width = len(pk_fields)
    return [
        LoadError(
            model_label(model),
            f"its {field.name} points to {model_label(target.model)} "
            f"{target.attname}={row[width]!r}, which does not exist",
            pk=row[0] if width == 1 else tuple(row[:width]),
            field=field.name,
        )
        for row in found
    ]


def _pk_fields(model: type[models.Model]) -> list[Any]:
    """Return the fields of *model*'s primary key: several for a composite one."""
    pk = model._meta.pk
    return list(getattr(pk, "fields", None) or [pk])
