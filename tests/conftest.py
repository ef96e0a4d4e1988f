"""Fixtures shared by the tests: backend marks, real sites and ``manage.py`` runs.

A *site* is a database of its own, copied from a template that ``manage.py
migrate`` (and any preparing commands) built once per test session: a file
copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL. Tests that
run ``manage.py`` in subprocesses take their sites from :func:`make_site`
and are marked ``e2e``; tests that work on a site's database in this process
take them from :func:`make_database`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import execute_from_command_line
from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[1]
MANAGE = ROOT / "tests" / "site" / "manage.py"
DEMO_MANAGE = ROOT / "demo" / "manage.py"

#: ``manage.py`` commands that fill a migrated test site with ``populate()``.
POPULATED = (
    ("shell", "-v0", "-c", "from tests.site.data import populate; populate()"),
)

Commands = Sequence[Sequence[str]]

#: How many :meth:`Site.connected` blocks are open, per alias.
_CONNECTED: dict[str, int] = {}


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Mark users of ``make_site`` ``e2e``; skip ``postgres`` tests elsewhere."""
    for item in items:
        if "make_site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
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


def manage_here(
    capsys: pytest.CaptureFixture[str], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py ARGS`` in this process and return its exit status and output.

    The command goes through Django's ``execute_from_command_line``, as in
    ``manage.py``: a ``CommandError`` becomes ``CommandError: ...`` on the
    standard error and the exit status it carries; any other exception
    propagates and fails the test (a real process would print a traceback).
    """
    capsys.readouterr()
    try:
        execute_from_command_line(["manage.py", *args])
    except SystemExit as e:
        status = 0 if e.code is None else e.code if isinstance(e.code, int) else 1
    else:
        status = 0
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["manage.py", *args], status, out, err)


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
    #: whether :meth:`manage` may run (only sites of ``e2e`` tests)
    processes: bool = True
    #: pytest-django's ``django_db_blocker``, for :meth:`connected`
    blocker: Any = field(default=None, repr=False)

    @property
    def database(self) -> str:
        """Return the PostgreSQL database name or the SQLite file of the site."""
        return self.name if is_postgres() else str(self.tmp / f"{self.name}.sqlite3")

    @property
    def env(self) -> dict[str, str]:
        """Return the environment of the site's ``manage.py`` processes."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT)
        if self.release is not None:
            env.pop("DJANGO_SETTINGS_MODULE", None)
            env["DEMO_SHOP_RELEASE"] = self.release
            env["DEMO_DB"] = self.database
            env["DEMO_DB_ENGINE"] = "postgresql" if is_postgres() else "sqlite"
            if self.package is not None:
                env["DEMO_SHOP_PACKAGE"] = self.package[0]
                env["PYTHONPATH"] += os.pathsep + str(self.package[1])
            return env
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get(
            "DJANGO_SETTINGS_MODULE", "tests.settings.sqlite"
        )
        env["LINO_MIGRATE_DB_NAME"] = self.database
        return env

    def at(self, release: str, package: tuple[str, Path] | None = None) -> Site:
        """Return this database as seen by the demo shop at *release*."""
        return Site(self.tmp, self.name, release, package, self.processes, self.blocker)

    def manage(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py ARGS`` on this site's database and return the result."""
        if not self.processes:
            msg = "A site of make_database runs no manage.py; use make_site (e2e)."
            raise AssertionError(msg)
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

    @contextlib.contextmanager
    def connected(self) -> Iterator[str]:
        """Make the site's database a connection alias of this process; yield it.

        The alias (the site's name) works with the ORM of the test site's
        models (``.using(alias)``), raw cursors and ``--database`` options.
        """
        alias = self.name
        if not _CONNECTED.get(alias):
            default = settings.DATABASES["default"]
            keys = ("ENGINE", "HOST", "PORT", "USER", "PASSWORD")
            config = {key: default[key] for key in keys if key in default}
            config["NAME"] = self.database
            # configure_settings() fills in Django's defaults; it wants a default.
            filled = connections.configure_settings({"default": {}, alias: config})
            connections.settings[alias] = filled[alias]
        _CONNECTED[alias] = _CONNECTED.get(alias, 0) + 1
        unblock = self.blocker.unblock() if self.blocker else contextlib.nullcontext()
        try:
            with unblock:
                yield alias
        finally:
            _CONNECTED[alias] -= 1
            if not _CONNECTED[alias]:
                del _CONNECTED[alias]
                connections[alias].close()
                del connections[alias]
                del connections.settings[alias]

    def sql(self, *statements: str) -> list[list[tuple[Any, ...]]]:
        """Run *statements* on the site's database, behind Django's back.

        Return the rows each statement returned (``[]`` for those without).
        """
        found = []
        with self.connected() as alias, connections[alias].cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                found.append(cursor.fetchall() if cursor.description else [])
        return found

    def tables(self, *names: str) -> dict[str, list[dict[str, object]]]:
        """Return the rows of tables *names* (ordered by id), values as text."""
        out = {}
        with self.connected() as alias, connections[alias].cursor() as cursor:
            for table in names:
                cursor.execute(f"SELECT * FROM {table} ORDER BY id")
                columns = [d[0] for d in cursor.description]
                out[table] = [
                    dict(zip(columns, map(str, row), strict=True))
                    for row in cursor.fetchall()
                ]
        return out


class SiteTemplates:
    """Migrated databases, one per release and preparation, built once a session."""

    def __init__(self, tmp: Path) -> None:
        """Keep the templates (SQLite files, dumps) under *tmp*."""
        self.tmp = tmp
        self.ready: dict[tuple[str | None, tuple[tuple[str, ...], ...]], Site] = {}
        self.made: list[str] = []
        self.files: dict[str, Path] = {}

    def get(self, release: str | None, prepare: Commands) -> Site:
        """Return the template site of *release* after the commands *prepare*."""
        key = (release, tuple(tuple(command) for command in prepare))
        if key not in self.ready:
            site = Site(self.tmp, f"lm_tmpl_{uuid.uuid4().hex[:8]}", release)
            if is_postgres():
                with _admin_connection() as conn:
                    conn.execute(f'CREATE DATABASE "{site.name}"')
                self.made.append(site.name)
            site.manage("migrate", "-v0")
            for command in key[1]:
                site.manage(*command)
            self.ready[key] = site
        return self.ready[key]

    def copy(self, template: Site, name: str, tmp: Path) -> None:
        """Create the database *name* (in *tmp* on SQLite) as a copy of *template*."""
        if is_postgres():
            with _admin_connection() as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"')
        else:
            shutil.copyfile(template.database, tmp / f"{name}.sqlite3")

    def once(self, key: str, build: Callable[[Path], object]) -> Path:
        """Return the path that ``build(path)`` made, the first time only."""
        if key not in self.files:
            path = self.tmp / f"once_{uuid.uuid4().hex[:8]}"
            build(path)
            self.files[key] = path
        return self.files[key]

    def drop(self) -> None:
        """Drop the template databases (PostgreSQL)."""
        if self.made:
            with _admin_connection() as conn:
                for name in self.made:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def site_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteTemplates]:
    """Return the session's template databases."""
    templates = SiteTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


class SiteFactory:
    """Make sites, each with a database of its own copied from a template."""

    def __init__(
        self, templates: SiteTemplates, tmp: Path, processes: bool, blocker: Any
    ) -> None:
        """Copy *templates* into *tmp*; *processes*: whether sites run manage.py."""
        self.templates, self.tmp = templates, tmp
        self.processes, self.blocker = processes, blocker
        self.made: list[str] = []

    def __call__(
        self, prefix: str = "site", release: str | None = None, prepare: Commands = ()
    ) -> Site:
        """Return a new site: migrated at *release*, then the commands *prepare*.

        *prepare* holds ``manage.py`` commands (argument tuples), run once
        per session on the template, e.g. :data:`POPULATED`.
        """
        name = f"lm_{prefix}_{uuid.uuid4().hex[:8]}"
        self.templates.copy(self.templates.get(release, prepare), name, self.tmp)
        self.made.append(name)
        return Site(self.tmp, name, release, None, self.processes, self.blocker)

    def once(self, key: str, build: Callable[[Path], object]) -> Path:
        """Return a path that ``build(path)`` made once in the session (read only)."""
        return self.templates.once(key, build)

    def drop(self) -> None:
        """Drop the databases made (PostgreSQL; SQLite files go with tmp_path)."""
        if is_postgres() and self.made:
            with _admin_connection() as conn:
                for name in self.made:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_site(
    site_templates: SiteTemplates, tmp_path: Path, django_db_blocker: Any
) -> Iterator[SiteFactory]:
    """Return a factory of sites that run ``manage.py`` (the test is ``e2e``).

    ``make_site(prefix, release=None, prepare=())``: with *release*, a demo
    shop site.
    """
    factory = SiteFactory(site_templates, tmp_path, True, django_db_blocker)
    yield factory
    factory.drop()


@pytest.fixture
def make_database(
    site_templates: SiteTemplates, tmp_path: Path, django_db_blocker: Any
) -> Iterator[SiteFactory]:
    """Return a factory of sites used in this process only (see ``Site.connected``)."""
    factory = SiteFactory(site_templates, tmp_path, False, django_db_blocker)
    yield factory
    factory.drop()


@pytest.fixture
def manage_py(
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Return :func:`manage_here` bound to this test's captured output."""
    return lambda *args: manage_here(capsys, *map(str, args))


@dataclass
class VariantSite(Site):
    """A site whose ``manage.py`` runs with ``tests.settings.VARIANT`` (#13).

    The variant keeps the backend of the tests (``LINO_MIGRATE_TEST_ENGINE``).
    """

    variant: str = "sqlite"

    @property
    def env(self) -> dict[str, str]:
        """Return the environment of the site's processes, with the variant."""
        env = super().env
        env["DJANGO_SETTINGS_MODULE"] = f"tests.settings.{self.variant}"
        env["LINO_MIGRATE_TEST_ENGINE"] = "postgres" if is_postgres() else "sqlite"
        return env


@pytest.fixture
def make_variant_site(
    make_site: SiteFactory, tmp_path: Path
) -> Callable[..., VariantSite]:
    """Return a factory of sites run with a settings variant (the test is ``e2e``).

    ``make_variant_site(variant, prefix, like=None)``: an empty database, or
    a copy of the site *like*; dropped at the end of the test.
    """

    def make(variant: str, prefix: str, like: Site | None = None) -> VariantSite:
        name = f"lm_{prefix}_{uuid.uuid4().hex[:8]}"
        if like is not None:
            make_site.templates.copy(like, name, tmp_path)
        elif is_postgres():
            with _admin_connection() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        make_site.made.append(name)
        return VariantSite(
            tmp_path, name, processes=True, blocker=make_site.blocker, variant=variant
        )

    return make


def never_migrated(make_database: Any) -> Any:
    """Return a site whose database exists and has no table at all."""
    site = make_database("bare")
    if is_postgres():
        site.sql("DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    else:
        Path(site.database).write_bytes(b"")
    return site
