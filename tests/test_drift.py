"""``manage.py dump2py DIR --simulate``: the schema-drift check, on real databases.

Every test breaks a migrated, populated database of its own behind Django's
back (raw SQL), then runs the check twice through ``manage.py``'s entry point
(in this process, ``--database`` naming that database), for the text report
and for ``--format json``, and looks at both and at the exit status.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POPULATED, Site, SiteFactory, is_postgres
from tests.site.kitchen.models import Sample
from tests.site.library.models import Author

Manage = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def site(make_database: SiteFactory) -> Iterator[Site]:
    """Return a populated database of its own, open in this process."""
    site = make_database("drift", prepare=POPULATED)
    with site.connected():
        yield site


def _check(
    manage_py: Manage, site: Site, tmp_path: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run the check as text and as JSON; assert that it wrote nothing."""
    parent = tmp_path / "dumps"
    parent.mkdir(exist_ok=True)
    target = parent / "d"
    args = ("--database", site.name, *args)
    text = manage_py("dump2py", target, "--simulate", *args)
    raw = manage_py("dump2py", target, "--simulate", "--format", "json", *args)
    assert [] == list(parent.iterdir())
    assert text.returncode == raw.returncode
    assert "Traceback" not in text.stderr + raw.stderr
    return text, json.loads(raw.stdout)


def _kinds(data: dict[str, Any], label: str) -> list[str]:
    return [p["kind"] for p in data["models"][label]["problems"]]


def _drifting(data: dict[str, Any]) -> dict[str, str]:
    return {
        label: m["status"] for label, m in data["models"].items() if m["status"] != "ok"
    }


def test_clean_site_has_no_drift(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A migrated site matches its code: every model ok, exit status 0."""
    authors = Author.objects.using(site.name).count()
    text, data = _check(manage_py, site, tmp_path)
    assert 0 == text.returncode
    assert f"library.author: {authors} rows, ok\n" in text.stdout
    assert "Extra tables: none.\n" in text.stdout
    assert "Migrations not applied: none.\n" in text.stdout
    count = len(data["models"])
    assert text.stdout.splitlines()[-1].startswith(
        f"No drift: the {count} models match"
    )
    assert "" == text.stderr
    assert data["drift"] is False
    assert {} == _drifting(data)
    assert [] == data["extra_tables"]
    assert {"unapplied": [], "unknown": []} == data["migrations"]
    expected = {
        "table": "library_author",
        "rows": authors,
        "status": "ok",
        "problems": [],
    }
    assert expected == data["models"]["library.author"]
    assert [
        "database",
        "drift",
        "extra_tables",
        "migrations",
        "models",
        "vendor",
    ] == list(data)
    assert ("postgresql" if is_postgres() else "sqlite") == data["vendor"]


def test_dropped_column(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A column dropped behind Django's back: missing, and the model unreadable."""
    site.sql("ALTER TABLE library_author DROP COLUMN born")
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    assert "library.author: unreadable\n" in text.stdout
    assert (
        "  - column 'born' of field 'born' is missing from 'library_author'\n"
        in text.stdout
    )
    assert "  - cannot be read: " in text.stdout
    count = len(data["models"])
    assert f"CommandError: Drift: 1 of {count} models differ (1 unreadable)" in (
        text.stderr
    )
    assert {"library.author": "unreadable"} == _drifting(data)
    assert ["missing_column", "unreadable"] == _kinds(data, "library.author")
    assert data["models"]["library.author"]["rows"] is None
    assert data["drift"] is True


def test_added_column(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A column that no field has is reported; the rows still read."""
    authors = Author.objects.using(site.name).count()
    site.sql("ALTER TABLE library_author ADD COLUMN nickname varchar(20)")
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    assert f"library.author: {authors} rows, drift\n" in text.stdout
    message = "column 'nickname' of 'library_author' belongs to no field of the model"
    assert f"  - {message}\n" in text.stdout
    assert {"library.author": "drift"} == _drifting(data)
    problem = {
        "kind": "extra_column",
        "column": "nickname",
        "expected": None,
        "found": None,
        "message": message,
    }
    assert [problem] == data["models"]["library.author"]["problems"]
    assert authors == data["models"]["library.author"]["rows"]


def test_missing_table(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A dropped table is missing, and its model cannot be read."""
    site.sql("DROP TABLE library_loan")
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    assert "library.loan: unreadable\n  - table 'library_loan' does not exist\n" in (
        text.stdout
    )
    assert {"library.loan": "unreadable"} == _drifting(data)
    assert ["missing_table", "unreadable"] == _kinds(data, "library.loan")
    assert "library_loan" in data["models"]["library.loan"]["problems"][1]["message"]


def test_extra_table(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A table that belongs to no installed model is listed."""
    site.sql("CREATE TABLE legacy_notes (id integer PRIMARY KEY, text varchar(10))")
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    assert "Extra tables: legacy_notes.\n" in text.stdout
    assert "1 extra table," in text.stderr
    assert ["legacy_notes"] == data["extra_tables"]
    assert {} == _drifting(data)


def test_unapplied_migration(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A migration of the code that the database has not recorded is listed."""
    site.sql("DELETE FROM django_migrations WHERE app = 'library'")
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    assert "Migrations not applied: library.0001_initial.\n" in text.stdout
    assert "1 migration not applied" in text.stderr
    assert {"unapplied": ["library.0001_initial"], "unknown": []} == data["migrations"]
    assert {} == _drifting(data)


def test_unknown_applied_migration(
    site: Site, manage_py: Manage, tmp_path: Path
) -> None:
    """An applied migration that the code does not have is listed."""
    site.sql(
        "INSERT INTO django_migrations (app, name, applied) "
        "VALUES ('library', '0099_from_the_future', CURRENT_TIMESTAMP)",
    )
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    assert (
        "Migrations applied but unknown to the code: library.0099_from_the_future.\n"
        in text.stdout
    )
    assert {"unapplied": [], "unknown": ["library.0099_from_the_future"]} == data[
        "migrations"
    ]


def test_changed_type(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A date column that became a text column differs in type family."""
    site.sql(
        "ALTER TABLE library_author DROP COLUMN born",
        "ALTER TABLE library_author ADD COLUMN born text",
    )
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    message = (
        "column 'born' has the type family text but field 'born' (DateField) needs date"
    )
    assert f"  - {message}\n" in text.stdout
    [problem] = data["models"]["library.author"]["problems"]
    expected = {
        "kind": "type",
        "column": "born",
        "expected": "date",
        "found": "text",
        "message": message,
    }
    assert expected == problem


def test_changed_nullability(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A NOT NULL column of a field with null=True is reported."""
    site.sql(
        "ALTER TABLE library_author DROP COLUMN born",
        "ALTER TABLE library_author ADD COLUMN born date NOT NULL DEFAULT '2000-01-01'",
    )
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    assert "  - column 'born' is NOT NULL but field 'born' is NULL\n" in text.stdout
    [problem] = data["models"]["library.author"]["problems"]
    assert ("null", True, False) == (
        problem["kind"],
        problem["expected"],
        problem["found"],
    )


def test_changed_max_length(site: Site, manage_py: Manage, tmp_path: Path) -> None:
    """A varchar column shorter than the field's max_length is reported."""
    site.sql(
        "ALTER TABLE kitchen_sample DROP COLUMN char",
        "ALTER TABLE kitchen_sample ADD COLUMN char varchar(100)",
    )
    text, data = _check(manage_py, site, tmp_path)
    assert 1 == text.returncode
    message = (
        "column 'char' holds 100 characters but field 'char' allows 255 characters"
    )
    assert f"  - {message}\n" in text.stdout
    [problem] = data["models"]["kitchen.sample"]["problems"]
    assert ("max_length", 255, 100) == (
        problem["kind"],
        problem["expected"],
        problem["found"],
    )


def _assert_unreadable_value(
    text: subprocess.CompletedProcess[str],
    data: dict[str, Any],
    label: str,
    *parts: str,
) -> None:
    assert 1 == text.returncode
    assert f"{label}: unreadable\n" in text.stdout
    assert {label: "unreadable"} == _drifting(data)
    [problem] = data["models"][label]["problems"]
    assert "unreadable" == problem["kind"]
    for part in parts:
        assert part in problem["message"]
        assert part in text.stdout


@pytest.mark.skipif(is_postgres(), reason="a typed PostgreSQL column holds no garbage")
@pytest.mark.parametrize(
    ("column", "garbage"),
    [
        ("uuid", "'garbage'"),
        ("date", "'garbage'"),
        ("date", "''"),
        ("datetime", "'2024-02-30 10:00:00'"),
        ("datetime", "'garbage'"),
        ("time", "'25:61'"),
        ("boolean", "'garbage'"),
        ("nboolean", "2"),
    ],
)
def test_unreadable_value(
    site: Site, manage_py: Manage, tmp_path: Path, column: str, garbage: str
) -> None:
    """A SQLite column holding garbage is named by model, row and field.

    The ``sqlite3`` module would turn such a date into ``None`` and such a
    boolean into ``False``: a dump must refuse them, not lose them.
    """
    pk = Sample.objects.using(site.name).order_by("id").values_list("id").last()[0]
    site.sql(f"UPDATE kitchen_sample SET {column} = {garbage} WHERE id = {pk}")
    text, data = _check(manage_py, site, tmp_path)
    _assert_unreadable_value(
        text, data, "kitchen.sample", garbage, f"field '{column}'", f"row pk={pk}"
    )

    real = manage_py("dump2py", tmp_path / "real", "--noinput", "--database", site.name)
    assert 0 != real.returncode
    assert f"field '{column}' of 'kitchen.sample' row pk={pk}" in real.stderr
    assert not (tmp_path / "real").exists()


@pytest.mark.postgres
def test_unreadable_infinite_date(
    site: Site, manage_py: Manage, tmp_path: Path
) -> None:
    """A date PostgreSQL holds but Python cannot ('infinity') makes a model unreadable."""
    site.sql(
        "UPDATE library_author SET born = 'infinity' "
        "WHERE id = (SELECT min(id) FROM library_author)",
    )
    text, data = _check(manage_py, site, tmp_path)
    _assert_unreadable_value(text, data, "library.author", "'infinity'")


@pytest.mark.e2e
def test_unreachable_database_is_an_error(tmp_path: Path) -> None:
    """A database that cannot be opened ends the check with exit status 2.

    In a ``manage.py`` process of its own: no traceback, not even at exit.
    """
    site = Site(tmp_path, "no_such_directory/lm_no_such_database")
    for args in ((), ("--format", "json")):
        result = site.manage(
            "dump2py", str(tmp_path / "d"), "--simulate", *args, check=False
        )
        assert 2 == result.returncode
        assert "CommandError: " in result.stderr
        assert "Traceback" not in result.stderr
        assert "" == result.stdout
    assert not (tmp_path / "d").exists()


def test_unknown_exclude_is_an_error(manage_py: Manage, tmp_path: Path) -> None:
    """An error of the dump itself (an unknown app in -e) exits with status 2."""
    result = manage_py("dump2py", tmp_path / "d", "--simulate", "-e", "nosuchapp")
    assert 2 == result.returncode
    assert "nosuchapp" in result.stderr


def test_format_json_needs_simulate(manage_py: Manage, tmp_path: Path) -> None:
    """--format json without --simulate is refused, and nothing is written."""
    result = manage_py("dump2py", tmp_path / "d", "--format", "json")
    assert 2 == result.returncode
    assert "--format json only applies to --simulate" in result.stderr
    assert not (tmp_path / "d").exists()


def test_exclude_leaves_models_out_of_the_check(
    site: Site, manage_py: Manage, tmp_path: Path
) -> None:
    """A model left out with -e is neither read nor compared."""
    site.sql("DROP TABLE library_loan")
    text, data = _check(manage_py, site, tmp_path, "-e", "library.Loan")
    assert 0 == text.returncode
    assert "library.loan" not in data["models"]
    assert "library.loan" not in text.stdout
