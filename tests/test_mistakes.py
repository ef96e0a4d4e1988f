"""The common mistakes get an answer, not a traceback (#14).

Each mistake (a wrong path, a directory that is no dump, a file where a
dump's directory belongs, a database never migrated, a dump holding an app
that is not installed, a PostgreSQL server that does not answer, a
``--database`` that is not configured) is made with every command it
concerns. Each must end in a :class:`~django.core.management.CommandError`
(no other exception: no traceback) whose text names what was found (the
path, the alias, the server) and says what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from tests.conftest import never_migrated
from tests.site.data import populate

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def _error(*args: object) -> str:
    """Run a command that must fail with a CommandError; return its text."""
    with pytest.raises(CommandError) as error:
        call_command(*map(str, args))
    return str(error.value)


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """Return a dump of the populated default database."""
    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    return tmp_path / "d"


def _wrong_paths(tmp_path: Path, dump: Path) -> dict[str, tuple[Path, str, str]]:
    """Return, per mistake, the path given, what is found there and what to do."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a dump")
    script = tmp_path / "script.py"
    script.write_text("print('hello')\n")
    give = "Give the directory that `manage.py dump2py DIR` wrote"
    return {
        "wrong path": (tmp_path / "nowhere", "no such file or directory", give),
        "not a dump": (empty, "a directory without restore.py", give),
        "a file, not a dump": (
            script,
            "a file that is not the restore.py of a dump",
            give,
        ),
        "a data file instead of its directory": (
            dump / "library_author.py",
            f"a file in the dump '{dump}'",
            f"Give the dump's directory '{dump}'",
        ),
    }


#: The commands that read a dump, with the dump's place among their arguments.
DUMP_READERS = {
    "restoredump": ("restoredump", "{dump}", "--noinput", "--database", "other"),
    "dumpplan": ("dumpplan", "{dump}"),
    "dumpcompare A": ("dumpcompare", "{dump}", "{good}"),
    "dumpcompare B": ("dumpcompare", "{good}", "{dump}"),
    "upgradedump": ("upgradedump", "{dump}", "{new}", "--noinput"),
    "makemigrator": ("makemigrator", "library", "--from", "{dump}", "--dry-run"),
}


@BOTH
@pytest.mark.parametrize("command", sorted(DUMP_READERS))
def test_a_path_that_is_no_dump(command: str, dump_dir: Path, tmp_path: Path) -> None:
    """Each wrong path: the path, what is there, and what to give instead."""
    for mistake, (path, found, do) in _wrong_paths(tmp_path, dump_dir).items():
        args = [
            a.format(dump=path, good=dump_dir, new=tmp_path / "new")
            for a in DUMP_READERS[command]
        ]
        text = _error(*args)
        assert str(path) in text, mistake
        assert found in text, mistake
        assert do in text, mistake
        assert not (tmp_path / "new").exists()


@BOTH
def test_run_on_what_is_no_restore_script(dump_dir: Path, tmp_path: Path) -> None:
    """``run`` on a missing file, a directory, a data file: what it wants instead."""
    paths = _wrong_paths(tmp_path, dump_dir)
    text = _error("run", paths["wrong path"][0])
    assert f"No such file: '{paths['wrong path'][0]}'" in text
    assert "Give the path of a Python script" in text
    text = _error("run", paths["not a dump"][0])
    assert f"'{paths['not a dump'][0]}' is a directory, not a script" in text
    data_file, found, do = paths["a data file instead of its directory"]
    text = _error("run", data_file)
    assert str(data_file) in text
    assert found in text
    assert do in text


@pytest.mark.django_db(transaction=True)
def test_dump2py_into_a_file(tmp_path: Path) -> None:
    """A file where the dump's directory belongs: named, kept, another place asked."""
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    text = _error("dump2py", target, "--noinput")
    assert f"'{target}' exists already and is a regular file" in text
    assert "Choose another directory" in text
    assert "keep me" == target.read_text()


@pytest.mark.django_db(transaction=True)
def test_a_database_never_migrated(
    dump_dir: Path,
    make_database: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Restore, plan and dump each name the alias and say to migrate it."""
    site = never_migrated(make_database)
    with site.connected() as alias:
        migrate = f"manage.py migrate --database {alias}"
        for args in (
            ("restoredump", dump_dir, "--noinput", "--database", alias),
            ("run", dump_dir / "restore.py", "--noinput", "--database", alias),
            ("dump2py", tmp_path / "x", "--noinput", "--database", alias),
            ("dump2py", tmp_path / "x", "--simulate", "--database", alias),
        ):
            text = _error(*args)
            assert f"'{alias}'" in text, args
            assert migrate in text, args
        capsys.readouterr()
        text = _error("dumpplan", dump_dir, "--database", alias)
        assert "The restore would fail: 1 problem" in text
        assert migrate in capsys.readouterr().out
    assert not (tmp_path / "x").exists()


def _add_app_not_installed(dump: Path) -> None:
    """Put a model of an app that is not installed ('ghost') into a dump."""
    data = (dump / "library_genre.py").read_text(encoding="utf-8")
    data = data.replace("library.genre", "ghost.genre").replace(
        "library_genre", "ghost_genre"
    )
    (dump / "ghost_genre.py").write_text(data, encoding="utf-8")
    rows = data.count("\n    (")
    digest = hashlib.sha256(data.encode("utf-8")).hexdigest()
    script = dump / "restore.py"
    text = script.read_text(encoding="utf-8")
    match = re.search(r"    'library.genre': \{\n.*?\n    \},\n", text, re.S)
    assert match is not None
    schema = match[0].replace("library.genre", "ghost.genre")
    schema = schema.replace("library_genre", "ghost_genre")
    entry = f"    ('ghost.genre', 'ghost_genre.py', {rows}, '{digest}'),\n"
    for old, new in (
        ("SCHEMA = {\n", "SCHEMA = {\n" + schema),
        ("FILES = (\n", "FILES = (\n" + entry),
        ("VERSIONS = {", "VERSIONS = {'ghost': '1.0', "),
    ):
        assert 1 == text.count(old)
        text = text.replace(old, new)
    script.write_text(text, encoding="utf-8")


@BOTH
def test_a_dump_with_an_app_that_is_not_installed(
    dump_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app is named, and INSTALLED_APPS or a migrator is the way out."""
    _add_app_not_installed(dump_dir)
    expected = "model 'ghost.genre' is in the dump but its app 'ghost' is not installed"
    for args in (
        ("restoredump", dump_dir, "--noinput", "--database", "other"),
        ("run", dump_dir / "restore.py", "--noinput", "--database", "other"),
        ("upgradedump", dump_dir, tmp_path / "new", "--noinput"),
    ):
        text = _error(*args)
        assert expected in text, args
        assert "add 'ghost' to INSTALLED_APPS" in text, args
    capsys.readouterr()
    _error("dumpplan", dump_dir, "--database", "other")
    assert expected in capsys.readouterr().out


@contextlib.contextmanager
def _alias(config: dict[str, Any], blocker: Any) -> Iterator[str]:
    """Add the database alias 'unreachable' with *config*, as Site.connected does."""
    alias = "unreachable"
    filled = connections.configure_settings({"default": {}, alias: config})
    connections.settings[alias] = filled[alias]
    try:
        with blocker.unblock():
            yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


UNREACHABLE = {
    "postgresql": (
        {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "shop",
            "HOST": "127.0.0.1",
            "PORT": "1",
            "USER": "postgres",
            "PASSWORD": "s3cret-never-shown",
        },
        "PostgreSQL postgres@127.0.0.1:1/shop",
        "Check that the server runs",
    ),
    "sqlite": (
        {"ENGINE": "django.db.backends.sqlite3", "NAME": "/nonexistent/dir/x.db"},
        "SQLite /nonexistent/dir/x.db",
        "Check that the directory of its file exists",
    ),
}


@BOTH
@pytest.mark.parametrize("engine", sorted(UNREACHABLE))
def test_a_database_that_cannot_be_reached(
    engine: str, dump_dir: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """The alias, the server or file (never the password), and what to check."""
    if engine == "postgresql":
        pytest.importorskip("psycopg")
    config, target, check = UNREACHABLE[engine]
    with _alias(config, django_db_blocker) as alias:
        for args in (
            ("dumpplan", dump_dir, "--database", alias),
            ("restoredump", dump_dir, "--noinput", "--database", alias),
            ("run", dump_dir / "restore.py", "--noinput", "--database", alias),
            ("dump2py", tmp_path / "x", "--noinput", "--database", alias),
            ("dump2py", tmp_path / "x", "--simulate", "--database", alias),
        ):
            text = _error(*args)
            assert f"Cannot connect to database '{alias}' ({target})" in text, args
            assert check in text, args
            assert "s3cret" not in text
    assert not (tmp_path / "x").exists()


@BOTH
def test_a_database_that_is_not_configured(dump_dir: Path, tmp_path: Path) -> None:
    """``--database nope``: the name given and the aliases there are."""
    choices = ", ".join(repr(alias) for alias in connections)
    for args in (
        ("dumpplan", dump_dir, "--database", "nope"),
        ("restoredump", dump_dir, "--database", "nope"),
        ("dump2py", tmp_path / "x", "--database", "nope"),
        ("run", dump_dir / "restore.py", "--database", "nope"),
    ):
        text = _error(*args)
        assert "invalid choice: 'nope'" in text, args
        assert f"(choose from {choices})" in text, args
    assert "--help` lists the options" in text


@BOTH
def test_mistakes_exit_with_a_message_not_a_traceback(
    dump_dir: Path, tmp_path: Path, manage_py: Any
) -> None:
    """As ``manage.py`` runs them: exit status 1, one line on standard error."""
    for args in (
        ("dumpplan", tmp_path / "nowhere"),
        ("restoredump", tmp_path / "nowhere", "--noinput"),
        ("run", dump_dir / "restore.py", "--database", "nope"),
    ):
        result = manage_py(*args)
        assert 1 == result.returncode, args
        assert result.stderr.startswith("CommandError: "), args
        assert "Traceback" not in result.stderr
