"""``dumpplan`` and the restore agree: the plan never lies (#12).

Each case changes a row of a valid dump, reseals its checksum (the dump is
well-formed, its rows are not), and asks ``dumpplan`` then the restore, into
'other'. ``dumpplan`` reads every row as the restore does and names the
model, the row and the field of each problem; the restore then fails too.
"""

from __future__ import annotations

import ast
import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.reports.plantext import plan_report
from lino_migrate.restore.reader import open_dump
from lino_migrate.restore.restorer import restore
from migrations_registry import Registry
from tests.site.data import populate
from tests.test_hostile_dumps import (
    database_state,
    read_script,
    require_test_databases,
    reseal,
    write_script,
)

GENRE = "library_genre.py"
BOOK = "library_book.py"


@pytest.fixture(scope="module")
def valid(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[Path]:
    """Return a valid dump of 'default'; 'other' holds rows of its own."""
    require_test_databases()
    dump = tmp_path_factory.mktemp("agrees") / "valid"
    with django_db_blocker.unblock():
        populate("default")
        call_command("dump2py", str(dump), "--noinput", "-v0")
        populate("other", portable=True)
        yield dump
        for alias in ("default", "other"):
            call_command("flush", "--noinput", "--database", alias, verbosity=0)


def set_value(
    name: str, column: str, value: Any, line: int = 0
) -> Callable[[Path], None]:
    """Return a change setting *column* of row *line* of data file *name*."""

    def change(dump: Path) -> None:
        path = dump / name
        lines = path.read_text(encoding="utf-8").split("\n")
        columns = ast.literal_eval(
            next(x for x in lines if x.startswith("COLUMNS = ")).partition(" = ")[2]
        )
        at = [i for i, x in enumerate(lines) if x.startswith("    (")][line]
        row = list(ast.literal_eval(lines[at].strip().rstrip(",")))
        row[columns.index(column)] = value
        lines[at] = f"    {tuple(row)!r},"
        path.write_text("\n".join(lines), encoding="utf-8")

    return change


def duplicate_first_row(name: str) -> Callable[[Path], None]:
    """Return a change repeating the first row of data file *name*."""

    def change(dump: Path) -> None:
        path = dump / name
        lines = path.read_text(encoding="utf-8").split("\n")
        at = next(i for i, x in enumerate(lines) if x.startswith("    ("))
        lines.insert(at, lines[at])
        path.write_text("\n".join(lines), encoding="utf-8")

    return change


def replace_text(name: str, old: str, new: str) -> Callable[[Path], None]:
    """Return a change replacing the first *old* of data file *name*."""

    def change(dump: Path) -> None:
        path = dump / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


def _is_postgres() -> bool:
    return connections["other"].vendor == "postgresql"


#: (id, change, what the plan names); every one makes the restore fail.
CASES = [
    ("not-a-literal", replace_text(GENRE, "    (1, ", "    (1+1, "), "not literal"),
    (
        "text-in-integer",
        set_value(GENRE, "id", "x"),
        "'library.genre' row pk='x' field 'id'",
    ),
    (
        "bytes-in-text",
        set_value(GENRE, "name", b"x"),
        "'library.genre' row pk=1 field 'name'",
    ),
    (
        "null-in-not-null",
        set_value(GENRE, "name", None),
        "'library.genre' row pk=1 field 'name' (file library_genre.py): NULL",
    ),
    (
        "huge-integer",
        set_value(GENRE, "id", 10**30),
        f"field 'id' (file library_genre.py): {10**30} is outside",
    ),
    (
        "duplicate-pk",
        duplicate_first_row(GENRE),
        "'library.genre' row pk=1 (file library_genre.py): this primary key is already",
    ),
    (
        "fk-to-missing-row",
        set_value(BOOK, "publisher_id", 999_999),
        "'library.book' field 'publisher': points to library.publisher rows that "
        "the dump lacks (999999)",
    ),
]
#: Refused by PostgreSQL only: SQLite stores a NUL and any length.
POSTGRES_CASES = [
    ("nul-in-text", set_value(GENRE, "name", "a\x00b"), "field 'name'"),
    ("text-too-long", set_value(GENRE, "name", "x" * 51), "51 characters"),
    (
        "small-pk-beyond-16-bits",
        replace_text(GENRE, "ROWS = (\n", "ROWS = (\n    (40000, 'Big'),\n"),
        "40000 is outside",
    ),
]


def _copy(valid: Path, tmp_path: Path, change: Callable[[Path], None]) -> Path:
    dump = tmp_path / "dump"
    shutil.copytree(valid, dump)
    change(dump)
    for name in (GENRE, BOOK):
        reseal(dump, name)
    return dump


def _plan(dump: Path, **options: Any) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("dumpplan", str(dump), "--database", "other", stdout=out)
    except CommandError as e:
        return out.getvalue(), e
    return out.getvalue(), None


@pytest.mark.parametrize(
    ("change", "named"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan_refuses_what_the_restore_refuses(
    valid: Path, tmp_path: Path, django_db_blocker: Any, change: Any, named: str
) -> None:
    """The plan names the model, row and field; the restore fails, changing nothing."""
    dump = _copy(valid, tmp_path, change)
    with django_db_blocker.unblock():
        out, error = _plan(dump)
        assert error is not None, out
        assert named in out
        before = database_state("other")
        with pytest.raises(LinoMigrateError):
            restore(dump, using="other")
        assert before == database_state("other")


@pytest.mark.parametrize(
    ("change", "named"),
    [c[1:] for c in POSTGRES_CASES],
    ids=[c[0] for c in POSTGRES_CASES],
)
def test_plan_follows_the_engine(
    valid: Path, tmp_path: Path, django_db_blocker: Any, change: Any, named: str
) -> None:
    """What PostgreSQL refuses and SQLite stores: the plan says what the restore does."""
    dump = _copy(valid, tmp_path, change)
    with django_db_blocker.unblock():
        out, error = _plan(dump)
        if not _is_postgres():
            assert error is None, out
            restore(dump, using="other")
            return
        assert error is not None, out
        assert named in out
        with pytest.raises(LinoMigrateError):
            restore(dump, using="other")


def test_valid_dump_plans_and_restores(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """A valid dump: the plan says it works, and it does."""
    dump = _copy(valid, tmp_path, lambda d: None)
    with django_db_blocker.unblock():
        out, error = _plan(dump)
        assert error is None, out
        assert "The restore would work." in out
        restore(dump, using="other")


def test_migrated_rows_are_checked_after_the_migrators(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """Rows a migrator changes are checked as the migrator leaves them."""
    registry = Registry()

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        @m.rows("library.genre")
        def blank(row):  # type: ignore[no-untyped-def]
            row["name"] = None if row["id"] == 1 else row["name"]
            return row

    def older(dump: Path) -> None:
        meta = read_script(dump)
        meta["VERSIONS"]["library"] = "0.9"
        write_script(dump, meta)

    dump = _copy(valid, tmp_path, older)
    with django_db_blocker.unblock():
        report = plan_report(open_dump(dump), registry, connections["other"])
        assert not report["ok"]
        assert [
            "'library.genre' row pk=1 field 'name' (file library_genre.py): "
            "NULL in a NOT NULL column"
        ] == report["problems"]
        with pytest.raises(LinoMigrateError, match=r"library\.genre"):
            restore(dump, using="other", registry=registry)


def test_problems_are_capped(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """Past 20 problems, the plan counts the others."""

    def many(dump: Path) -> None:
        path = dump / GENRE
        lines = path.read_text(encoding="utf-8").split("\n")
        at = next(i for i, x in enumerate(lines) if x.startswith("    ("))
        lines[at:at] = [f"    ({n}, None)," for n in range(1000, 1030)]
        path.write_text("\n".join(lines), encoding="utf-8")

    dump = _copy(valid, tmp_path, many)
    with django_db_blocker.unblock():
        report = plan_report(open_dump(dump), None, connections["other"])
    assert 21 == len(report["problems"])
    assert "... and 10 more problems in the rows" == report["problems"][-1]


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_last() -> None:
    """Mark the module as using both databases (last: the fixture flushes them)."""
