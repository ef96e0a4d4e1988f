"""Values are checked against their columns before anything is written (#12).

A data file edited by hand (and resealed) may hold a value of the wrong type:
``bytes`` in a ``CharField``, a string in an ``IntegerField``, a lone
surrogate in a text. The restore refuses it, naming model, row and field;
the database stays as it was (the oracle: a snapshot before and after).
"""

from __future__ import annotations

import ast
import re
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connections, models
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lino_migrate.exceptions import InvalidValueError, LoadError
from lino_migrate.restore import restore
from migrations_registry import Registry
from tests.dumps import data_files, reseal
from tests.site.data import populate
from tests.site.kitchen.models import Sample
from tests.snapshot import assert_same, snapshot

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])

#: (data file, column, bad value, what the message says was expected)
BAD_VALUES = [
    ("kitchen_sample", "char", b"bytes", "expected a str"),
    ("kitchen_sample", "text", "lone \ud800 surrogate", "lone surrogate"),
    ("kitchen_sample", "label", "\udfff", "lone surrogate"),
    ("kitchen_sample", "integer", "12", "expected an int"),
    ("kitchen_sample", "rank", True, "expected an int"),
    ("kitchen_sample", "boolean", 1, "expected a bool"),
    ("kitchen_sample", "real", "1e5", "'inf', '-inf', 'nan'"),
    ("kitchen_sample", "real", b"1.5", "'inf', '-inf', 'nan'"),
    ("kitchen_sample", "decimal", 1.5, "a decimal number"),
    ("kitchen_sample", "decimal", "x1.5", "is not a valid DecimalField value"),
    ("kitchen_sample", "binary", "text", "expected a bytes"),
    ("kitchen_sample", "json", b"{}", "expected a str"),
    ("kitchen_sample", "date", 20240101, "ISO 8601 date"),
    ("kitchen_sample", "datetime", "2024-02-30 10:00", "not a valid DateTimeField"),
    ("kitchen_sample", "uuid", 5, "a UUID"),
    ("kitchen_sample", "duration", 1.5, "microseconds"),
    ("kitchen_sample", "big", ["a", "list"], "expected an int"),
    ("library_book", "author_id", 5, "expected a str"),
    ("library_book", "title", "\ud83d\udcda", "lone surrogate"),
]


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """Return a dump of the populated default database; 'other' holds data too."""
    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    populate("other", portable=True)
    return tmp_path / "d"


def _edit(dump: Path, stem: str, column: str, value: Any, at: int = 0) -> Any:
    """Put *value* into *column* of row *at* of a data file; reseal it.

    :return: the primary key of the row (its first value).
    """
    path = dump / f"{stem}.py"
    text = path.read_text(encoding="utf-8")
    columns = ast.literal_eval(text.split("COLUMNS = ")[1].split("\n")[0])
    lines = text.split("\n")
    rows = [i for i, line in enumerate(lines) if line.startswith("    (")]
    row = list(ast.literal_eval(lines[rows[at]].strip().rstrip(",")))
    row[columns.index(column)] = value
    lines[rows[at]] = f"    {tuple(row)!r},"
    path.write_text("\n".join(lines), encoding="utf-8")
    reseal(dump, path.name)
    return row[0]


@pytest.mark.parametrize(("stem", "column", "value", "expected"), BAD_VALUES)
@BOTH
def test_bad_value_is_refused_naming_model_row_and_field(
    dump_dir: Path, stem: str, column: str, value: Any, expected: str
) -> None:
    """A value of the wrong type names model, row, field and value; nothing changes."""
    before = snapshot("other")
    pk = _edit(dump_dir, stem, column, value, at=1)
    field = column.removesuffix("_id")
    label = stem.replace("_", ".", 1)
    with pytest.raises(InvalidValueError) as info:
        restore(dump_dir, using="other")
    message = str(info.value)
    assert f"'{label}' row pk={pk!r} field '{field}'" in message
    assert expected in message
    assert repr(value)[:20] in message
    assert (label, pk, field) == (
        info.value.model_label,
        info.value.pk,
        info.value.field,
    )
    assert_same(before, snapshot("other"))


@BOTH
def test_long_value_is_shown_shortened(dump_dir: Path) -> None:
    """The message shows the start of a long value, not all of it."""
    _edit(dump_dir, "kitchen_sample", "char", b"x" * 10_000)
    with pytest.raises(InvalidValueError, match=r"found bytes b'xxxx.*\.\.\.") as info:
        restore(dump_dir, using="other")
    assert len(str(info.value)) < 500


@BOTH
def test_rehearsal_lists_bad_values_and_changes_nothing(
    dump_dir: Path, manage_py: Any
) -> None:
    """--simulate lists every refused value (no traceback) and rolls back."""
    before = snapshot("other")
    first = _edit(dump_dir, "kitchen_sample", "char", b"bytes", at=2)
    second = _edit(dump_dir, "kitchen_sample", "text", "\ud800", at=4)
    report = restore(dump_dir, using="other", simulate=True)
    refused = {(v.pk, v.field) for v in report.violations}
    assert {(first, "char"), (second, "text")} == refused
    assert report.models["library.author"].written > 0
    assert_same(before, snapshot("other"))
    script = dump_dir / "restore.py"
    result = manage_py("run", script, "--simulate", "--database", "other")
    assert 1 == result.returncode
    assert "rehearsal found 2 rows" in result.stderr
    assert "field 'char'" in result.stdout
    assert "field 'text'" in result.stdout
    assert_same(before, snapshot("other"))


@BOTH
def test_value_set_by_a_migrator_is_checked(dump_dir: Path) -> None:
    """A migrated row holding a value of the wrong type is refused the same way."""
    before = snapshot("other")
    script = dump_dir / "restore.py"
    text = script.read_text(encoding="utf-8")
    text, count = re.subn(r"'kitchen': '1\.0'", "'kitchen': '0.9'", text)
    assert 1 == count
    script.write_text(text, encoding="utf-8")
    registry = Registry()

    @registry.migrator("kitchen", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        @m.rows("kitchen.sample")
        def damage(row):  # type: ignore[no-untyped-def]
            if row["id"] == 3:
                row["integer"] = "3"
            return row

    with pytest.raises(LoadError, match="found str '3', expected an int") as info:
        restore(script, using="other", registry=registry)
    assert (3, "integer") == (info.value.pk, info.value.field)
    assert_same(before, snapshot("other"))


@pytest.fixture
def portion() -> Iterator[type[models.Model]]:
    """Return a model with a composite primary key and a foreign key, tables made.

    It lives only during the test: the test site's other tests and their
    snapshots know no composite primary key.
    """

    class Meta:
        app_label = "kitchen"

    model: type[models.Model] = type(
        "Portion",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": Meta,
            "pk": models.CompositePrimaryKey("sample", "number"),
            "sample": models.ForeignKey(
                Sample, on_delete=models.CASCADE, related_name="+"
            ),
            "number": models.PositiveSmallIntegerField(),
            "grams": models.IntegerField(default=0),
        },
    )
    made = []
    try:
        for alias in ("default", "other"):
            with connections[alias].schema_editor() as editor:
                editor.create_model(model)
            made.append(alias)
        yield model
    finally:
        for alias in made:
            with connections[alias].schema_editor() as editor:
                editor.delete_model(model)
        del apps.all_models["kitchen"]["portion"]
        apps.clear_cache()


@BOTH
def test_dangling_key_of_composite_primary_key_model_is_named(
    tmp_path: Path, portion: type[models.Model]
) -> None:
    """A dangling foreign key of a model with a CompositePrimaryKey names its row."""
    populate("default")
    portion.objects.using("default").create(sample_id=1, number=7, grams=5)
    dump = tmp_path / "d"
    call_command("dump2py", str(dump), "--noinput", "-v0")
    populate("other", portable=True)
    portion.objects.using("other").create(sample_id=2, number=1, grams=1)
    before = list(portion.objects.using("other").values_list("sample", "number"))
    _edit(dump, "kitchen_portion", "sample_id", 999_999)
    with pytest.raises(
        LoadError, match=r"'kitchen\.portion' row pk=\(999999, 7\)"
    ) as info:
        restore(dump, using="other")
    assert ((999_999, 7), "sample") == (info.value.pk, info.value.field)
    assert "kitchen.sample id=999999, which does not exist" in str(info.value)
    assert before == list(
        portion.objects.using("other").values_list("sample", "number")
    )


#: The apps left out of the decimal dumps: only the kitchen is compared.
OTHER_APPS = ("admin", "auth", "contenttypes", "sessions", "sites", "library")


@st.composite
def long_decimals(draw: st.DrawFn) -> Decimal:
    """Return a decimal of 16 to 30 significant digits that fits (30, 10)."""
    digits = draw(st.integers(16, 30))
    places = draw(st.integers(max(digits - 20, 0), min(digits, 10)))
    coefficient = draw(st.integers(10 ** (digits - 1), 10**digits - 1))
    sign = draw(st.sampled_from([1, -1]))
    return Decimal(sign * coefficient).scaleb(-places)


def _stored(using: str) -> list[tuple[Any, ...]]:
    """Return the decimals as SQLite stores them: number and storage class."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            'SELECT id, +"decimal", typeof("decimal") FROM kitchen_sample ORDER BY id'
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(long_decimals(), min_size=1, max_size=8))
@example(
    values=[
        Decimal("99999999999999999999.9999999999"),
        Decimal("-99999999999999999999.9999999999"),
        Decimal("1234567890123456789"),
        Decimal("12345678901234567890.0987654321"),
        Decimal("0.1234567890123456789"[:12]),
    ]
)
def test_sqlite_long_decimals_are_dumped_as_stored(values: list[Decimal]) -> None:
    """Beyond 15 digits SQLite stores a REAL: dumped as stored, redumped identical.

    The oracle is SQLite itself: each literal is the number the source table
    stores (read back by SQLite, not by the dumper), the restored table
    stores the same numbers, and a dump of it is byte-identical.
    """
    if connections["default"].vendor != "sqlite":
        pytest.skip("SQLite stores long decimals as REAL; PostgreSQL keeps them")
    Sample.objects.using("default").all().delete()
    Sample.objects.using("default").bulk_create(
        Sample(id=i, label=str(v), decimal=v) for i, v in enumerate(values, start=1)
    )
    excluded = [option for app in OTHER_APPS for option in ("-e", app)]
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp, "first"), Path(tmp, "second")
        call_command("dump2py", str(first), "--noinput", "-v0", *excluded)
        restore(first, using="other")
        call_command(
            "dump2py", str(second), "--noinput", "-v0", "--database", "other",
            *excluded,
        )  # fmt: skip
        assert data_files(first) == data_files(second)
        source = _stored("default")
        assert source == _stored("other")
        text = (first / "kitchen_sample.py").read_text(encoding="utf-8")
    column = ast.literal_eval(text.split("COLUMNS = ")[1].split("\n")[0])
    at = column.index("decimal")
    rows = [
        ast.literal_eval(line.strip().rstrip(","))
        for line in text.split("\n")
        if line.startswith("    (")
    ]
    for (_pk, stored, kind), row in zip(source, rows, strict=True):
        read = int(row[at]) if kind == "integer" else float(row[at])
        assert (stored, type(stored)) == (read, type(read)), row[at]
