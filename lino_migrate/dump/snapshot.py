"""Read the tables of a database in one consistent, streamed snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.schema import ModelInfo

__all__ = ["read_batches", "read_transaction"]

#: Rows fetched from the database at a time.
FETCH_SIZE = 2000


@contextmanager
def read_transaction(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Run the block in one read transaction: every table seen at one instant.

    On PostgreSQL the transaction is ``REPEATABLE READ, READ ONLY``; on SQLite
    a transaction already sees one snapshot. Inside an outer atomic block
    (tests) the outer transaction's snapshot is used.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=connection.alias):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
        yield


def read_batches(
    model: type[models.Model], info: ModelInfo, connection: BaseDatabaseWrapper
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the raw rows of *model*'s table in batches, ordered by primary key.

    Rows come through the model's ``_base_manager`` (a default manager that
    hides rows hides none here), with no value conversion, from a
    server-side cursor where the backend has one.
    """
    qs = (
        model._base_manager.using(connection.alias)
        .order_by(*info.pk)
        .values_list(*info.attnames)
    )
    sql, params = qs.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            yield batch
