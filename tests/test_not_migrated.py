"""A database that was never migrated: the plan and the restore both say so (#12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from lino_migrate.exceptions import DatabaseNotReadyError
from lino_migrate.restore.restorer import restore
from tests.conftest import is_postgres, never_migrated


@pytest.mark.django_db(transaction=True)
def test_restore_and_plan_name_the_missing_tables(
    make_database: Any, tmp_path: Path
) -> None:
    """The restore refuses before writing; dumpplan gives the same verdict."""
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    site = never_migrated(make_database)
    with site.connected() as alias:
        with pytest.raises(DatabaseNotReadyError, match="never migrated") as error:
            restore(tmp_path / "d" / "restore.py", using=alias)
        assert ("library_author", "library.author") in error.value.missing
        assert f"python manage.py migrate --database {alias}" in str(error.value)
        with pytest.raises(CommandError, match="would fail") as plan_error:
            call_command("dumpplan", str(tmp_path / "d"), "--database", alias)
        assert 1 == plan_error.value.returncode
        assert [] == site.sql(_tables_query())[0]


@pytest.mark.django_db(transaction=True)
def test_plan_says_would_work_only_for_a_migrated_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the migrated test database the plan passes: the check is no blanket refusal."""
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    call_command("dumpplan", str(tmp_path / "d"), "--database", "default")
    assert "The restore would work." in capsys.readouterr().out


def _tables_query() -> str:
    if is_postgres():
        return "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return "SELECT name FROM sqlite_master WHERE type = 'table'"
