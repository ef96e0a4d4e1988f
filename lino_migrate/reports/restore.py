"""The report of a restore: per model, rows in the dump, written, dropped, created."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lino_migrate.restore.restorer import RestoreReport

__all__ = ["format_report"]


def format_report(report: RestoreReport) -> str:
    """Return the restore report as a table, one line per model."""
    width = max((len(label) for label in report.models), default=5)
    head = ("in dump", "written", "dropped", "created")
    lines = [f"{'model':<{width}}" + "".join(f"  {h:>9}" for h in head)]
    for label in sorted(report.models):
        m = report.models[label]
        counts = (m.in_dump, m.written, m.dropped, m.created)
        lines.append(f"{label:<{width}}" + "".join(f"  {c:>9}" for c in counts))
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
    lines = []
    for label, sample in sorted(report.samples.items()):
        for when in ("before", "after"):
            for row in sample.get(when, []):
                lines.append(f"{when:>6} {label}: {row!r}")
    return lines
