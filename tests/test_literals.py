"""The fast row parser reads exactly what Python reads, and nothing else."""

from __future__ import annotations

import ast
import math
import warnings
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lino_migrate.format.literals import parse_rows

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.text(alphabet="ab ,'\"()-.0e"),
    st.binary(max_size=8),
)
ROWS = st.lists(VALUES, min_size=1, max_size=8).map(tuple)

# Characters of row lines, hostile ones included: quotes, escapes, a NUL,
# brackets, operators, digits, keyword letters.
PIECES = st.text(
    alphabet="(),'\"\\ 019.e-+_NoneTruFalsbxjnrtuUaf[]{}:\x00\ré€", max_size=30
)


def _same(a: Any, b: Any) -> bool:
    """Compare by repr: tells -0.0 from 0.0 and True from 1."""
    return repr(a) == repr(b)


@settings(max_examples=400)
@given(st.lists(ROWS, min_size=1, max_size=10))
def test_written_rows_read_back(rows: list[tuple[Any, ...]]) -> None:
    """Every row as repr() writes it is read back equal, fast or slow path."""
    lines = [f"    {row!r}," for row in rows]
    assert _same(rows, parse_rows(lines))


@settings(max_examples=2000)
@given(st.one_of(PIECES.map(lambda s: f"    ({s}),"), PIECES.map(lambda s: "    " + s)))
@example("    (1, 2),")
@example("    ('a', 'b'),")
@example("    ('a''b', 1),")
@example("    (007, 1),")
@example("    (1,),")
@example("    (1),")
@example("    (),")
@example("    (1, 'x\\'),")
@example("    ('a', \"b'\"),")
@example("    (1 , 2),")
@example("    (1e5, -0.0),")
@example("    (-0, 1_0),")
@example("    (1+2, 3),")
@example("    (None, True, False, Nonee),")
@example("    ('\x00', 1),")
def test_any_line_reads_as_python_reads_it(line: str) -> None:
    """A line is read as the literal Python reads, or refused like Python does."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = ast.literal_eval("(\n" + line + "\n)")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        with pytest.raises((ValueError, SyntaxError)):
            parse_rows([line])
        return
    if type(expected) is not tuple or len(expected) != 1:
        with pytest.raises(ValueError, match="one value each"):
            parse_rows([line])
        return
    assert _same([expected[0]], parse_rows([line]))


def test_simple_and_escaped_lines_mix() -> None:
    """Lines needing the compiler keep their place among simple lines."""
    rows = [(1, "a"), (2, "tab\there"), (3, b"\x00"), (4, None), (5, "it's")]
    assert rows == parse_rows([f"    {row!r}," for row in rows])


def test_numbers_keep_their_type() -> None:
    """Integers stay int, floats stay float, however they are written."""
    [row] = parse_rows(["    (0, -7, 1.5, 1e+16, 5e-324, -0.0, 12345678901234567890),"])
    assert [int, int, float, float, float, float, int] == [type(v) for v in row]
    assert math.copysign(1.0, row[5]) == -1.0
    assert 5e-324 == row[4]


def test_code_is_refused() -> None:
    """A call on a line is refused, not run."""
    with pytest.raises(ValueError, match="malformed node"):
        parse_rows(["    (1, 'a'),", "    (2, __import__('os').getcwd()),"])


@pytest.mark.parametrize(
    "line",
    [
        "    ('ab' * 2048,),",
        "    (not 0,),",
        "    (2 ** 10,),",
        "    ('a' + 'b',),",
        "    ((1, 2)[0],),",
        "    ((lambda: 1)(),),",
        "    (f'{1}',),",
    ],
)
def test_constant_folded_expressions_are_refused(line: str) -> None:
    """An expression CPython folds into a constant is no literal: refused (#12)."""
    with pytest.raises(ValueError, match="malformed node"):
        ast.literal_eval("(\n" + line + "\n)")
    with pytest.raises(ValueError, match="malformed node"):
        parse_rows(["    (1,),", line])


def test_deep_nesting_is_a_value_error() -> None:
    """A line nested too deeply is refused with ValueError, not RecursionError."""
    line = "    (" + "(" * 100_000 + ")" * 100_000 + ",),"
    with pytest.raises((ValueError, SyntaxError)):
        parse_rows([line])


def _one_value(line: str) -> Any:
    """Return the one value Python reads from *line*; raise if it reads no single one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = ast.literal_eval("(\n" + line + "\n)")
    if type(found) is not tuple or len(found) != 1:
        raise ValueError(line)
    return found[0]


# Lines JSON reads but whose value differs from Python's: the replacements
# reach inside strings, a natural key is read as a list, JSON's own words.
TRICKY = st.sampled_from(
    [
        "    ('None of it', True),",
        "    ('(a)', 'x'),",
        "    (1, ('app', 'model'), 'a'),",
        "    ([1, 2], 3),",
        "    ({'a': 1}, 'b'),",
        "    ('say \"hi\"', 1),",
        '    ("it\'s", 1),',
        "    ('a\\nb', '\\\\'),",
        "    (NaN,),",
        "    (Infinity, 1),",
        "    (1e5, 1E5, 1.0),",
        "    (-0, 0.0),",
        "    (null, true),",
        "    ('é€\\x00', 2),",
        "    (1,),",
        "    (b'x', 1),",
        "    ",
        "    (1), (2),",
    ]
)


@settings(max_examples=600)
@given(
    st.lists(
        st.one_of(
            ROWS.map(lambda row: f"    {row!r},"),
            TRICKY,
            PIECES.map(lambda s: f"    ({s}),"),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_batches_read_as_python_reads_each_line(lines: list[str]) -> None:
    """A batch of lines, JSON-readable or not, reads line by line as Python does (#16)."""
    try:
        expected = [_one_value(line) for line in lines]
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if len(lines) == 1:
            with pytest.raises((ValueError, SyntaxError)):
                parse_rows(lines)
        return
    assert _same(expected, parse_rows(lines))


def test_many_lines_json_cannot_read_keep_their_place() -> None:
    """More lines the JSON decoder stops at than it retries: all still read right."""
    lines = []
    for n in range(60):
        row: tuple[Any, ...] = (n, "it's") if n % 3 == 0 else (n, "plain", None)
        lines.append(f"    {row!r},")
    rows = parse_rows(lines)
    assert _same([ast.literal_eval(line.strip()[:-1]) for line in lines], rows)


def test_plain_batches_need_no_token_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of numbers, plain strings and natural keys are all read as JSON."""
    from lino_migrate.format import literals

    def refuse(lines: list[str]) -> list[Any]:
        raise AssertionError(lines)

    monkeypatch.setattr(literals, "_parse_tokens", refuse)
    rows = [
        (n, "name", None, True, 2.5, "2024-05-01T10:00:00+00:00", ("app", "model"))
        for n in range(100)
    ]
    assert _same(rows, parse_rows([f"    {row!r}," for row in rows]))
