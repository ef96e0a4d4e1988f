"""``--migrate``: a restore into an empty database creates the schema first (#13).

Lino operators restore into an empty database. The oracle of every restored
row is :func:`tests.snapshot.snapshot`, which reads the source database and
the target with the ORM and raw SQL (never our reader); the tables that
exist are read from the database catalogue.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from lino_migrate.exceptions import (
    ChecksumError,
    DatabaseNotReadyError,
    MigrateFailedError,
    RehearsalNeedsSchemaError,
    RestoreCancelledError,
    SchemaKeptError,
)
from lino_migrate.restore import schema_setup
from lino_migrate.restore.restorer import restore
from tests.conftest import POPULATED, VariantSite, is_postgres, never_migrated
from tests.dumps import edit_first_row
from tests.site.data import populate
from tests.snapshot import assert_same, snapshot

DB = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """Return a dump of the populated default database."""
    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    return tmp_path / "d"


def _tables(site: Any) -> list[str]:
    """Return the tables of *site*'s database, from its catalogue."""
    query = (
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        if is_postgres()
        else "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    return sorted(row[0] for row in site.sql(query)[0])


def _count(site: Any, table: str) -> int:
    return int(site.sql(f"SELECT COUNT(*) FROM {table}")[0][0][0])


@DB
@pytest.mark.parametrize("command", ["run", "restoredump"])
def test_migrate_restores_every_row_into_an_empty_database(
    command: str,
    dump_dir: Path,
    make_database: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Both entry points create the schema, then restore every row of the dump."""
    site = never_migrated(make_database)
    target = dump_dir / "restore.py" if command == "run" else dump_dir
    with site.connected() as alias:
        capsys.readouterr()
        call_command(
            command, str(target), "--migrate", "--noinput", "--database", alias
        )
        out = capsys.readouterr().out
        assert f"Created the schema of database '{alias}': migrate did apply " in out
        assert_same(snapshot("default"), snapshot(alias))


def test_migrate_end_to_end_in_manage_py(make_site: Any) -> None:
    """``manage.py run DIR/restore.py --migrate --noinput``, in a real process."""
    source = make_site("src", prepare=POPULATED)
    source.manage("dump2py", str(source.tmp / "d"), "--noinput", "-v0")
    target = never_migrated(make_site)
    done = target.manage(
        "run", str(source.tmp / "d" / "restore.py"), "--migrate", "--noinput"
    )
    assert "Created the schema of database 'default'" in done.stdout
    with source.connected() as a, target.connected() as b:
        assert_same(snapshot(a), snapshot(b))


@DB
def test_without_migrate_the_refusal_names_migrate(
    dump_dir: Path, make_database: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The restore and dumpplan name ``--migrate`` as the fix; nothing is written."""
    site = never_migrated(make_database)
    with site.connected() as alias:
        with pytest.raises(DatabaseNotReadyError, match="Restore with --migrate"):
            restore(dump_dir, using=alias)
        capsys.readouterr()
        with pytest.raises(CommandError, match="would fail"):
            call_command("dumpplan", str(dump_dir), "--database", alias)
        assert "Restore with --migrate" in " ".join(capsys.readouterr().out.split())
        assert [] == _tables(site)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_migrate_on_a_migrated_database_does_nothing_extra(
    dump_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fully migrated database: migrate is not called, and -v 2 says so."""

    def migrate(*args: Any, **kwargs: Any) -> None:
        msg = "migrate was called on a fully migrated database"
        raise AssertionError(msg)

    monkeypatch.setattr(schema_setup, "call_command", migrate)
    capsys.readouterr()
    call_command(
        "restoredump", str(dump_dir), "--migrate", "--noinput", "--database",
        "other", "-v", "2",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "Database 'other' is fully migrated; --migrate has nothing to do." in out
    assert_same(snapshot("default"), snapshot("other"))


@DB
def test_a_failing_migrate_is_one_message(
    dump_dir: Path, make_database: Any, manage_py: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """migrate raises: one line names what failed and the database; no traceback."""

    def migrate(*args: Any, **kwargs: Any) -> None:
        msg = "disk I/O error"
        raise DatabaseError(msg)

    monkeypatch.setattr(schema_setup, "call_command", migrate)
    site = never_migrated(make_database)
    with site.connected() as alias:
        with pytest.raises(MigrateFailedError, match="disk I/O error") as error:
            restore(dump_dir, using=alias, migrate=True)
        assert alias == error.value.database
        done = manage_py(
            "restoredump", dump_dir, "--migrate", "--noinput", "--database", alias
        )
    assert 1 == done.returncode
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert 1 == len(lines), done.stderr
    start = f"CommandError: --migrate could not create the schema of database '{alias}'"
    assert lines[0].startswith(start)
    assert "`manage.py migrate --run-syncdb` failed: disk I/O error." in done.stderr


def test_a_real_migrate_failure_in_manage_py(make_site: Any) -> None:
    """A table in the way makes migrate fail: one message, no traceback, no rows."""
    source = make_site("src", prepare=POPULATED)
    source.manage("dump2py", str(source.tmp / "d"), "--noinput", "-v0")
    target = never_migrated(make_site)
    target.sql("CREATE TABLE library_author (x integer)")
    done = target.manage(
        "run", str(source.tmp / "d" / "restore.py"), "--migrate", "--noinput",
        check=False,
    )  # fmt: skip
    assert 1 == done.returncode
    assert "Traceback" not in done.stderr
    assert 1 == len(done.stderr.strip().splitlines()), done.stderr
    assert "--migrate could not create the schema of database 'default'" in done.stderr
    assert "library_author" in done.stderr
    assert 0 == _count(target, "library_author")


@DB
def test_a_bad_dump_creates_no_schema(dump_dir: Path, make_database: Any) -> None:
    """The dump is verified before migrate runs: a corrupted file writes nothing."""
    path = dump_dir / "library_book.py"
    path.write_bytes(path.read_bytes().replace(b"    (", b"    ( ", 1))
    site = never_migrated(make_database)
    with site.connected() as alias, pytest.raises(ChecksumError, match="library_book"):
        restore(dump_dir, using=alias, migrate=True)
    assert [] == _tables(site)


@DB
def test_a_failed_restore_keeps_the_schema_and_says_so(
    dump_dir: Path, make_database: Any
) -> None:
    """A row refused after migrate: rows rolled back, tables kept, message says so."""
    edit_first_row(dump_dir, "library_book.py", "author_id", lambda _: "no-such-author")
    site = never_migrated(make_database)
    with site.connected() as alias, pytest.raises(SchemaKeptError) as error:
        restore(dump_dir, using=alias, migrate=True)
    message = str(error.value)
    assert message.startswith("Could not restore 'library.book' row pk=")
    assert "the database is unchanged" not in message
    assert f"database '{alias}' now has its tables but no rows of the dump" in message
    assert message.endswith("run again after fixing the dump.")
    assert "library_author" in _tables(site)
    assert 0 == _count(site, "library_author") == _count(site, "library_book")


@DB
def test_simulate_refuses_to_create_the_schema(
    dump_dir: Path, make_database: Any
) -> None:
    """``--simulate --migrate`` writes nothing: on an empty database it is refused."""
    site = never_migrated(make_database)
    refused = pytest.raises(CommandError, match="--simulate writes nothing")
    with site.connected() as alias, refused as error:
        call_command(
            "restoredump", str(dump_dir), "--simulate", "--migrate", "--database", alias
        )
    assert isinstance(error.value.__cause__, RehearsalNeedsSchemaError)
    assert "migrate --run-syncdb --database" in str(error.value)
    assert [] == _tables(site)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_simulate_with_migrate_rehearses_on_a_migrated_database(
    dump_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a fully migrated database ``--migrate`` has nothing to do: the rehearsal runs."""
    before = snapshot("other")
    call_command(
        "restoredump", str(dump_dir), "--simulate", "--migrate", "--database", "other"
    )
    assert_same(before, snapshot("other"))


@DB
def test_json_output_stays_json(
    dump_dir: Path, make_database: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``--format json`` standard output is the report alone, migrate or not."""
    site = never_migrated(make_database)
    with site.connected() as alias:
        capsys.readouterr()
        call_command(
            "restoredump", str(dump_dir), "--migrate", "--noinput", "--database",
            alias, "--format", "json", "-v", "3",
        )  # fmt: skip
        report = json.loads(capsys.readouterr().out)
        assert report["ok"]
        assert_same(snapshot("default"), snapshot(alias))


@DB
def test_the_question_says_the_schema_is_created(
    dump_dir: Path, make_database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked before the restore: the schema comes first, and stays; 'no' writes nothing."""
    asked: list[str] = []

    def answer(question: str = "") -> str:
        asked.append(question)
        return "no"

    monkeypatch.setattr(builtins, "input", answer)
    site = never_migrated(make_database)
    with site.connected() as alias, pytest.raises(CommandError) as error:
        call_command("restoredump", str(dump_dir), "--migrate", "--database", alias)
    assert isinstance(error.value.__cause__, RestoreCancelledError)
    question = " ".join(asked[0].split())
    assert "The schema is created first (--migrate): migrate --run-syncdb will " in (
        question
    )
    assert "this stays if the restore fails." in question
    assert [] == _tables(site)


#: Rows of the Lino-like variant, written in ``manage.py shell``.
FILL = """\
from tests.site.kitchen.models import Sample
from tests.site.library.models import Author
Sample.objects.create(id=1, label="one", rank=1, char="it's")
Sample.objects.create(id=2, label="two", rank=2, text="a\\nb")
Author.objects.create(id=1, name="Ada", code="ada")
"""
ROWS = (
    "SELECT id, label, rank, char, text FROM kitchen_sample ORDER BY id",
    "SELECT id, name, code FROM library_author ORDER BY id",
)


def test_apps_without_migrations_get_their_tables(
    make_variant_site: Callable[..., VariantSite],
) -> None:
    """A Lino-like site (no auth, an app without migrations): --run-syncdb makes it."""
    source = make_variant_site("nomigrations", "lsrc")
    source.manage("migrate", "--run-syncdb", "-v0")
    source.python(FILL)
    source.manage("dump2py", str(source.tmp / "d"), "--noinput", "-v0")
    target = make_variant_site("nomigrations", "ldst")
    done = target.manage(
        "run", str(source.tmp / "d" / "restore.py"), "--migrate", "--noinput"
    )
    assert " tables" in done.stdout.split("migrate did ")[1]
    assert source.sql(*ROWS) == target.sql(*ROWS)
    assert [[]] == target.sql("SELECT * FROM django_migrations WHERE app = 'kitchen'")
