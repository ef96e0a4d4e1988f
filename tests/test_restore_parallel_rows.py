"""Row functions declared ``parallel=True`` run in the workers of ``--jobs`` (#16).

The dump of :func:`tests.test_restore_jobs.valid` is parsed a line at a
time, so that the six authors make six batches over two files. The oracles
are the source database read back with raw SQL, the rows the row function
must make of it computed here, and the same restore with ``jobs=1``; where
a row function ran is told by the process ids it writes to a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.restore import reader
from lino_migrate.restore.restorer import restore
from migrations_registry import Migration, Registry, Row
from tests.test_hostile_dumps import database_state, read_script, write_script
from tests.test_restore_jobs import (
    ALL_CASES,
    STARTED,
    _copy,
    _outcome,
    _restore,
    change_after_check,
    valid,
)

__all__ = ["valid"]

RowFunction = Callable[[Row], Any]


@pytest.fixture(autouse=True)
def one_line_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse one line at a time: every row is a batch of its own."""
    monkeypatch.setattr(reader, "PARSE_BATCH", 1)


def _older(dump: Path) -> None:
    """Record library 0.9 in the dump, so that the migrator of 1.0 runs."""
    meta = read_script(dump)
    meta["VERSIONS"]["library"] = "0.9"
    write_script(dump, meta)


def _registry(function: RowFunction, *, parallel: bool) -> Registry:
    """Return a registry whose migrator library 1.0 runs *function* on authors."""
    registry = Registry()

    def to_1_0(m: Migration) -> None:
        m.rows("library.author", parallel=parallel)(function)

    registry.register("library", "1.0", to_1_0)
    return registry


def _calls(log: Path) -> list[tuple[int, int]]:
    """Return (process id, author id) per call that a row function logged."""
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").split()
    return [(int(pid), int(pk)) for pid, pk in (line.split(":") for line in lines)]


def _logged(log: Path, row: Row) -> None:
    with log.open("a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}:{row['id']}\n")


def _sql(using: str, query: str) -> list[tuple[Any, ...]]:
    with connections[using].cursor() as cursor:
        cursor.execute(query)
        return sorted(tuple(row) for row in cursor.fetchall())


AUTHORS = "SELECT id, name, code, mentor_id, born FROM library_author"
TAGS = "SELECT name, description FROM library_tag"


def _shout(log: Path) -> RowFunction:
    """Return a row function that upper-cases the name and emits a tag."""

    def shout(row: Row) -> Any:
        _logged(log, row)
        tag = {"name": f"author {row['id']}", "description": f"born {row['born']}"}
        return [row | {"name": row["name"].upper()}, ("library.tag", tag)]

    return shout


def _jobs_1_then_2(
    dump: Path, registry: Any, between: Callable[[], object] = lambda: None
) -> str:
    """Restore *dump* with jobs=1, run *between*, restore with jobs=2: the same database.

    Return what the restore with jobs=2 said.
    """
    restore(dump, using="other", jobs=1, registry=registry)
    alone = database_state("other")
    between()
    _report, said = _restore(dump, 2, registry=registry)
    assert alone == database_state("other")
    return said


def test_workers_run_parallel_row_functions_as_one_process_does(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """jobs=2 writes the rows computed by hand, as jobs=1 does, with the same report.

    The row function runs once per author: in this process with jobs=1, in
    the worker processes only with jobs=2.
    """
    dump = _copy(valid, tmp_path, _older)
    log = tmp_path / "calls"
    registry = _registry(_shout(log), parallel=True)
    with django_db_blocker.unblock():
        source_authors = _sql("default", AUTHORS)
        source_tags = _sql("default", TAGS)
        alone_report, _said = _restore(dump, 1, registry=registry, sample=2)
        alone = database_state("other")
        alone_calls = _calls(log)
        log.unlink()
        report, said = _restore(dump, 2, registry=registry, sample=2)
        assert STARTED in said
        assert alone == database_state("other")
        authors, tags = _sql("other", AUTHORS), _sql("other", TAGS)
    expected_authors = [(pk, name.upper(), *rest) for pk, name, *rest in source_authors]
    assert expected_authors == authors
    made = [(f"author {row[0]}", f"born {row[4]}") for row in source_authors]
    assert sorted(source_tags + made) == tags
    ids = [row[0] for row in source_authors]
    assert [(os.getpid(), pk) for pk in ids] == sorted(alone_calls)
    calls = _calls(log)
    assert ids == sorted(pk for _pid, pk in calls)
    assert os.getpid() not in {pid for pid, _pk in calls}
    # The reports: counts and samples, as computed from the source.
    assert alone_report == report
    author = report.models["library.author"]
    assert (len(ids), len(ids)) == (author.in_dump, author.written)
    tag = report.models["library.tag"]
    assert (len(source_tags), len(source_tags) + len(ids)) == (tag.in_dump, tag.written)
    samples = report.samples
    first = source_authors[:2]
    assert [row[1] for row in first] == [
        row["name"] for row in samples["library.author"]["before"]
    ]
    assert [row[1].upper() for row in first] == [
        row["name"] for row in samples["library.author"]["after"]
    ]
    assert [f"author {row[0]}" for row in first] == [
        row["name"] for row in samples["library.tag"]["after"]
    ]


def test_a_failing_parallel_row_function_fails_as_with_one_process(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """A row function that raises on one author: same message, database unchanged."""

    def fail_on_4(row: Row) -> Row:
        if row["id"] == 4:
            msg = "no Cyrillic here"
            raise ValueError(msg)
        return row

    dump = _copy(valid, tmp_path, _older)
    registry = _registry(fail_on_4, parallel=True)
    with django_db_blocker.unblock():
        before = database_state("other")
        alone = _outcome(dump, 1, registry=registry)
        assert alone == _outcome(dump, 2, registry=registry)
        rehearsed = _outcome(dump, 2, registry=registry, simulate=True)
        assert alone == _outcome(dump, 1, registry=registry, simulate=True)
        assert alone == rehearsed
    message, after = alone
    assert before == after
    assert message.startswith("LoadError: Could not restore 'library.author' ")
    assert "(file library_author.py)" in message
    assert "'fail_on_4' failed on a row of 'library.author'" in message
    assert "ValueError: no Cyrillic here" in message
    assert "'id': 4" in message


def _keep(row: Row) -> Row:
    """Return the row as it is."""
    return row


def _through_migrators() -> Registry:
    """Return a registry whose parallel row functions take genres and books."""
    registry = Registry()

    def to_1_0(m: Migration) -> None:
        m.rows("library.genre", parallel=True)(_keep)
        m.rows("library.book", parallel=True)(_keep)

    registry.register("library", "1.0", to_1_0)
    return registry


@pytest.mark.parametrize("change", ALL_CASES)
def test_bad_migrated_rows_are_refused_as_by_one_process(
    valid: Path, tmp_path: Path, django_db_blocker: Any, change: Any
) -> None:
    """Every bad dump of genres or books: same error, same rehearsal, with workers."""

    def changed(dump: Path) -> None:
        change(dump)
        _older(dump)

    dump = _copy(valid, tmp_path, changed)
    registry = _through_migrators()

    def rehearse(jobs: int) -> Any:
        try:
            report = restore(
                dump, using="other", jobs=jobs, registry=registry, simulate=True
            )
        except LinoMigrateError as e:
            return f"{type(e).__name__}: {e}"
        return [str(v) for v in report.violations]

    with django_db_blocker.unblock():
        before = database_state("other")
        alone = _outcome(dump, 1, registry=registry)
        if alone[0] != "restored":
            assert before == alone[1]
        assert alone == _outcome(dump, 2, registry=registry)
        after = database_state("other")
        assert rehearse(1) == rehearse(2)
        assert after == database_state("other")


def test_a_migrated_file_changed_after_the_check_is_refused(
    valid: Path, tmp_path: Path, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers that cannot read a migrated file on: this process meets the error."""
    dump = _copy(valid, tmp_path, _older)
    change_after_check(dump, monkeypatch)
    registry = _registry(_shout(tmp_path / "calls"), parallel=True)
    with django_db_blocker.unblock():
        before = database_state("other")
        outcome = _outcome(dump, 2, registry=registry)
    assert outcome[0].startswith("ChecksumError: ")
    assert "library_author.py" in outcome[0]
    assert before == outcome[1]


#: The author ids a stateful row function saw, in this process.
SEEN: list[int] = []


def test_a_row_function_not_declared_parallel_runs_in_the_writer(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """A row function numbering the rows it saw runs here: jobs=2 numbers as jobs=1."""
    log = tmp_path / "calls"

    def number(row: Row) -> Row:
        _logged(log, row)
        SEEN.append(row["id"])
        row["name"] = f"{len(SEEN)}. {row['name']}"
        return row

    dump = _copy(valid, tmp_path, _older)
    registry = _registry(number, parallel=False)
    with django_db_blocker.unblock():
        source_authors = _sql("default", AUTHORS)
        said = _jobs_1_then_2(dump, registry, SEEN.clear)
        assert STARTED in said
        authors = _sql("other", AUTHORS)
    ids = [row[0] for row in source_authors]
    assert ids == SEEN
    expected = [
        (pk, f"{ids.index(pk) + 1}. {name}", *rest)
        for pk, name, *rest in source_authors
    ]
    assert expected == authors
    assert {os.getpid()} == {pid for pid, _pk in _calls(log)}


def test_a_parallel_row_function_that_queries_runs_in_the_writer(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """A worker may not use the database: the writer migrates such batches itself."""
    log = tmp_path / "calls"

    def count_genres(row: Row) -> Row:
        with connections["other"].cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM library_genre")
            row["name"] = f"{row['name']} ({cursor.fetchone()[0]} genres)"
        _logged(log, row)
        return row

    dump = _copy(valid, tmp_path, _older)
    registry = _registry(count_genres, parallel=True)
    with django_db_blocker.unblock():
        said = _jobs_1_then_2(dump, registry, log.unlink)
        assert STARTED in said
        authors = _sql("other", AUTHORS)
    assert 6 == len(authors)
    assert all(name.endswith(" genres)") for _pk, name, *_rest in authors)
    assert {os.getpid()} == {pid for pid, _pk in _calls(log)}


def test_a_value_that_does_not_pickle_is_migrated_by_the_writer(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """A row function may return values that cannot cross a pipe: same result."""

    class Name(str):
        """A str of a local class: pickle cannot find it."""

    def wrap(row: Row) -> Row:
        row["name"] = Name(row["name"].upper())
        return row

    dump = _copy(valid, tmp_path, _older)
    registry = _registry(wrap, parallel=True)
    with django_db_blocker.unblock():
        _jobs_1_then_2(dump, registry)
        source = _sql("default", AUTHORS)
        assert [(r[0], r[1].upper()) for r in source] == [
            r[:2] for r in _sql("other", AUTHORS)
        ]


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_last() -> None:
    """Mark the module as using both databases (last: the fixture flushes them)."""
