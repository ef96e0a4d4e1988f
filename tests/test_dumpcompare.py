"""``dumpcompare``: real dumps of real sites compared model by model.

The command runs through ``manage.py``'s entry point in this process; the
dumps of the demo shop's releases come from real ``manage.py`` processes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import F

from lino_migrate.reports.compare import comparable
from tests.dumps import reseal
from tests.site.data import populate
from tests.site.kitchen.models import Sample
from tests.site.library.models import Author, Genre, Tag
from tests.test_upgrade_e2e import STATES, _release_1_dump

Manage = Callable[..., subprocess.CompletedProcess[str]]
DB = pytest.mark.django_db(transaction=True)


def _change() -> None:
    Author.objects.filter(pk=1).update(name="Ada King")
    Genre.objects.create(id=99, name="Drama")
    Tag.objects.filter(name="fantasy").delete()


def _two_dumps(
    tmp_path: Path, change: Callable[[], None] | None, *options: str
) -> tuple[Path, Path]:
    """Dump the populated database to A, run *change* in it, dump it to B."""
    populate()
    a, b = tmp_path / "a", tmp_path / "b"
    call_command("dump2py", str(a), "--noinput", "-v0")
    if change:
        change()
    call_command("dump2py", str(b), "--noinput", "-v0", *options)
    return a, b


def _compare(manage_py: Manage, *args: Any) -> subprocess.CompletedProcess[str]:
    return manage_py("dumpcompare", *args)


def _json(manage_py: Manage, a: Path, b: Path) -> dict[str, Any]:
    result = _compare(manage_py, a, b, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    # Written model by model, yet exactly the canonical form of the document.
    assert json.dumps(document, indent=2, sort_keys=True) + "\n" == result.stdout
    return document


def _model_line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"  {label} "))


@DB
def test_identical_dumps(manage_py: Manage, tmp_path: Path) -> None:
    """Two dumps of the same data are the same, however their rows are split."""
    a, b = _two_dumps(tmp_path, None, "--max-row-count", "2")
    assert (b / "library_author_2.py").exists()
    assert not (a / "library_author_2.py").exists()
    result = _compare(manage_py, a, b / "restore.py")
    assert 0 == result.returncode, result.stderr
    assert "No differences: the dumps hold the same rows" in result.stdout
    assert re.search(r"library\.author +6 +6  same$", result.stdout, re.M)
    assert "" == result.stderr
    document = _json(manage_py, a, b)
    assert document["summary"]["differ"] is False
    assert [] == [label for label, m in document["models"].items() if m["differ"]]
    assert {"a": 6, "b": 6} == document["models"]["library.author"]["rows"]


@DB
def test_changed_added_and_removed_rows(manage_py: Manage, tmp_path: Path) -> None:
    """Each changed, added and removed row is named with model, pk and values."""
    a, b = _two_dumps(tmp_path, _change)
    result = _compare(manage_py, a, b)
    assert 1 == result.returncode
    text = result.stdout
    assert re.search(r"^  library\.author +6 +6  1 changed$", text, re.M)
    assert "      changed pk=1: name 'Ada Lovelace' -> 'Ada King'\n" in text
    assert re.search(r"^  library\.genre +3 +4  1 added$", text, re.M)
    assert "      added pk=99: id=99, name='Drama'\n" in text
    assert "      removed pk='fantasy': name='fantasy', description=" in text
    # The delete cascaded to the tag's tagging.
    assert "      removed pk=1: id=1, book_id='6f1c1b2e-" in text
    assert re.search(r"library\.book +5 +5  same$", text, re.M)
    summary = "rows: 1 added, 2 removed, 1 changed."
    assert summary in text
    assert "CommandError: The dumps differ: 4 of " in result.stderr
    assert summary in result.stderr

    models = _json(manage_py, a, b)["models"]
    differing = {label for label, m in models.items() if m["differ"]}
    assert {"library.author", "library.genre", "library.tag", "library.tagging"} == (
        differing
    )
    assert [
        {"pk": 1, "values": {"name": {"a": "Ada Lovelace", "b": "Ada King"}}}
    ] == models["library.author"]["changed"]
    assert [{"pk": 99, "row": {"id": 99, "name": "Drama"}}] == models["library.genre"][
        "added"
    ]
    assert [
        {"pk": "fantasy", "row": {"name": "fantasy", "description": "Tag 'fantasy'"}}
    ] == models["library.tag"]["removed"]
    assert {"a": 13, "b": 12} == models["library.tag"]["rows"]
    assert [1] == [r["pk"] for r in models["library.tagging"]["removed"]]


def test_schema_and_version_differences(
    make_site: Any, manage_py: Manage, tmp_path: Path
) -> None:
    """A release-1 dump and its upgrade to release 3: models, fields, versions."""
    source, old = _release_1_dump(make_site, tmp_path)
    release_3 = source.at("3")
    release_3.manage("upgradedump", str(old), str(tmp_path / "new"))
    result = _compare(manage_py, old, tmp_path / "new")
    assert 1 == result.returncode
    text = result.stdout
    assert "App versions that differ (A -> B):\n" in text
    assert re.search(r"^  shop +1\.0 -> 3\.0$", text, re.M)
    assert _model_line(text, "shop.client").endswith("-  only in A")
    assert _model_line(text, "shop.customer").endswith("only in B")
    assert "      field legacy_code removed (CharField, NOT NULL)\n" in text
    assert (
        "      field client removed (BigAutoField, NOT NULL, -> shop.client)\n" in text
    )
    assert (
        "      field customer added (BigAutoField, NOT NULL, -> shop.customer)\n"
        in text
    )
    assert re.search(r"changed pk=\d+: status 'open' -> 'pending'$", text, re.M)
    assert "the versions of 1 app differ." in result.stderr

    document = _json(manage_py, old, tmp_path / "new")
    assert {"a": "1.0", "b": "3.0", "differ": True} == document["apps"]["shop"]
    models = document["models"]
    assert "a" == models["shop.client"]["only_in"]
    assert models["shop.client"]["rows"]["b"] is None
    assert "b" == models["shop.contact"]["only_in"]
    product = models["shop.product"]
    assert ["legacy_code"] == list(product["fields"])
    assert "removed" == product["fields"]["legacy_code"]["change"]
    assert [] == product["changed"]
    order = models["shop.order"]
    assert ["added", "removed"] == sorted(f["change"] for f in order["fields"].values())
    # Every order changed its status, and nothing else, as the migrator says.
    assert order["rows"]["a"] == len(order["changed"]) > 10
    for change in order["changed"]:
        assert ["status"] == list(change["values"])
        status = change["values"]["status"]
        assert STATES[status["a"]] == status["b"]


def test_field_type_and_nullability(
    make_site: Any, manage_py: Manage, tmp_path: Path
) -> None:
    """An edited SCHEMA (restore.py is not checksummed) shows as a changed field."""
    _source, old = _release_1_dump(make_site, tmp_path)
    edited = tmp_path / "edited"
    shutil.copytree(old, edited)
    script = edited / "restore.py"
    text = script.read_text(encoding="utf-8")
    field = "('price', 'price', 'price', '{}', {}, None)"
    assert 1 == text.count(field.format("DecimalField", False))
    text = text.replace(
        field.format("DecimalField", False), field.format("FloatField", True)
    )
    script.write_text(text, encoding="utf-8")
    result = _compare(manage_py, old, edited)
    assert 1 == result.returncode, result.stderr
    line = "field price changed: type DecimalField -> FloatField, null False -> True"
    assert f"      {line}\n" in result.stdout
    assert _model_line(result.stdout, "shop.product").endswith("  schema differs")
    assert "changed pk=" not in result.stdout
    fields = _json(manage_py, old, edited)["models"]["shop.product"]["fields"]
    price = {"attname": "price", "column": "price", "target": None}
    assert {
        "price": {
            "change": "changed",
            "a": {**price, "type": "DecimalField", "null": False},
            "b": {**price, "type": "FloatField", "null": True},
        }
    } == fields


@DB
def test_bad_dumps_exit_with_2(manage_py: Manage, tmp_path: Path) -> None:
    """A damaged file, a missing restore.py, a pk twice: exit 2, the file named."""
    a, _b = _two_dumps(tmp_path, None)
    damaged = tmp_path / "damaged"
    shutil.copytree(a, damaged)
    path = damaged / "library_author.py"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes(path.read_bytes().replace(b"Ada Lovelace", b"Ada Lovelacf"))
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    result = _compare(manage_py, a, damaged)
    assert 2 == result.returncode
    assert "" == result.stdout
    assert f"{path}: the sha256 is {found} but restore.py recorded {expected}" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr

    (damaged / "restore.py").unlink()
    result = _compare(manage_py, damaged, a)
    assert 2 == result.returncode
    message = f"{damaged}: not a dump: found a directory without restore.py."
    assert message in result.stderr

    twice = tmp_path / "twice"
    shutil.copytree(a, twice)
    path = twice / "library_genre.py"
    path.write_text(
        path.read_text(encoding="utf-8").replace("(2, 'Poetry')", "(1, 'Poetry')"),
        encoding="utf-8",
    )
    reseal(twice, path.name)
    result = _compare(manage_py, a, twice, "--format", "json")
    assert 2 == result.returncode
    assert f"{path}: the primary key 1 appears twice in library.genre" in result.stderr


@DB
def test_limit(manage_py: Manage, tmp_path: Path) -> None:
    """--limit caps the rows shown per model and kind; JSON lists every row."""

    def change() -> None:
        # -rank - 1 differs from rank for every row and stays within 32 bits.
        Sample.objects.update(rank=-F("rank") - 1)

    a, b = _two_dumps(tmp_path, change)
    sample = _json(manage_py, a, b)["models"]["kitchen.sample"]
    changed = sample["changed"]
    count = len(changed)
    assert count == sample["rows"]["a"] > 10
    assert all(["rank"] == list(c["values"]) for c in changed)
    for options, shown in (((), 10), (("--limit", "3"), 3), (("--limit", "0"), 0)):
        result = _compare(manage_py, a, b, *options)
        assert 1 == result.returncode, result.stderr
        assert f"at most {shown} rows are shown per model" in result.stdout
        assert shown == result.stdout.count("      changed pk=")
        assert f"      ... and {count - shown} more changed rows\n" in result.stdout
    result = _compare(manage_py, a, b, "--limit", str(count))
    assert count == result.stdout.count("      changed pk=")
    assert "more changed rows" not in result.stdout
    result = _compare(manage_py, a, b, "-v", "0")
    assert (1, "") == (result.returncode, result.stdout)
    result = _compare(manage_py, a, b, "--limit", "-1")
    assert 2 == result.returncode
    assert "--limit must be 0 or more" in result.stderr


@pytest.mark.parametrize(
    ("value_type", "a", "b"),
    [
        ("DecimalField", "1.50", "1.5"),
        ("DecimalField", "0E-10", "0"),
        ("DecimalField", "NaN", "NaN"),
        ("FloatField", "nan", "nan"),
        ("DateTimeField", "2024-01-01T01:00:00+01:00", "2024-01-01T00:00:00+00:00"),
        (
            "UUIDField",
            "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        ),
        ("JSONField", '{"b": 1, "a": [1, 2]}', '{"a":[1,2],"b":1}'),
        ("CharField", "x", "x"),
        ("JSONField", "not json", "not json"),
    ],
)
def test_values_compare_by_meaning(value_type: str, a: Any, b: Any) -> None:
    """Values that the two engines write differently are the same."""
    convert = comparable(value_type)
    assert convert(a) == convert(b)


@pytest.mark.parametrize(
    ("value_type", "a", "b"),
    [
        ("DecimalField", "1.5", "1.51"),
        ("DateTimeField", "2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00+00:00"),
        ("JSONField", "1", "true"),
        ("JSONField", '{"a": 1}', '{"a": 1.0}'),
        ("JSONField", "null", None),
        ("IntegerField", 1, True),
        ("CharField", "", None),
    ],
)
def test_values_that_differ(value_type: str, a: Any, b: Any) -> None:
    """JSON null is not SQL NULL, a boolean is not a number, '' is not NULL."""
    convert = comparable(value_type)
    assert convert(a) != convert(b)


def test_comparable_keeps_python_values() -> None:
    """Decoded values are the Python values a migrator would see."""
    assert decimal.Decimal("1.5") == comparable("DecimalField")("1.50")
    assert dt.date(2024, 2, 29) == comparable("DateField")("2024-02-29")
