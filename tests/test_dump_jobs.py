"""``dump2py --jobs N``: one process reads, worker processes write the files (#16).

The oracle of every comparison is the dump of ``--jobs 1``, which does not
use the pipeline. Most tests lower :data:`lino_migrate.dump.pipeline.MIN_ROWS`
to 0, so that every table with rows goes through the workers, and send the
dumps on PostgreSQL through the pipeline too (``LINO_MIGRATE_PIPELINE=1``);
they run ``dump2py`` in this process, whose monkeypatches the forked workers
inherit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from lino_migrate.dump import pipeline, pipeworker
from lino_migrate.dump.parallel import PIPELINE_ON_POSTGRES
from lino_migrate.dump.writer import FileWriter
from lino_migrate.workers import default_jobs
from tests.conftest import MANAGE, POPULATED, Site, is_postgres
from tests.dumps import dump_files
from tests.processes import alive, children, processes_with, stopped, until
from tests.site.data import populate
from tests.site.library.models import Author
from tests.uploads import make_uploads, tree

DB = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def _dump(target: Path, *args: str) -> str:
    out = StringIO()
    call_command("dump2py", str(target), "--noinput", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Send every table with rows through the workers; list the worker pids."""
    started: list[int] = []
    fork = pipeline.Pipeline._fork

    def counted(self: pipeline.Pipeline, first: int) -> None:
        fork(self, first)
        started.extend(w.process.pid for w in self.workers)  # type: ignore[misc]

    monkeypatch.setattr(pipeline, "MIN_ROWS", 0)
    monkeypatch.setenv(PIPELINE_ON_POSTGRES, "1")
    monkeypatch.setattr(pipeline.Pipeline, "_fork", counted)
    yield started
    assert not [pid for pid in started if alive(pid)], "a worker outlived the dump"


def _leftovers(where: Path, *keep: str) -> list[str]:
    return sorted(p.name for p in where.iterdir() if p.name not in keep)


OUTPUTS = {
    "chunks": ("--max-row-count", "3"),
    "gzip": ("--max-row-count", "2", "--compress", "gzip"),
    "archive": ("--max-row-count", "4", "--archive"),
}


@DB
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_jobs_write_the_files_of_one_process(
    output: str, tmp_path: Path, forks: list[int]
) -> None:
    """--jobs 2 and auto write the bytes of --jobs 1, every field type included."""
    populate("default")
    args = OUTPUTS[output]
    suffix = ".tar" if "--archive" in args else ""
    _dump(tmp_path / "one", *args, "--jobs", "1")
    assert [] == forks
    _dump(tmp_path / "two", *args, "--jobs", "2")
    assert 2 == len(forks)
    _dump(tmp_path / "auto", *args)
    assert 2 + default_jobs() == len(forks)
    one = dump_files(tmp_path / f"one{suffix}")
    assert len(one) > 20
    assert any(name.startswith("kitchen_sample_3.py") for name in one)
    assert one == dump_files(tmp_path / f"two{suffix}")
    assert one == dump_files(tmp_path / f"auto{suffix}")


@DB
def test_small_tables_need_no_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables of at most MIN_ROWS rows are dumped without forking; a bigger one is not."""
    started: list[int] = []
    monkeypatch.setenv(PIPELINE_ON_POSTGRES, "1")
    monkeypatch.setattr(pipeline.Pipeline, "_fork", lambda *a: started.append(1))
    populate("default")
    _dump(tmp_path / "small", "--jobs", "2")
    assert [] == started
    monkeypatch.undo()
    monkeypatch.setenv(PIPELINE_ON_POSTGRES, "1")
    Author.objects.bulk_create(
        Author(name=f"a{i}", code=f"c{i}") for i in range(pipeline.MIN_ROWS + 10)
    )
    _dump(tmp_path / "one", "--jobs", "1", "--max-row-count", "2000")
    _dump(tmp_path / "two", "--jobs", "2", "--max-row-count", "2000")
    assert "library_author_3.py" in dump_files(tmp_path / "two")
    assert dump_files(tmp_path / "one") == dump_files(tmp_path / "two")


@DB
def test_a_failing_worker_ends_the_dump(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error in a worker is one CommandError naming model and file; nothing changes."""
    populate("default")
    target = tmp_path / "d"
    _dump(target, "--max-row-count", "2", "--jobs", "1")
    before = dump_files(target)
    main, write_batches = os.getpid(), FileWriter.write_batches

    def failing(self: FileWriter, info: Any, number: int, batches: Any) -> Any:
        if os.getpid() != main and info.label == "library.author" and number == 2:
            msg = "boom"
            raise RuntimeError(msg)
        return write_batches(self, info, number, batches)

    # A worker writes the batches it receives (the reader writes by rows).
    monkeypatch.setattr(FileWriter, "write_batches", failing)
    expected = (
        r"A worker process of --jobs failed to write 'library_author_2.py' of "
        r"'library.author': RuntimeError: boom\. Nothing was written, and a "
        r"previous dump there is untouched\. .*--jobs 1"
    )
    with pytest.raises(CommandError, match=expected):
        _dump(target, "--max-row-count", "2", "--jobs", "2", "--overwrite")
    assert before == dump_files(target)
    assert ["d"] == _leftovers(tmp_path)


@DB
def test_a_killed_worker_ends_the_dump(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed with SIGKILL ends the dump: no dump, no temporary directory."""
    populate("default")
    monkeypatch.setattr(pipeworker, "_KILL_AT", "library_author_2.py")
    expected = (
        r"failed to write 'library_author_2.py' of 'library.author': the process "
        r"ended \(killed by signal 9\)\. Nothing was written"
    )
    for args in ((), ("--archive",)):
        with pytest.raises(CommandError, match=expected):
            _dump(tmp_path / "d", "--max-row-count", "2", "--jobs", "2", *args)
        assert [] == _leftovers(tmp_path)


@DB
@pytest.mark.skipif(is_postgres(), reason="PostgreSQL stores no invalid date")
def test_an_unwritable_value_in_a_worker(tmp_path: Path, forks: list[int]) -> None:
    """A value a worker cannot encode ends the dump, or skips the model as --jobs 1 does."""
    populate("default")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE library_author SET born = 'garbage' WHERE id = 3")
    with pytest.raises(CommandError, match=r"'library_author_2.py'.*'garbage'") as e:
        _dump(tmp_path / "d", "--max-row-count", "2", "--jobs", "2")
    assert "--exclude" in str(e.value)
    assert [] == _leftovers(tmp_path)
    _dump(tmp_path / "one", "--max-row-count", "2", "--jobs", "1", "--tolerate")
    _dump(tmp_path / "two", "--max-row-count", "2", "--jobs", "2", "--tolerate")
    one = dump_files(tmp_path / "one")
    assert not any(name.startswith("library_author") for name in one)
    assert one == dump_files(tmp_path / "two")


@DB
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "--jobs takes a whole number of at least 1 or 'auto', not '0'"),
        ("x", "--jobs takes a whole number of at least 1 or 'auto', not 'x'"),
    ],
)
def test_wrong_jobs_are_refused(tmp_path: Path, value: str, expected: str) -> None:
    """--jobs 0 and --jobs x are refused before anything is written."""
    with pytest.raises(CommandError, match=expected):
        _dump(tmp_path / "d", "--jobs", value)
    assert [] == _leftovers(tmp_path)


def _add_authors(site: Site, count: int) -> None:
    """Add *count* authors to the site, behind Django's back."""
    if is_postgres():
        rows = f"SELECT 'n' || g, 'c' || g FROM generate_series(1, {count}) g"
    else:
        rows = (
            f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g "
            f"WHERE x < {count}) SELECT 'n' || x, 'c' || x FROM g"
        )
    site.sql(f"INSERT INTO library_author (name, code) {rows}")


@pytest.mark.parametrize("how", ["interrupt", "kill"])
def test_a_command_leaves_no_worker(make_site: Any, tmp_path: Path, how: str) -> None:
    """Ctrl-C (to the process group) or a killed worker: no traceback, no worker left.

    A worker stops itself (SIGSTOP) before its second file, so that the dump
    is waiting for it when Ctrl-C comes.
    """
    site: Site = make_site("jobsint", prepare=POPULATED)
    _add_authors(site, pipeline.MIN_ROWS + 100)
    signal_ = "SIGSTOP" if how == "interrupt" else "SIGKILL"
    env = {
        **site.env,
        pipeline.KILL_WORKER: f"library_author_2.py:{signal_}",
        PIPELINE_ON_POSTGRES: "1",
    }
    command = [sys.executable, str(MANAGE), "dump2py", str(tmp_path / "d")]
    dump = subprocess.Popen(
        [*command, "--noinput", "--jobs", "2", "-m", "1000"], env=env, cwd=site.tmp,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        if how == "interrupt":
            assert until(lambda: len(children(dump.pid)) == 2, 60), "no worker"
            workers = children(dump.pid)
            assert until(lambda: any(stopped(w) for w in workers), 60)
            os.killpg(dump.pid, signal.SIGINT)
        _, err = dump.communicate(timeout=60)
    finally:
        if dump.poll() is None:
            dump.kill()
    stderr = err.decode()
    assert "Traceback" not in stderr
    if how == "interrupt":
        assert 130 == dump.returncode
        assert "Interrupted: nothing was written" in stderr
    else:
        assert 1 == dump.returncode
        assert "'library_author_2.py' of 'library.author'" in stderr
    # A forked worker has the command line of its parent, wherever it went.
    assert until(lambda: not processes_with(str(tmp_path / "d"), "cmdline"), 10), (
        "a worker is left"
    )
    assert [] == _leftovers(tmp_path, site.name, f"{site.name}.sqlite3")


@DB
def test_auto_on_postgresql_reads_small_databases_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--jobs auto starts no reader below AUTO_MIN_BYTES; --jobs 2 does (PostgreSQL)."""
    from lino_migrate.dump import dumper

    if not is_postgres():
        pytest.skip("the readers that share a snapshot are PostgreSQL's")
    used: list[int] = []
    monkeypatch.setattr(dumper, "dump_in_parallel", lambda *a: used.append(1))
    populate("default")
    _dump(tmp_path / "auto")
    assert [] == used
    with pytest.raises(TypeError):  # the stand-in returns no outcomes
        _dump(tmp_path / "two", "--jobs", "2")
    assert [1] == used


@DB
def test_call_command_takes_jobs_as_a_number(tmp_path: Path, forks: list[int]) -> None:
    """``call_command("dump2py", ..., jobs=2)`` works as ``--jobs 2`` does."""
    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", jobs=2, verbosity=0)
    assert 2 == len(forks)


@DB
def test_media_with_jobs(tmp_path: Path, forks: list[int]) -> None:
    """--media with --jobs 2 copies the same files and writes the same dump."""
    root = tmp_path / "uploads_root"
    with override_settings(MEDIA_ROOT=str(root)):
        make_uploads(root)
        for jobs in ("1", "2"):
            _dump(tmp_path / jobs, "--media", "-m", "1", "--jobs", jobs)
    assert 2 == len(forks)
    one, two = (tmp_path / "1", tmp_path / "2")
    assert tree(one / "media") == tree(two / "media") == tree(root)
    assert dump_files(one) == dump_files(two)
