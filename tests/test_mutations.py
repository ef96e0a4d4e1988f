"""A mutation suite: damaged or hostile variants of one valid dump (#12).

One small valid dump is written once for the module. Each case copies it,
changes it (bit flips, truncation at every structural point, wrong column
counts, unknown columns, duplicate keys, keys to missing rows, invalid UTF-8,
NUL bytes, versions and formats, row counts, names, links, FIFOs), reseals
the checksums where the case says so (an attacker who controls the whole
dump recomputes them), and restores it into the 'other' database. Each case
states its outcome: refused with a :class:`LinoMigrateError` (no other
exception), the database unchanged, sequences included; or accepted, a
valid change of a valid dump. The oracle is the database read with raw SQL
before and after, not the code under test.
"""

from __future__ import annotations

import ast
import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from lino_migrate.exceptions import (
    ChecksumError,
    DumpFormatError,
    LinoMigrateError,
    LoadError,
    SchemaMismatchError,
)
from lino_migrate.restore.restorer import restore
from tests.site.data import populate
from tests.site.library.models import Genre
from tests.test_hostile_dumps import (
    database_state,
    read_script,
    require_test_databases,
    reseal,
    within_timeout,
    write_script,
)

GENRE = "library_genre.py"
BOOK = "library_book.py"


@dataclass(frozen=True)
class Case:
    """One mutation and its expected outcome."""

    id: str
    mutate: Callable[[Path], None]
    #: the error expected, or None when the mutated dump is valid
    error: type[LinoMigrateError] | None = DumpFormatError
    #: a regular expression the message must match
    match: str = ""
    #: record the new sha256 and row counts of the changed data files
    resealed: bool = False
    #: the outcome on SQLite when it differs (it stores NUL, ignores lengths)
    on_sqlite: type[LinoMigrateError] | str | None = "same"

    def expected(self) -> type[LinoMigrateError] | None:
        """Return the error expected on this database's backend, or None."""
        if self.on_sqlite != "same" and connections["other"].vendor == "sqlite":
            return self.on_sqlite  # type: ignore[return-value]
        return self.error


def on_file(name: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """Return a mutation changing the bytes of data file *name*."""

    def mutate(dump: Path) -> None:
        path = dump / name
        path.write_bytes(change(path.read_bytes()))

    return mutate


def on_script(change: Callable[[str], str]) -> Callable[[Path], None]:
    """Return a mutation changing the text of ``restore.py``."""

    def mutate(dump: Path) -> None:
        path = dump / "restore.py"
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    return mutate


def on_meta(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    """Return a mutation changing the metadata of ``restore.py``, rewritten."""

    def mutate(dump: Path) -> None:
        meta = read_script(dump)
        change(meta)
        write_script(dump, meta)

    return mutate


def flip(data: bytes, at: int, bit: int = 1) -> bytes:
    """Return *data* with bit *bit* of byte *at* inverted."""
    return data[:at] + bytes([data[at] ^ bit]) + data[at + 1 :]


def at_text(marker: bytes, offset: int = 0) -> Callable[[bytes], int]:
    """Return a function finding *marker* in bytes, plus *offset*."""
    return lambda data: data.index(marker) + offset


def flip_at(where: Callable[[bytes], int], bit: int = 1) -> Callable[[bytes], bytes]:
    """Return a change that flips a bit at the offset *where* finds."""
    return lambda data: flip(data, where(data), bit)


def cut_at(where: Callable[[bytes], int]) -> Callable[[bytes], bytes]:
    """Return a change that truncates the data at the offset *where* finds."""
    return lambda data: data[: where(data)]


def row_line(index: int) -> Callable[[bytes], int]:
    """Return a function finding the start of row line *index* (from 0)."""

    def find(data: bytes) -> int:
        starts = [m.start() for m in re.finditer(rb"^    \(", data, re.MULTILINE)]
        return starts[index]

    return find


def replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """Return a change replacing the first *old* by *new*."""

    def change(data: bytes) -> bytes:
        assert old in data, old
        return data.replace(old, new, 1)

    return change


def in_rows(
    change: Callable[[list[Any]], object], name: str = GENRE
) -> Callable[[Path], None]:
    """Return a mutation of the first row of *name*, written back by repr()."""

    def mutate(dump: Path) -> None:
        path = dump / name
        lines = path.read_text(encoding="utf-8").split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("    ("))
        row = list(ast.literal_eval(lines[at].strip().rstrip(",")))
        change(row)
        lines[at] = f"    {tuple(row)!r},"
        path.write_text("\n".join(lines), encoding="utf-8")

    return mutate


def _structural_points() -> list[tuple[str, Callable[[bytes], int]]]:
    line = at_text(b"\n")
    return [
        ("empty", lambda d: 0),
        ("mid-comment", lambda d: 10),
        ("after-comment", lambda d: line(d) + 1),
        ("mid-MODEL", at_text(b"MODEL = ", 5)),
        ("after-MODEL", at_text(b"COLUMNS")),
        ("mid-COLUMNS", at_text(b"COLUMNS = ", 12)),
        ("after-COLUMNS", at_text(b"ROWS = (")),
        ("mid-ROWS", at_text(b"ROWS = (", 4)),
        ("after-ROWS-no-newline", at_text(b"ROWS = (", 8)),
        ("after-ROWS", at_text(b"ROWS = (\n", 9)),
        ("mid-row", lambda d: row_line(0)(d) + 7),
        ("after-first-row", row_line(1)),
        ("before-close", lambda d: len(d) - 2),
        ("after-close-no-newline", lambda d: len(d) - 1),
    ]


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    # Truncation at every structural point of a data file, sealed or not.
    for name, where in _structural_points():
        add(Case(f"truncate-{name}", on_file(GENRE, cut_at(where)), ChecksumError))
        add(
            Case(
                f"truncate-{name}-resealed",
                on_file(GENRE, cut_at(where)),
                resealed=True,
            )
        )
    # Bit flips at structural characters; sealed they break the checksum.
    flips = [
        ("comment", lambda d: 0),
        ("MODEL", at_text(b"MODEL")),
        ("COLUMNS-name", at_text(b"'name'", 1)),
        ("ROWS-paren", at_text(b"ROWS = (", 7)),
        ("row-paren", lambda d: row_line(0)(d) + 4),
        ("row-comma", at_text(b"),\n", 1)),
        ("row-quote", at_text(b"'F")),
        ("close-paren", lambda d: len(d) - 2),
        ("newline", lambda d: len(d) - 1),
        ("row-newline", at_text(b"),\n", 2)),
    ]
    for name, where in flips:
        add(Case(f"flip-{name}", on_file(GENRE, flip_at(where)), ChecksumError))
        add(
            Case(f"flip-{name}-resealed", on_file(GENRE, flip_at(where)), resealed=True)
        )
    add(
        Case(
            "flip-high-bit",
            on_file(GENRE, flip_at(at_text(b"Fiction"), 0x80)),
            ChecksumError,
        )
    )
    add(
        Case(
            "flip-high-bit-resealed",
            on_file(GENRE, flip_at(at_text(b"Fiction"), 0x80)),
            match="not UTF-8",
            resealed=True,
        )
    )
    # A valid change of a value: 'Fiction' -> 'Giction'.
    add(
        Case("flip-letter", on_file(GENRE, flip_at(at_text(b"Fiction"))), ChecksumError)
    )
    add(
        Case(
            "flip-letter-resealed",
            on_file(GENRE, flip_at(at_text(b"Fiction"))),
            None,
            resealed=True,
        )
    )
    # Rows of the wrong shape, unknown columns, bad values.
    rows = [
        (
            "one-value-fewer",
            in_rows(lambda r: r.pop()),
            DumpFormatError,
            "expected a tuple of 2",
        ),
        (
            "one-value-more",
            in_rows(lambda r: r.append(1)),
            DumpFormatError,
            "expected a tuple of 2",
        ),
        (
            "a-list",
            on_file(GENRE, replace(b"    (1, ", b"    [1, ")),
            DumpFormatError,
            "",
        ),
        (
            "a-call",
            on_file(GENRE, replace(b"    (1, ", b"    (int(), ")),
            DumpFormatError,
            "not literal rows",
        ),
        (
            "a-name",
            on_file(GENRE, replace(b"    (1, ", b"    (x, ")),
            DumpFormatError,
            "not literal rows",
        ),
        (
            "an-expression",
            on_file(GENRE, replace(b"    (1, ", b"    (1+1, ")),
            DumpFormatError,
            "not literal rows",
        ),
        (
            "a-nul-byte",
            on_file(GENRE, replace(b"Fiction", b"Fic\x00tion")),
            DumpFormatError,
            "",
        ),
        (
            "a-nul-escape",
            on_file(GENRE, replace(b"Fiction", b"Fic\\x00tion")),
            LoadError,
            "",
        ),
        (
            "invalid-utf8",
            on_file(GENRE, replace(b"Fiction", b"Fic\xfftion")),
            DumpFormatError,
            "not UTF-8",
        ),
        (
            "cr-line-ends",
            on_file(GENRE, lambda d: d.replace(b"\n", b"\r\n")),
            DumpFormatError,
            "",
        ),
        (
            "unknown-column",
            on_file(GENRE, replace(b"('id', 'name')", b"('id', 'nom')")),
            DumpFormatError,
            "COLUMNS",
        ),
        (
            "extra-column",
            on_file(GENRE, replace(b"('id', 'name')", b"('id', 'name', 'x')")),
            DumpFormatError,
            "COLUMNS",
        ),
        (
            "other-model",
            on_file(GENRE, replace(b"'library.genre'", b"'library.book'")),
            DumpFormatError,
            "MODEL",
        ),
        (
            "duplicate-pk",
            on_file(
                GENRE,
                lambda d: d.replace(b"ROWS = (\n", b"ROWS = (\n    (2, 'Twin'),\n"),
            ),
            LoadError,
            "library.genre",
        ),
        (
            "null-in-not-null",
            in_rows(lambda r: r.__setitem__(1, None)),
            LoadError,
            "library.genre",
        ),
        (
            "text-in-integer-pk",
            in_rows(lambda r: r.__setitem__(0, "x")),
            LoadError,
            "library.genre",
        ),
        (
            "huge-integer",
            in_rows(lambda r: r.__setitem__(0, 10**30)),
            LoadError,
            "library.genre",
        ),
        (
            "fk-to-missing-row",
            in_rows(lambda r: r.__setitem__(3, "no-such-author"), BOOK),
            LoadError,
            "library.book",
        ),
        (
            "bytes-in-charfield",
            in_rows(lambda r: r.__setitem__(1, b"bytes")),
            LoadError,
            "library.genre",
        ),
        (
            "text-too-long",
            in_rows(lambda r: r.__setitem__(1, "x" * 10_000)),
            LoadError,
            "library.genre",
        ),
    ]
    # SQLite stores a NUL in text and ignores max_length: valid there.
    sqlite_accepts = {"a-nul-escape", "text-too-long"}
    for name, mutate, error, match in rows:
        add(Case(f"row-{name}", mutate, ChecksumError))
        on_sqlite = None if name in sqlite_accepts else "same"
        add(Case(f"row-{name}-resealed", mutate, error, match, True, on_sqlite))
    # restore.py: formats, versions, counts, names, the accounting of models.
    meta_cases = [
        (
            "future-format",
            on_script(lambda t: t.replace("FORMAT = 1", "FORMAT = 2")),
            "dump format 2",
        ),
        (
            "format-as-text",
            on_script(lambda t: t.replace("FORMAT = 1", "FORMAT = '1'")),
            "dump format '1'",
        ),
        (
            "format-as-float",
            on_script(lambda t: t.replace("FORMAT = 1", "FORMAT = 1.0")),
            "dump format 1.0",
        ),
        (
            "format-as-bool",
            on_script(lambda t: t.replace("FORMAT = 1", "FORMAT = True")),
            "dump format True",
        ),
        (
            "format-missing",
            on_script(lambda t: t.replace("FORMAT = 1\n", "")),
            "FORMAT missing",
        ),
        (
            "files-missing",
            on_script(lambda t: t.replace("FILES = (", "FILE = (")),
            "FILES missing",
        ),
        (
            "schema-not-a-dict",
            on_meta(lambda m: m.__setitem__("SCHEMA", [])),
            "malformed",
        ),
        (
            "files-not-tuples",
            on_meta(lambda m: m.__setitem__("FILES", ("x",))),
            "malformed",
        ),
        (
            "files-entry-short",
            on_meta(
                lambda m: m.__setitem__(
                    "FILES", (*m["FILES"][:1], m["FILES"][1][:3], *m["FILES"][2:])
                )
            ),
            "malformed",
        ),
        (
            "rows-absurd",
            on_meta(lambda m: _set_file(m, GENRE, rows=10**30)),
            "restore.py recorded 10000",
        ),
        ("rows-negative", on_meta(lambda m: _set_file(m, GENRE, rows=-1)), "-1 rows"),
        ("rows-zero", on_meta(lambda m: _set_file(m, GENRE, rows=0)), "holds 2 rows"),
        ("rows-as-text", on_meta(lambda m: _set_file(m, GENRE, rows="2")), "malformed"),
        (
            "sha-uppercase",
            on_meta(lambda m: _set_file(m, GENRE, sha=m["FILES"][0][3].upper())),
            "64 hex",
        ),
        (
            "sha-other-file",
            on_meta(lambda m: _set_file(m, GENRE, sha=m["FILES"][0][3])),
            "the sha256 is",
        ),
        (
            "name-nul",
            on_meta(lambda m: _set_file(m, GENRE, name="library_genre\x00.py")),
            "not a data file",
        ),
        (
            "name-parent",
            on_meta(lambda m: _set_file(m, GENRE, name="../library_genre.py")),
            "not a data file",
        ),
        (
            "name-absolute",
            on_meta(lambda m: _set_file(m, GENRE, name="/etc/hostname")),
            "not a data file",
        ),
        (
            "name-restore-py",
            on_meta(lambda m: _set_file(m, GENRE, name="restore.py")),
            "not a data file",
        ),
        (
            "name-duplicate",
            on_meta(lambda m: _set_file(m, GENRE, name="library_genre_2.py")),
            "twice",
        ),
        (
            "name-missing-file",
            on_meta(lambda m: _set_file(m, GENRE, name="library_genre_9.py")),
            "cannot read",
        ),
        (
            "model-dropped-from-files",
            on_meta(
                lambda m: m.__setitem__(
                    "FILES", tuple(e for e in m["FILES"] if e[0] != "library.genre")
                )
            ),
            "FILES lists no data file",
        ),
        (
            "model-dropped-from-schema",
            on_meta(lambda m: m["SCHEMA"].pop("library.genre")),
            "SCHEMA does not describe",
        ),
        (
            "model-skipped-and-described",
            on_meta(lambda m: m.__setitem__("SKIPPED", {"library.genre": "x"})),
            "SKIPPED names",
        ),
        (
            "skipped-not-a-dict",
            on_meta(lambda m: m.__setitem__("SKIPPED", "all")),
            "SKIPPED is",
        ),
        (
            "schema-label-path",
            on_meta(lambda m: _rename_model(m, "library.genre", "../x.genre")),
            "not a model label",
        ),
        (
            "schema-pk-unknown",
            on_meta(
                lambda m: m["SCHEMA"]["library.genre"].__setitem__("pk", ("nope",))
            ),
            "primary key",
        ),
        (
            "schema-field-twice",
            on_meta(lambda m: _dup_field(m, "library.genre")),
            "lists a field twice",
        ),
        (
            "schema-name-not-text",
            on_meta(lambda m: m["SCHEMA"]["library.genre"].__setitem__("table", 7)),
            "not a string",
        ),
        (
            "nested-metadata",
            on_script(
                lambda t: t.replace("SKIPPED = {}", "SKIPPED = " + "-" * 100_000 + "1")
            ),
            "too deeply",
        ),
        (
            "code-in-metadata",
            on_script(
                lambda t: t.replace("PARTIAL = False", "PARTIAL = __import__('os')")
            ),
            "PARTIAL is not a literal",
        ),
        (
            "nul-in-script",
            on_script(lambda t: t.replace("PARTIAL = False", "PARTIAL = False\x00")),
            "cannot parse",
        ),
        (
            "script-truncated-in-schema",
            on_script(lambda t: t[: t.index("SCHEMA = ") + 200]),
            "cannot parse",
        ),
        (
            "script-truncated-in-files",
            on_script(lambda t: t[: t.index("FILES = ") + 200]),
            "cannot parse",
        ),
        (
            "script-truncated-before-files",
            on_script(lambda t: t[: t.index("FILES = ")]),
            "FILES missing",
        ),
    ]
    for name, mutate, match in meta_cases:
        add(Case(f"meta-{name}", mutate, DumpFormatError, re.escape(match)))
    add(
        Case(
            "meta-dump-newer-than-code",
            on_meta(lambda m: m["VERSIONS"].__setitem__("library", "99.0")),
            SchemaMismatchError,
        )
    )
    add(
        Case(
            "meta-unparsable-version",
            on_meta(lambda m: m["VERSIONS"].__setitem__("library", "not a version")),
            LinoMigrateError,
        )
    )
    add(
        Case(
            "meta-field-not-in-files",
            on_meta(lambda m: _add_field(m, "library.genre")),
            DumpFormatError,
            "COLUMNS",
        )
    )
    add(
        Case(
            "field-unknown-to-model",
            _ghost_field,
            SchemaMismatchError,
            "ghost",
            resealed=True,
        )
    )
    # Files that are not regular files of the dump.
    add(
        Case(
            "link-to-dev-zero",
            lambda d: _replace_by(d / GENRE, lambda p: p.symlink_to("/dev/zero")),
            match="symbolic link",
        )
    )
    add(
        Case(
            "link-inside-dump",
            lambda d: _replace_by(
                d / "library_genre_2.py", lambda p: p.symlink_to(d / GENRE)
            ),
            match="symbolic link",
        )
    )
    add(Case("fifo", lambda d: _replace_by(d / GENRE, os.mkfifo), match="FIFO"))
    add(
        Case(
            "directory", lambda d: _replace_by(d / GENRE, Path.mkdir), match="directory"
        )
    )
    add(
        Case(
            "script-link",
            lambda d: _replace_by(d / "restore.py", lambda p: p.symlink_to(d / GENRE)),
            match="symbolic link",
        )
    )
    return cases


def _set_file(meta: dict[str, Any], file_name: str, **change: Any) -> None:
    files = []
    for model, file, rows, sha in meta["FILES"]:
        if file == file_name:
            rows, sha = change.get("rows", rows), change.get("sha", sha)
            file = change.get("name", file)
        files.append((model, file, rows, sha))
    meta["FILES"] = tuple(files)


def _rename_model(meta: dict[str, Any], old: str, new: str) -> None:
    meta["SCHEMA"][new] = meta["SCHEMA"].pop(old)
    meta["FILES"] = tuple((new if e[0] == old else e[0], *e[1:]) for e in meta["FILES"])


def _dup_field(meta: dict[str, Any], label: str) -> None:
    entry = meta["SCHEMA"][label]
    entry["fields"] = (*entry["fields"], entry["fields"][-1])


def _add_field(meta: dict[str, Any], label: str) -> None:
    """Describe a field the current model lacks, in SCHEMA and in the rows."""
    entry = meta["SCHEMA"][label]
    entry["fields"] = (
        *entry["fields"],
        ("ghost", "ghost", "ghost", "TextField", True, None),
    )


def _ghost_field(dump: Path) -> None:
    """Add a field the current model lacks: to SCHEMA, COLUMNS and every row."""
    on_meta(lambda m: _add_field(m, "library.genre"))(dump)
    for name in (GENRE, "library_genre_2.py"):
        path = dump / name
        text = path.read_text(encoding="utf-8")
        text = text.replace("('id', 'name')", "('id', 'name', 'ghost')")
        text = re.sub(r"\),\n", ", None),\n", text)
        path.write_text(text, encoding="utf-8")


def _replace_by(path: Path, make: Callable[[Path], object]) -> None:
    path.unlink()
    make(path)


CASES = _cases()


@pytest.fixture(scope="module")
def dumps(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[dict[str, Path]]:
    """Return the valid dump of 'default' and a dump of 'other' as it was first.

    'other' holds rows of its own, so that a partial restore would show.
    """
    require_test_databases()
    tmp = tmp_path_factory.mktemp("mutations")
    with django_db_blocker.unblock():
        populate("default")
        call_command(
            "dump2py", str(tmp / "valid"), "--noinput", "-v0", "--max-row-count", "2"
        )
        populate("other", portable=True)
        Genre.objects.using("other").create(name="only in other")
        call_command(
            "dump2py", str(tmp / "other"), "--noinput", "-v0", "--database", "other"
        )
        yield {"valid": tmp / "valid", "other": tmp / "other"}
        for alias in ("default", "other"):
            call_command("flush", "--noinput", "--database", alias, verbosity=0)


#: Cases that find a bug outside the reader, fixed elsewhere: (id, reason).
KNOWN_BUGS: dict[str, str] = {}
ENGINE = settings.DATABASES["other"]["ENGINE"].rpartition(".")[2]
#: Cases where ``dumpplan`` says the restore would work and the restore fails,
#: ``id@engine`` -> what only the database can know. The plan never lies:
#: a new disagreement fails, and so does one of these that no longer occurs.
PLAN_DISAGREES: dict[str, str] = {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[key])]
            if (key := f"{c.id}@{ENGINE}") in KNOWN_BUGS
            else [],
        )
        for c in CASES
    ],
)
def test_mutation(
    case: Case, dumps: dict[str, Path], tmp_path: Path, django_db_blocker: Any
) -> None:
    """The mutated dump is refused with a clear error and changes nothing, or is valid."""
    dump = tmp_path / "dump"
    shutil.copytree(dumps["valid"], dump)
    names = {p.name: p.read_bytes() for p in dump.iterdir()}
    case.mutate(dump)
    if case.resealed:
        for name, data in names.items():
            path = dump / name
            if name != "restore.py" and path.is_file() and path.read_bytes() != data:
                reseal(dump, name)
    hangs = case.id in ("fifo", "link-to-dev-zero")
    with django_db_blocker.unblock():
        before = database_state("other")
        planned = _plan(dump, hangs=hangs)
        raised = _restore(dump, hangs=hangs)
        _assert_plan_agrees(case, planned, raised)
        error = case.expected()
        if error is None:
            assert raised is None, f"{type(raised).__name__}: {raised}"
            restore(dumps["other"] / "restore.py", using="other")
            return
        assert isinstance(raised, error), f"{type(raised).__name__}: {raised}"
        assert re.search(case.match, str(raised)), str(raised)
        after = database_state("other")
    assert before == after


def _plan(dump: Path, *, hangs: bool) -> BaseException | None:
    """Run ``dumpplan`` on *dump* for 'other'; return its error (None: it would work)."""

    def plan() -> None:
        out = io.StringIO()
        call_command("dumpplan", str(dump), "--database", "other", stdout=out)

    if hangs:
        return within_timeout(plan)
    try:
        plan()
    except CommandError as e:
        return e
    return None


def _assert_plan_agrees(
    case: Case, planned: BaseException | None, raised: BaseException | None
) -> None:
    """When ``dumpplan`` said the restore works, it worked (#12)."""
    assert planned is None or isinstance(planned, CommandError), repr(planned)
    key = f"{case.id}@{ENGINE}"
    lied = planned is None and raised is not None
    if key in PLAN_DISAGREES:
        assert lied, f"{key} agrees now: remove it from PLAN_DISAGREES"
        return
    assert not lied, f"dumpplan said the restore works; it raised {raised!r}"


def _restore(dump: Path, *, hangs: bool) -> BaseException | None:
    """Restore *dump* into 'other'; return the error. Where it may hang, in a thread."""
    if hangs:
        return within_timeout(lambda: restore(dump / "restore.py", using="other"))
    try:
        restore(dump / "restore.py", using="other")
    except Exception as e:
        return e
    return None


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_suite_size() -> None:
    """The suite tries at least 80 mutations (last: its flush empties the databases)."""
    print(f"\nmutation suite: {len(CASES)} cases")
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)
