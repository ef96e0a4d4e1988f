"""Print the ``upgradedump`` step of one engine and its RSS growth (issue #11).

The table of :mod:`benchmarks.report` lists the dump and restore steps; this
adds the lines of ``upgradedump``, measured by
:func:`benchmarks.steps.measure_upgradedump` at the requested size and, when
the Django steps ran on a subset, at the size of the subset too.
"""

from __future__ import annotations

from benchmarks.report import RSS_GROWTH, EngineResult

__all__ = ["REFERENCE_KEY", "STEP_KEY", "format_upgradedump"]

#: The key in ``EngineResult.steps`` of the step ...
STEP_KEY = "upgradedump"
#: ... and of the same step on the subset, for the RSS growth.
REFERENCE_KEY = "upgradedump_subset"


def format_upgradedump(result: EngineResult) -> str:
    """Return the lines of the ``upgradedump`` step, or "" when it did not run."""
    step = result.steps.get(STEP_KEY)
    if step is None or step.seconds is None or step.rss_mb is None:
        return ""
    rate = step.rows_per_second or 0.0
    lines = [
        f"  upgradedump OLD NEW + 1 row transform: {step.seconds:.2f} s, "
        f"{rate:,.0f} rows/s, peak RSS {step.rss_mb:.1f} MB"
    ]
    ref = result.steps.get(REFERENCE_KEY)
    if ref is not None and ref.rss_mb is not None:
        growth = step.rss_mb - ref.rss_mb
        verdict = "met" if growth <= RSS_GROWTH else "NOT met"
        rows = f"{ref.rows:,}" if ref.rows else "?"
        lines.append(
            f"  RSS growth of upgradedump over the subset: {growth:.1f} MB "
            f"(goal <= {RSS_GROWTH} MB: {verdict}; {ref.rss_mb:.1f} MB at {rows} rows)"
        )
    return "\n".join(lines)
