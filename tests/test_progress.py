"""Progress on long work: lines by verbosity, a transient bar on a terminal (#14).

Not on a terminal, the commands write lines only: nothing at ``-v 0``, the
summary at ``-v 1``, a line per model or file more at ``-v 2``, a line per
operation more at ``-v 3``. On a terminal (a stream whose ``isatty()`` is
true) a rich bar shows the counts and the current model while the work
runs, then is erased. What a terminal finally shows is worked out by
:func:`~tests.terminal.screen`, a small terminal that knows nothing of rich: it plays the
cursor moves and line erasures of the output back.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, find_commands, load_command_class
from rich.console import Console

import lino_migrate
from lino_migrate.exceptions import plural
from lino_migrate.format.layout import NATURAL_KEYS
from lino_migrate.reports.progress import VERBOSITY_HELP, Progress, command_progress
from lino_migrate.restore.cli import build_parser
from lino_migrate.restore.reader import open_dump
from tests.site.data import populate
from tests.terminal import BOX, Terminal, screen, without_controls, words

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])
COMMANDS = sorted(find_commands(str(Path(lino_migrate.__file__).parent / "management")))

#: A color or style (SGR) that is more than a reset.
_COLOR = re.compile(r"\x1b\[[\d;]*[1-9][\d;]*m")


@pytest.fixture(autouse=True)
def _terminal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide color terminal, whatever the environment of the test run says."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """Return a dump of the populated default database."""
    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    return tmp_path / "d"


def _run(*args: Any, stdout: io.StringIO | None = None, **options: Any) -> str:
    """Run a command in this process; return its standard output."""
    out = io.StringIO() if stdout is None else stdout
    call_command(*map(str, args), stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def _files(dump: Path) -> list[Any]:
    return list(open_dump(dump, verify=False).files)


def _model_lines(dump: Path) -> list[str]:
    """Return the lines of ``dump2py -v 2`` per model, from the dump's FILES."""
    rows: dict[str, list[int]] = {}
    for entry in _files(dump):
        rows.setdefault(entry.model, []).append(entry.rows)
    return [
        f"{label}: {plural(sum(r), 'row')} in {plural(len(r), 'file')}"
        for label, r in rows.items()
    ]


def _wrote(dump: Path) -> str:
    files = _files(dump)
    rows = sum(e.rows for e in files)
    models = len({e.model for e in files})
    return (
        f"Wrote {plural(rows, 'row')} of {plural(models, 'model')} in "
        f"{plural(len(files), 'file')} to {dump}."
    )


# Verbosity means the same everywhere.


@pytest.mark.parametrize("name", COMMANDS)
def test_verbosity_help_is_the_same_in_every_command(name: str) -> None:
    """``-v`` says what each level shows, in the words of every other command."""
    parser = load_command_class("lino_migrate", name).create_parser("manage.py", name)
    helps = [a.help for a in parser._actions if "--verbosity" in a.option_strings]
    assert [VERBOSITY_HELP] == helps


def test_verbosity_help_of_restore_py() -> None:
    """A dump's ``restore.py`` says the same of ``-v``."""
    parser = build_parser("restore.py")
    helps = [a.help for a in parser._actions if "--verbosity" in a.option_strings]
    assert [VERBOSITY_HELP] == helps


# Not a terminal: lines.


@BOTH
def test_dump2py_lines(tmp_path: Path) -> None:
    """0: nothing; 1: the summary; 2: a line per model; 3: a line per file too."""
    populate("default")
    said = {
        v: _run("dump2py", tmp_path / str(v), "--noinput", "-v", v) for v in range(4)
    }
    dump = tmp_path / "2"
    assert "" == said[0]
    assert _wrote(tmp_path / "1") + "\n" == said[1]
    assert "\n".join([*_model_lines(dump), _wrote(dump)]) + "\n" == said[2]
    file_lines = [f"{e.name}: {plural(e.rows, 'row')}" for e in _files(dump)]
    assert set(file_lines) <= set(said[3].splitlines())
    assert len(said[2].splitlines()) + len(file_lines) == len(said[3].splitlines())


@BOTH
@pytest.mark.parametrize("command", ["restoredump", "run"])
def test_restore_lines(
    dump_dir: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """0: nothing; 2: a line per data file before the report of 1; 3: the steps."""
    target = dump_dir if command == "restoredump" else dump_dir / "restore.py"

    def restore(verbosity: int) -> str:
        capsys.readouterr()
        args = (command, target, "--noinput", "--database", "other", "-v", verbosity)
        if command == "run":  # the options after FILE are restore.py's
            call_command(*map(str, args))
            return capsys.readouterr().out
        return _run(*args)

    said = {v: restore(v) for v in range(4)}
    assert "" == said[0]
    assert said[1].splitlines()[-1].startswith("Restored ")
    files = [e for e in _files(dump_dir) if e.model not in NATURAL_KEYS]
    lines = [f"{e.name}: {plural(e.rows, 'row')}" for e in files]
    assert "\n".join(lines) + "\n" + said[1] == said[2]
    steps = set(said[3].splitlines()) - set(said[2].splitlines())
    assert any(s.startswith("Deleted the rows of ") for s in steps), steps
    assert any(s.startswith("Checked the constraints of ") for s in steps), steps


@BOTH
def test_upgradedump_lines(dump_dir: Path, tmp_path: Path) -> None:
    """1: the summary; 2: a line per file written before it (0: see below)."""
    said = {
        v: _run("upgradedump", dump_dir, tmp_path / str(v), "--noinput", "-v", v)
        for v in (1, 2)
    }
    new = tmp_path / "2"
    files = _files(new)
    rows = sum(e.rows for e in files)
    summary = f"Wrote {plural(rows, 'row')} in {plural(len(files), 'file')} to {new}."
    lines = [f"{e.name}: {plural(e.rows, 'row')} of {e.model}" for e in files]
    assert summary.replace(str(new), str(tmp_path / "1")) + "\n" == said[1]
    assert "\n".join([*lines, summary]) + "\n" == said[2]


@BOTH
def test_dumpcompare_lines(dump_dir: Path) -> None:
    """0: nothing; 1: the report, a line per model; JSON at every level."""
    said = {v: _run("dumpcompare", dump_dir, dump_dir, "-v", v) for v in range(2)}
    assert "" == said[0]
    assert said[1].rstrip().splitlines()[-1].startswith("No differences: ")
    document = json.loads(_run("dumpcompare", dump_dir, dump_dir, "--format", "json"))
    assert document == json.loads(
        _run("dumpcompare", dump_dir, dump_dir, "--format", "json", "-v", "0")
    )


# On a terminal: a bar, gone at the end.


@BOTH
def test_restore_bar_counts_and_goes(dump_dir: Path) -> None:
    """The bar names the models and counts rows and models; then it is erased.

    What the terminal shows at the end is the report that the restore writes
    without a terminal, its table drawn by rich; the colors of the bar were
    written on the way.
    """
    args = ("restoredump", dump_dir, "--noinput", "--database", "other")
    plain = _run(*args)
    output = _run(*args, stdout=Terminal())
    files = _files(dump_dir)
    rows = sum(e.rows for e in files)
    models = len({e.model for e in files})
    shown = without_controls(output)
    assert f"{rows:,}/{rows:,} rows  {models}/{models} models" in shown
    for label in {e.model for e in files if e.model not in NATURAL_KEYS}:
        assert label in shown
    assert words(plain.splitlines()) == words(screen(output))
    assert BOX & set(screen(output)[0])
    assert _COLOR.search(output)


@BOTH
def test_dump2py_bar_counts_models(tmp_path: Path) -> None:
    """The dump's bar counts models of how many, and rows so far; then it goes."""
    populate("default")
    output = _run("dump2py", tmp_path / "d", "--noinput", stdout=Terminal())
    files = _files(tmp_path / "d")
    rows = sum(e.rows for e in files)
    models = len({e.model for e in files})
    assert f"{rows:,} rows  {models}/{models} models" in without_controls(output)
    assert [_wrote(tmp_path / "d")] == screen(output)


@BOTH
def test_lines_go_above_the_bar(tmp_path: Path) -> None:
    """At ``-v 2`` on a terminal, the lines per model stay; the bar goes."""
    populate("default")
    output = _run("dump2py", tmp_path / "d", "--noinput", "-v2", stdout=Terminal())
    dump = tmp_path / "d"
    assert [*_model_lines(dump), _wrote(dump)] == screen(output)


@BOTH
def test_upgradedump_and_dumpcompare_bars(dump_dir: Path, tmp_path: Path) -> None:
    """Both count the rows of the dumps they read; the report stays, the bar goes."""
    rows = sum(e.rows for e in _files(dump_dir))
    new = tmp_path / "new"
    output = _run("upgradedump", dump_dir, new, "--noinput", stdout=Terminal())
    assert f"{rows:,}/{rows:,} rows" in without_controls(output)
    assert 1 == len(screen(output))
    assert screen(output)[0].startswith("Wrote ")
    plain = _run("dumpcompare", dump_dir, dump_dir)
    output = _run("dumpcompare", dump_dir, dump_dir, stdout=Terminal())
    assert f"{2 * rows:,}/{2 * rows:,} rows" in without_controls(output)
    assert words(plain.splitlines()) == words(screen(output))
    assert BOX & set("".join(screen(output)))


@BOTH
@pytest.mark.parametrize("how", ["--no-color", "NO_COLOR"])
def test_no_color(dump_dir: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--no-color`` and ``NO_COLOR`` take the colors off the bar, not the bar."""
    args: tuple[Any, ...] = ("dumpcompare", dump_dir, dump_dir)
    if how == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        args += ("--no-color",)
    output = _run(*args, stdout=Terminal())
    assert " models" in without_controls(output)
    assert not _COLOR.search(output)


@BOTH
@pytest.mark.parametrize("command", ["restoredump", "dumpcompare"])
@pytest.mark.parametrize("stdout", [io.StringIO, Terminal])
def test_json_stays_json(
    dump_dir: Path, command: str, stdout: type[io.StringIO]
) -> None:
    """With ``--format json`` standard output holds JSON, terminal or not.

    The bar goes to standard error when that is a terminal and standard
    output is not; with both on a terminal, there is no bar.
    """
    args: tuple[Any, ...] = (command, dump_dir, "--format", "json")
    args += (
        ("--noinput", "--database", "other")
        if command == "restoredump"
        else (dump_dir,)
    )
    out, err = stdout(), Terminal()
    call_command(*map(str, args), stdout=out, stderr=err)
    json.loads(out.getvalue())
    bar = " models" in without_controls(err.getvalue())
    assert bar == (stdout is io.StringIO)


@BOTH
@pytest.mark.parametrize(
    "command", ["dump2py", "restoredump", "upgradedump", "dumpcompare"]
)
def test_silent_on_a_terminal(dump_dir: Path, tmp_path: Path, command: str) -> None:
    """``-v 0`` writes nothing, not even a bar, on a terminal."""
    args = {
        "dump2py": ("dump2py", tmp_path / "x", "--noinput"),
        "restoredump": ("restoredump", dump_dir, "--noinput", "--database", "other"),
        "upgradedump": ("upgradedump", dump_dir, tmp_path / "u", "--noinput"),
        "dumpcompare": ("dumpcompare", dump_dir, dump_dir),
    }[command]
    out, err = Terminal(), Terminal()
    call_command(*map(str, args), "-v", "0", stdout=out, stderr=err)
    assert ("", "") == (out.getvalue(), err.getvalue())


# The Progress itself.


def test_progress_lines_by_level() -> None:
    """A line shows from its level on; without a terminal, advancing writes nothing."""
    out = io.StringIO()
    progress = Progress(out, 2)
    with progress.shown(rows=10, models=1):
        progress.advance("a.b", 10)
        for level in range(4):
            progress(f"level {level}", level)
    assert "level 0\nlevel 1\nlevel 2\n" == out.getvalue()


def test_progress_bar_is_transient() -> None:
    """On a terminal: the current model and the counts, then nothing but the lines."""
    out = Terminal()
    progress = Progress(out, 2, terminal=True)
    with progress.shown(rows=300, models=3):
        for label in ("app.one", "app.two", "app.three"):
            progress.advance(label, 0)
            progress(f"{label}: 100 rows", 2)
            progress.advance(label, 100)
    output = out.getvalue()
    assert "0/300 rows  0/3 models" in without_controls(output)
    assert re.search(r"100/300 rows  1/3 models .*app\.two", without_controls(output))
    assert "300/300 rows  3/3 models" in without_controls(output)
    assert ["app.one: 100 rows", "app.two: 100 rows", "app.three: 100 rows"] == screen(
        output
    )


def test_progress_bar_on_a_console_of_its_own() -> None:
    """Given a console, the bar and the lines meanwhile go there, not to the stream."""
    out, screen = io.StringIO(), io.StringIO()
    console = Console(file=screen, record=True, force_terminal=True, width=100)
    progress = Progress(out, 1, terminal=True, console=console)
    with progress.shown(rows=300, models=3):
        progress.advance("app.one", 0)
        progress("app.one: 100 rows", 1)
    assert "" == out.getvalue()
    assert "app.one: 100 rows" in console.export_text()
    assert "0/300 rows  0/3 models" in without_controls(screen.getvalue())


def test_command_progress_streams() -> None:
    """Text: the bar on stdout if a terminal; JSON: on stderr, if stdout is not one."""
    tty, other, file = Terminal(), Terminal(), io.StringIO()
    assert (tty, True) == _where(command_progress(tty, file, 1))
    assert (file, False) == _where(command_progress(file, tty, 1))
    assert (tty, True) == _where(command_progress(file, tty, 1, json=True))
    assert (other, False) == _where(command_progress(tty, other, 1, json=True))
    assert (tty, False) == _where(command_progress(tty, file, 0))


def _where(progress: Progress) -> tuple[Any, bool]:
    return progress.stream, progress.terminal
