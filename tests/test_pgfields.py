"""The field types of ``django.contrib.postgres`` are dumped and restored exactly (#13).

Arrays (nested, with NULL items, of datetimes, decimals, UUIDs, durations,
floats), hstore (NULL values, Unicode) and every range type (empty, each
bounds, infinite bounds): dump -> restore -> dump gives the same bytes, and
every column holds the same text (``::text``) and the same ORM values. The
tests of the literals themselves need no database.
"""

from __future__ import annotations

import ast
import datetime
import io
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connections
from psycopg.types.range import Range

from lino_migrate.exceptions import LinoMigrateError
from lino_migrate.format.codec import literal_decoder, literal_encoder
from lino_migrate.restore.preparers import find_bad_values, value_check
from lino_migrate.restore.restorer import restore
from migrations_registry import Registry
from tests.dumps import data_files, reseal
from tests.snapshot import assert_same, snapshot
from tests.test_hostile_dumps import database_state, read_script, write_script

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])
DATA = "pgfields_sample.py"
_IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _sample() -> Any:
    return apps.get_model("pgfields", "sample")


def _rows() -> list[dict[str, Any]]:
    """Return the rows of the test: each kind of value at least once."""
    stamp = datetime.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=_IST)
    rows: list[dict[str, Any]] = [
        {
            "label": "full",
            "ints": [1, None, 3, -(2**31)],
            "grid": [[1, None], [None, 4]],
            "texts": ["x", None, "NULL", "", 'a "q", {b}\\c', "ünï 😀"],
            "stamps": [stamp, None, datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)],
            "days": [datetime.date(2024, 2, 29), None],
            "amounts": [Decimal("1.500000"), None, Decimal("-0.000001"), Decimal(0)],
            "uuids": [_UUID, None],
            "spans": [datetime.timedelta(days=-1, microseconds=5), None],
            "ratios": [1.5, float("inf"), float("-inf"), float("nan"), -0.0, None],
            "tags": {"b": "1", "a": None, "ü": "ß", 'q"\\': "", "": "empty key"},
            "int_range": Range(1, 5, "[]"),
            "big_range": Range(None, 2**40),
            "decimal_range": Range(Decimal("1.5"), None, "(]"),
            "date_range": Range(empty=True),
            "time_range": Range(stamp, None, "[]"),
            "search": "'a':1 'b':2A",
            "name": "Ab",
        },
        {
            "label": "empty",
            "ints": [],
            "grid": [],
            "texts": [None],
            "tags": {},
            "int_range": Range(empty=True),
            "big_range": Range(empty=True),
            "decimal_range": Range(empty=True),
            "time_range": Range(empty=True),
            "date_range": Range(None, None),
        },
        {"label": "nulls"},
        {"label": "depth"},
    ]
    for n, bounds in enumerate(("[)", "(]", "()", "[]")):
        rows.append(
            {
                "label": f"bounds {bounds}",
                "int_range": Range(n, n + 3, bounds),
                "big_range": Range(-(2**62), 2**62, bounds),
                "decimal_range": Range(Decimal("-1.25"), Decimal("1E+3"), bounds),
                "date_range": Range(datetime.date(2024, 1, n + 1), None, bounds),
                "time_range": Range(stamp, stamp + datetime.timedelta(days=n), bounds),
            }
        )
    rows.append(
        {
            "label": "infinite",
            "int_range": Range(None, 7, "[]"),
            "big_range": Range(3, None, "[]"),
            "decimal_range": Range(None, None, "[]"),
            "date_range": Range(None, datetime.date(2024, 1, 1), "(]"),
            "time_range": Range(None, None),
        }
    )
    return rows


def _populate(using: str) -> None:
    model = _sample()
    for row in _rows():
        model.objects.using(using).create(**row)
    # Django refuses to write a decimal that is not finite; PostgreSQL stores it.
    with connections[using].cursor() as cursor:
        cursor.execute(
            "UPDATE pgfields_sample SET amounts = '{NaN,NULL}' WHERE label = 'empty'"
        )
        # PostgreSQL keeps any number of dimensions in any array column.
        cursor.execute(
            "UPDATE pgfields_sample SET grid = '{{{1,2},{3,NULL}},{{NULL,NULL},{7,8}}}',"
            " ints = '{{1,2},{3,4}}', texts = '{{a},{NULL}}' WHERE label = 'depth'"
        )


def _texts(using: str) -> list[tuple[str | None, ...]]:
    """Return every column of every row as PostgreSQL writes it (``::text``)."""
    model = _sample()
    quote = connections[using].ops.quote_name
    columns = [f.column for f in model._meta.local_concrete_fields]
    select = ", ".join(f"{quote(c)}::text" for c in columns)
    table = quote(model._meta.db_table)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {select} FROM {table} ORDER BY id")
        return cursor.fetchall()


def _dump(target: Path, using: str = "default") -> None:
    call_command("dump2py", str(target), "--noinput", "-v0", "--database", using)


def _restore(dump: Path, using: str = "other") -> None:
    call_command(
        "run", str(dump / "restore.py"), "--noinput", "-v0", "--database", using
    )


def _rows_of(dump: Path) -> dict[str, dict[str, Any]]:
    """Return the rows of the data file, by label, as dicts of literals."""
    tree = ast.parse((dump / DATA).read_text(encoding="utf-8"))
    values = {
        node.targets[0].id: ast.literal_eval(node.value)  # type: ignore[attr-defined]
        for node in tree.body
        if isinstance(node, ast.Assign)
    }
    rows = [dict(zip(values["COLUMNS"], row, strict=True)) for row in values["ROWS"]]
    return {row["label"]: row for row in rows}


@pytest.mark.postgres
@BOTH
def test_round_trip_is_exact(tmp_path: Path) -> None:
    """dump -> restore -> dump: same bytes, same ``::text``, same ORM values."""
    _populate("default")
    _dump(tmp_path / "a")
    _restore(tmp_path / "a")
    assert _texts("default") == _texts("other")
    assert_same(snapshot("default", raw=False), snapshot("other", raw=False))
    assert_same(snapshot("default"), snapshot("other"))
    _dump(tmp_path / "b", "other")
    assert data_files(tmp_path / "a") == data_files(tmp_path / "b")


@pytest.mark.postgres
@BOTH
def test_literals_of_each_type(tmp_path: Path) -> None:
    """The data file holds tuples, dicts and ``'empty'``, as documented."""
    _populate("default")
    _dump(tmp_path / "a")
    rows = _rows_of(tmp_path / "a")
    full, empty = rows["full"], rows["empty"]
    assert (1, None, 3, -(2**31)) == full["ints"]
    assert ((1, None), (None, 4)) == full["grid"]
    assert "2024-02-29T18:29:58.123456+00:00" == full["stamps"][0]
    assert ("1.500000", None, "-0.000001", "0.000000") == full["amounts"]
    assert (str(_UUID), None) == full["uuids"]
    assert (-86399999995, None) == full["spans"]
    assert (1.5, "inf", "-inf", "nan", -0.0, None) == full["ratios"]
    assert sorted(full["tags"]) == list(full["tags"])
    assert None is full["tags"]["a"]
    assert (1, 6, "[)") == full["int_range"]
    assert (None, 2**40, "()") == full["big_range"]
    assert ("1.5", None, "()") == full["decimal_range"]
    assert "empty" == full["date_range"]
    assert ("2024-02-29T18:29:58.123456+00:00", None, "[)") == full["time_range"]
    assert ((), (), (None,), {}) == tuple(
        empty[k] for k in ("ints", "grid", "texts", "tags")
    )
    assert ("NaN", None) == empty["amounts"]
    assert (None, None, "()") == empty["date_range"]
    assert ("-1.25", "1000", "(]") == rows["bounds (]"]["decimal_range"]
    depth = rows["depth"]
    assert (((1, 2), (3, None)), ((None, None), (7, 8))) == depth["grid"]
    assert (((1, 2), (3, 4)), (("a",), (None,))) == (depth["ints"], depth["texts"])
    assert all(v is None for k, v in rows["nulls"].items() if k not in ("id", "label"))


@pytest.mark.postgres
@BOTH
def test_dumpplan_accepts_the_dump(tmp_path: Path) -> None:
    """``dumpplan --database other`` checks every row and finds nothing wrong."""
    _populate("default")
    _dump(tmp_path / "a")
    out = io.StringIO()
    call_command("dumpplan", str(tmp_path / "a"), "--database", "other", stdout=out)
    assert "The restore would work." in out.getvalue()


@pytest.mark.postgres
@BOTH
def test_dumpplan_and_restore_refuse_a_ragged_array(tmp_path: Path) -> None:
    """A sub-array of another length is named by the plan; the restore refuses it."""
    _populate("default")
    dump = tmp_path / "a"
    _dump(dump)
    path = dump / DATA
    text = path.read_text(encoding="utf-8")
    assert text.count("((1, None), (None, 4))") == 1
    path.write_text(text.replace("((1, None), (None, 4))", "((1, None), (4,))"))
    reseal(dump, DATA)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("dumpplan", str(dump), "--database", "other", stdout=out)
    assert "field 'grid'" in out.getvalue()
    assert "rectangular" in out.getvalue()
    before = database_state("other")
    with pytest.raises(LinoMigrateError, match="rectangular"):
        restore(dump, using="other")
    assert before == database_state("other")


@pytest.mark.postgres
@BOTH
def test_migrators_see_python_values(tmp_path: Path) -> None:
    """Rows through a migrator hold lists, dicts and ranges, and are restored exactly."""
    _populate("default")
    dump = tmp_path / "a"
    _dump(dump)
    meta = read_script(dump)
    meta["VERSIONS"]["pgfields"] = "0.9"
    write_script(dump, meta)
    seen: dict[str, set[type]] = {}
    registry = Registry()

    @registry.migrator("pgfields", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        @m.rows("pgfields.sample")
        def look(row):  # type: ignore[no-untyped-def]
            for name in ("grid", "stamps", "tags", "time_range"):
                if row[name] is not None:
                    seen.setdefault(name, set()).add(type(row[name]))
            return row

    restore(dump, using="other", registry=registry)
    assert {
        "grid": {list},
        "stamps": {list},
        "tags": {dict},
        "time_range": {Range},
    } == (seen)
    assert _texts("default") == _texts("other")


@pytest.mark.parametrize(
    ("value_type", "literal"),
    [
        ("ArrayField[IntegerField]", (1, None, -3)),
        ("ArrayField[ArrayField[DateTimeField]]", (("2024-01-01T00:00:00+00:00",),)),
        ("ArrayField[DecimalField]", ("1.50", None, "NaN")),
        ("ArrayField[UUIDField]", (str(_UUID),)),
        ("ArrayField[FloatField]", ("nan", -0.0, 1.5)),
        ("ArrayField[DateRangeField]", (("2024-01-01", None, "[)"), "empty", None)),
        ("ArrayField[ArrayField[IntegerRangeField]]", (((1, 2, "[)"), "empty"),)),
        ("HStoreField", {"a": None, "b": "ü"}),
        ("IntegerRangeField", (None, 5, "()")),
        ("DateTimeRangeField", ("2024-01-01T00:00:00+00:00", None, "[)")),
        ("DecimalRangeField", "empty"),
    ],
)
def test_literal_round_trip(value_type: str, literal: Any) -> None:
    """Decoding a literal and encoding the value gives the literal back."""
    decode, encode = literal_decoder(value_type), literal_encoder(value_type)
    value = decode(literal) if decode else literal
    assert literal == encode(value) if encode else value
    assert [] == find_bad_values(
        [(literal,)], [(0, value_check(value_type, decoded=False))]
    )
    assert [] == find_bad_values(
        [(value,)], [(0, value_check(value_type, decoded=True))]
    )


def test_range_encoding_is_canonical() -> None:
    """An infinite bound is exclusive; an empty range is ``'empty'``."""
    encode = literal_encoder("DateRangeField")
    assert encode is not None
    assert (None, "2024-01-02", "(]") == encode(
        Range(None, datetime.date(2024, 1, 2), "[]")
    )
    assert "empty" == encode(Range(empty=True))


def test_hstore_keys_are_sorted() -> None:
    """A dump of an hstore does not depend on the order the driver gives."""
    encode = literal_encoder("HStoreField")
    assert encode is not None
    assert ["a", "b", "ü"] == list(encode({"ü": "1", "b": None, "a": "2"}))
    with pytest.raises(TypeError, match=r"django\.contrib\.postgres"):
        encode('"a"=>"b"')


@pytest.mark.parametrize(
    ("value_type", "literal", "problem"),
    [
        ("ArrayField[IntegerField]", ((1,), 2), "rectangular"),
        ("ArrayField[IntegerField]", ((1,), (1, 2)), "rectangular"),
        ("ArrayField[IntegerField]", ((), ()), "rectangular"),
        ("ArrayField[IntegerField]", ("x",), "item 0: found str 'x', expected an int"),
        ("ArrayField[IntegerField]", [1], "found list [1], expected a tuple"),
        (
            "ArrayField[CharField]",
            (None, "a\x00"),
            "item 1: the str 'a\\x00' holds a NUL",
        ),
        ("IntegerRangeField", (1, 2, "[["), "bounds one of"),
        ("IntegerRangeField", (1, 2), "expected (lower, upper, bounds)"),
        ("IntegerRangeField", "full", "found the str 'full', expected 'empty'"),
        ("DateRangeField", (1, None, "[)"), "the lower bound: found int 1"),
        ("HStoreField", {"a": 1}, "expected str: str or None"),
        ("HStoreField", {"a": "\ud800"}, "lone surrogate"),
        ("HStoreField", ("a", "b"), "expected a dict"),
    ],
)
def test_bad_literals_are_named(value_type: str, literal: Any, problem: str) -> None:
    """A literal of the wrong shape is refused before the database sees it."""
    check = value_check(value_type, decoded=False)
    assert check is not None
    [(row, column, found)] = find_bad_values([(None,), (literal,)], [(0, check)])
    assert (1, 0) == (row, column)
    assert problem in found
