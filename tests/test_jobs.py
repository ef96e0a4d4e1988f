"""``dump2py --jobs N``: tables read by N processes sharing one snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POPULATED, Site, is_postgres


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


@pytest.mark.skipif(is_postgres(), reason="the refusal is for other databases")
def test_jobs_need_postgresql(manage_py: Any, tmp_path: Path) -> None:
    """--jobs 2 on SQLite is refused before anything is written."""
    result = manage_py("dump2py", tmp_path / "d", "--jobs", "2")
    assert 1 == result.returncode
    assert "--jobs 2 needs PostgreSQL" in result.stderr
    assert not (tmp_path / "d").exists()


def test_jobs_must_be_positive(manage_py: Any, tmp_path: Path) -> None:
    """--jobs 0 is refused with what was given."""
    result = manage_py("dump2py", tmp_path / "d", "--jobs", "0")
    assert 1 == result.returncode
    assert "--jobs must be at least 1, not 0" in result.stderr
    assert not (tmp_path / "d").exists()
