"""Smoke tests of the test site: its data and the snapshot helper."""

from __future__ import annotations

import copy
import math
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from tests.site.data import BOOKS, populate
from tests.site.library.models import Announcement, Genre
from tests.snapshot import JSON_NULL, Snapshot, assert_same, snapshot

pytestmark = pytest.mark.django_db(databases=["default"])

CONTRIB_TABLES = [
    "admin.logentry",
    "auth.group",
    "auth.group_permissions",
    "auth.user",
    "auth.user_groups",
    "auth.user_user_permissions",
    "sessions.session",
    "sites.site",
]


def _site_labels() -> set[str]:
    """Return the labels of the concrete models of the test apps."""
    return {
        model._meta.label_lower
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in {"kitchen", "library"}
        and model._meta.managed
        and not model._meta.proxy
    }


@pytest.mark.parametrize("portable", [False, True])
@pytest.mark.parametrize("raw", [True, False])
def test_populate_fills_every_model(portable: bool, raw: bool) -> None:
    """populate() writes rows to every concrete model of the site and contrib."""
    populate(portable=portable)
    snap = snapshot(raw=raw)
    assert {"library.book_genres", "library.tagging"} <= _site_labels()
    empty = sorted(
        label for label in [*_site_labels(), *CONTRIB_TABLES] if not snap[label]
    )
    assert empty == []


@pytest.mark.parametrize("raw", [True, False])
def test_snapshot_is_repeatable(raw: bool) -> None:
    """Two snapshots of the same database are the same."""
    populate()
    assert_same(snapshot(raw=raw), snapshot(raw=raw))


def test_snapshot_skips_proxy_and_unmanaged_models() -> None:
    """Proxy and unmanaged models have no entry; M2M through tables have one."""
    snap = snapshot()
    assert "library.archivedannouncement" not in snap
    assert "library.legacycatalog" not in snap
    assert "library.book_genres" in snap


def test_snapshot_reads_hidden_rows() -> None:
    """Rows that the default manager hides are in the snapshot."""
    populate()
    assert Announcement.objects.count() == 2
    assert len(snapshot()["library.announcement"]) == 4
    assert len(snapshot(raw=False)["library.announcement"]) == 4


def test_snapshot_tells_json_null_from_sql_null() -> None:
    """JSON null and SQL NULL differ in both modes."""
    populate()
    raw = _column(snapshot(), "kitchen.sample", "json")
    orm = _column(snapshot(raw=False), "kitchen.sample", "json")
    assert (raw[0], raw[4]) == (None, "null")
    assert (orm[0], orm[4]) == (None, JSON_NULL)


def test_snapshot_replaces_ids_by_natural_keys() -> None:
    """Keys to content types and permissions become natural keys."""
    populate()
    snap = snapshot()
    assert ("library", "book", "add_book") in snap["auth.permission"]
    assert ("library", "book") in snap["contenttypes.contenttype"]
    marks = snap["library.bookmark"]
    columns = snap.columns["library.bookmark"]
    first = dict(zip(columns, marks[0], strict=True))
    assert first["target_type_id"] == ("library", "author")
    assert (1, ("library", "book", "add_book")) in snap["auth.group_permissions"]
    assert snap.columns["auth.group_permissions"] == ("group_id", "permission_id")


def test_populate_resets_sequences() -> None:
    """New rows get ids above the explicit ones."""
    populate()
    assert Genre.objects.create(name="new").pk > 300


def test_assert_same_names_model_row_and_column() -> None:
    """A difference is reported with the model label, row and column."""
    populate()
    a = snapshot()
    b = copy.deepcopy(a)
    index = a.columns["library.book"].index("title")
    row = list(b["library.book"][2])
    row[index] = "changed"
    b["library.book"][2] = tuple(row)
    with pytest.raises(AssertionError, match=r"(?s)library\.book: row 2 .*'title'"):
        assert_same(a, b)


def test_assert_same_names_missing_row() -> None:
    """A row missing from one snapshot is reported by its pk."""
    populate()
    a = snapshot(raw=False)
    b = copy.deepcopy(a)
    del b["library.book"][0]
    expected = re.escape(f"library.book: the row with pk {BOOKS['swim']!r} is missing")
    with pytest.raises(AssertionError, match=expected):
        assert_same(a, b)


@pytest.mark.parametrize(
    ("x", "y", "same"),
    [
        (math.nan, math.nan, True),
        (0.0, -0.0, False),
        (1, 1.0, False),
        (1, True, False),
        ({"a": [1, None]}, {"a": [1, None]}, True),
        ({"a": [1]}, {"a": [True]}, False),
        (None, JSON_NULL, False),
    ],
)
def test_assert_same_compares_values_strictly(x: object, y: object, same: bool) -> None:
    """NaN equals NaN; values of different types differ."""
    a, b = Snapshot(), Snapshot()
    a.add("app.model", ["id", "value"], [(1, x)], "id")
    b.add("app.model", ["id", "value"], [(1, y)], "id")
    if same:
        assert_same(a, b)
    else:
        with pytest.raises(AssertionError, match="column 'value'"):
            assert_same(a, b)


def _column(snap: Snapshot, label: str, name: str) -> list[object]:
    """Return the values of the column *name* of the model *label*."""
    index = snap.columns[label].index(name)
    return [row[index] for row in snap[label]]


@pytest.mark.django_db(databases=["default", "other"])
@pytest.mark.parametrize("portable", [False, True])
def test_populate_is_deterministic(portable: bool) -> None:
    """Two databases filled by populate() hold the same values."""
    populate("default", portable=portable)
    populate("other", portable=portable)
    assert_same(snapshot("default"), snapshot("other"))


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql" or "sqlite" not in settings.DATABASES,
    reason="needs PostgreSQL as default and an SQLite database named 'sqlite'",
)
@pytest.mark.django_db(databases=["default", "sqlite"])
def test_portable_data_is_the_same_on_both_backends() -> None:
    """With portable=True, SQLite and PostgreSQL read back the same values."""
    populate("default", portable=True)
    populate("sqlite", portable=True)
    assert_same(snapshot("default", raw=False), snapshot("sqlite", raw=False))
