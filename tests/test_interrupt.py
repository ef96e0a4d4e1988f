"""Ctrl-C: one line saying what became of the work, status 130, no traceback (#12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from lino_migrate.restore.cli import asks_to_migrate
from tests.conftest import MANAGE, POPULATED, Site
from tests.processes import processes_with, until


def _interrupt(
    site: Site,
    *args: str,
    after: str = "",
    group: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py ARGS``; send SIGINT once it printed a line holding *after*.

    :param group: send it to the whole process group, as a terminal does,
        not only to the process.
    :param env: variables added to the site's environment.
    """
    env = site.env | {"PYTHONUNBUFFERED": "1"} | (env or {})
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), *args], env=env, cwd=site.tmp, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        start_new_session=group,
    )  # fmt: skip
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    while after not in lines[-1] and lines[-1]:
        lines.append(process.stdout.readline())
    if group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(
        args, process.returncode, "".join(lines) + out, err
    )


def test_interrupted_restore_rolls_back(make_site: Any, tmp_path: Path) -> None:
    """The restore says it rolled back, and the database is as it was."""
    source = make_site("source", prepare=POPULATED)
    dump = tmp_path / "d"
    source.manage("dump2py", str(dump), "--noinput", "--max-row-count", "1")
    target = make_site("target")
    before = target.tables("library_author", "library_book")
    result = _interrupt(target, "run", str(dump / "restore.py"), "--noinput", "-v", "2")
    assert 130 == result.returncode, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert (
        "Interrupted: the restore was rolled back; the database is unchanged." == last
    )
    assert "Traceback" not in result.stderr
    assert before == target.tables("library_author", "library_book")


@pytest.mark.parametrize("how", ["restoredump", "run"])
def test_interrupted_restore_after_migrate_says_the_tables_stay(
    make_site: Any, tmp_path: Path, how: str
) -> None:
    """With --migrate, the message says created tables stay; the rows are as they were.

    ``run restore.py`` reads its options as the script does: ``--mig`` is
    ``--migrate`` there too.
    """
    source = make_site("source", prepare=POPULATED)
    dump = tmp_path / "d"
    source.manage("dump2py", str(dump), "--noinput", "--max-row-count", "1")
    target = make_site("target")
    before = target.tables("library_author", "library_book")
    command = (
        ("restoredump", str(dump), "--migrate")
        if how == "restoredump"
        else ("run", str(dump / "restore.py"), "--mig")
    )
    result = _interrupt(target, *command, "--noinput", "-v", "2")
    assert 130 == result.returncode, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert (
        "Interrupted: the restore was rolled back; the rows are as they were, but "
        "the tables that --migrate created, if any, stay." == last
    )
    assert "Traceback" not in result.stderr
    assert before == target.tables("library_author", "library_book")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], False),
        (["--noinput", "--migrate", "-v", "2"], True),
        (["--migr"], True),
        (["--migrate=yes"], False),
        (["--help", "--migrate"], True),
        (["--jobs"], False),
    ],
)
def test_run_reads_migrate_as_the_script_does(
    args: list[str], expected: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Abbreviations count, a refused option line asks for nothing; no output."""
    assert expected is asks_to_migrate(args)
    assert ("", "") == capsys.readouterr()


def test_interrupted_dump_writes_nothing(make_site: Any, tmp_path: Path) -> None:
    """dump2py says nothing was written, and leaves no directory behind."""
    site = make_site("source", prepare=POPULATED)
    parent = tmp_path / "dumps"
    parent.mkdir()
    result = _interrupt(
        site,
        "dump2py",
        str(parent / "d"),
        "--noinput",
        "--max-row-count",
        "1",
        "-v",
        "2",
    )
    assert 130 == result.returncode, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "Interrupted: nothing was written; the dump directory is as it was." == last
    assert "Traceback" not in result.stderr
    assert [] == list(parent.iterdir())


def test_ctrl_c_with_workers_rolls_back_and_ends_them(
    make_site: Any, tmp_path: Path
) -> None:
    """Ctrl-C reaches the whole process group: one message, no worker left (#16)."""
    source = make_site("source", prepare=POPULATED)
    dump = tmp_path / "d"
    source.manage("dump2py", str(dump), "--noinput", "--max-row-count", "1")
    target = make_site("target")
    before = target.tables("library_author", "library_book")
    token = uuid.uuid4().hex
    result = _interrupt(
        target, "run", str(dump / "restore.py"), "--noinput", "--jobs", "2", "-v", "3",
        after="worker processes", group=True, env={"LINO_MIGRATE_TEST_TOKEN": token},
    )  # fmt: skip
    err = result.stderr
    assert 130 == result.returncode, result.stdout + err
    assert "Started 2 worker processes." in result.stdout
    last = err.strip().splitlines()[-1]
    assert (
        "Interrupted: the restore was rolled back; the database is unchanged." == last
    )
    assert "Traceback" not in err
    variable = f"LINO_MIGRATE_TEST_TOKEN={token}"
    assert until(lambda: not processes_with(variable), 10), processes_with(variable)
    assert before == target.tables("library_author", "library_book")
