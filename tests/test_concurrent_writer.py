"""A site written to while it is dumped: every dump is one consistent snapshot (#12).

A writer process keeps an invariant in every transaction it commits: each
author it makes has exactly two books, made and deleted with it. Dumps taken
meanwhile must show the invariant and no book without its author. The
oracle reads the data files with :func:`ast.literal_eval`, not with the
reader under test.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import MANAGE, POPULATED, Site, is_postgres

RUNS = 20

#: The writer: bounded in time and in rounds, stops when the stop file exists.
WRITER = """
import itertools, pathlib, time
from django.db import OperationalError, transaction
from tests.site.library.models import Author, Book
stop, deadline = pathlib.Path({stop!r}), time.monotonic() + 120
for n in itertools.count():
    if stop.exists() or time.monotonic() > deadline:
        break
    try:
        with transaction.atomic():
            author = Author.objects.create(name=f"w{{n}}", code=f"w-{{n}}")
            Book.objects.create(title=f"w{{n}}a", author=author)
            Book.objects.create(title=f"w{{n}}b", author=author)
            old = Author.objects.filter(code=f"w-{{n - 3}}")
            Book.objects.filter(author__in=old).delete()
            old.delete()
    except OperationalError:
        time.sleep(0.01)  # SQLite: the dump holds the database; try again
    if n == 5:
        pathlib.Path({started!r}).touch()
"""


def _rows(dump: Path, label: str) -> list[dict[str, Any]]:
    """Return the rows of model *label* in *dump*, read with ast.literal_eval."""
    rows = []
    stem = label.replace(".", "_")
    for path in sorted(dump.glob(f"{stem}*.py")):
        if path.stem != stem and not path.stem.removeprefix(f"{stem}_").isdigit():
            continue
        values = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                values[node.targets[0].id] = ast.literal_eval(node.value)
        rows += [
            dict(zip(values["COLUMNS"], row, strict=True)) for row in values["ROWS"]
        ]
    return rows


def _check(dump: Path) -> int:
    """Assert the writer's invariant in *dump*; return its writer authors."""
    authors = {row["code"] for row in _rows(dump, "library.author")}
    books = _rows(dump, "library.book")
    assert [] == [b["title"] for b in books if b["author_id"] not in authors]
    per_author = Counter(
        b["author_id"] for b in books if b["author_id"].startswith("w-")
    )
    written = {code for code in authors if code.startswith("w-")}
    assert {code: 2 for code in written} == dict(per_author)
    return len(written)


def _writing(site: Site, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """Start the writer on *site*; return it once it has committed a few rounds."""
    stop, started = tmp_path / "stop", tmp_path / "started"
    code = WRITER.format(stop=str(stop), started=str(started))
    writer = subprocess.Popen(
        [sys.executable, str(MANAGE), "shell", "-v0", "-c", code],
        env=site.env, cwd=site.tmp, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    for _ in range(600):
        if started.exists() or writer.poll() is not None:
            break
        subprocess.run(["sleep", "0.1"], check=True)
    assert started.exists(), writer.stderr.read() if writer.stderr else ""
    return writer, stop


def _stop(writer: subprocess.Popen[str], stop: Path) -> None:
    stop.touch()
    _, err = writer.communicate(timeout=60)
    assert 0 == writer.returncode, err


def test_dumps_under_a_writer_are_consistent(make_site: Any, tmp_path: Path) -> None:
    """20 dumps (--jobs 1, in this process) taken while the writer commits."""
    site = make_site("busy", prepare=POPULATED)
    writer, stop = _writing(site, tmp_path)
    seen = set()
    try:
        with site.connected() as alias:
            for run in range(RUNS):
                dump = tmp_path / f"d{run}"
                call_command(
                    "dump2py", str(dump), "--noinput", "-v0", "--database", alias
                )
                seen.add(_check(dump))
    finally:
        _stop(writer, stop)
    assert seen  # the writer's authors were in the dumps


@pytest.mark.postgres
def test_parallel_dumps_under_a_writer_are_consistent(
    make_site: Any, tmp_path: Path
) -> None:
    """20 dumps with --jobs 2 (workers share the snapshot) while the writer commits."""
    assert is_postgres()
    site = make_site("busyjobs", prepare=POPULATED)
    writer, stop = _writing(site, tmp_path)
    try:
        for run in range(RUNS):
            dump = tmp_path / f"d{run}"
            site.manage("dump2py", str(dump), "--noinput", "-v0", "--jobs", "2")
            _check(dump)
    finally:
        _stop(writer, stop)
