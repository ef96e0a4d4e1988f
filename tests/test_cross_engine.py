"""A dump moves between SQLite and PostgreSQL with every portable value intact."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.site.data import populate
from tests.snapshot import assert_same, snapshot


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["default", "sqlite"])
def test_sqlite_to_postgres_and_back(tmp_path: Path) -> None:
    """SQLite -> PostgreSQL -> SQLite keeps every value both engines store exactly."""
    populate("sqlite", portable=True)
    original = snapshot("sqlite", raw=False)
    call_command(
        "dump2py", str(tmp_path / "a"), "--noinput", "-v0", "--database", "sqlite"
    )
    call_command("run", str(tmp_path / "a" / "restore.py"), "--noinput", "-v0")
    assert_same(original, snapshot("default", raw=False))
    call_command("dump2py", str(tmp_path / "b"), "--noinput", "-v0")
    call_command(
        "run", str(tmp_path / "b" / "restore.py"), "--noinput", "-v0",
        "--database", "sqlite",
    )  # fmt: skip
    assert_same(original, snapshot("sqlite", raw=False))
