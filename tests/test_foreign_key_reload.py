"""PostgreSQL: the foreign keys dropped for the load come back as they were (#16).

A restore on PostgreSQL drops the foreign keys of the restored tables and
adds them back once the rows are written, which checks them all at once.
The oracle is ``pg_constraint`` read with plain SQL: after a restore, a
refused one and a rehearsal, every constraint has its name, definition,
deferral and validation of before; a dangling key is still named by model,
row and field. (tests/test_kill_restore.py checks the constraints after a
restore killed at every checkpoint.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import DatabaseError, connections

from lino_migrate.exceptions import LoadError
from lino_migrate.restore import restore
from lino_migrate.restore.checks import drop_foreign_keys
from tests.conftest import is_postgres
from tests.dumps import edit_first_row
from tests.snapshot import assert_same, snapshot
from tests.test_value_checks import dump_dir

__all__ = ["dump_dir"]

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])
POSTGRES = pytest.mark.skipif(
    not is_postgres(),
    reason="needs PostgreSQL (DJANGO_SETTINGS_MODULE=tests.settings.postgres)",
)


def constraints(alias: str) -> list[tuple[Any, ...]]:
    """Return every constraint of the database *alias*, as PostgreSQL describes it."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype, "
            "pg_get_constraintdef(oid), condeferrable, condeferred, convalidated "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
            "ORDER BY 1, 2"
        )
        return cursor.fetchall()


def _dangle(dump: Path) -> Any:
    """Point the first book of *dump* to an author that does not exist; return its pk."""

    def nowhere(old: Any) -> Any:
        # A value of the key's own type (a UUID or an integer), but of no author.
        return (
            "99999999-9999-4999-8999-999999999999" if isinstance(old, str) else 999_999
        )

    return edit_first_row(dump, "library_book.py", "author_id", nowhere)["id"]


@POSTGRES
@BOTH
def test_restore_gives_every_foreign_key_back(dump_dir: Path) -> None:
    """After a restore the foreign keys are those of before, checked and deferred."""
    before = constraints("other")
    foreign = [c for c in before if c[2] == "f"]
    assert len(foreign) >= 5
    restore(dump_dir, using="other")
    assert before == constraints("other")
    assert_same(snapshot("default"), snapshot("other"))


@POSTGRES
@BOTH
@pytest.mark.parametrize("jobs", [1, 2])
def test_dangling_key_is_named_and_keys_stay(dump_dir: Path, jobs: int) -> None:
    """A key to a missing row names model, row and field; data and keys unchanged."""
    pk = _dangle(dump_dir)
    before, rows = constraints("other"), snapshot("other")
    with pytest.raises(
        LoadError, match=r"'library\.book' row pk=.* field 'author'"
    ) as e:
        restore(dump_dir, using="other", jobs=jobs)
    assert str(e.value.pk) == str(pk)
    assert "9999" in str(e.value)
    assert "which does not exist" in str(e.value)
    assert before == constraints("other")
    assert_same(rows, snapshot("other"))


@POSTGRES
@BOTH
def test_rehearsal_keeps_the_keys_and_refuses_what_a_restore_refuses(
    dump_dir: Path,
) -> None:
    """A rehearsal drops no key (readers go on) and names the row a restore names."""
    pk = _dangle(dump_dir)
    before, rows = constraints("other"), snapshot("other")
    with _refusing_drops("other") as tried:
        report = restore(dump_dir, using="other", simulate=True)
    assert tried == []
    found = [(v.model_label, str(v.pk), v.field) for v in report.violations]
    assert ("library.book", str(pk), "author") in found
    assert before == constraints("other")
    assert_same(rows, snapshot("other"))
    with pytest.raises(LoadError) as e:
        restore(dump_dir, using="other")
    assert str(e.value) == str(report.violations[0])


@contextmanager
def _refusing_drops(alias: str) -> Iterator[list[str]]:
    """Make PostgreSQL refuse to drop a constraint, as for a user who owns no table."""
    refused: list[str] = []

    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "DROP CONSTRAINT" in sql:
            refused.append(sql)
            msg = "must be owner of table"
            raise DatabaseError(msg)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(refuse):
        yield refused


@POSTGRES
@BOTH
def test_keys_that_cannot_be_dropped_are_checked_at_the_end(dump_dir: Path) -> None:
    """When the keys cannot be dropped they stay, and are still checked."""
    before = constraints("other")
    with _refusing_drops("other") as refused:
        restore(dump_dir, using="other")
    assert refused
    assert before == constraints("other")
    assert_same(snapshot("default"), snapshot("other"))
    pk = _dangle(dump_dir)
    with (
        _refusing_drops("other"),
        pytest.raises(LoadError, match="field 'author'") as e,
    ):
        restore(dump_dir, using="other")
    assert str(e.value.pk) == str(pk)
    assert before == constraints("other")


@pytest.mark.django_db(databases=["default"])
def test_no_key_is_dropped_elsewhere() -> None:
    """Only PostgreSQL drops keys for the load; SQLite checks them at the end."""
    tables = ["library_book", "library_author"]
    found = drop_foreign_keys(connections["default"], tables)
    assert (found != []) == is_postgres()


@POSTGRES
@pytest.mark.django_db(databases=["default"])
def test_a_key_not_validated_is_kept() -> None:
    """A key made NOT VALID checks new rows only if kept: it is not dropped."""
    book = apps.get_model("library", "Book")
    field = book._meta.get_field("author")
    table, target = book._meta.db_table, field.target_field  # type: ignore[union-attr]
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT book_author_unchecked "
            f"FOREIGN KEY ({field.column}) REFERENCES "  # type: ignore[union-attr]
            f"{target.model._meta.db_table} ({target.column}) NOT VALID"
        )
    dropped = drop_foreign_keys(connections["default"], [table])
    assert dropped
    assert "book_author_unchecked" not in [key.name for key in dropped]
    assert "book_author_unchecked" in [c[1] for c in constraints("default")]
