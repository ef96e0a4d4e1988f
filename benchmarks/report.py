"""Turn the measurements of one engine into a printed table of steps and goals."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from benchmarks.harness import Measurement
from benchmarks.proctree import POLL_SECONDS
from benchmarks.result import EngineResult, Target, jobs_key
from benchmarks.targets import RSS_GROWTH, RSS_LIMIT, targets

__all__ = [
    "RSS_GROWTH",
    "RSS_LIMIT",
    "EngineResult",
    "Target",
    "format_result",
    "result_json",
    "targets",
]


def _jobs_label(result: EngineResult, jobs: int) -> str:
    return f" --jobs {jobs}" if result.jobs_explicit or jobs != 1 else ""


def _steps(result: EngineResult) -> list[tuple[str, str]]:
    """Return the keys and labels of the steps, in the order of the table."""
    dumps = [
        (jobs_key("dump", j), f"dump2py DIR{_jobs_label(result, j)}")
        for j in result.jobs
    ]
    restores = [
        (jobs_key("restore", j), f"run DIR/restore.py{_jobs_label(result, j)}")
        for j in result.jobs
    ]
    return [
        ("startup", "Django start-up (run an empty script)"),
        *dumps,
        ("dumpdata", "dumpdata json, natural keys"),
        ("raw_read", "raw read: SELECT *, fetchmany"),
        ("pg_dump", "pg_dump -Fc"),
        *restores,
        ("restore_transform", "run restore.py + 1 row transform"),
        (
            "restore_transform_parallel",
            f"  the same, parallel=True, --jobs {max(result.jobs)}",
        ),
        ("loaddata", "loaddata"),
        ("raw_write", "raw write: executemany"),
        ("raw_copy", "raw write: COPY"),
        ("pg_restore", "pg_restore --data-only"),
        ("pg_restore_all", "pg_restore, schema + data"),
    ]


def result_json(result: EngineResult) -> dict[str, Any]:
    """Return the figures and the verdicts of *result* as a JSON-ready dict."""
    return {**result.as_json(), "targets": [asdict(t) for t in targets(result)]}


def _cell(value: float | None, spec: str, width: int) -> str:
    return f"{'-' if value is None else format(value, spec):>{width}}"


#: Width of the first column.
_W = 44


def _step_line(label: str, step: Measurement) -> str:
    if step.seconds is None:
        return f"  {label:<{_W}} {'n/a':>8}   {step.note}"
    notes = []
    if step.extrapolated:
        notes.append(f"extrapolated from {step.measured_rows:,} rows")
    if step.in_process:
        notes.append("in-process, DB work only")
    if step.processes > 1:
        notes.append(f"{step.processes} processes")
    if step.note:
        notes.append(step.note)
    size = None if step.size_bytes is None else step.size_bytes / 2**20
    return (
        f"  {label:<{_W}} {_cell(step.seconds, '.2f', 8)} "
        f"{_cell(step.rows_per_second, ',.0f', 9)} {_cell(step.tree_mb, '.1f', 7)} "
        f"{_cell(step.rss_mb, '.1f', 7)} {_cell(size, '.1f', 7)}   {'; '.join(notes)}"
    ).rstrip()


def _figure(value: float | None, unit: str) -> str:
    """Return *value* with its unit; ratios below 10 get two decimals."""
    if value is None:
        return "-"
    decimals = 2 if unit == "x" and value < 10 else 1
    return f"{value:.{decimals}f}{unit}"


def _step_lines(result: EngineResult) -> list[str]:
    labels = dict(_steps(result))
    lines = [
        f"  {'step':<{_W}} {'wall s':>8} {'rows/s':>9} {'RSS MB':>7} "
        f"{'main MB':>7} {'size MB':>7}"
    ]
    lines += [
        _step_line(label, result.steps[key])
        for key, label in labels.items()
        if key in result.steps
    ]
    for key, step in result.reference.items():
        name = labels.get(key, key).replace("run DIR/", "").replace(" DIR", "")
        rows = f"{step.rows:,}" if step.rows is not None else "the subset's"
        lines.append(_step_line(f"{name} at {rows} rows", step))
    return lines


def format_result(result: EngineResult) -> str:
    """Return the table of one engine: steps, then targets."""
    lines = [
        f"{result.version}: {result.rows:,} rows in {result.tables} tables "
        f"(generated in {result.generate_seconds:.1f} s)",
        *_step_lines(result),
        f"  RSS MB: peak of the summed Pss of the command and all its processes, "
        f"sampled every {POLL_SECONDS * 1000:.0f} ms; main MB: VmHWM of the main "
        "process.",
        "",
        f"  {'target':<{_W}} {'figure':>8} {'net':>8} {'goal':>10}  {'verdict':<8} "
        "note",
    ]
    for t in targets(result):
        value, net = _figure(t.value, t.unit), _figure(t.net, t.unit)
        lines.append(
            f"  {t.name:<{_W}} {value:>8} {net:>8} {t.goal:>10}  {t.verdict:<8} "
            f"{t.note}".rstrip()
        )
    lines.append(
        "  net: the Django start-up time subtracted from the wall time of every "
        "manage.py step (raw steps are timed in-process, pg_dump and pg_restore "
        "from outside)."
    )
    return "\n".join(lines)
