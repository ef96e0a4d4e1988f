"""PostgreSQL sequences made part of the restore transaction, set within bounds.

``setval`` and ``nextval`` are not transactional: they survive a rollback,
a refused restore or a killed process. ``ALTER SEQUENCE`` is: it gives the
sequence new storage in the current transaction, and a ``setval`` or
``nextval`` that follows in the same transaction writes to that storage,
which a rollback throws away with the rest (#12). :func:`pin_sequences` does
that at the start of a restore, without changing the definition of any
sequence; :func:`reset_sequences` then moves each sequence past the ids of
its restored table, within the sequence's bounds.

On other backends there is nothing to do: SQLite's ``sqlite_sequence`` is an
ordinary table, inside the transaction, and follows explicit ids by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import SequenceError

__all__ = ["Sequence", "pin_sequences", "reset_sequences", "table_sequences"]

# The sequences owned by a column (serial, ``deptype = 'a'``) or an identity
# column (``'i'``) of the named tables that the search path finds.
_SEQUENCES_SQL = """
SELECT quote_ident(sn.nspname) || '.' || quote_ident(sc.relname),
       tc.relname, a.attname, s.seqincrement, s.seqmin, s.seqmax
FROM pg_depend d
JOIN pg_sequence s ON s.seqrelid = d.objid
JOIN pg_class sc ON sc.oid = d.objid
JOIN pg_namespace sn ON sn.oid = sc.relnamespace
JOIN pg_class tc ON tc.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i') AND tc.relname = ANY(%s)
  AND pg_table_is_visible(tc.oid)
ORDER BY 1
"""


@dataclass(frozen=True)
class Sequence:
    """A sequence that gives the ids of one column, with its definition."""

    #: the schema-qualified, quoted name
    name: str
    table: str
    column: str
    increment: int
    minimum: int
    maximum: int


def table_sequences(
    connection: BaseDatabaseWrapper, tables: Iterable[str]
) -> list[Sequence]:
    """Return the sequences of the columns of *tables* (none but on PostgreSQL)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(_SEQUENCES_SQL, [sorted(set(tables))])
        return [Sequence(*row) for row in cursor.fetchall()]


def pin_sequences(
    connection: BaseDatabaseWrapper, sequences: Iterable[Sequence]
) -> None:
    """Make every later change to *sequences* in this transaction roll back with it.

    Run inside the transaction, before anything uses the sequences.
    ``ALTER SEQUENCE ... INCREMENT BY`` its own increment changes nothing in
    the definition, but gives the sequence new storage in this transaction
    (#12). Until the transaction ends, other sessions wait for these
    sequences, as they would for the rows the restore replaces.

    :raises SequenceError: when the database refuses to alter a sequence.
    """
    with connection.cursor() as cursor:
        for seq in sequences:
            try:
                cursor.execute(
                    f"ALTER SEQUENCE {seq.name} INCREMENT BY {seq.increment}"
                )
            except DatabaseError as e:
                raise SequenceError(seq.name, seq.table, e) from e


def reset_sequences(
    connection: BaseDatabaseWrapper, sequences: Iterable[Sequence]
) -> None:
    """Set each of *sequences* so that its next value is a free id, within bounds.

    With ids of the restored table in the sequence's range, the next value
    follows the highest of them (the lowest for a descending sequence);
    without any (an empty table, or only ids like ``-5`` below a minimum of
    1), the next value is the sequence's first one. Ids outside the range
    can never be handed out, so they are ignored (#12).
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for seq in sequences:
            column, table = quote(seq.column), quote(seq.table)
            if seq.increment > 0:
                nearest, start = f"max({column})", seq.minimum
            else:
                nearest, start = f"min({column})", seq.maximum
            cursor.execute(
                f"SELECT setval(%s::regclass, coalesce({nearest}, %s), {nearest} IS NOT NULL) "
                f"FROM {table} WHERE {column} BETWEEN %s AND %s",
                [seq.name, start, seq.minimum, seq.maximum],
            )
