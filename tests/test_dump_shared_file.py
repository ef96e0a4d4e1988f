"""``dump2py --jobs N`` on a SQLite file: the workers read the big tables themselves (#16).

The sites here are real SQLite files (``make_database``), dumped in this
process through ``--database``. The oracles: the dump of ``--jobs 1``, the
``FILES`` of ``restore.py`` read with :func:`ast.literal_eval`, the keys
read with the ``sqlite3`` module, and a second connection's commit.
"""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from lino_migrate.dump import pipeline, pipeworker, sharedfile
from lino_migrate.dump.sharedfile import SharedFile, change_counter, ranges
from lino_migrate.dump.snapshot import read_transaction
from lino_migrate.format.layout import NATURAL_KEYS
from lino_migrate.schema import describe
from tests.conftest import POPULATED, Site, is_postgres
from tests.dumps import dump_files
from tests.site.library.models import Author

pytestmark = pytest.mark.skipif(is_postgres(), reason="a SQLite file's")

#: Authors added to the test data: several data files of -m 7.
AUTHORS = 40


@pytest.fixture
def site(make_database: Any) -> Iterator[tuple[Site, str]]:
    """Yield a populated SQLite file with AUTHORS more authors, and its alias."""
    made: Site = make_database("shared", prepare=POPULATED)
    with made.connected() as alias:
        Author.objects.using(alias).bulk_create(
            Author(name=f"n{i}", code=f"c{i}") for i in range(AUTHORS)
        )
        gaps = ["n3", "n4", "n5", "n17"]
        Author.objects.using(alias).filter(name__in=gaps).delete()
        yield made, alias


@pytest.fixture
def every_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every table with rows through the workers."""
    monkeypatch.setattr(pipeline, "MIN_ROWS", 0)


def _dump(target: Path, alias: str, *args: str) -> None:
    target.parent.mkdir(exist_ok=True)
    out = StringIO()
    call_command(
        "dump2py", str(target), "--noinput", "--database", alias, *args,
        stdout=out, stderr=out,
    )  # fmt: skip


def _refused(tmp_path: Path, alias: str, expected: str) -> str:
    """Dump with --jobs 2, which must fail with *expected*; nothing may be left."""
    with pytest.raises(CommandError, match=expected) as e:
        _dump(tmp_path / "out" / "d", alias, "-m", "7", "--jobs", "2")
    assert [] == list((tmp_path / "out").iterdir())
    return str(e.value)


def _written(marks: Path) -> dict[str, str]:
    """Return, per data file a worker wrote, where its rows came from."""
    if not marks.exists():
        return {}
    lines = marks.read_text().splitlines()
    return dict(line.split(" ") for line in lines)  # type: ignore[misc]


def _mark_writes(monkeypatch: pytest.MonkeyPatch, marks: Path) -> None:
    """Make the (forked) workers note each file they write and how they got its rows."""
    write = pipeworker._write_file

    def noted(writer: Any, info: Any, number: int, rows: Any) -> Any:
        with marks.open("a") as out:
            out.write(f"{writer.file_name(info, number)} {type(rows).__name__}\n")
        return write(writer, info, number, rows)

    monkeypatch.setattr(pipeworker, "_write_file", noted)


def _files_with_rows(dump: Path) -> set[str]:
    """Return the data files of models without natural keys, from ``restore.py``."""
    tree = ast.parse((dump / "restore.py").read_text(encoding="utf-8"))
    files = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and getattr(node.targets[0], "id", "") == "FILES"
    )
    with_rows = {label for label, _name, rows, _sha in files if rows}
    return {
        name for label, name, _, _ in files if label in with_rows - set(NATURAL_KEYS)
    }


@pytest.mark.usefixtures("every_table")
def test_workers_read_the_file_and_write_the_bytes_of_one_process(
    site: tuple[Site, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker reads its files from the database file; the dump is --jobs 1's."""
    _, alias = site
    marks = tmp_path / "marks"
    _mark_writes(monkeypatch, marks)
    _dump(tmp_path / "one", alias, "-m", "7", "--jobs", "1")
    assert {} == _written(marks)
    _dump(tmp_path / "two", alias, "-m", "7", "--jobs", "2")
    expected = _files_with_rows(tmp_path / "one")
    assert "library_author_6.py" in expected
    assert dict.fromkeys(expected, "_ReadRows") == _written(marks)
    marks.unlink()
    monkeypatch.setenv(pipeline.HAND_OFF, "1")
    _dump(tmp_path / "sent", alias, "-m", "7", "--jobs", "2")
    assert dict.fromkeys(expected, "_Rows") == _written(marks)
    one = dump_files(tmp_path / "one")
    assert one == dump_files(tmp_path / "two")
    assert one == dump_files(tmp_path / "sent")


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_ranges_cut_the_table_where_one_process_would(
    site: tuple[Site, str], size: int
) -> None:
    """The key ranges hold the rows of each file of the dump, by the keys' order."""
    made, alias = site
    keys = [row[0] for row in made.sql("SELECT id FROM library_author ORDER BY id")[0]]
    expected = [keys[i : i + size] for i in range(0, len(keys), size)]
    with read_transaction(connections[alias]):
        parts = ranges(connections[alias], describe(Author), size)
    assert parts is not None
    assert [len(rows) for rows in expected] == [p.rows for p in parts]
    db = sqlite3.connect(made.database)
    try:
        for rows, part in zip(expected, parts, strict=True):
            assert rows == [r[0] for r in db.execute(part.sql, part.params)]
    finally:
        db.close()


def test_a_key_that_may_be_null_is_not_cut(site: tuple[Site, str]) -> None:
    """A primary key without NOT NULL is no rowid and may hold NULL: no ranges."""
    made, alias = site
    made.sql(
        "ALTER TABLE library_author RENAME TO old_author",
        "CREATE TABLE library_author (id int PRIMARY KEY, name text, code text)",
        "INSERT INTO library_author SELECT id, name, code FROM old_author",
    )
    with read_transaction(connections[alias]):
        assert ranges(connections[alias], describe(Author), 7) is None


def test_the_read_transaction_keeps_commits_out(site: tuple[Site, str]) -> None:
    """The premise: while the dump reads, no commit; in WAL mode, no workers."""
    made, alias = site
    writer = sqlite3.connect(made.database, timeout=0)
    insert = "INSERT INTO library_author (name, code) VALUES ('late', 'late')"
    try:
        with read_transaction(connections[alias]):
            shared = SharedFile.of(connections[alias])
            assert shared is not None
            assert made.database == shared.path
            writer.execute(insert)  # takes the RESERVED lock; the commit waits
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                writer.commit()
            writer.rollback()
            assert change_counter(made.database) == shared.counter
        writer.execute("PRAGMA journal_mode=WAL")
        with read_transaction(connections[alias]):
            assert SharedFile.of(connections[alias]) is None
            writer.execute(insert)
            writer.commit()  # beside the reader: why WAL is left out
    finally:
        writer.close()


def test_exclusive_locking_and_memory_are_not_shared(site: tuple[Site, str]) -> None:
    """locking_mode=exclusive keeps the workers out; so does a database in memory."""
    _, alias = site
    with connections[alias].cursor() as cursor:
        cursor.execute("PRAGMA locking_mode=EXCLUSIVE")
    with read_transaction(connections[alias]):
        assert SharedFile.of(connections[alias]) is None
    connections[alias].close()
    memory = connections.create_connection(alias)
    memory.settings_dict = {**memory.settings_dict, "NAME": ":memory:"}
    try:
        assert SharedFile.of(memory) is None
    finally:
        memory.close()


@pytest.mark.usefixtures("every_table")
def test_a_file_that_changed_is_refused(
    site: tuple[Site, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change counter other than the reading process saw: no dump, one message."""
    _, alias = site
    stale = SharedFile.of

    def changed(connection: Any) -> SharedFile | None:
        shared = stale(connection)
        assert shared is not None
        return SharedFile(shared.path, b"\xff\xff\xff\xff")

    monkeypatch.setattr(pipeline.SharedFile, "of", changed)
    message = _refused(tmp_path, alias, r"changed after the dump began")
    assert "A worker process of --jobs failed to write" in message


@pytest.mark.usefixtures("every_table")
def test_a_file_with_other_rows_is_refused(
    site: tuple[Site, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A range that reads fewer rows than were counted for it ends the dump."""
    _, alias = site

    def one_more(connection: Any, info: Any, size: int) -> Any:
        parts = ranges(connection, info, size)
        if parts is None or info.label != "library.author":
            return parts
        first = sharedfile.FileRange(parts[0].sql, parts[0].params, parts[0].rows + 1)
        return [first, *parts[1:]]

    monkeypatch.setattr(pipeline, "ranges", one_more)
    expected = (
        r"'library_author.py' of 'library.author': it read 7 rows where the "
        r"reading process counted 8 \(primary keys from 1, below 8\)\. Nothing"
    )
    _refused(tmp_path, alias, expected)


@pytest.mark.usefixtures("every_table")
def test_a_file_a_worker_cannot_read(
    site: tuple[Site, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error in a worker names the model; --tolerate skips the model."""
    _, alias = site
    batches = sharedfile.FileReader.batches

    def failing(self: Any, part: Any) -> Any:
        if '"library_author"' in part.sql:
            msg = "disk I/O error"
            raise sqlite3.OperationalError(msg)
        return batches(self, part)

    monkeypatch.setattr(sharedfile.FileReader, "batches", failing)
    _refused(tmp_path, alias, r"Could not read the rows of 'library.author': disk I/O")
    _dump(tmp_path / "d", alias, "-m", "7", "--jobs", "2", "--tolerate")
    files = dump_files(tmp_path / "d")
    assert not [name for name in files if name.startswith("library_author")]
    assert "library.author" in files["restore.py"].decode().partition("SKIPPED")[2]


def test_manage_py_dumps_a_file_with_workers_that_read(
    make_site: Any, tmp_path: Path
) -> None:
    """A real dump2py on a SQLite file: --jobs 2 writes the bytes of --jobs 1."""
    made: Site = make_site("sharede2e", prepare=POPULATED)
    assert [[("delete",)]] == made.sql("PRAGMA journal_mode")
    made.sql(
        f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g "
        f"WHERE x < {pipeline.MIN_ROWS + 100}) "
        "INSERT INTO library_author (name, code) SELECT 'n' || x, 'c' || x FROM g"
    )
    for jobs in ("1", "2"):
        made.manage("dump2py", str(tmp_path / jobs), "--noinput", "-m", "1000",
                    "--jobs", jobs)  # fmt: skip
    one = dump_files(tmp_path / "1")
    assert "library_author_6.py" in one
    assert one == dump_files(tmp_path / "2")


def test_a_worker_opens_a_file_whose_name_needs_quoting(tmp_path: Path) -> None:
    """A path with '?', '#', '%' and a space is opened as itself, read-only."""
    path = tmp_path / "a b?c#d%20e.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1, 'x'), (2, 'y');"
    )
    db.close()
    reader = sharedfile.FileReader(SharedFile(str(path), change_counter(str(path))))
    part = sharedfile.FileRange(
        "SELECT id, v FROM t WHERE id >= ? ORDER BY id", (1,), 2
    )
    assert [[(1, "x"), (2, "y")]] == list(reader.batches(part))
    written = sharedfile.FileRange("INSERT INTO t VALUES (3, 'z') RETURNING id", (), 1)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        list(reader.batches(written))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
