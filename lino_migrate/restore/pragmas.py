"""SQLite settings for the length of a restore, put back afterwards (#16).

Two settings make a restore into SQLite cheaper without touching what it
guarantees:

* ``foreign_keys = OFF``: Django's SQLite connections enforce foreign keys,
  deferred to the commit, which costs a lookup per row and key while the
  rows are written. The restore checks every foreign key of the whole
  database itself before it commits
  (:func:`~lino_migrate.restore.checks.check_foreign_keys`, which runs
  ``PRAGMA foreign_key_check``) and names the row that breaks one, so the
  enforcement during the load only repeats that work.
* ``temp_store = MEMORY``: every batch is written under a savepoint, whose
  journal of the pages it changed then stays in memory instead of a
  temporary file. The rollback journal of the transaction itself stays on
  disk: a restore killed at any point still leaves the database as it was
  (tests/test_kill_restore.py).

SQLite takes ``foreign_keys`` only outside a transaction: inside one (a
restore called in an atomic block) nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["loading_settings"]

#: The settings changed, with the values they take during a restore.
SETTINGS = {"foreign_keys": "OFF", "temp_store": "MEMORY"}


@contextmanager
def loading_settings(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Apply :data:`SETTINGS` to an SQLite *connection* meanwhile; elsewhere nothing."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        before = {}
        for name, value in SETTINGS.items():
            cursor.execute(f"PRAGMA {name}")
            before[name] = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                for name, value in before.items():
                    cursor.execute(f"PRAGMA {name} = {value}")
