"""The report of a restore: per model, rows in the dump, written, dropped, created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lino_migrate.reports.table import render_table

if TYPE_CHECKING:
    from lino_migrate.restore.restorer import RestoreReport

__all__ = ["format_report"]


def format_report(report: RestoreReport) -> str:
    """Return the restore report as a table, one line per model."""
    rows = [
        (label, m.in_dump, m.written, m.dropped, m.created)
        for label, m in sorted(report.models.items())
    ]
    headers = ("model", "in dump", "written", "dropped", "created")
    lines = render_table(rows, headers=headers)
    if report.migrators:
        lines.append("Migrators: " + "; ".join(report.migrators))
    lines += [f"EDITED: {edit}" for edit in report.edits]
    lines += _format_samples(report)
    for violation in report.violations:
        lines.append(f"REFUSED: {violation}")
    verb = "Rehearsed (rolled back):" if report.simulated else "Restored"
    lines.append(
        f"{verb} {report.written} rows of {len(report.models)} models "
        f"into database '{report.database}'."
    )
    return "\n".join(lines) + "\n"


def _format_samples(report: RestoreReport) -> list[str]:
    rows = [
        (when, f"{label}: {row!r}")
        for label, sample in sorted(report.samples.items())
        for when in ("before", "after")
        for row in sample.get(when, [])
    ]
    return render_table(rows, align=">", gap=1)
