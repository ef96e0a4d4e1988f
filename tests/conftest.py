"""Fixtures shared by the tests: backend marks and real ``manage.py`` sites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
MANAGE = ROOT / "tests" / "site" / "manage.py"
DEMO_MANAGE = ROOT / "demo" / "manage.py"


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
    """A real database and a ``manage.py`` that uses it.

    By default the test site's; with *release*, the demo shop's at that
    release (``demo/manage.py``, ``DEMO_SHOP_RELEASE``).
    """

    tmp: Path
    name: str
    release: str | None = None
    #: a package replacing the demo shop's (``DEMO_SHOP_PACKAGE``), on PYTHONPATH
    package: tuple[str, Path] | None = None

    @property
    def env(self) -> dict[str, str]:
        """Return the environment of the site's ``manage.py`` processes."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT)
        db = self.name if is_postgres() else str(self.tmp / f"{self.name}.sqlite3")
        if self.release is not None:
            env.pop("DJANGO_SETTINGS_MODULE", None)
            env["DEMO_SHOP_RELEASE"] = self.release
            env["DEMO_DB"] = db
            env["DEMO_DB_ENGINE"] = "postgresql" if is_postgres() else "sqlite"
            if self.package is not None:
                env["DEMO_SHOP_PACKAGE"] = self.package[0]
                env["PYTHONPATH"] += os.pathsep + str(self.package[1])
            return env
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get(
            "DJANGO_SETTINGS_MODULE", "tests.settings.sqlite"
        )
        env["LINO_MIGRATE_DB_NAME"] = db
        return env

    def at(self, release: str, package: tuple[str, Path] | None = None) -> Site:
        """Return this database as seen by the demo shop at *release*."""
        return Site(self.tmp, self.name, release, package)

    def manage(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py ARGS`` on this site's database and return the result."""
        manage = MANAGE if self.release is None else DEMO_MANAGE
        result = subprocess.run(
            [sys.executable, str(manage), *args],
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

    def tables(self, *names: str) -> dict[str, list[dict[str, object]]]:
        """Return the rows of tables *names* (ordered by id), values as text."""
        code = (
            "import json\n"
            "from django.db import connection\n"
            "out = {}\n"
            f"for t in {list(names)!r}:\n"
            "    with connection.cursor() as c:\n"
            "        c.execute(f'SELECT * FROM {t} ORDER BY id')\n"
            "        cols = [d[0] for d in c.description]\n"
            "        out[t] = [dict(zip(cols, map(str, r))) for r in c.fetchall()]\n"
            "print(json.dumps(out))"
        )
        return json.loads(self.python(code))


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[object]:
    """Return a factory of migrated sites, each with a database of its own.

    ``make_site(prefix, release=None)``: with *release*, a demo shop site.
    """
    made: list[str] = []

    def factory(prefix: str = "site", release: str | None = None) -> Site:
        name = f"lm_{prefix}_{uuid.uuid4().hex[:8]}"
        if is_postgres():
            with _admin_connection() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            made.append(name)
        site = Site(tmp_path, name, release)
        site.manage("migrate", "-v0")
        return site

    yield factory
    if made:
        with _admin_connection() as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
