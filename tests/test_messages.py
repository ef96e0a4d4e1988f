"""What lino_migrate says reads right: counts, full stops, one rollback sentence (#14).

Every message text of the common paths is collected (the output and the
errors of the commands, run in this process, when they work and when they
fail; every exception of :mod:`lino_migrate.exceptions` made with sample data)
and read by rules that know nothing of the code: no doubled full stop, no
``1 rows``, no ``row(s)``. The restore's question and its JSON report are
checked against figures computed from the database, not from the dump.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connections

import lino_migrate.exceptions as exceptions_module
from lino_migrate.exceptions import LoadError, plural
from lino_migrate.format.layout import NATURAL_KEYS
from tests.dumps import reseal
from tests.site.data import populate
from tests.site.kitchen.models import Sample

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])

#: A doubled full stop that is neither an ellipsis nor part of a path.
_DOUBLED = re.compile(r"(?<![./])\.\.(?![./])")
#: A count of one with a plural noun, or a plural left to the reader.
_ONE_PLURAL = re.compile(
    r"(?<![\d.,])\b1 (rows|models|files|tables|problems|migrations)\b"
)
_HEDGED = re.compile(r"\w\(s\)")


def _problems(text: str) -> list[str]:
    """Return what is wrong with the wording of *text*."""
    found = [f"doubled full stop near {m.group()!r}" for m in _DOUBLED.finditer(text)]
    found += [f"'{m.group()}'" for m in _ONE_PLURAL.finditer(text)]
    found += [f"hedged plural '{m.group()}'" for m in _HEDGED.finditer(text)]
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Restored 1 rows of 2 models.", ["'1 rows'"]),
        ("Wrote 11 rows.", []),
        ("Found 3 problem(s).", ["hedged plural 'm(s)'"]),
        ("Nothing was written..", ["doubled full stop near '..'"]),
        ("Wait... then /tmp/../x and 2.5.", []),
    ],
)
def test_the_rules_catch_what_they_should(text: str, expected: list[str]) -> None:
    """The rules themselves: each catches its slip and lets good text pass."""
    assert expected == _problems(text)


def test_plural() -> None:
    """One is singular; zero and many are plural; irregular plurals are given."""
    assert ["1 row", "0 rows", "2 rows", "1 entry", "3 entries"] == [
        plural(1, "row"),
        plural(0, "row"),
        plural(2, "row"),
        plural(1, "entry", "entries"),
        plural(3, "entry", "entries"),
    ]


#: Sample data for every exception of lino_migrate.exceptions, by class name;
#: counts of one, to catch a plural written regardless of the count.
SAMPLES: dict[str, Callable[[], BaseException]] = {
    "ChecksumError": lambda: exceptions_module.ChecksumError(
        Path("/d/a.py"), "ab" * 32, "cd" * 32
    ),
    "DatabaseNotReadyError": lambda: exceptions_module.DatabaseNotReadyError(
        "default", [("library_author", "library.author")]
    ),
    "DatabaseUnavailableError": lambda: exceptions_module.DatabaseUnavailableError(
        "x", "PostgreSQL u@h:1/db", OSError("connection refused.")
    ),
    "DumpExistsError": lambda: exceptions_module.DumpExistsError(Path("/d")),
    "ExcludeError": lambda: exceptions_module.ExcludeError(["nope"], ["library"]),
    "DumpFormatError": lambda: exceptions_module.DumpFormatError(
        Path("/d/restore.py"), "FORMAT is 9, this version reads 1."
    ),
    "DumpNotFoundError": lambda: exceptions_module.DumpNotFoundError(
        Path("/d"), "nothing"
    ),
    "DumpReadError": lambda: exceptions_module.DumpReadError(
        "library.author", OSError("disk I/O error.")
    ),
    "DumpWorkerError": lambda: exceptions_module.DumpWorkerError(
        "library.book", "library_book_2.py", "it died (killed by signal 9)."
    ),
    "DumpWriteError": lambda: exceptions_module.DumpWriteError(
        Path("/d"), OSError(28, "No space left on device.")
    ),
    "EncodeError": lambda: exceptions_module.EncodeError(
        "kitchen.sample", 1, "date", "garbage", ValueError("not a date.")
    ),
    "InvalidValueError": lambda: exceptions_module.InvalidValueError(
        "kitchen.sample", "x", "found str 'x', expected an int.", pk=1, field="rank"
    ),
    "SettingError": lambda: exceptions_module.SettingError(
        "SOURCE_DATE_EPOCH", "yesterday", "a whole number of seconds"
    ),
    "LinoDumpError": lambda: exceptions_module.LinoDumpError(
        Path("/lino"), ["a.py, line 3: an argument that is not a literal: f(1)"]
    ),
    "LinoMigrateError": lambda: exceptions_module.LinoMigrateError("Something."),
    "LoadError": lambda: exceptions_module.LoadError(
        "library.author", "UNIQUE constraint failed.", pk=1, file="a.py"
    ),
    "MakeMigratorError": lambda: exceptions_module.MakeMigratorError(
        "no app 'x'.", Path("/m.py"), 3
    ),
    "MediaConflictError": lambda: exceptions_module.MediaConflictError(
        ["uploads/a.txt (FileSystemStorage at /srv/media)"]
    ),
    "MediaMissingError": lambda: exceptions_module.MediaMissingError(
        ["kitchen.sample pk=1 field 'file': 'uploads/a.txt' (not found)"]
    ),
    "MediaWriteError": lambda: exceptions_module.MediaWriteError(
        ["uploads/a.txt: Permission denied"]
    ),
    "NamePatternError": lambda: exceptions_module.NamePatternError(
        "daily", "has not exactly one '{date:FORMAT}' field"
    ),
    "StorageError": lambda: exceptions_module.StorageError(
        "backups", "not in settings.STORAGES (its aliases: default); add it there"
    ),
    "MigrateFailedError": lambda: exceptions_module.MigrateFailedError(
        "default", "SQLite /db", OSError("disk I/O error.")
    ),
    "NotADumpError": lambda: exceptions_module.NotADumpError(
        Path("/d"), "a regular file"
    ),
    "RehearsalFailedError": lambda: exceptions_module.RehearsalFailedError(1),
    "RehearsalNeedsSchemaError": lambda: exceptions_module.RehearsalNeedsSchemaError(
        "default", "SQLite /db", "apply 1 migration"
    ),
    "RestoreCancelledError": lambda: exceptions_module.RestoreCancelledError(
        "database 'default' (SQLite /db)", "no"
    ),
    "SchemaKeptError": lambda: exceptions_module.SchemaKeptError(
        "default",
        exceptions_module.LoadError("library.author", "UNIQUE constraint failed."),
    ),
    "SchemaMismatchError": lambda: exceptions_module.SchemaMismatchError(["one."]),
    "SequenceError": lambda: exceptions_module.SequenceError(
        "s", "t", RuntimeError("must be owner.")
    ),
    "UpgradeError": lambda: exceptions_module.UpgradeError(["one"]),
    "WorkerError": lambda: exceptions_module.WorkerError(
        "library.book.py", "was killed by signal 9 (SIGKILL) before it was done"
    ),
    "UsageError": lambda: exceptions_module.UsageError(
        "manage.py run d/restore.py", "unrecognized arguments: --x."
    ),
}


def test_every_exception_has_a_sample() -> None:
    """A new exception class gets a sample here, so that its message is read too."""
    classes = {
        name
        for name in exceptions_module.__all__
        if inspect.isclass(getattr(exceptions_module, name))
    }
    assert classes == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_exception_messages_read_right(name: str) -> None:
    """Every exception's message: one full stop, singular for one."""
    error = SAMPLES[name]()
    assert name == type(error).__name__
    assert [] == _problems(str(error))


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """Return a dump of the populated default database."""
    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    return tmp_path / "d"


def _refuse_rows(dump: Path, count: int) -> None:
    """Give *count* rows of ``kitchen_sample.py`` a str in an int column; reseal."""
    path = dump / "kitchen_sample.py"
    lines = path.read_text(encoding="utf-8").split("\n")
    columns = next(line for line in lines if line.startswith("COLUMNS = "))
    at = ast.literal_eval(columns.removeprefix("COLUMNS = ")).index("rank")
    rows = [i for i, line in enumerate(lines) if line.startswith("    (")]
    assert len(rows) >= count
    for i in rows[:count]:
        row = list(ast.literal_eval(lines[i].strip().rstrip(",")))
        row[at] = "twelve"
        lines[i] = f"    {tuple(row)!r},"
    path.write_text("\n".join(lines), encoding="utf-8")
    reseal(dump, path.name)


def _said(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[str, str]:
    """Run a command; return its output and its error or ``""``, as texts."""
    capsys.readouterr()
    error = ""
    try:
        call_command(*map(str, args))
    except CommandError as e:
        error = str(e)
    out = capsys.readouterr()
    return out.out + out.err, error


@BOTH
def test_common_paths_read_right(
    dump_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The output and errors of the commands, working and failing, read right."""
    script = dump_dir / "restore.py"
    texts = [
        _said(capsys, "dump2py", tmp_path / "e", "--noinput", "-v2"),
        _said(capsys, "dump2py", tmp_path / "s", "--simulate", "-v2"),
        _said(
            capsys, "restoredump", dump_dir, "--noinput", "--database", "other", "-v2"
        ),
        _said(capsys, "dumpplan", dump_dir, "--database", "other"),
        _said(capsys, "dumpcompare", dump_dir, tmp_path / "e"),
        _said(capsys, "upgradedump", dump_dir, tmp_path / "u", "--noinput", "-v2"),
    ]
    _refuse_rows(dump_dir, 1)
    texts.append(_said(capsys, "run", script, "--simulate", "--database", "other"))
    texts.append(_said(capsys, "dumpplan", dump_dir, "--database", "other"))
    texts.append(_said(capsys, "dumpcompare", dump_dir, tmp_path / "e"))
    texts.append(_said(capsys, "run", script, "--noinput", "--database", "other"))
    said = "\n".join(out + "\n" + error for out, error in texts)
    # The paths that count one were reached: one group, one refused row.
    assert "auth.group: 1 row in 1 file" in said
    assert "auth_group.py: 1 row\n" in said
    assert "1 problem," in said
    assert "found 1 row the database refuses" in said
    assert [] == _problems(said)


@BOTH
def test_a_rehearsal_says_once_that_it_rolled_back(
    dump_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several refused rows: each listed once, the rollback said once, at the end."""
    _refuse_rows(dump_dir, 3)
    out, error = _said(
        capsys, "run", dump_dir / "restore.py", "--simulate", "--database", "other"
    )
    refused = [line for line in out.splitlines() if line.startswith("REFUSED: ")]
    assert 3 == len(refused)
    assert all("field 'rank'" in line for line in refused)
    assert 1 == (out + error).count("rolled back")
    assert out.rstrip().splitlines()[-1].startswith("Rehearsed (rolled back): ")
    assert "The rehearsal found 3 rows the database refuses" in error
    assert [] == _problems(out + error)


def test_a_load_error_keeps_its_detail_apart() -> None:
    """The refused row alone, for a list; the whole message says the rollback."""
    error = LoadError("library.author", "too long.", pk=3, field="name")
    assert "Could not restore 'library.author' row pk=3 field 'name': too long." == (
        error.detail
    )
    assert str(error).startswith(error.detail + " The restore was rolled back")


@pytest.mark.django_db(transaction=True)
def test_a_value_that_does_not_parse_is_not_a_valid_value(tmp_path: Path) -> None:
    """A date column holding garbage: the dump says it is not a valid DateField value."""
    populate("default")
    table = Sample._meta.db_table
    with connections["default"].cursor() as cursor:
        if connections["default"].vendor != "sqlite":
            pytest.skip("only SQLite stores text in a date column")
        cursor.execute(f"UPDATE {table} SET date = 'garbage' WHERE id = 1")
    with pytest.raises(CommandError) as error:
        call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    assert "'garbage' is not a valid DateField value" in str(error.value)
    assert [] == _problems(str(error.value))


def _source_rows(labels: list[str], using: str) -> int:
    """Return the rows the database *using* holds for the models *labels*."""
    return sum(
        apps.get_model(label)._base_manager.using(using).count() for label in labels
    )


def _labels(dump: Path) -> list[str]:
    """Return the model labels of a dump, read as text from its restore.py."""
    text = (dump / "restore.py").read_text(encoding="utf-8")
    files = text.split("\nFILES = (\n")[1].split("\n)\n")[0]
    return sorted(set(re.findall(r"^    \('([\w.]+)', ", files, re.M)))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("command", ["run", "restoredump"])
def test_the_question_names_database_dump_rows_and_models(
    command: str,
    dump_dir: Path,
    make_database: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The question names the database file, the dump, its rows; 'no' changes nothing."""
    labels = _labels(dump_dir)
    rows = _source_rows(labels, "default")
    site = make_database("asked")
    questions: list[str] = []
    answers = iter(["no", "yes"])

    def ask(question: str) -> str:
        questions.append(question)
        return next(answers)

    monkeypatch.setattr(builtins, "input", ask)
    target = dump_dir / "restore.py" if command == "run" else dump_dir
    with site.connected() as alias:
        with pytest.raises(CommandError, match="Restore cancelled") as error:
            call_command(command, str(target), "--database", alias)
        assert "'no'" in str(error.value)
        assert site.database in str(error.value)
        assert 0 == _source_rows(["library.author"], alias)
        call_command(command, str(target), "--database", alias, "-v0")
        assert _source_rows(["library.author"], alias) > 0
    assert 2 == len(questions)
    question = questions[0]
    assert str(dump_dir) in question
    assert site.database in question
    assert f"database '{alias}'" in question
    assert f"holding {rows} rows of {len(labels)} models" in question
    replaced = [label for label in labels if label not in NATURAL_KEYS]
    assert f"Every row of {len(replaced)} models there is replaced: " in question
    assert ", ".join(replaced[:5]) in question
    assert "at the same app versions as this code" in question
    assert question.endswith("Type 'yes' to continue: ")
    password = str(connections["default"].settings_dict.get("PASSWORD") or "")
    assert not password or password not in question


@BOTH
def test_the_question_names_the_versions_that_differ(
    dump_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dump from other app versions says which, old and new."""
    script = dump_dir / "restore.py"
    text = script.read_text(encoding="utf-8")
    match = re.search(r"'library': '([^']+)'", text)
    assert match is not None
    script.write_text(text.replace(match[0], "'library': '0.0.1'"), encoding="utf-8")
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        raise EOFError

    monkeypatch.setattr(builtins, "input", ask)
    with pytest.raises(CommandError, match="there was no answer"):
        call_command("restoredump", str(dump_dir), "--database", "other")
    assert f"library 0.0.1 -> {match[1]}" in questions[0]


@BOTH
@pytest.mark.parametrize("command", ["run", "restoredump"])
def test_json_report(
    command: str, dump_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json: the JSON alone on standard output, counts as in the database."""
    target = dump_dir / "restore.py" if command == "run" else dump_dir
    capsys.readouterr()
    call_command(
        command, str(target), "--noinput", "--database", "other",
        "--format", "json", "-v2",
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    authors = apps.get_model("library.author")._base_manager.using("default").count()
    assert {"in_dump": authors, "written": authors, "dropped": 0, "created": 0} == (
        report["models"]["library.author"]
    )
    assert _source_rows(["library.author"], "other") == authors
    assert report["written"] == sum(m["written"] for m in report["models"].values())
    assert (False, True, [], [], []) == (
        report["simulated"],
        report["ok"],
        report["violations"],
        report["edits"],
        report["migrators"],
    )
    assert "other" == report["database"]["alias"]
    assert report["database"]["target"].startswith(("SQLite ", "PostgreSQL "))


@BOTH
def test_json_report_of_a_rehearsal(
    dump_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed rehearsal still writes its JSON: simulated, each refused row once."""
    _refuse_rows(dump_dir, 2)
    capsys.readouterr()
    with pytest.raises(CommandError, match="found 2 rows"):
        call_command(
            "run", str(dump_dir / "restore.py"), "--simulate", "--database", "other",
            "--format", "json",
        )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    samples = Sample._base_manager.using("default").count()
    assert (True, False) == (report["simulated"], report["ok"])
    assert 2 == len(report["violations"])
    assert all("field 'rank'" in v for v in report["violations"])
    assert not any("rolled back" in v for v in report["violations"])
    assert samples == report["models"]["kitchen.sample"]["in_dump"]
    assert samples - 2 == report["models"]["kitchen.sample"]["written"]


@pytest.mark.django_db(transaction=True)
def test_verbosity_means_the_same_in_dumpplan_and_upgradedump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-v 0 prints nothing; -v 1 the summary; -v 2 a line per data file (#14)."""
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    capsys.readouterr()
    call_command("dumpplan", str(tmp_path / "d"), verbosity=0)
    assert "" == capsys.readouterr().out
    call_command("dumpplan", str(tmp_path / "d"), verbosity=1)
    assert "The restore would work." in capsys.readouterr().out
    call_command("upgradedump", str(tmp_path / "d"), str(tmp_path / "u0"), verbosity=0)
    assert ("", "") == tuple(capsys.readouterr())
    call_command("upgradedump", str(tmp_path / "d"), str(tmp_path / "u1"), verbosity=1)
    assert 1 == len(capsys.readouterr().out.splitlines())
    call_command("upgradedump", str(tmp_path / "d"), str(tmp_path / "u2"), verbosity=2)
    lines = capsys.readouterr().out.splitlines()
    tree = ast.parse((tmp_path / "u2" / "restore.py").read_text())
    files = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and getattr(node.targets[0], "id", "") == "FILES"
    )
    assert [f"{name}:" for _model, name, _rows, _sha in files] == [
        line.split()[0] for line in lines[:-1]
    ]
    assert lines[-1].startswith("Wrote ")
