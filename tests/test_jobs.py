"""``dump2py --jobs N``: tables read by N workers and the dumping process, in one snapshot."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from lino_migrate.dump.pipeworker import KILL_WORKER
from tests.conftest import MANAGE, POPULATED, Site
from tests.processes import alive, children, stopped, until


def _files(path: Path) -> dict[str, bytes]:
    """Return the files of a dump; restore.py without its creation line."""
    found = {}
    for file in sorted(path.iterdir()):
        data = file.read_bytes()
        if file.name == "restore.py":
            lines = data.split(b"\n")
            data = b"\n".join(
                line
                for line in lines
                if not line.startswith((b"# Generated", b"CREATED"))
            )
        found[file.name] = data
    return found


@pytest.mark.postgres
def test_parallel_dump_equals_serial_dump(make_site: Any, tmp_path: Path) -> None:
    """--jobs 3 writes the same files as one process, in the same order."""
    site: Site = make_site("jobs", prepare=POPULATED)
    site.manage("dump2py", str(tmp_path / "one"), "--noinput", "--max-row-count", "3")
    result = site.manage(
        "dump2py", str(tmp_path / "three"), "--noinput", "--max-row-count", "3",
        "--jobs", "3", "-v", "2",
    )  # fmt: skip
    one, three = _files(tmp_path / "one"), _files(tmp_path / "three")
    assert len(one) > 20
    assert one == three
    # Progress comes in the order of the dump, whichever process finished first.
    lines = [line.split(":")[0] for line in result.stdout.splitlines() if ": " in line]
    assert "contenttypes.contenttype" == lines[0]
    assert lines.index("library.author") < lines.index("library.book")


@pytest.mark.postgres
def test_workers_read_the_exported_snapshot(make_site: Any) -> None:
    """Rows committed after the snapshot was exported are not seen by a worker."""
    site: Site = make_site("snapshot", prepare=POPULATED)
    code = """
import psycopg
from django.apps import apps
from django.db import connection, transaction
from lino_migrate.dump.job import DumpJob
from lino_migrate.dump.parallel import dump_in_parallel
from tests.site.library.models import Genre

settings = connection.settings_dict
before = Genre.objects.count()
with transaction.atomic():
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT count(*) FROM library_genre")
    # Another connection commits a row while this transaction is open.
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
        password=settings["PASSWORD"], dbname=settings["NAME"], autocommit=True,
    ) as other:
        other.execute("INSERT INTO library_genre (name) VALUES ('late')")
    job = DumpJob(None, "default", False, 1000, {})
    [outcome] = dump_in_parallel(job, [Genre], 2, connection)
print(before, sum(e.rows for e in outcome.entries), Genre.objects.count())
"""
    before, dumped, after = site.python(code).split()
    assert before == dumped
    assert int(after) == int(before) + 1


@pytest.mark.postgres
def test_worker_errors_reach_the_command(make_site: Any, tmp_path: Path) -> None:
    """A model a worker cannot read ends the dump, or is skipped with --tolerate."""
    site: Site = make_site("jobserror", prepare=POPULATED)
    site.sql("ALTER TABLE library_genre DROP COLUMN name")
    strict = site.manage("dump2py", str(tmp_path / "s"), "--jobs", "2", check=False)
    assert 1 == strict.returncode
    assert "Could not read the rows of 'library.genre'" in strict.stderr
    assert "Traceback" not in strict.stderr
    assert [] == [p.name for p in tmp_path.iterdir() if p.name.startswith((".s", "s"))]
    site.manage("dump2py", str(tmp_path / "t"), "--jobs", "2", "--tolerate")
    site.manage("dump2py", str(tmp_path / "u"), "--tolerate")
    assert _files(tmp_path / "t") == _files(tmp_path / "u")
    assert "library.genre" in (tmp_path / "t" / "restore.py").read_text()
    assert not (tmp_path / "t" / "library_genre.py").exists()


def test_jobs_must_be_positive(manage_py: Any, tmp_path: Path) -> None:
    """--jobs 0 is refused with what was given."""
    result = manage_py("dump2py", tmp_path / "d", "--jobs", "0")
    assert 1 == result.returncode
    assert "--jobs takes a whole number of at least 1 or 'auto', not '0'" in (
        result.stderr
    )
    assert not (tmp_path / "d").exists()


@pytest.mark.postgres
def test_workers_die_with_a_killed_dump(make_site: Any, tmp_path: Path) -> None:
    """SIGKILL of dump2py --jobs 2 ends its workers and their transactions (#12).

    The biggest table goes to a worker, which stops itself (the test hook
    ``LINO_MIGRATE_KILL_WORKER`` with SIGSTOP) in the transaction of the
    shared snapshot, before it reads; then its parent is killed.
    """
    import psycopg

    site: Site = make_site("orphans", prepare=POPULATED)
    site.sql(
        "INSERT INTO django_session SELECT md5(g::text), repeat('x', 2000), now() "
        "FROM generate_series(1, 3000) g"
    )
    db = settings.DATABASES["default"]
    params = {
        "host": db["HOST"], "port": db["PORT"], "user": db["USER"],
        "password": db["PASSWORD"], "dbname": site.database,
    }  # fmt: skip
    others = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    with psycopg.connect(**params, autocommit=True) as watcher:

        def count(query: str) -> int:
            row = watcher.execute(query, [site.database]).fetchone()
            return int(row[0]) if row else 0

        command = [sys.executable, str(MANAGE), "dump2py", str(tmp_path / "d")]
        env = {**site.env, KILL_WORKER: "sessions_session.py:SIGSTOP"}
        dump = subprocess.Popen(
            [*command, "--noinput", "--jobs", "2"], env=env, cwd=site.tmp,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            # --jobs 2: two readers beside the dumping process (#16).
            assert until(lambda: len(children(dump.pid)) == 2, 60), "not 2 workers"
            workers = children(dump.pid)
            assert until(lambda: any(map(stopped, workers)), 60), "no reader stopped"
            # The dump's session and the stopped reader's, in its transaction.
            assert count(others) >= 2
            dump.send_signal(signal.SIGKILL)
            dump.wait(timeout=30)
            assert until(lambda: not any(map(alive, workers)), 10)
        finally:
            if dump.poll() is None:
                dump.kill()
        assert until(lambda: count(others) == 0, 10)
