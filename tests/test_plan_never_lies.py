"""Whenever ``dumpplan`` says a restore would work, it does (#14).

Each case was once a plan that passed or misled while the restore failed:
an unfilled ``makemigrator`` stub, a partial dump whose foreign keys point to
models it lacks, a changed model shown as removed, the rows of an app the
site no longer installs, and ``dumpcompare`` blind to what migrators do. Each
test asks ``dumpplan`` (into 'other'), then restores for real, and reads the
outcome from the database itself.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connections

import migrations_registry
from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.reports.plantext import plan_report
from lino_migrate.restore import plan as plan_module
from lino_migrate.restore.reader import open_dump
from lino_migrate.restore.restorer import restore
from lino_migrate.upgrade.makemigrator import make_migrator
from migrations_registry import Registry
from tests.site.data import populate
from tests.site.library.models import Genre, Librarian
from tests.test_hostile_dumps import (
    database_state,
    read_script,
    require_test_databases,
    reseal,
    write_script,
)


@pytest.fixture(scope="module")
def dumps(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[dict[str, Path]]:
    """Return a whole dump of 'default' and one without library.genre."""
    require_test_databases()
    root = tmp_path_factory.mktemp("never_lies")
    found = {"whole": root / "whole", "no_genre": root / "no_genre"}
    with django_db_blocker.unblock():
        populate("default")
        call_command("dump2py", str(found["whole"]), "--noinput", "-v0")
        call_command(
            "dump2py", str(found["no_genre"]), "--noinput", "-v0",
            "--exclude", "library.genre",
        )  # fmt: skip
        yield found
        for alias in ("default", "other"):
            call_command("flush", "--noinput", "--database", alias, verbosity=0)


@pytest.fixture
def other(django_db_blocker: Any) -> Iterator[str]:
    """Return 'other', holding the rows of the test site (as 'default' does)."""
    with django_db_blocker.unblock():
        call_command("flush", "--noinput", "--database", "other", verbosity=0)
        populate("other", portable=True)
        yield "other"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """Return an empty registry that plans and restores use instead of the default."""
    fresh = Registry()
    monkeypatch.setattr(plan_module, "default_registry", fresh)
    return fresh


def _copy(dumps: dict[str, Path], tmp_path: Path, name: str = "whole") -> Path:
    dump = tmp_path / f"dump_{uuid.uuid4().hex[:6]}"
    shutil.copytree(dumps[name], dump)
    return dump


def _plan(dump: Path, *args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("dumpplan", str(dump), "--database", "other", *args, stdout=out)
    except CommandError as e:
        return out.getvalue(), e
    return out.getvalue(), None


def _rows(dump: Path, name: str) -> tuple[list[str], list[str], int]:
    """Return the lines of data file *name*, its columns and the index of COLUMNS."""
    lines = (dump / name).read_text(encoding="utf-8").split("\n")
    at = next(i for i, x in enumerate(lines) if x.startswith("COLUMNS = "))
    return lines, list(ast.literal_eval(lines[at].partition(" = ")[2])), at


def _edit_model(
    dump: Path, label: str, old: str, new: str | None, version: str
) -> dict[Any, Any]:
    """Rename (or, with *new* None, drop) the field *old* of *label* in the dump.

    The dump then looks as if made at *version* of the model's app; return
    the values of the field per primary key.
    """
    name = label.replace(".", "_") + ".py"
    lines, columns, at = _rows(dump, name)
    index = columns.index(old)
    values = {}
    for i, line in enumerate(lines):
        if line.startswith("    ("):
            row = list(ast.literal_eval(line.strip().rstrip(",")))
            values[row[0]] = row[index]
            if new is None:
                del row[index]
            lines[i] = f"    {tuple(row)!r},"
    columns[index : index + 1] = [] if new is None else [new]
    lines[at] = f"COLUMNS = {tuple(columns)!r}"
    (dump / name).write_text("\n".join(lines), encoding="utf-8")
    meta = read_script(dump)
    fields = meta["SCHEMA"][label]["fields"]
    meta["SCHEMA"][label]["fields"] = tuple(
        f if f[1] != old else (new, new, new, *f[3:])
        for f in fields
        if f[1] != old or new is not None
    )
    meta["VERSIONS"][label.partition(".")[0]] = version
    write_script(dump, meta)
    reseal(dump, name)
    return values


def _import(path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import the migrators module *path* as a site does, registering into *registry*."""
    monkeypatch.setattr(migrations_registry, "migrator", registry.migrator)
    spec = importlib.util.spec_from_file_location(f"m_{uuid.uuid4().hex}", path)
    assert spec is not None
    assert spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _refused(dump: Path, **options: Any) -> None:
    """Assert that restoring *dump* into 'other' fails and changes nothing."""
    before = database_state("other")
    with pytest.raises(LinoMigrateError):
        restore(dump, using="other", **options)
    assert before == database_state("other")


# 1. makemigrator stubs --------------------------------------------------------


@pytest.fixture
def library_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return the migrators.py that makemigrator writes for library, in tmp_path."""
    app = tmp_path / "app"
    app.mkdir()
    monkeypatch.setattr(apps.get_app_config("library"), "path", str(app))
    return app / "migrators.py"


def test_unfilled_stub_is_refused_until_completed(
    dumps: dict[str, Path],
    tmp_path: Path,
    other: str,
    library_app: Path,
    monkeypatch: pytest.MonkeyPatch,
    registry: Registry,
) -> None:
    """A stub left as generated fails the plan and the restore; completed, both pass."""
    dump = _copy(dumps, tmp_path)
    branches = _edit_model(dump, "library.librarian", "branch_id", None, "0.9")
    make_migrator("library", dump, registry=Registry()).write()
    source = library_app.read_text(encoding="utf-8")
    assert '@m.rows("library.librarian", todo=True)' in source
    _import(library_app, registry, monkeypatch)

    out, error = _plan(dump)
    assert error is not None, out
    line = source.splitlines().index('    @m.rows("library.librarian", todo=True)')
    assert (
        "The migrator library 1.0 (to_1_0) has an unfinished stub: the row "
        f"function fill_branch ({library_app}, line {line + 1}) is marked todo=True"
    ) in out
    _refused(dump)

    done = source.replace(", todo=True)", ")").replace(
        '        # TODO: compute row["branch_id"] from the old fields, then remove '
        "todo=True\n",
        f'        row["branch_id"] = {branches!r}[row["id"]]\n',
    )
    library_app.write_text(done, encoding="utf-8")
    completed = Registry()
    monkeypatch.setattr(plan_module, "default_registry", completed)
    _import(library_app, completed, monkeypatch)
    out, error = _plan(dump)
    assert error is None, out
    restore(dump, using="other")
    found = dict(Librarian.objects.using("other").values_list("id", "branch_id"))
    assert branches == found


def test_none_default_of_a_not_null_field_is_refused(
    dumps: dict[str, Path], tmp_path: Path, other: str, registry: Registry
) -> None:
    """add_field(default=None) with no row function after it: plan and restore fail."""
    dump = _copy(dumps, tmp_path)
    _edit_model(dump, "library.librarian", "branch_id", None, "0.9")

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        m.add_field("library.librarian", "branch", default=None, attname="branch_id")

    out, error = _plan(dump)
    assert error is not None, out
    assert (
        "library 1.0 (to_1_0): add_field('library.librarian', 'branch', "
        "default=None, attname='branch_id') gives NULL to the field 'branch' of "
        "'library.librarian', which is NOT NULL and has no default"
    ) in out
    _refused(dump)


# 2. Foreign keys of partial dumps ---------------------------------------------


def test_partial_dump_pointing_to_rows_the_target_lacks_is_refused(
    dumps: dict[str, Path], tmp_path: Path, other: str
) -> None:
    """M2M rows to genres the dump left out and 'other' lacks: both refuse."""
    Genre.objects.using(other).all().delete()
    dump = _copy(dumps, tmp_path, "no_genre")
    out, error = _plan(dump)
    assert error is not None, out
    assert (
        "'library.book_genres' field 'genre': points to library.genre rows that "
        "neither the dump nor database 'other' holds (1, 2, 300)"
    ) in out
    assert "dump without --exclude, or exclude library.book_genres too" in out
    _refused(dump)


def test_partial_dump_pointing_to_rows_the_target_keeps_restores(
    dumps: dict[str, Path], tmp_path: Path, other: str
) -> None:
    """The genres are in 'other': the plan passes, the restore keeps them and links."""
    dump = _copy(dumps, tmp_path, "no_genre")
    genres = sorted(Genre.objects.using(other).values_list("id", "name"))
    out, error = _plan(dump)
    assert error is None, out
    restore(dump, using=other)
    assert genres == sorted(Genre.objects.using(other).values_list("id", "name"))
    with connections[other].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM library_book_genres")
        links = cursor.fetchone()[0]
    expected = next(
        e.rows for e in open_dump(dump).files if e.name.endswith("genres.py")
    )
    assert 0 < expected == links


def test_partial_dump_without_database_is_a_warning(
    dumps: dict[str, Path],
) -> None:
    """Without a database, each foreign key to a model the dump lacks is a warning."""
    report = plan_report(open_dump(dumps["no_genre"]))
    assert report["ok"]
    assert [
        "'library.book_genres' field 'genre' points to library.genre, which the "
        "dump lacks: the restore keeps the rows of library.genre of the target "
        "database, which must hold every row pointed to (dumpplan --database "
        "ALIAS checks it)"
    ] == report["warnings"]


# 3. A changed model is not a removed one --------------------------------------


def test_changed_model_is_shown_with_its_field_differences(
    dumps: dict[str, Path], tmp_path: Path, other: str
) -> None:
    """A field renamed without migrator: the model is changed, not removed."""
    dump = _copy(dumps, tmp_path)
    _edit_model(dump, "library.genre", "name", "title", "0.9")
    report = plan_report(open_dump(dump), None, connections[other])
    genre = report["models"]["library.genre"]
    assert "library.genre" == genre["current"]
    assert [
        {"change": "removed", "field": "title", "dump": "title", "current": None},
        {"change": "added", "field": "name", "dump": None,
         "current": "CharField, NOT NULL"},
    ] == genre["differences"]  # fmt: skip
    out, error = _plan(dump)
    assert error is not None
    assert re.search(
        r"^  library\.genre +3 rows  -> library\.genre \(fields differ\)$", out, re.M
    )
    assert "      field title: removed, in the dump only" in out
    assert "      field name: added (CharField, NOT NULL), not in the dump" in out
    assert "-> removed" not in out
    _refused(dump)


def test_renamed_field_is_shown_and_restores(
    dumps: dict[str, Path], tmp_path: Path, other: str, registry: Registry
) -> None:
    """With its migrator, the rename is a difference the plan shows; it restores."""
    dump = _copy(dumps, tmp_path)
    names = _edit_model(dump, "library.genre", "name", "title", "0.9")
    registry.register(
        "library", "1.0", lambda m: m.rename_field("library.genre", "title", "name")
    )
    out, error = _plan(dump, "--format", "json")
    assert error is None, out
    genre = json.loads(out)["models"]["library.genre"]
    assert [
        {"change": "renamed", "field": "name", "dump": "title", "current": "name"}
    ] == genre["differences"]
    restore(dump, using=other)
    assert names == dict(Genre.objects.using(other).values_list("id", "name"))


# 4. The rows of an app that is not installed ----------------------------------


def _with_old_app(dumps: dict[str, Path], tmp_path: Path) -> Path:
    """Return a copy of the whole dump holding rows of 'oldapp', not installed."""
    dump = _copy(dumps, tmp_path)
    text = (dump / "library_genre.py").read_text(encoding="utf-8")
    text = text.replace("library.genre", "oldapp.thing").replace(
        "library_genre", "oldapp_thing"
    )
    (dump / "oldapp_thing.py").write_text(text, encoding="utf-8")
    meta = read_script(dump)
    meta["SCHEMA"]["oldapp.thing"] = {
        **meta["SCHEMA"]["library.genre"],
        "table": "oldapp_thing",
    }
    meta["VERSIONS"]["oldapp"] = "1.0"
    meta["FILES"] = (*meta["FILES"], ("oldapp.thing", "oldapp_thing.py", 0, "0" * 64))
    write_script(dump, meta)
    reseal(dump, "oldapp_thing.py")
    return dump


def test_uninstalled_app_is_refused_with_both_ways(
    dumps: dict[str, Path], tmp_path: Path, other: str
) -> None:
    """The hint names --exclude and a migrator of LINO_MIGRATE['MIGRATORS']."""
    dump = _with_old_app(dumps, tmp_path)
    out, error = _plan(dump)
    assert error is not None, out
    assert "its app 'oldapp' is not installed" in out
    assert "run DIR/restore.py --exclude oldapp" in out
    assert "m.remove_model('oldapp.thing')" in out
    assert "above the dump's oldapp 1.0" in out
    assert "LINO_MIGRATE['MIGRATORS']" in out
    _refused(dump)


@pytest.mark.parametrize("command", ["run", "restoredump"])
def test_uninstalled_app_excluded_restores(
    dumps: dict[str, Path], tmp_path: Path, other: str, command: str
) -> None:
    """--exclude oldapp: the plan passes and the restore, without the app, works."""
    dump = _with_old_app(dumps, tmp_path)
    out, error = _plan(dump, "--exclude", "oldapp")
    assert error is None, out
    Genre.objects.using(other).filter(pk=1).update(name="changed in other")
    target = str(dump / "restore.py") if command == "run" else str(dump)
    call_command(
        command, target, "--noinput", "--database", other, "--exclude", "oldapp",
        "-v", "0",
    )  # fmt: skip
    restored = sorted(Genre.objects.using(other).values_list("id", "name"))
    assert sorted(Genre.objects.using("default").values_list("id", "name")) == restored


def test_migrator_of_an_uninstalled_app_runs(
    dumps: dict[str, Path], tmp_path: Path, other: str, registry: Registry
) -> None:
    """A migrator of a module of MIGRATORS removes the app's rows: plan and restore pass."""
    dump = _with_old_app(dumps, tmp_path)

    @registry.migrator("oldapp", "2.0")
    def drop_oldapp(m):  # type: ignore[no-untyped-def]
        m.remove_model("oldapp.thing")

    out, error = _plan(dump)
    assert error is None, out
    assert re.search(
        r"^  oldapp +1\.0 -> 2\.0  migrators: 2\.0  \(not installed\)$", out, re.M
    )
    report = restore(dump, using=other)
    assert ["oldapp 2.0 (drop_oldapp)"] == report.migrators
    restored = sorted(Genre.objects.using(other).values_list("id", "name"))
    assert sorted(Genre.objects.using("default").values_list("id", "name")) == restored


def test_unknown_exclude_is_refused(dumps: dict[str, Path], other: str) -> None:
    """An --exclude that names nothing the dump holds is an error, nothing written."""
    with pytest.raises(CommandError, match=r"^--exclude nope: the dump holds no such"):
        call_command("dumpplan", str(dumps["whole"]), "--exclude", "nope")
    before = database_state(other)
    with pytest.raises(CommandError, match=r"--exclude library.nope: the dump holds"):
        call_command(
            "restoredump", str(dumps["whole"]), "--noinput", "--database", other,
            "--exclude", "library.nope",
        )  # fmt: skip
    assert before == database_state(other)


# 5. dumpcompare --migrate -----------------------------------------------------


def test_dumpcompare_migrate_compares_what_the_migrators_made(
    dumps: dict[str, Path], tmp_path: Path, registry: Registry, other: str
) -> None:
    """A renamed field is compared value by value after the migrators ran."""
    old = _copy(dumps, tmp_path)
    names = _edit_model(old, "library.genre", "name", "title", "0.9")

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        m.rename_field("library.genre", "title", "name")

        @m.rows("library.genre")
        def shout(row):  # type: ignore[no-untyped-def]
            row["name"] = row["name"].upper()
            return row

    plain = io.StringIO()
    with pytest.raises(CommandError):
        call_command("dumpcompare", str(old), str(dumps["whole"]), stdout=plain)
    assert "field title removed (CharField, NOT NULL)" in plain.getvalue()

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "dumpcompare", str(old), str(dumps["whole"]), "--migrate", "--format",
            "json", stdout=out,
        )  # fmt: skip
    document = json.loads(out.getvalue())
    assert document["dumps"]["a"] == {**document["dumps"]["a"], "migrated": True}
    assert str(old) == document["dumps"]["a"]["directory"]
    genre = document["models"]["library.genre"]
    assert {} == genre["fields"]
    expected = [
        {"pk": pk, "values": {"name": {"a": name.upper(), "b": name}}}
        for pk, name in sorted(names.items())
        if name != name.upper()
    ]
    assert expected == genre["changed"]
    stored = dict(Genre.objects.using("default").values_list("id", "name"))
    assert names == stored


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_last() -> None:
    """Mark the module as using both databases (last: the fixture flushes them)."""
