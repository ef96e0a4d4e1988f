"""``--jobs``: worker processes prepare the rows, the result and the errors are the same (#16).

Data files are parsed in batches of :data:`~lino_migrate.restore.reader.PARSE_BATCH`
lines; the tests set it to 1 or 2 so that the few rows of the test site make
many batches, spread over the workers. The oracle of a restore with workers
is the same restore with ``jobs=1``, and the source database read back raw.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from lino_migrate.exceptions import LinoMigrateError, WorkerError
from lino_migrate.restore import reader
from lino_migrate.restore.loader import CopyData, TableLoader
from lino_migrate.restore.restorer import KILL_AT, RestoreReport, restore
from lino_migrate.workers import MAX_DEFAULT_JOBS, default_jobs, parse_jobs
from migrations_registry import Registry
from tests.dumps import data_files
from tests.site.data import populate
from tests.snapshot import assert_same, snapshot
from tests.test_hostile_dumps import (
    database_state,
    read_script,
    require_test_databases,
    reseal,
    write_script,
)
from tests.test_plan_agrees import BOOK, CASES, GENRE, POSTGRES_CASES

STARTED = "Started 2 worker processes."


@pytest.fixture(scope="module")
def valid(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[Path]:
    """Return a dump of 'default' in files of 5 rows; 'other' holds rows of its own."""
    require_test_databases()
    dump = tmp_path_factory.mktemp("jobs") / "valid"
    with django_db_blocker.unblock():
        populate("default")
        call_command("dump2py", str(dump), "--noinput", "-v0", "--max-row-count", "5")
        populate("other", portable=True)
        yield dump
        for alias in ("default", "other"):
            call_command("flush", "--noinput", "--database", alias, verbosity=0)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse two lines at a time: every file of 5 rows makes 3 batches."""
    monkeypatch.setattr(reader, "PARSE_BATCH", 2)


def _restore(dump: Path, jobs: int, **options: Any) -> tuple[RestoreReport, list[str]]:
    """Restore *dump* into 'other' with *jobs*; return the report and the step lines."""
    said: list[str] = []

    def progress(message: str, level: int) -> None:
        said.append(message)

    report = restore(dump, using="other", jobs=jobs, progress=progress, **options)
    return report, said


def _outcome(dump: Path, jobs: int, **options: Any) -> tuple[str, Any]:
    """Return what a restore of *dump* with *jobs* raised, and the database after it."""
    try:
        restore(dump, using="other", jobs=jobs, **options)
    except LinoMigrateError as e:
        return f"{type(e).__name__}: {e}", database_state("other")
    return "restored", database_state("other")


def _copy(valid: Path, tmp_path: Path, change: Callable[[Path], None]) -> Path:
    dump = tmp_path / "dump"
    shutil.copytree(valid, dump)
    change(dump)
    for name in (GENRE, BOOK):
        reseal(dump, name)
    return dump


def test_workers_restore_what_one_process_restores(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """jobs=2 and 3 restore every table as the source has it, as jobs=1 does."""
    with django_db_blocker.unblock():
        source = snapshot("default")
        for jobs in (1, 2, 3):
            report, said = _restore(valid, jobs)
            assert_same(source, snapshot("other"))
            started = [line for line in said if line.startswith("Started")]
            expected = [] if jobs == 1 else [f"Started {jobs} worker processes."]
            assert expected == started, said
            assert report.written == sum(m.in_dump for m in report.models.values())


def test_workers_send_copy_text_to_postgresql(
    valid: Path, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the workers send the text of COPY, elsewhere the parameters.

    On PostgreSQL the texts of a file go into one COPY as they arrive.
    """
    sent: list[Any] = []
    write, write_copies = TableLoader.write, TableLoader.write_copies

    def spy(self: TableLoader, params: Any) -> Any:
        sent.append(params)
        return write(self, params)

    def spy_copies(self: TableLoader, texts: Any) -> Any:
        def seen() -> Any:
            for text in texts:
                sent.append(text)
                yield text

        return write_copies(self, seen())

    monkeypatch.setattr(TableLoader, "write", spy)
    monkeypatch.setattr(TableLoader, "write_copies", spy_copies)
    with django_db_blocker.unblock():
        _restore(valid, 2)
        assert_same(snapshot("default"), snapshot("other"))
        postgres = connections["other"].vendor == "postgresql"
    assert sent
    kinds = {type(batch) for batch in sent}
    assert ({CopyData} if postgres else {list}) == kinds
    if postgres:
        assert all(batch.data.count(b"\n") == batch.rows for batch in sent)


def test_dump_after_a_restore_with_workers_is_byte_identical(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """dump -> restore with 2 workers -> dump gives the same files."""
    with django_db_blocker.unblock():
        _restore(valid, 2)
        again = tmp_path / "again"
        call_command(
            "dump2py", str(again), "--noinput", "-v0", "--max-row-count", "5",
            "--database", "other",
        )  # fmt: skip
    assert data_files(valid) == data_files(again)


def test_the_command_takes_jobs(
    valid: Path, django_db_blocker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``run restore.py --jobs 2 -v 3`` starts the workers and says so."""
    with django_db_blocker.unblock():
        call_command(
            "run", str(valid / "restore.py"), "--noinput", "--database", "other",
            "--jobs", "2", "-v", "3",
        )  # fmt: skip
        assert_same(snapshot("default"), snapshot("other"))
    assert STARTED in capsys.readouterr().out


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5", ""])
def test_a_wrong_number_of_jobs_is_refused(
    valid: Path, django_db_blocker: Any, value: str
) -> None:
    """A --jobs that is no whole number of at least 1 is refused before anything."""
    with django_db_blocker.unblock():
        before = database_state("other")
        with pytest.raises(CommandError, match="--jobs takes a whole number") as info:
            call_command(
                "run", str(valid / "restore.py"), "--noinput", "--database",
                "other", "--jobs", value,
            )  # fmt: skip
        assert repr(value) in str(info.value)
        assert before == database_state("other")


def test_auto_means_the_cores_at_most_four() -> None:
    """``auto`` is the number of usable cores, between 1 and 4; numbers are kept."""
    import os

    cores = len(os.sched_getaffinity(0))
    assert max(1, min(cores, MAX_DEFAULT_JOBS)) == default_jobs() == parse_jobs("auto")
    assert 3 == parse_jobs("3") == parse_jobs(3) == parse_jobs(" 3 ")
    assert default_jobs() == parse_jobs(None)


def test_auto_starts_no_worker_for_a_small_dump(
    valid: Path, django_db_blocker: Any
) -> None:
    """Below PIPELINE_MIN_ROWS rows, ``auto`` prepares the rows itself."""
    with django_db_blocker.unblock():
        said: list[str] = []
        restore(
            valid, using="other", jobs="auto", progress=lambda m, _l: said.append(m)
        )
        assert_same(snapshot("default"), snapshot("other"))
    assert not [line for line in said if line.startswith("Started")]


#: Every bad dump of the plan's tests; on SQLite, those PostgreSQL refuses restore.
ALL_CASES = [pytest.param(c[1], id=c[0]) for c in CASES + POSTGRES_CASES]


@pytest.mark.parametrize("change", ALL_CASES)
def test_workers_refuse_as_one_process_does(
    valid: Path, tmp_path: Path, django_db_blocker: Any, change: Any
) -> None:
    """Every bad dump gets the same error with workers, and the database stays."""
    dump = _copy(valid, tmp_path, change)
    with django_db_blocker.unblock():
        before = database_state("other")
        alone = _outcome(dump, 1)
        if alone[0] != "restored":
            assert before == alone[1]
        assert alone == _outcome(dump, 2)


@pytest.mark.parametrize("change", ALL_CASES)
def test_a_rehearsal_with_workers_lists_the_same_rows(
    valid: Path, tmp_path: Path, django_db_blocker: Any, change: Any
) -> None:
    """--simulate lists the same refused rows, in the same order, with workers."""
    dump = _copy(valid, tmp_path, change)

    def rehearse(jobs: int) -> Any:
        try:
            report = restore(dump, using="other", jobs=jobs, simulate=True)
        except LinoMigrateError as e:
            return f"{type(e).__name__}: {e}"
        return [str(v) for v in report.violations]

    with django_db_blocker.unblock():
        before = database_state("other")
        assert rehearse(1) == rehearse(2)
        assert before == database_state("other")


def change_after_check(dump: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Let the restore's check of *dump* pass, then change ``library_author.py``.

    :return: the file changed.
    """
    changed = dump / "library_author.py"
    verify = reader.verify_files

    def verify_then_change(*args: Any, **kwargs: Any) -> list[str]:
        found = verify(*args, **kwargs)
        changed.write_text(changed.read_text().replace("    (1, ", "    (9999, "))
        return found

    monkeypatch.setattr(
        "lino_migrate.restore.restorer.verify_files", verify_then_change
    )
    return changed


def test_a_file_changed_after_the_check_is_refused_by_the_workers(
    valid: Path, tmp_path: Path, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data file that no longer matches its checksum when read is refused."""
    dump = _copy(valid, tmp_path, lambda d: None)
    change_after_check(dump, monkeypatch)
    with django_db_blocker.unblock():
        before = database_state("other")
        outcome = _outcome(dump, 2)
        assert outcome[0].startswith("ChecksumError: ")
        assert "library_author.py" in outcome[0]
        assert before == outcome[1]


def test_migrators_with_emitted_rows_run_alongside_the_workers(
    valid: Path, tmp_path: Path, django_db_blocker: Any
) -> None:
    """Rows through migrators, emitting rows of another model, come out the same."""
    registry = Registry()

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        @m.rows("library.genre")
        def split(row):  # type: ignore[no-untyped-def]
            tag = {"name": f"from genre {row['id']}", "description": row["name"]}
            return [row | {"name": row["name"].upper()}, ("library.tag", tag)]

    def older(dump: Path) -> None:
        meta = read_script(dump)
        meta["VERSIONS"]["library"] = "0.9"
        write_script(dump, meta)

    dump = _copy(valid, tmp_path, older)
    with django_db_blocker.unblock():
        restore(dump, using="other", jobs=1, registry=registry)
        alone = database_state("other")
        report, said = _restore(dump, 2, registry=registry)
        assert STARTED in said
        assert alone == database_state("other")
    genres = alone["library_genre"]
    assert genres
    assert all(row == row.upper() for row in genres)
    assert any("from genre" in row for row in alone["library_tag"])
    assert "library 1.0 (to_1_0)" in " ".join(report.migrators)


def test_a_killed_worker_ends_the_restore_and_changes_nothing(
    valid: Path, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed (SIGKILL) mid-restore: WorkerError, rolled back."""
    monkeypatch.setenv(KILL_AT, "worker:library_book.py")
    with django_db_blocker.unblock():
        before = database_state("other")
        with pytest.raises(WorkerError) as info:
            restore(valid, using="other", jobs=2)
        assert before == database_state("other")
    message = str(info.value)
    assert "library_book.py was killed by signal 9 (SIGKILL)" in message
    assert "rolled back" in message
    assert "--jobs 1" in message


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_last() -> None:
    """Mark the module as using both databases (last: the fixture flushes them)."""


@pytest.mark.parametrize(
    "literal",
    [
        "2024-05-01T10:20:30.123456+00:00",
        "2024-05-01T10:20:30+00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59.999999+00:00",
        "2024-05-01T10:20:30.100+00:00",  # not as isoformat() writes it
        "2024-05-01T12:20:30.5+02:00",
        "2024-05-01 10:20:30+00:00",
    ],
)
def test_datetime_literals_are_stored_as_django_stores_them(
    literal: str, django_db_blocker: Any
) -> None:
    """The short way for UTC literals on SQLite gives Django's own text (#16)."""
    import datetime

    from django.db.models import DateTimeField

    from lino_migrate.restore.preparers import literal_preparer

    connection = connections["default"]
    field = DateTimeField()
    prepare = literal_preparer("DateTimeField", field, connection)
    assert prepare is not None
    parsed = datetime.datetime.fromisoformat(literal)
    expected = connection.ops.adapt_datetimefield_value(parsed)
    assert expected == prepare(literal)


def test_sqlite_settings_hold_for_the_restore_only(
    valid: Path, django_db_blocker: Any
) -> None:
    """On SQLite, foreign keys are not enforced while loading, and are afterwards (#16)."""
    seen: list[tuple[int, int]] = []

    def before_restore(ctx: Any) -> None:
        with ctx.connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            keys = cursor.fetchone()[0]
            cursor.execute("PRAGMA temp_store")
            seen.append((keys, cursor.fetchone()[0]))

    def settings() -> tuple[int, int]:
        with connections["other"].cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            keys = cursor.fetchone()[0]
            cursor.execute("PRAGMA temp_store")
            return keys, cursor.fetchone()[0]

    with django_db_blocker.unblock():
        if connections["other"].vendor != "sqlite":
            pytest.skip("SQLite's settings: PostgreSQL has none of them")
        before = settings()
        restore(valid, using="other", hooks={"before_restore": before_restore})
        assert before == settings()
    assert (1, 0) == before  # Django's connection: enforced; temp_store default
    assert [(0, 2)] == seen  # off, MEMORY


def test_runs_of_copy_texts_are_grouped_in_order() -> None:
    """grouped(): COPY texts in a row make runs of at most *limit* rows, in order."""
    from lino_migrate.restore.pipeline import COPIES, FAILED, PREPARED, READ, grouped

    def text(n: int) -> CopyData:
        return CopyData(2, f"{n}\\n{n}\\n".encode())

    messages = [
        (PREPARED, text(0)), (PREPARED, text(1)), (PREPARED, text(2)),
        (READ, [("r",)]), (PREPARED, [("p",)]), (PREPARED, text(5)),
        (FAILED, None),
    ]  # fmt: skip
    found = []
    for index, kind, payload in grouped(messages, limit=4):
        if kind == COPIES:
            payload = [t.data for t in payload]
        found.append((index, kind, payload))
    assert [
        (0, COPIES, [b"0\\n0\\n", b"1\\n1\\n"]),
        (2, COPIES, [b"2\\n2\\n"]),
        (3, READ, [("r",)]),
        (4, PREPARED, [("p",)]),
        (5, COPIES, [b"5\\n5\\n"]),
        (6, FAILED, None),
    ] == found
