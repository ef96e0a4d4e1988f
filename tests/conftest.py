"""Fixtures shared by the tests: backend marks and real ``manage.py`` sites."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
MANAGE = ROOT / "tests" / "site" / "manage.py"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip tests marked ``postgres`` unless the default database is PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (DJANGO_SETTINGS_MODULE=tests.settings.postgres)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def is_postgres() -> bool:
    """Return whether the tests run against PostgreSQL."""
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _admin_connection():  # type: ignore[no-untyped-def]
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
        dbname="postgres", autocommit=True,
    )  # fmt: skip


@dataclass
class Site:
    """A real database and the ``manage.py`` of the test site that uses it."""

    tmp: Path
    name: str
    created: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """Return the environment of the site's ``manage.py`` processes."""
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get(
            "DJANGO_SETTINGS_MODULE", "tests.settings.sqlite"
        )
        if is_postgres():
            env["LINO_MIGRATE_DB_NAME"] = self.name
        else:
            env["LINO_MIGRATE_DB_NAME"] = str(self.tmp / f"{self.name}.sqlite3")
        env["PYTHONPATH"] = str(ROOT)
        return env

    def manage(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py ARGS`` on this site's database and return the result."""
        result = subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=self.env, cwd=self.tmp, capture_output=True, text=True,
            input=stdin if stdin is not None else "", timeout=600,
        )  # fmt: skip
        if check and result.returncode != 0:
            msg = (
                f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
            raise AssertionError(msg)
        return result

    def python(self, code: str) -> str:
        """Run *code* in ``manage.py shell`` and return what it printed."""
        return self.manage("shell", "-v0", "-c", code).stdout


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[object]:
    """Return a factory of migrated sites, each with a database of its own."""
    made: list[str] = []

    def factory(prefix: str = "site") -> Site:
        name = f"lm_{prefix}_{uuid.uuid4().hex[:8]}"
        if is_postgres():
            with _admin_connection() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            made.append(name)
        site = Site(tmp_path, name)
        site.manage("migrate", "-v0")
        return site

    yield factory
    if made:
        with _admin_connection() as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
