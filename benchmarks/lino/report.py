"""Render what the Lino check found: the side-by-side table, the differences, the checks."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.lino.checks import Check, ToolResult
from benchmarks.lino.noisite import Child
from benchmarks.lino.tables import IGNORED_TABLES, TableDiff
from lino_migrate.reports.table import render_table

__all__ = ["format_checks", "format_differences", "format_tools"]

_VERDICTS = {True: "PASS", False: "FAIL", None: "SKIP"}


def format_tools(results: Sequence[ToolResult]) -> str:
    """Return the side-by-side table of the tools: times, peak RSS, tables, rows."""
    headers = ("tool", "dump s", "restore s", "dump MB", "restore MB",
               "tables equal", "rows lost", "rows changed")  # fmt: skip
    rows = [
        (result.tool, _seconds(result.dump), _seconds(result.restore),
         _rss(result.dump), _rss(result.restore),
         f"{result.equal} / {len(result.tables)}" if result.tables else "-",
         sum(d.lost for d in result.tables), sum(d.changed for d in result.tables))
        for result in results
    ]  # fmt: skip
    skipped = ", ".join(f"{name} ({why})" for name, why in IGNORED_TABLES.items())
    notes = [
        "Times are wall times of the manage.py processes (start-up included), "
        "MB their peak RSS (VmHWM).",
        f"Not compared: {skipped}.",
    ]
    return "\n".join([*render_table(rows, headers=headers, align="<>>>>>>>"), *notes])


def format_differences(result: ToolResult) -> str:
    """Return the tables that *result* did not get back exactly, one line each."""
    if result.error:
        return f"{result.tool} failed: {result.error}"
    bad = [diff for diff in result.tables if not diff.equal]
    if not bad:
        return f"{result.tool}: every table equal."
    headers = ("table", "rows", "lost", "extra", "changed", "how (first difference)")
    rows = [(d.table, d.rows, d.lost, d.extra, d.changed, _how(d)) for d in bad]
    lines = render_table(rows, headers=headers, indent=2)
    return "\n".join([f"Where {result.tool}'s restore differs:", *lines])


def format_checks(checks: Sequence[Check]) -> str:
    """Return the verdict of every check, then the details of those that failed."""
    rows = [(_VERDICTS[c.passed], c.name, c.detail.partition("\n")[0]) for c in checks]
    lines = render_table(rows, headers=("", "check", "result"), indent=2)
    for check in checks:
        if check.passed is False and "\n" in check.detail:
            lines += ["", f"{check.name}:", check.detail.partition("\n")[2]]
    return "\n".join(lines)


def _how(diff: TableDiff) -> str:
    """Return the columns that differ and one example, or the note."""
    if diff.note:
        return diff.note
    if diff.lost and not diff.changed:
        return f"{diff.lost} of {diff.rows} rows missing"
    column, count = diff.columns.most_common(1)[0]
    before, after = diff.examples[column]
    others = len(diff.columns) - 1
    more = f" (+{others} more column{'s' * (others > 1)})" if others else ""
    shown = " -> ".join(_excerpts(before, after))
    return f"{column} in {count} rows: {shown}{more}"


def _excerpts(before: object, after: object, width: int = 40) -> tuple[str, str]:
    """Return both values shortened to *width*; strings from just before they differ."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return _cut(repr(before), width), _cut(repr(after), width)
    pairs = enumerate(zip(before, after, strict=False))
    same = next((i for i, (a, b) in pairs if a != b), min(len(before), len(after)))
    start = max(0, same - 8)
    lead = "..." if start else ""
    return (
        _cut(repr(lead + before[start:]), width),
        _cut(repr(lead + after[start:]), width),
    )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _seconds(child: Child | None) -> str:
    return f"{child.seconds:.1f}" if child else "-"


def _rss(child: Child | None) -> str:
    return f"{child.rss_mb:.0f}" if child else "-"
