"""Read tables in parallel processes that share one snapshot (PostgreSQL).

The process that runs ``dump2py`` opens its read transaction as always and
exports its snapshot (``pg_export_snapshot()``). Each worker process sets up
Django, opens its own connection, and reads every model it is given inside a
transaction that imports that snapshot (``SET TRANSACTION SNAPSHOT``): all
of them see the database at the same instant as the main process, which keeps
its transaction open until the last worker is done. The workers write the
data files; the main process collects what they wrote in the order of a
dump in one process, so that the dump is byte for byte the same.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import LinoMigrateError

if TYPE_CHECKING:
    from lino_migrate.dump.dumper import DumpJob, ModelOutcome

__all__ = ["check_jobs", "dump_in_parallel"]

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)+")

#: The job of this worker process and the snapshot it imports.
_worker: tuple[DumpJob, str] | None = None


def check_jobs(jobs: int, connection: BaseDatabaseWrapper) -> None:
    """Refuse a number of jobs that cannot work here.

    :raises LinoMigrateError: for fewer than one job, or several on a
        database that cannot share a snapshot between connections.
    """
    if jobs < 1:
        msg = f"--jobs must be at least 1, not {jobs}."
        raise LinoMigrateError(msg)
    if jobs > 1 and connection.vendor != "postgresql":
        msg = (
            f"--jobs {jobs} needs PostgreSQL, whose connections can share one "
            f"snapshot; this database is {connection.vendor}. Leave --jobs out."
        )
        raise LinoMigrateError(msg)
    if jobs > 1 and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        msg = (
            "--jobs needs the DJANGO_SETTINGS_MODULE environment variable: the "
            "worker processes set up Django from it."
        )
        raise LinoMigrateError(msg)


def dump_in_parallel(
    job: DumpJob,
    models_: Sequence[type[models.Model]],
    jobs: int,
    connection: BaseDatabaseWrapper,
) -> Iterator[ModelOutcome]:
    """Yield the outcome of dumping each of *models_*, in their order.

    Must run inside the read transaction of *connection*, whose snapshot the
    workers import. The biggest tables are handed out first.

    :raises LinoMigrateError: with the worker's message when a model fails.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
    tables = [m._meta.db_table for m in models_]
    sizes = _table_sizes(connection, tables)
    order = sorted(range(len(tables)), key=lambda i: -sizes.get(tables[i], 0))
    labels = [m._meta.label_lower for m in models_]
    # "spawn": a fresh interpreter, never a copy of this process's open
    # database connections.
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, _start_worker, (job, snapshot)) as pool:
        pending = {i: pool.apply_async(_dump_model, (labels[i],)) for i in order}
        for i in range(len(labels)):
            kind, value = pending[i].get()
            if kind == "error":
                pool.terminate()
                raise LinoMigrateError(value)
            yield value


def _table_sizes(connection: BaseDatabaseWrapper, tables: list[str]) -> dict[str, int]:
    """Return the size on disk of each of *tables* that exists."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relname = ANY(%s)",
            [tables],
        )
        return dict(cursor.fetchall())


def _start_worker(job: DumpJob, snapshot: str) -> None:
    """Set up Django in a worker process (the Pool's initializer)."""
    import django

    django.setup()
    global _worker  # one job per worker process
    _worker = (job, snapshot)


def _dump_model(label: str) -> tuple[str, Any]:
    """Dump the model *label* in the shared snapshot; never raise.

    :return: ``("ok", outcome)``, or ``("error", message)`` for an error the
        main process reports (exceptions of this package need not pickle).
    """
    from django.apps import apps

    if _worker is None:
        return "error", "the worker process was not set up"
    job, snapshot = _worker
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        return "error", f"not a snapshot id: {snapshot!r}"
    try:
        with transaction.atomic(using=job.using):
            with connections[job.using].cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            return "ok", job.dump_model(apps.get_model(label))
    except LinoMigrateError as e:
        return "error", str(e)
    except Exception as e:  # anything else: reported by the main process
        detail = "".join(traceback.format_exception_only(e)).strip()
        return "error", f"Dumping {label} failed in a worker process: {detail}"
