"""Hostile dumps are refused with an error naming the file, never loaded (#12).

A data file changed after its checksum was verified, a model of ``SCHEMA``
without a data file, a data file that is a symbolic link, a FIFO, a device
or a directory, a ``FILES`` name that is a path, oversized or deeply nested
lines: each gives a :class:`~lino_migrate.exceptions.DumpFormatError` (or its
:class:`~lino_migrate.exceptions.ChecksumError`), within seconds, and the
target database is exactly as before. The oracle is the database itself,
read with raw SQL before and after.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import ChecksumError, DumpFormatError
from lino_migrate.format.layout import (
    METADATA,
    FieldInfo,
    ModelInfo,
    render_restore_script,
)
from lino_migrate.restore import reader, restorer
from lino_migrate.restore.reader import DumpMeta, read_rows, verify_files
from lino_migrate.restore.restorer import restore
from tests.site.data import populate
from tests.site.library.models import Genre

#: Seconds a refusal may take; a hang fails the test instead of the suite.
TIMEOUT = 30


@pytest.fixture(scope="module")
def pristine(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[Path]:
    """Return a dump of the populated default database; 'other' holds other rows.

    Built once for the module: the tests restore copies of it into 'other',
    whose rows differ from the dump's, so that a partial restore would show.
    """
    require_test_databases()
    path = tmp_path_factory.mktemp("hostile") / "dump"
    with django_db_blocker.unblock():
        populate("default")
        call_command("dump2py", str(path), "--noinput", "-v0", "--max-row-count", "2")
        populate("other", portable=True)
        Genre.objects.using("other").create(name="only in other")
        yield path
        for alias in ("default", "other"):
            call_command("flush", "--noinput", "--database", alias, verbosity=0)


def require_test_databases() -> None:
    """Skip unless 'default' and 'other' are test databases that pytest-django made.

    It makes those that the selected tests mark ``django_db``: the last test
    of the module does, so selecting a few tests with ``-k`` could reach the
    real databases instead.
    """
    for alias in ("default", "other"):
        name = str(connections[alias].settings_dict["NAME"])
        if not (name.startswith("test_") or "memorydb" in name):
            pytest.skip(f"'{alias}' is no test database here: select the last test too")


@pytest.fixture
def dump(pristine: Path, tmp_path: Path, django_db_blocker: Any) -> Iterator[Path]:
    """Return a copy of the pristine dump, with database access."""
    target = tmp_path / "dump"
    shutil.copytree(pristine, target)
    with django_db_blocker.unblock():
        yield target


def database_state(using: str) -> dict[str, list[str]]:
    """Return every table and sequence of *using*, read with raw SQL, as text."""
    connection = connections[using]
    state = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(
                f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1"
            )
            state[table] = sorted(map(repr, cursor.fetchall()))
        if connection.vendor == "postgresql":
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences")
        else:
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
        state["(sequences)"] = sorted(map(repr, cursor.fetchall()))
    return state


def read_script(dump: Path) -> dict[str, Any]:
    """Return the metadata assignments of the dump's ``restore.py``."""
    tree = ast.parse((dump / "restore.py").read_text(encoding="utf-8"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id in METADATA  # type: ignore[attr-defined]
    }


def write_script(dump: Path, meta: dict[str, Any]) -> None:
    """Write ``restore.py`` anew from *meta*, as the dumper would."""
    (dump / "restore.py").write_text(render_restore_script(meta), encoding="utf-8")


def reseal(dump: Path, name: str) -> None:
    """Record the sha256 and row count of data file *name* in ``restore.py``.

    An attacker who controls the whole dump does this; so does a person who
    edits a data file and its checksum.
    """
    data = (dump / name).read_bytes()
    rows = sum(1 for line in data.split(b"\n") if line.startswith(b"    ("))
    meta = read_script(dump)
    meta["FILES"] = tuple(
        (m, n, rows, hashlib.sha256(data).hexdigest()) if n == name else (m, n, r, s)
        for m, n, r, s in meta["FILES"]
    )
    write_script(dump, meta)


def within_timeout(call: Callable[[], object]) -> BaseException | None:
    """Run *call* in a thread; return what it raised. Fail if it hangs."""
    raised: list[BaseException | None] = [None]

    def run() -> None:
        try:
            call()
        except BaseException as e:
            raised[0] = e
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), f"no answer within {TIMEOUT} s: it hangs"
    return raised[0]


def assert_refused(
    dump: Path, error: type[Exception], match: str, *, command: bool = True
) -> None:
    """Assert that restoring *dump* raises *error*, changes nothing, hangs not.

    With *command*, ``dumpplan`` must refuse the dump too, as a ``CommandError``.
    """
    before = database_state("other")
    raised = within_timeout(lambda: restore(dump / "restore.py", using="other"))
    assert isinstance(raised, error), repr(raised)
    assert re.search(match, str(raised)), str(raised)
    assert before == database_state("other")
    if command:
        raised = within_timeout(lambda: call_command("dumpplan", str(dump)))
        assert isinstance(raised, CommandError), repr(raised)
        assert re.search(match, str(raised)), str(raised)


# Files changed after verification (#12, 3).


def _change(path: Path, change: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    at = max(i for i, line in enumerate(lines) if line.startswith("    ("))
    if change == "extra row":
        lines.insert(at + 1, "    (99, 'Injected'),")
    elif change == "changed value":
        row = ast.literal_eval(lines[at].strip().rstrip(","))
        lines[at] = f"    {(row[0], 'Changed')!r},"
    else:
        del lines[at]
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("change", ["extra row", "changed value", "fewer rows"])
def test_file_changed_after_verification_is_refused(
    dump: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A data file rewritten between verification and loading rolls back."""
    path = dump / "library_genre_2.py"

    def verify_then_change(meta: DumpMeta, **options: Any) -> list[str]:
        edits = verify_files(meta, **options)
        _change(path, change)
        return edits

    monkeypatch.setattr(restorer, "verify_files", verify_then_change)
    assert_refused(
        dump, ChecksumError, r"library_genre_2\.py: the sha256 is", command=False
    )


def test_edit_accepted_stays_accepted_and_a_later_change_is_refused(
    dump: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--accept-edits loads a file edited before; a change after verification is refused."""
    path = dump / "library_genre_2.py"
    _change(path, "changed value")
    report = restore(dump, using="other", accept_edits=True)
    assert ["library_genre_2.py"] == [e.split(" ")[0] for e in report.edits]
    assert Genre.objects.using("other").filter(name="Changed").exists()
    after_first = database_state("other")

    def verify_then_change(meta: DumpMeta, **options: Any) -> list[str]:
        edits = verify_files(meta, **options)
        _change(path, "extra row")
        return edits

    monkeypatch.setattr(restorer, "verify_files", verify_then_change)
    with pytest.raises(ChecksumError, match=r"library_genre_2\.py"):
        restore(dump, using="other", accept_edits=True)
    assert after_first == database_state("other")


THING = ModelInfo(
    "app.thing",
    "app_thing",
    ("id",),
    (
        FieldInfo("id", "id", "id", "AutoField", False, None),
        FieldInfo("value", "value", "value", "TextField", True, None),
    ),
)


@pytest.mark.parametrize("batch", [1, 1000])
def test_changed_end_of_file_is_never_yielded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """read_rows checks the bytes it parsed before it yields the last batch."""
    monkeypatch.setattr(reader, "PARSE_BATCH", batch)
    writer = FileWriter(tmp_path, 10)
    writer.write(THING, [(1, "a"), (2, "b"), (3, "c")])
    meta = DumpMeta(tmp_path, {}, {THING.label: THING}, tuple(writer.entries))
    verify_files(meta)
    path = tmp_path / meta.files[0].name
    path.write_bytes(path.read_bytes().replace(b"'c'", b"'C'"))
    yielded: list[tuple[Any, ...]] = []

    def read_all() -> None:
        for rows in read_rows(meta, meta.files[0]):
            yielded.extend(rows)

    with pytest.raises(ChecksumError, match=r"app_thing\.py"):
        read_all()
    assert ([(1, "a"), (2, "b")] if batch == 1 else []) == yielded


def test_row_count_that_differs_at_the_end_is_refused(tmp_path: Path) -> None:
    """A FILES row count that the file does not hold is refused by read_rows too."""
    writer = FileWriter(tmp_path, 10)
    writer.write(THING, [(1, "a")])
    entry = writer.entries[0]
    meta = DumpMeta(tmp_path, {}, {THING.label: THING}, (entry,))
    wrong = type(entry)(entry.model, entry.name, 2, entry.sha256)
    with pytest.raises(DumpFormatError, match=r"holds 1 row, restore\.py recorded 2"):
        list(read_rows(meta, wrong))


# Every model of SCHEMA accounted for in FILES (#12, 4).


def test_model_dropped_from_files_is_refused(dump: Path) -> None:
    """A model of SCHEMA without a FILES entry is refused, not emptied."""
    meta = read_script(dump)
    meta["FILES"] = tuple(e for e in meta["FILES"] if e[0] != "library.genre")
    write_script(dump, meta)
    assert_refused(
        dump, DumpFormatError, r"SCHEMA describes library\.genre but FILES lists no"
    )


def test_model_both_skipped_and_described_is_refused(dump: Path) -> None:
    """A model in SKIPPED must not be in SCHEMA: it has no rows to restore."""
    meta = read_script(dump)
    meta["PARTIAL"], meta["SKIPPED"] = True, {"kitchen.stamped": "unreadable"}
    write_script(dump, meta)
    assert_refused(dump, DumpFormatError, r"SKIPPED names kitchen\.stamped")


def test_skipped_model_of_partial_dump_is_left_alone(dump: Path) -> None:
    """A model that --tolerate skipped keeps its rows; the others are restored."""
    meta = read_script(dump)
    meta["PARTIAL"], meta["SKIPPED"] = True, {"kitchen.stamped": "unreadable"}
    del meta["SCHEMA"]["kitchen.stamped"]
    meta["FILES"] = tuple(e for e in meta["FILES"] if e[0] != "kitchen.stamped")
    write_script(dump, meta)
    before = database_state("other")["kitchen_stamped"]
    assert before
    restore(dump, using="other")
    assert before == database_state("other")["kitchen_stamped"]
    assert not Genre.objects.using("other").filter(name="only in other").exists()


# Only regular files inside the dump, bounded lines (#12, 10).


def test_data_file_linked_outside_the_dump_is_refused(dump: Path) -> None:
    """A symbolic link to a valid data file outside the dump is not followed."""
    path = dump / "library_genre_2.py"
    outside = dump.parent / "elsewhere.py"
    outside.write_text(path.read_text().replace("'", "'Linked ", 1))
    path.unlink()
    path.symlink_to(outside)
    reseal(dump, path.name)
    assert_refused(dump, DumpFormatError, r"library_genre_2\.py: .*symbolic link")


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_data_file_linked_to_a_device_is_refused(dump: Path, target: str) -> None:
    """A link to /dev/zero is refused at once, not read forever."""
    path = dump / "library_genre.py"
    path.unlink()
    path.symlink_to(target)
    assert_refused(dump, DumpFormatError, r"library_genre\.py: .*symbolic link")


def test_data_file_that_is_a_fifo_is_refused(dump: Path) -> None:
    """A FIFO is refused at once: opening it does not wait for a writer."""
    path = dump / "library_genre.py"
    path.unlink()
    os.mkfifo(path)
    try:
        assert_refused(dump, DumpFormatError, r"library_genre\.py: .* FIFO")
    finally:
        _release(path)


def _release(fifo: Path) -> None:
    """Give a reader stuck on *fifo* an end of file (before the fix it waits)."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def test_data_file_that_is_a_device_or_directory_is_refused(dump: Path) -> None:
    """A directory (or a device node, where one can be made) is refused."""
    path = dump / "library_genre.py"
    path.unlink()
    path.mkdir()
    assert_refused(dump, DumpFormatError, r"library_genre\.py: .* a directory")
    path.rmdir()
    try:
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        return
    assert_refused(dump, DumpFormatError, r"library_genre\.py: .* character device")


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_restore_script_that_is_not_a_regular_file_is_refused(
    dump: Path, kind: str
) -> None:
    """restore.py itself must be a regular file, not a link or a FIFO."""
    script = dump / "restore.py"
    if kind == "link":
        script.rename(dump.parent / "real_restore.py")
        script.symlink_to(dump.parent / "real_restore.py")
        match = "symbolic link"
    else:
        script.unlink()
        os.mkfifo(script)
        match = "FIFO"
    try:
        assert_refused(dump, DumpFormatError, rf"restore\.py: .*{match}")
    finally:
        if kind == "fifo":
            _release(script)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("library_genre\x00.py", "not a data file of library.genre"),
        ("../library_genre.py", "not a data file of library.genre"),
        ("/etc/passwd", "not a data file of library.genre"),
        ("library_genre/../library_genre.py", "not a data file of library.genre"),
        ("library_book.py", "not a data file of library.genre"),
        ("library_genre_2.py", "twice"),
    ],
)
def test_files_name_that_is_not_a_data_file_name_is_refused(
    dump: Path, name: str, match: str
) -> None:
    """A FILES name is a plain name of its model's data files, listed once."""
    meta = read_script(dump)
    meta["FILES"] = tuple(
        (m, name, r, s) if n == "library_genre.py" else (m, n, r, s)
        for m, n, r, s in meta["FILES"]
    )
    write_script(dump, meta)
    assert_refused(dump, DumpFormatError, re.escape(match))


@pytest.mark.parametrize(
    ("line", "resealed", "error", "match"),
    [
        ("COLUMNS = " + "-" * 100_000 + "1", False, ChecksumError, "the sha256 is"),
        ("COLUMNS = " + "-" * 100_000 + "1", True, DumpFormatError, "too deeply"),
        ("COLUMNS = " + "+".join(["1"] * 100_000), True, DumpFormatError, "COLUMNS"),
        ("MODEL = " + "(" * 100_000, True, DumpFormatError, "MODEL is not a literal"),
        ("# " + "x" * (2 << 20), True, DumpFormatError, "line 2 is longer than"),
        ("#\n" * 200, True, DumpFormatError, "in the first 100 lines"),
    ],
)
def test_oversized_header_is_refused(
    dump: Path, line: str, resealed: bool, error: type[Exception], match: str
) -> None:
    """A long or deeply nested header line gives an error, not MemoryError."""
    path = dump / "library_genre.py"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(1, line)
    path.write_text("\n".join(lines), encoding="utf-8")
    if resealed:
        reseal(dump, path.name)
    assert_refused(dump, error, rf"library_genre\.py: .*{re.escape(match)}")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("-" * 100_000 + "1", "too deeply"),
        ("+".join(["1"] * 200_000), "too deeply"),
        ("(" * 100_000 + ")" * 100_000, "too many nested parentheses"),
        ("'" + "x" * (65 << 20) + "'", "larger than"),
    ],
)
def test_oversized_or_nested_metadata_is_refused(
    dump: Path, value: str, match: str
) -> None:
    """restore.py metadata that is nested too deeply or too large is refused."""
    script = dump / "restore.py"
    text = script.read_text(encoding="utf-8")
    script.write_text(text.replace("SKIPPED = {}", f"SKIPPED = {value}"))
    assert_refused(dump, DumpFormatError, rf"restore\.py: .*{re.escape(match)}")


def test_run_refuses_nested_metadata_without_traceback(dump: Path) -> None:
    """manage.py run DIR/restore.py turns any refusal into a CommandError."""
    script = dump / "restore.py"
    text = script.read_text(encoding="utf-8")
    script.write_text(
        text.replace("SKIPPED = {}", "SKIPPED = " + "+".join(["1"] * 200_000))
    )
    raised = within_timeout(
        lambda: call_command("run", str(script), "--noinput", "--database", "other")
    )
    assert isinstance(raised, CommandError), repr(raised)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_model_without_rows_has_one_empty_data_file(tmp_path: Path) -> None:
    """The dumper lists every model of SCHEMA in FILES, one without rows too.

    Last in this module: its database flush would empty the module's databases.
    """
    Genre.objects.using("other").all().delete()
    call_command(
        "dump2py", str(tmp_path / "d"), "--noinput", "-v0", "--database", "other"
    )
    meta = read_script(tmp_path / "d")
    listed = {entry[0] for entry in meta["FILES"]}
    assert set(meta["SCHEMA"]) == listed
    empty = [e for e in meta["FILES"] if e[2] == 0]
    assert empty, "the populated test site has models without rows"
    for _model, name, _rows, _sha in empty:
        text = (tmp_path / "d" / name).read_text(encoding="utf-8")
        assert text.endswith("ROWS = (\n)\n")
