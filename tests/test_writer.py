"""The data files and ``restore.py`` that a dump writes, read back."""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

import pytest

from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import DumpFormatError
from lino_migrate.format.layout import FieldInfo, ModelInfo, format_literal
from lino_migrate.format.literals import parse_literal
from lino_migrate.restore.reader import DumpMeta, read_rows, verify_files

INFO = ModelInfo(
    "app.thing",
    "app_thing",
    ("id",),
    (
        FieldInfo("id", "id", "id", "AutoField", False, None),
        FieldInfo("value", "value", "value", "TextField", True, None),
    ),
)

AWKWARD = [
    "",
    None,
    "it's",
    'say "hi"',
    "'''\"\"\"",
    "back\\slash",
    "cr\rlf\n crlf\r\n",
    "line\u2028separator",
    "emoji \U0001f600 and \u05e9\u05dc\u05d5\u05dd",
    "x" * 100_000,
    b"\x00bytes\x00",
    b"",
    "nan",
    1.5,
    -0.0,
]


def _meta(directory: Path, writer: FileWriter) -> DumpMeta:
    return DumpMeta(directory, {}, {INFO.label: INFO}, tuple(writer.entries))


def test_rows_read_back_equal(tmp_path: Path) -> None:
    """Every awkward value is written as a literal and read back equal."""
    rows = [(i, v) for i, v in enumerate(AWKWARD, start=1)]
    writer = FileWriter(tmp_path, 4)
    writer.write(INFO, rows)
    meta = _meta(tmp_path, writer)
    verify_files(meta)
    back = [
        row for entry in meta.files for batch in read_rows(meta, entry) for row in batch
    ]
    assert rows == back
    for path in tmp_path.iterdir():
        data = path.read_text(encoding="utf-8")
        body = data.partition("ROWS = ")[2]
        assert len(ast.literal_eval(body)) <= 4
        assert hashlib.sha256(data.encode()).hexdigest() in {
            e.sha256 for e in meta.files
        }


@pytest.mark.parametrize(
    ("count", "size", "expected"),
    [
        (0, 3, [("app_thing.py", 0)]),
        (3, 3, [("app_thing.py", 3)]),
        (6, 3, [("app_thing.py", 3), ("app_thing_2.py", 3)]),
        (7, 3, [("app_thing.py", 3), ("app_thing_2.py", 3), ("app_thing_3.py", 1)]),
        (1, 1, [("app_thing.py", 1)]),
    ],
)
def test_chunks(
    tmp_path: Path, count: int, size: int, expected: list[tuple[str, int]]
) -> None:
    """Chunks hold at most N rows, in stable names, never an empty extra file."""
    writer = FileWriter(tmp_path, size)
    writer.write(INFO, [(i, str(i)) for i in range(count)])
    assert expected == [(e.name, e.rows) for e in writer.entries]
    assert sorted(n for n, _ in expected) == sorted(p.name for p in tmp_path.iterdir())


def test_same_rows_same_bytes(tmp_path: Path) -> None:
    """Writing the same rows twice gives byte-identical files."""
    rows = [(i, v) for i, v in enumerate(AWKWARD, start=1)]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        FileWriter(tmp_path / name, 5).write(INFO, rows)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_simulated_writer_writes_nothing(tmp_path: Path) -> None:
    """Without a directory the writer only counts and hashes."""
    writer = FileWriter(None, 2)
    writer.write(INFO, [(1, "a"), (2, "b"), (3, "c")])
    assert [e.rows for e in writer.entries] == [2, 1]
    assert list(tmp_path.iterdir()) == []


def test_format_literal_round_trips() -> None:
    """Metadata literals are readable source that evaluates to the same value."""
    value = {"b": {"fields": (("x", 1, None), ("y", 2.5, True))}, "a": ("p",), "c": {}}
    text = format_literal(value)
    assert value == ast.literal_eval(text)
    assert "    'b': {\n" in text


@pytest.mark.parametrize(
    "source",
    [
        "(lambda: 0)()",
        "__import__('os').getcwd()",
        "().__class__",
        "[1] * 10 ** 9",
        "((1, 'a'), open('x'))",
    ],
)
def test_parse_literal_refuses_code(source: str) -> None:
    """Anything but a literal is refused and never evaluated."""
    with pytest.raises(ValueError, match="malformed node"):
        parse_literal(source)


def test_parse_literal_reads_literals() -> None:
    """Constant tuples, negative numbers, bytes, nested lists read back equal."""
    value = ((1, -2, 3.5, -0.0, None, True, "x", b"\x00"), (2, [1, {"a": (1,)}], ""))
    assert value == parse_literal(repr(value))


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
def test_any_block_size_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Files are read in blocks; lines and characters cut by a block are whole."""
    import lino_migrate.restore.reader as reader

    rows = [(i, v) for i, v in enumerate(["é€\U0001f600", "", None, "x" * 300], 1)]
    writer = FileWriter(tmp_path, 3)
    writer.write(INFO, rows * 2)
    meta = _meta(tmp_path, writer)
    monkeypatch.setattr(reader, "BLOCK", block)
    assert [] == verify_files(meta)
    back = [r for e in meta.files for batch in read_rows(meta, e) for r in batch]
    assert rows * 2 == back


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d + b"\n", "line 9 follows the ')' that closes ROWS"),
        (lambda d: d + b"    (9, 'x'),\n)\n", "line 9 follows the ')'"),
        (lambda d: d.replace(b"ROWS = (", b"ROWS = ["), "no 'ROWS = (' line"),
        (lambda d: d[:-2], "not closed"),
        (lambda d: d[:-1], "the last line, 8, has no line break"),
        (lambda d: d.replace(b"'a'", b"'\xff'"), "not UTF-8"),
    ],
)
def test_misshapen_file_is_refused(
    tmp_path: Path, damage: object, message: str
) -> None:
    """A file whose shape is wrong is refused with the line, even with --accept-edits."""
    writer = FileWriter(tmp_path, 10)
    writer.write(INFO, [(1, "a"), (2, "b"), (3, None)])
    meta = _meta(tmp_path, writer)
    path = tmp_path / meta.files[0].name
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(DumpFormatError, match=re.escape(message)):
        verify_files(meta, accept_edits=True)
    with pytest.raises(DumpFormatError, match=re.escape(message)):
        list(read_rows(meta, meta.files[0]))
