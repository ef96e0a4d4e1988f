"""Check the constraints of restored tables and name the row that breaks one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import DatabaseError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import LoadError
from lino_migrate.schema import model_label

__all__ = ["check_foreign_keys"]


def check_foreign_keys(
    connection: BaseDatabaseWrapper,
    restored: Iterable[type[models.Model]],
    violations: list[LoadError] | None = None,
) -> None:
    """Raise :class:`LoadError` for the first row whose foreign key points nowhere.

    The database checks every constraint first, once (on PostgreSQL it would
    check the deferred ones again at commit otherwise). Only when that check
    fails are the restored tables searched one foreign key at a time, so that
    the error names the model, row and field; a violation outside them (a
    row that pointed at a deleted row) is reported as the database words it.

    :param violations: when a list (rehearsal), every violation found (up to
        :data:`SHOWN` per field) is added to it instead of raising.
    """
    sid = transaction.savepoint(using=connection.alias)
    try:
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
