"""The adapter of Lino's Site.languages: language columns dropped and filled (#13).

The oracle is a hand-written expectation of the operations; the real Lino
site is exercised by benchmarks/lino/run.py in CI.
"""

from __future__ import annotations

from lino_migrate.lino.languages import BabelColumns, follow_languages
from migrations_registry import AddField, Registry, RemoveField

#: A Lino site that had "en de fr" and now has "en de nl".
DUMPED = {
    "topics.topic": {
        "id": "id", "name": "name", "name_de": "name_de", "name_fr": "name_fr",
        "body_short_preview": "body_short_preview",
    },
    "tickets.ticket": {"id": "id", "summary": "summary"},
}  # fmt: skip
CURRENT = {
    "topics.topic": {"id": "id", "name": "name", "name_de": "name_de", "name_nl": "name_nl"},
    "tickets.ticket": {"id": "id", "summary": "summary"},
}  # fmt: skip
BABEL: BabelColumns = {"topics.topic": {"name": {"name_de": "", "name_nl": ""}}}


def _operations(dumped: dict[str, dict[str, str]]) -> list[tuple[str, str, str]]:
    registry = Registry()
    registry.register_adapter(
        "lino.languages", lambda m, d, c: follow_languages(m, d, c, BABEL)
    )
    plan = registry.adapt(registry.plan({}, {}), dumped, CURRENT)
    found = []
    for op in plan.operations:
        assert isinstance(op, RemoveField | AddField)
        default = repr(op.default) if isinstance(op, AddField) else ""
        found.append((type(op).__name__, f"{op.model_label}.{op.name}", default))
    return found


def test_removed_language_dropped_added_language_filled() -> None:
    """name_fr is removed, name_nl added with the field's default, nothing else."""
    assert [
        ("RemoveField", "topics.topic.name_fr", ""),
        ("AddField", "topics.topic.name_nl", "''"),
    ] == _operations(DUMPED)


def test_same_languages_change_nothing() -> None:
    """A dump at the current languages gets no operation: the plan stays empty."""
    same = {**DUMPED, "topics.topic": dict(CURRENT["topics.topic"])}
    assert [] == _operations(same)


def test_other_vanished_fields_are_left_to_the_plan() -> None:
    """A field that is no language column (body_short_preview) is not touched.

    The plan then reports it as a difference no migrator explains, as always.
    """
    assert "topics.topic.body_short_preview" not in {
        name for _, name, _ in _operations(DUMPED)
    }
