"""A restore killed with SIGKILL anywhere leaves the database unchanged (#12).

A dump of a populated site is restored, in a ``manage.py run`` subprocess,
into a site whose rows and sequences differ from the dump's. The test hook
``LINO_MIGRATE_KILL_AT`` (:data:`lino_migrate.restore.restorer.KILL_AT`)
makes the process kill itself at one named checkpoint of the restore:
before and after every step, after data files early and late in the load
order, and just before the commit. Afterwards the database equals what was
recorded before: on SQLite the sha256 of the database file, on PostgreSQL
the rows of every table, ``last_value``/``is_called`` of every sequence
and every constraint with its definition.
"""

from __future__ import annotations

import hashlib
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from lino_migrate.restore.restorer import KILL_AT
from tests.conftest import POPULATED, Site, SiteFactory, is_postgres
from tests.processes import processes_with, until

#: Checkpoints of the restore, in the order it reaches them.
POINTS = [
    "pinned",
    "before_restore",
    "deleted",
    "loaded:admin_logentry.py",
    "loaded:kitchen_sample_5.py",
    "loaded:library_author_2.py",
    "loaded:library_book_genres.py",
    "loaded:library_tag_2.py",
    "sequences",
    "deferred",
    "natural_keys",
    "after_restore",
    "checked",
    "commit",
]

#: The first bytes of a rollback journal that SQLite would play back.
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")

#: Changes to the target, so that a restore that went through changes it back.
CHANGES = (
    "INSERT INTO library_genre (name) VALUES ('not in the dump')",
    "UPDATE library_author SET name = 'Renamed' WHERE id = 1",
    "DELETE FROM library_book_genres",
)


def _dump(make_site: SiteFactory) -> Path:
    """Return the session's dump of a populated site, in chunks of 3 rows."""

    def build(path: Path) -> None:
        source = make_site("killsrc", prepare=POPULATED)
        source.manage("dump2py", str(path), "--noinput", "-v0", "--max-row-count", "3")

    return make_site.once("kill-restore-dump", build)


def state(site: Site) -> Any:
    """Return the state of the site's database, read behind Django's back.

    SQLite: the sha256 of the database file, after a connection was opened
    and closed (SQLite rolls a killed writer's hot journal back then).
    PostgreSQL: the rows of every table as text, sorted, the
    ``last_value``/``is_called`` of every sequence and every constraint
    (name, definition, deferral, validation), once no other session
    is connected (the killed restore's transaction has ended).
    """
    if not is_postgres():
        site.sql("SELECT count(*) FROM sqlite_master")
        path = Path(site.database)
        # A journal may stay behind, but not a hot one: its header starts
        # with this magic only once the database file may have been written.
        for journal in path.parent.glob(path.name + "-*"):
            assert not journal.read_bytes().startswith(_JOURNAL_MAGIC), journal
        return hashlib.sha256(path.read_bytes()).hexdigest()
    with site.connected() as alias, connections[alias].cursor() as cursor:
        _wait_alone(cursor)
        cursor.execute(
            "SELECT quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname = 'public' ORDER BY 1"
        )
        found: dict[str, Any] = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f"SELECT t::text FROM {table} t ORDER BY 1")
            found[table] = cursor.fetchall()
        cursor.execute(
            "SELECT quote_ident(sequencename) FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY 1"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"SELECT last_value, is_called FROM {name}")
            found[name] = cursor.fetchone()
        # The restore drops the foreign keys and adds them back (#16).
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
            "condeferrable, condeferred, convalidated FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
        )
        found["constraints"] = cursor.fetchall()
    return found


def _wait_alone(cursor: Any) -> None:
    """Wait until no other session uses this database (PostgreSQL)."""
    deadline = time.monotonic() + 30
    while True:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        if cursor.fetchone()[0] == 0:
            return
        assert time.monotonic() < deadline, "the killed restore's session lives on"
        time.sleep(0.05)


def _target(make_site: SiteFactory) -> tuple[Site, Any]:
    """Return a populated site changed away from the dump, and its state."""
    site = make_site("kill", prepare=POPULATED)
    site.sql(*CHANGES)
    return site, state(site)


def _restore(site: Site, dump: Path) -> Any:
    return site.manage("run", str(dump / "restore.py"), "--noinput", check=False)


@pytest.mark.parametrize("point", POINTS)
def test_killed_restore_changes_nothing(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """A restore killed at a checkpoint leaves the database exactly as it was."""
    dump = _dump(make_site)
    site, before = _target(make_site)
    monkeypatch.setenv(KILL_AT, point)
    result = _restore(site, dump)
    assert -signal.SIGKILL == result.returncode, (
        f"not killed at {point!r}: {result.stdout}{result.stderr}"
    )
    assert before == state(site)


def test_restore_not_killed_changes_the_database(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a kill the same restore commits: the state checked above changes."""
    dump = _dump(make_site)
    site, before = _target(make_site)
    monkeypatch.delenv(KILL_AT, raising=False)
    result = _restore(site, dump)
    assert 0 == result.returncode, result.stderr
    assert before != state(site)
    genres = site.sql(
        "SELECT count(*) FROM library_genre WHERE name = 'not in the dump'"
    )
    assert [[(0,)]] == genres


#: Checkpoints reached while worker processes prepare the rows (#16).
PIPELINE_POINTS = ["loaded:kitchen_sample_5.py", "loaded:library_tag_2.py", "commit"]


@pytest.mark.parametrize("point", PIPELINE_POINTS)
def test_killed_restore_with_workers_changes_nothing_and_leaves_no_worker(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """With --jobs 2, killing the restoring process rolls back and ends its workers."""
    dump = _dump(make_site)
    site, before = _target(make_site)
    token = f"LINO_MIGRATE_TEST_TOKEN={uuid.uuid4().hex}"
    monkeypatch.setenv(KILL_AT, point)
    monkeypatch.setenv(*token.split("=", 1))
    result = site.manage(
        "run", str(dump / "restore.py"), "--noinput", "--jobs", "2", "-v", "3",
        check=False,
    )  # fmt: skip
    assert -signal.SIGKILL == result.returncode, result.stdout + result.stderr
    assert "Started 2 worker processes." in result.stdout
    assert until(lambda: not processes_with(token), 10), processes_with(token)
    assert before == state(site)


def test_a_killed_worker_rolls_the_restore_back(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed mid-restore: one clear message, no traceback, nothing changed."""
    dump = _dump(make_site)
    site, before = _target(make_site)
    monkeypatch.setenv(KILL_AT, "worker:library_author_2.py")
    result = site.manage(
        "run", str(dump / "restore.py"), "--noinput", "--jobs", "2", check=False
    )
    assert 1 == result.returncode, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "The worker process preparing library_author_2.py was killed by signal 9"
        in result.stderr
    )
    assert before == state(site)
