"""Write the comparison of two dumps for a person or a program (``dumpcompare``).

Both writers take the models one at a time from
:meth:`~lino_migrate.reports.compare.DumpComparison.models` and write each before the
next is compared, so that only one model's differences are held in memory (on a
terminal, the text report keeps the lines of the models' table until it is drawn).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lino_migrate.exceptions import plural
from lino_migrate.format.layout import FieldInfo, written_when
from lino_migrate.reports.compare import (
    DumpComparison,
    FieldChange,
    ModelComparison,
    Row,
    RowChange,
)
from lino_migrate.reports.table import Block, ReportOutput, Table
from lino_migrate.restore.reader import DumpMeta

__all__ = ["CompareSummary", "jsonable", "model_document", "write_json", "write_text"]

#: A function that writes text (``self.stdout.write`` without line endings).
Write = Callable[[str], None]

#: Width of a value shown in the text report; longer ones are cut.
VALUE_WIDTH = 60


@dataclass
class CompareSummary:
    """The totals of a comparison, counted while it is written.

    .. versionadded:: 0.1
    """

    models: int = 0
    models_differing: int = 0
    models_only_in_a: int = 0
    models_only_in_b: int = 0
    models_with_schema_changes: int = 0
    rows_added: int = 0
    rows_removed: int = 0
    rows_changed: int = 0
    apps_differing: int = 0

    def add(self, model: ModelComparison) -> None:
        """Count *model*."""
        self.models += 1
        self.models_differing += model.differs
        self.models_only_in_a += model.b is None
        self.models_only_in_b += model.a is None
        self.models_with_schema_changes += bool(_schema(model))
        self.rows_added += len(model.added)
        self.rows_removed += len(model.removed)
        self.rows_changed += len(model.changed)

    @property
    def differs(self) -> bool:
        """Return whether the dumps differ (the exit status is then 1)."""
        return bool(self.models_differing or self.apps_differing)

    def message(self) -> str:
        """Return the last line of the text report."""
        if not self.differs:
            return (
                f"No differences: the dumps hold the same rows of {self.models} "
                "models at the same app versions."
            )
        kinds = [
            f"{count} {kind}"
            for count, kind in (
                (self.models_only_in_a, "only in A"),
                (self.models_only_in_b, "only in B"),
                (self.models_with_schema_changes, "with schema changes"),
            )
            if count
        ]
        models = f" ({', '.join(kinds)})" if kinds else ""
        apps = self.apps_differing
        return (
            f"The dumps differ: {self.models_differing} of {plural(self.models, 'model')}"
            f"{models}; rows: {self.rows_added} added, {self.rows_removed} removed, "
            f"{self.rows_changed} changed"
            + (f"; the versions of {plural(apps, 'app')} differ." if apps else ".")
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the totals, and ``differ``, as a JSON-able dict."""
        return {**asdict(self), "differ": self.differs}


def write_json(comparison: DumpComparison, write: Write) -> CompareSummary:
    """Write the comparison as one JSON document, every row listed.

    The document is what ``json.dumps(document, indent=2, sort_keys=True)``
    gives, written model by model. Keys: ``apps``, ``dumps``, ``models``,
    ``summary``.
    """
    summary = _start(comparison)
    head = {
        "apps": {
            app: {"a": a, "b": b, "differ": a != b}
            for app, (a, b) in comparison.versions.items()
        },
        "dumps": {
            "a": _dump_document(comparison.a, comparison.migrated_from),
            "b": _dump_document(comparison.b),
        },
    }
    write(_dumps(head, 0)[: -len("\n}")] + ',\n  "models": {')
    separator = ""
    for model in comparison.models():
        summary.add(model)
        document = _dumps(model_document(model), 2)
        write(f"{separator}\n    {json.dumps(model.label)}: {document}")
        separator = ","
    write("\n  }" if separator else "}")
    write(f',\n  "summary": {_dumps(summary.as_dict(), 1)}\n}}\n')
    return summary


def _start(comparison: DumpComparison) -> CompareSummary:
    apps = sum(a != b for a, b in comparison.versions.values())
    return CompareSummary(apps_differing=apps)


def _dumps(value: Any, level: int) -> str:
    text = json.dumps(value, indent=2, sort_keys=True)
    return text.replace("\n", "\n" + "  " * level)


def _dump_document(meta: DumpMeta, migrated: Path | None = None) -> dict[str, Any]:
    return {
        "directory": str(migrated or meta.directory),
        "migrated": migrated is not None,
        "created": meta.values["CREATED"],
        "django": meta.values["DJANGO"],
        "engine": meta.values["ENGINE"],
        "partial": meta.partial,
        "skipped": sorted(meta.values["SKIPPED"]),
    }


def model_document(model: ModelComparison) -> dict[str, Any]:
    """Return the comparison of one model as a JSON-able dict, every row listed."""
    a, b = model.a, model.b
    return {
        "differ": model.differs,
        "only_in": "a" if b is None else "b" if a is None else None,
        "rows": {"a": model.rows_a, "b": model.rows_b},
        "table": {"a": a.table if a else None, "b": b.table if b else None},
        "pk": {"a": list(a.pk) if a else None, "b": list(b.pk) if b else None},
        "fields": {
            f.name: {"change": f.kind, "a": _field(f.a), "b": _field(f.b)}
            for f in model.fields
        },
        "added": [
            {"pk": jsonable(r.pk), "row": jsonable(r.values)} for r in model.added
        ],
        "removed": [
            {"pk": jsonable(r.pk), "row": jsonable(r.values)} for r in model.removed
        ],
        "changed": [
            {
                "pk": jsonable(c.pk),
                "values": {
                    n: {"a": jsonable(old), "b": jsonable(new)}
                    for n, (old, new) in c.values.items()
                },
            }
            for c in model.changed
        ],
    }


def _field(info: FieldInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    names = ("attname", "column", "type", "null", "target")
    return {n: getattr(info, n) for n in names}


def jsonable(value: Any) -> Any:
    """Return a dumped value as JSON: tuples as lists, bytes as ``{"hex": …}``."""
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def write_text(
    comparison: DumpComparison, output: ReportOutput | None, limit: int
) -> CompareSummary:
    """Write the comparison for a person: at most *limit* rows per model and kind.

    :param output: where the report goes; ``None`` writes nothing, the summary
        is still counted.
    """
    summary = _start(comparison)
    lines: list[Block] = [
        _dump_line("A", comparison.a, comparison.migrated_from),
        _dump_line("B", comparison.b),
        "",
    ]
    versions = comparison.versions
    differing = {app: v for app, v in versions.items() if v[0] != v[1]}
    if differing:
        lines.append("App versions that differ (A -> B):")
        rows = [(app, a or "-", "->", b or "-") for app, (a, b) in differing.items()]
        lines.append(Table(rows, align="<>", indent=2, gap=1))
    else:
        lines.append(
            f"App versions: the same {len(versions)} apps at the same versions."
        )
    lines += [
        "",
        f"Models (rows in A, rows in B); at most {limit} rows are shown per model "
        "for each of added, removed and changed (--limit):",
    ]
    if output is None:
        for model in comparison.models():
            summary.add(model)
        return summary
    output.report(lines)
    with output.rows(_models_table(comparison)) as add:
        for model in comparison.models():
            summary.add(model)
            add(*_model_row(model, limit))
    output.write("\n" + summary.message() + "\n")
    return summary


def _dump_line(name: str, meta: DumpMeta, migrated: Path | None = None) -> str:
    partial = ""
    if meta.partial:
        partial = f", PARTIAL: skipped {', '.join(sorted(meta.values['SKIPPED']))}"
    if migrated is not None:
        return f"{name}: {migrated}, migrated to the current code by its migrators"
    return (
        f"{name}: {meta.directory} ({written_when(meta.values['CREATED'])} by Django "
        f"{meta.values['DJANGO']} on {meta.values['ENGINE']}{partial})"
    )


def _models_table(comparison: DumpComparison) -> Table:
    """Return the table of the model lines, its columns fitted to every model.

    The model lines are written one at a time as the models are compared, so
    the columns are fitted beforehand to the labels and row counts of the dumps.
    """
    a, b = _counts(comparison.a), _counts(comparison.b)
    rows = [
        (label, a.get(label, "-"), b.get(label, "-")) for label in comparison.labels
    ]
    return Table(align="<>>", indent=2, fit=rows)


def _counts(meta: DumpMeta) -> dict[str, str]:
    """Return, per model of *meta*, its rows as a model line shows them."""
    rows: Counter[str] = Counter()
    for entry in meta.files:
        rows[entry.model] += entry.rows
    return {label: str(rows[label]) for label in meta.schema}


def _model_row(model: ModelComparison, limit: int) -> tuple[tuple[str, ...], list[str]]:
    """Return the row of *model* in the models' table, and the notes beneath it."""

    def count(rows: int | None) -> str:
        return "-" if rows is None else str(rows)

    cells = (model.label, count(model.rows_a), count(model.rows_b))
    if model.a is None or model.b is None:
        return (*cells, "only in A" if model.b is None else "only in B"), []
    states = [
        f"{len(rows)} {kind}"
        for kind, rows in (
            ("added", model.added),
            ("removed", model.removed),
            ("changed", model.changed),
        )
        if rows
    ]
    details = _schema(model)
    if details:
        states.append("schema differs")
    notes = list(details)
    notes += _listed("added", model.added, _row, limit)
    notes += _listed("removed", model.removed, _row, limit)
    notes += _listed("changed", model.changed, _change, limit)
    return (*cells, ", ".join(states) or "same"), notes


def _listed(
    kind: str, items: Sequence[Any], show: Callable[[Any], str], limit: int
) -> list[str]:
    """Return a line per item, at most *limit*, then how many were left out."""
    lines = [f"{kind} pk={_show(item.pk)}: {show(item)}" for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"... and {len(items) - limit} more {kind} rows")
    return lines


def _row(row: Row) -> str:
    text = ", ".join(f"{n}={v!r}" for n, v in row.values.items())
    return _cut(text, 2 * VALUE_WIDTH)


def _change(change: RowChange) -> str:
    return "; ".join(
        f"{n} {_show(old)} -> {_show(new)}" for n, (old, new) in change.values.items()
    )


def _schema(model: ModelComparison) -> list[str]:
    """Return the schema differences of a model both dumps have, one line each."""
    a, b = model.a, model.b
    if a is None or b is None:
        return []
    lines = []
    if a.table != b.table:
        lines.append(f"table {a.table} -> {b.table}")
    if a.pk != b.pk:
        lines.append(f"primary key {', '.join(a.pk)} -> {', '.join(b.pk)}")
    return lines + [_field_line(f) for f in model.fields]


def _field_line(change: FieldChange) -> str:
    a, b = change.a, change.b
    if a is None or b is None:
        info = b or a
        assert info is not None
        null = "NULL" if info.null else "NOT NULL"
        target = f", -> {info.target}" if info.target else ""
        return f"field {change.name} {change.kind} ({info.type}, {null}{target})"
    names = ("attname", "column", "type", "null", "target")
    differences = ", ".join(
        f"{n} {getattr(a, n)} -> {getattr(b, n)}"
        for n in names
        if getattr(a, n) != getattr(b, n)
    )
    return f"field {change.name} changed: {differences}"


def _show(value: Any) -> str:
    return _cut(repr(value), VALUE_WIDTH)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
