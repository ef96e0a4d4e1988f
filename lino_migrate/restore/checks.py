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
    connection: BaseDatabaseWrapper, restored: Iterable[type[models.Model]]
) -> None:
    """Raise :class:`LoadError` for the first row whose foreign key points nowhere.

    Restored tables are checked one foreign key at a time, so that the error
    names the model, row and field; the database's own check then covers
    every other table (rows that pointed at deleted rows).
    """
    for model in restored:
        for field in model._meta.local_concrete_fields:
            if field.is_relation and getattr(field, "db_constraint", False):
                _check_field(connection, model, field)
    sid = transaction.savepoint(using=connection.alias)
    try:
        connection.check_constraints()
    except DatabaseError as e:
        transaction.savepoint_rollback(sid, using=connection.alias)
        problem = str(e).strip().replace("\n", " ")
        where = "(database)"
        raise LoadError(where, f"a constraint check failed: {problem}") from e
    transaction.savepoint_commit(sid, using=connection.alias)


def _check_field(
    connection: BaseDatabaseWrapper, model: type[models.Model], field: Any
) -> None:
    qn = connection.ops.quote_name
    target = field.target_field
    table, column = qn(model._meta.db_table), qn(field.column)
    ref_table, ref_column = qn(target.model._meta.db_table), qn(target.column)
    pk = qn(model._meta.pk.column)
    sql = (
        f"SELECT t.{pk}, t.{column} FROM {table} t WHERE t.{column} IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {ref_table} r WHERE r.{ref_column} = t.{column})"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT 1")
        found = cursor.fetchone()
    if found is not None:
        problem = (
            f"its {field.name} points to {model_label(target.model)} "
            f"{target.attname}={found[1]!r}, which does not exist"
        )
        raise LoadError(model_label(model), problem, pk=found[0], field=field.name)
