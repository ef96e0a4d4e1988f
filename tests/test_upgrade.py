"""Planning the upgrade of a dump: every unexplained difference is found first."""

from __future__ import annotations

from pathlib import Path

import pytest

from lino_migrate.exceptions import UpgradeError
from lino_migrate.format.layout import FieldInfo, ModelInfo
from lino_migrate.restore.plan import plan_upgrade
from lino_migrate.restore.reader import DumpMeta
from lino_migrate.schema import describe
from lino_migrate.versions import app_versions
from migrations_registry import Registry
from tests.site.library.models import Genre, Publisher


def _meta(schema: dict[str, ModelInfo], **versions: str) -> DumpMeta:
    values = {"VERSIONS": {**app_versions(), **versions}}
    return DumpMeta(Path("/nonexistent"), values, schema, ())


def _old_genre() -> ModelInfo:
    """Return library.genre as an older release had it: 'title', not 'name'."""
    info = describe(Genre)
    fields = tuple(
        FieldInfo("title", "title", "title", f.type, f.null, f.target)
        if f.name == "name"
        else f
        for f in info.fields
    )
    return ModelInfo("library.genre", info.table, info.pk, fields)


def test_same_schema_loads_directly() -> None:
    """A dump of the current schema needs no migrator: rows go in as they are."""
    upgrade = plan_upgrade(_meta({"library.genre": describe(Genre)}))
    assert {"library.genre"} == upgrade.direct
    assert upgrade.plan.is_empty


def test_unexplained_differences_are_all_reported() -> None:
    """A vanished field, a new NOT NULL field and a missing model come in one error."""
    old_publisher = describe(Publisher)
    schema = {
        "library.genre": _old_genre(),
        "library.house": ModelInfo("library.house", "x", ("id",), old_publisher.fields),
    }
    with pytest.raises(UpgradeError) as info:
        plan_upgrade(_meta(schema, library="0.9"), Registry())
    problems = "\n".join(info.value.problems)
    assert (
        "field 'title' of 'library.genre' is in the dump but not in the current model"
        in problems
    )
    assert "m.remove_field('library.genre', 'title')" in problems
    assert (
        "field 'name' of 'library.genre' is new, NOT NULL and has no default"
        in problems
    )
    assert "m.add_field('library.genre', 'name', default=...)" in problems
    assert (
        "model 'library.house' is in the dump but not in the current code" in problems
    )
    assert 3 == len(info.value.problems)


def test_migrator_explains_the_differences() -> None:
    """A rename_field and a rename_model explain the old schema; rows go through the plan."""
    registry = Registry()

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        m.rename_field("library.genre", "title", "name")
        m.rename_model("library.house", "library.publisher")

    schema = {
        "library.genre": _old_genre(),
        "library.house": ModelInfo(
            "library.house", "x", ("id",), describe(Publisher).fields
        ),
    }
    upgrade = plan_upgrade(_meta(schema, library="0.9"), registry)
    assert upgrade.problems == []
    assert {
        "library.genre": "library.genre",
        "library.house": "library.publisher",
    } == upgrade.sources
    assert set() == upgrade.direct
    assert {("library", "house"): ("library", "publisher")} == upgrade.renamed_keys
    rows = list(upgrade.plan.apply("library.genre", [{"id": 1, "title": "Poetry"}]))
    assert [("library.genre", {"id": 1, "name": "Poetry"})] == rows


def test_downgrade_is_refused() -> None:
    """A dump newer than the code is an error naming both versions."""
    with pytest.raises(UpgradeError, match=r"library.*2\.0.*1\.0"):
        plan_upgrade(
            _meta({"library.genre": describe(Genre)}, library="2.0"), Registry()
        )
