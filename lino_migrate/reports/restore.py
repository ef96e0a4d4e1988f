"""The report of a restore: per model, rows in the dump, written, dropped, created.

As text for a person (:func:`report_blocks`, drawn by
:class:`~lino_migrate.reports.table.ReportOutput`; :func:`format_report`) or
as a dict for JSON (:func:`report_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from lino_migrate.exceptions import plural
from lino_migrate.reports.table import Block, Table, plain_text

if TYPE_CHECKING:
    from lino_migrate.restore.restorer import RestoreReport

__all__ = ["format_report", "report_blocks", "report_dict"]


def format_report(report: RestoreReport) -> str:
    """Return the restore report as plain text, one line per model."""
    return plain_text(report_blocks(report))


def report_blocks(report: RestoreReport) -> list[Block]:
    """Return the restore report: a table, one row per model, then its lines."""
    rows = [
        (label, m.in_dump, m.written, m.dropped, m.created)
        for label, m in sorted(report.models.items())
    ]
    headers = ("model", "in dump", "written", "dropped", "created")
    lines: list[Block] = [Table(rows, headers=headers)]
    if report.migrators:
        lines.append("Migrators: " + "; ".join(report.migrators))
    lines += [f"EDITED: {edit}" for edit in report.edits]
    lines.append(_samples(report))
    # What became of the restore is said once, on the last line (#14).
    lines += [f"REFUSED: {violation.detail}" for violation in report.violations]
    verb = "Rehearsed (rolled back):" if report.simulated else "Restored"
    lines.append(
        f"{verb} {plural(report.written, 'row')} of "
        f"{plural(len(report.models), 'model')} into database '{report.database}'."
    )
    return lines


def report_dict(
    report: RestoreReport, target: str, meta: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the restore report as a dict of JSON values (``--format json``).

    :param target: which database the alias is (engine and name).
    :param meta: the values of the dump's ``restore.py`` (``CREATED``, ...).
    """
    return {
        "database": {"alias": report.database, "target": target},
        "dump": {
            "created": meta.get("CREATED"),
            "partial": bool(meta.get("PARTIAL")),
            "versions": dict(meta.get("VERSIONS", {})),
        },
        "simulated": report.simulated,
        "ok": not report.violations,
        "written": report.written,
        "models": {
            label: {
                "in_dump": m.in_dump,
                "written": m.written,
                "dropped": m.dropped,
                "created": m.created,
            }
            for label, m in sorted(report.models.items())
        },
        "migrators": list(report.migrators),
        "edits": list(report.edits),
        "violations": [violation.detail for violation in report.violations],
        "media": None if report.media is None else asdict(report.media),
    }


def _samples(report: RestoreReport) -> Table:
    rows = [
        (when, f"{label}: {row!r}")
        for label, sample in sorted(report.samples.items())
        for when in ("before", "after")
        for row in sample.get(when, [])
    ]
    return Table(rows, align=">", gap=1)
