"""Remember PostgreSQL sequences and set them back after a rehearsal.

Sequences are not transactional: ``setval`` and ``nextval`` survive a
rollback. A rehearsal records them first and puts them back after its
rollback, so that the database is exactly as before.
"""

from __future__ import annotations

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["SequenceState"]


class SequenceState:
    """The ``last_value`` and ``is_called`` of every sequence of the models."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.values: list[tuple[str, int, bool]] = []
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            existing = set(connection.introspection.table_names(cursor))
            for model in apps.get_models(include_auto_created=True):
                table = model._meta.db_table
                if table not in existing:
                    continue
                fields = model._meta.local_fields
                for seq in connection.introspection.get_sequences(
                    cursor, table, fields
                ):
                    name = connection.ops.quote_name(seq["name"])
                    cursor.execute(f"SELECT last_value, is_called FROM {name}")
                    last_value, is_called = cursor.fetchone()
                    self.values.append((seq["name"], last_value, is_called))

    def put_back(self) -> None:
        """Set every recorded sequence back to its recorded state."""
        if not self.values:
            return
        with self.connection.cursor() as cursor:
            for name, last_value, is_called in self.values:
                quoted = self.connection.ops.quote_name(name)
                cursor.execute(
                    "SELECT setval(%s, %s, %s)", [quoted, last_value, is_called]
                )
