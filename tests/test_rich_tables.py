"""The report tables on a terminal: drawn by rich, the same cells as plain text (#14).

Each command runs twice in this process: with a stream that is no terminal,
whose output is the plain text (no box lines; the oracle), and with
:class:`~tests.terminal.Terminal`. What the terminal shows holds rich's box
lines and exactly the words of the plain text, in the same order: every cell
of every row, and every line around the tables.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lino_migrate.reports.table import ReportOutput, Table
from migrations_registry import Registry
from tests.conftest import POPULATED, Site, SiteFactory
from tests.site.data import populate
from tests.site.library.models import Author, Genre, Tag
from tests.terminal import BOX, Terminal, screen, words

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


@pytest.fixture(autouse=True)
def _terminal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide color terminal, whatever the environment of the test run says."""
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _run(*args: Any, stdout: io.StringIO) -> str:
    """Run a command in this process; return its standard output, even on an error."""
    # dumpcompare and the drift report exit with 1 when they find differences.
    with contextlib.suppress(CommandError):
        call_command(*map(str, args), stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def _both(*args: Any) -> tuple[str, list[str]]:
    """Return the plain output of a command, and the screen of it on a terminal."""
    plain = _run(*args, stdout=io.StringIO())
    return plain, screen(_run(*args, stdout=Terminal()))


def _assert_drawn(plain: str, shown: list[str], *cells: str) -> None:
    """Assert that *shown* is *plain* drawn as rich tables, *cells* among them."""
    assert not BOX & set(plain)
    assert BOX & set("".join(shown))
    assert words(plain.splitlines()) == words(shown)
    for cell in cells:
        assert any(f"│ {cell} " in line for line in shown), cell


@pytest.fixture
def old_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a dump of the populated database at library 0.9, and its migrator."""
    registry = Registry()

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        """Keep the genres as they are."""

        @m.rows("library.genre")
        def keep(row):  # type: ignore[no-untyped-def]
            return row

    monkeypatch.setattr("lino_migrate.restore.plan.default_registry", registry)
    populate()
    dump = tmp_path / "old"
    call_command("dump2py", str(dump), "--noinput", "-v0")
    script = dump / "restore.py"
    text = script.read_text(encoding="utf-8")
    script.write_text(text.replace("'library': '1.0'", "'library': '0.9'"), "utf-8")
    return dump


@BOTH
def test_plan(old_dump: Path) -> None:
    """dumpplan: the versions and the models as tables, the migrators' notes kept."""
    plain, shown = _both("dumpplan", old_dump)
    assert "Migrators that will run, in order:" in plain
    assert "      (model): library 1.0 (to_1_0): rows('library.genre', keep)" in plain
    _assert_drawn(plain, shown, "library", "library.author")


@BOTH
@pytest.mark.parametrize("command", ["restoredump", "run"])
def test_restore_report(
    old_dump: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restore report: its header and a row per model in a table, then lines.

    ``run DIR/restore.py`` writes to ``sys.stdout``, ``restoredump`` to the
    command's standard output.
    """
    where = old_dump / "restore.py" if command == "run" else old_dump
    args = (command, where, "--noinput", "--database", "other", "--simulate")
    if command == "run":
        plain_out, terminal = io.StringIO(), Terminal()
        for stream in (plain_out, terminal):
            with monkeypatch.context() as patch:
                patch.setattr(sys, "stdout", stream)
                assert "" == _run(*args, stdout=io.StringIO())
        plain, shown = plain_out.getvalue(), screen(terminal.getvalue())
    else:
        plain, shown = _both(*args)
    _assert_drawn(plain, shown, "model", "library.author")
    assert "Migrators: library 1.0 (to_1_0)" in shown
    assert "Rehearsed (rolled back):" in shown[-1]


@pytest.fixture
def site(make_database: SiteFactory) -> Iterator[Site]:
    """Return a populated database of its own, open in this process."""
    site = make_database("richdrift", prepare=POPULATED)
    with site.connected():
        yield site


def test_drift_report(site: Site, tmp_path: Path) -> None:
    """The drift report: a row per model, its problems beneath it."""
    site.sql("CREATE TABLE old_notes (id integer PRIMARY KEY, note text)")
    site.sql("ALTER TABLE library_genre ADD COLUMN legacy_code varchar(20)")
    args = ("dump2py", tmp_path / "check", "--simulate", "--database", site.name)
    plain, shown = _both(*args)
    assert "library.genre: " in plain
    assert "  - column 'legacy_code' of 'library_genre'" in plain
    assert "Extra tables: old_notes." in plain
    # The plain lines read "label: rows, status"; the table has no ':' or ','.
    plain = plain.replace(": ", " ").replace(", ", " ")
    shown = [line.replace(": ", " ").replace(", ", " ") for line in shown]
    _assert_drawn(plain, shown, "library.genre", "drift")


@BOTH
def test_dumpcompare(tmp_path: Path) -> None:
    """dumpcompare: the models as a table, the rows that differ beneath theirs."""
    populate()
    a, b = tmp_path / "a", tmp_path / "b"
    call_command("dump2py", str(a), "--noinput", "-v0")
    Author.objects.filter(pk=1).update(name="Ada King")
    Genre.objects.create(id=99, name="Drama")
    Tag.objects.filter(name="fantasy").delete()
    call_command("dump2py", str(b), "--noinput", "-v0")
    plain, shown = _both("dumpcompare", a, b, "--limit", "2")
    assert "      changed pk=1: name " in plain
    _assert_drawn(plain, shown, "library.author", "library.genre")


@BOTH
def test_no_color_draws_tables_without_styles(old_dump: Path) -> None:
    """``--no-color``: the tables are drawn, with no color or style at all."""
    out = Terminal()
    _run("dumpplan", old_dump, "--no-color", stdout=out)
    assert BOX & set(out.getvalue())
    assert "\x1b[" not in out.getvalue()


def test_dumb_terminal_gets_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """``TERM=dumb`` is written the plain text, as a pipe is."""
    monkeypatch.setenv("TERM", "dumb")
    table = Table([("a", 1), ("bb", 22)], headers=("x", "n"))
    out = Terminal()
    output = ReportOutput(out)
    output.report(["Title:", table])
    assert not output.rich
    assert "Title:\nx    n\na    1\nbb  22\n" == out.getvalue()


def test_rows_written_one_at_a_time() -> None:
    """In plain text a row is written at once, in the fitted columns; rich draws all."""
    table = Table(align="<>", indent=2, fit=[("a.long_label", "100")])
    plain = io.StringIO()
    with ReportOutput(plain).rows(table) as add:
        add(("a.b", "7", "same"))
        assert "  a.b             7  same\n" == plain.getvalue()
        add(("c.d", "-", "only in B"), ["note one"])
    assert "  c.d             -  only in B\n      note one\n" in plain.getvalue()
    terminal = Terminal()
    with ReportOutput(terminal).rows(Table(align="<>", fit=table.rows)) as add:
        add(("a.b", "7", "same"), ["note one"])
        assert "" == terminal.getvalue()
    shown = screen(terminal.getvalue())
    assert ["a.b", "7", "same", "note", "one"] == words(shown)
    assert any("│ note one" in line for line in shown)


def test_rich_table_keeps_columns_and_alignment() -> None:
    """Numbers stay right-aligned, text left-aligned; notes go in the last cell."""
    table = Table(
        [("a", 1, "ok"), ("bb", 22, "drift")], headers=("x", "n", "s"),
        notes=[[], ["a note"]],
    )  # fmt: skip
    assert ["x    n  s", "a    1  ok", "bb  22  drift", "      a note"] == table.lines()
    out = Terminal()
    ReportOutput(out, color=False).report([table])
    assert [
        "┌────┬────┬────────┐",
        "│ x  │  n │ s      │",
        "├────┼────┼────────┤",
        "│ a  │  1 │ ok     │",
        "│ bb │ 22 │ drift  │",
        "│    │    │ a note │",
        "└────┴────┴────────┘",
    ] == screen(out.getvalue())


def test_plain_form_of_a_row() -> None:
    """A table may keep lines of its own form as plain text (the drift report's)."""
    table = Table(
        [("app.model", "3 rows", "ok")], notes=[["- a problem"]], note_prefix="  ",
        plain=lambda row: f"{row[0]}: {row[1]}, {row[2]}",
    )  # fmt: skip
    assert ["app.model: 3 rows, ok", "  - a problem"] == table.lines()
