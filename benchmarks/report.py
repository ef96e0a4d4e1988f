"""Turn the measurements of one engine into ratios, verdicts and a printed table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.harness import Measurement

__all__ = ["EngineResult", "Target", "format_result", "targets"]

#: The order and the labels of the steps in the table.
STEPS = (
    ("startup", "Django start-up (run an empty script)"),
    ("dump", "dump2py DIR"),
    ("dump_jobs", "dump2py DIR --jobs 2"),
    ("dumpdata", "dumpdata json, natural keys"),
    ("raw_read", "raw read: SELECT *, fetchmany"),
    ("restore", "run DIR/restore.py"),
    ("restore_transform", "run restore.py + 1 row transform"),
    ("loaddata", "loaddata"),
    ("raw_write", "raw write: executemany"),
    ("raw_copy", "raw write: COPY"),
)
#: Peak RSS goals, in MiB: at most this at 1M rows ...
RSS_LIMIT = 150
#: ... and at most this much more than at 100k rows.
RSS_GROWTH = 30
GOAL_ROWS = 1_000_000
#: Steps timed from outside (wall time of a subprocess, start-up included).
SUBPROCESS_STEPS = (
    "dump", "dump_jobs", "restore", "restore_transform", "dumpdata", "loaddata",
)  # fmt: skip
#: The cost of a row transform on every row: at most this times the plain
#: restore, per issue.
TRANSFORM_GOALS = (("#4", 1.5), ("#5", 1.3))


@dataclass
class EngineResult:
    """Everything measured on one engine."""

    engine: str
    version: str
    rows: int
    tables: int
    generated: dict[str, int]
    generate_seconds: float
    steps: dict[str, Measurement] = field(default_factory=dict)
    #: dump and restore measured at the smaller size, for the RSS growth.
    reference: dict[str, Measurement] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the figures as a JSON-ready dict."""
        data = asdict(self)
        data["steps"] = {k: m.as_json() for k, m in self.steps.items()}
        data["reference"] = {k: m.as_json() for k, m in self.reference.items()}
        data["targets"] = [asdict(t) for t in targets(self)]
        return data


@dataclass(frozen=True)
class Target:
    """One goal of the issue, the figure measured for it and the verdict."""

    name: str
    goal: str
    value: float | None
    net: float | None
    unit: str
    verdict: str
    note: str = ""


def _seconds(result: EngineResult, key: str) -> float | None:
    step = result.steps.get(key)
    return step.seconds if step else None


def _ratio(
    result: EngineResult, top: str, bottom: str
) -> tuple[float | None, float | None]:
    """Return ``top / bottom``, and the same net of the start-up of subprocesses."""
    a, b = _seconds(result, top), _seconds(result, bottom)
    if not a or not b:
        return None, None
    start = _seconds(result, "startup") or 0.0

    def net(key: str, value: float) -> float:
        return max(value - start, 1e-9) if key in SUBPROCESS_STEPS else value

    return a / b, net(top, a) / net(bottom, b)


def _judge(value: float | None, op: str, limit: float) -> str:
    if value is None:
        return "n/a"
    ok = value >= limit if op == ">=" else value <= limit
    return "met" if ok else "NOT met"


def _time_targets(result: EngineResult) -> list[Target]:
    pg = result.engine == "postgres"
    write_key, write_name = ("raw_copy", "COPY") if pg else ("raw_write", "executemany")
    django = [result.steps[k] for k in ("dumpdata", "loaddata") if k in result.steps]
    django_note = (
        "Django side extrapolated" if any(s.extrapolated for s in django) else ""
    )
    specs = [
        ("restore vs loaddata (speedup)", "loaddata", "restore", ">=", 20, django_note),
        (f"restore / raw write ({write_name})", "restore", write_key, "<=", 1.5, ""),
        ("dump vs dumpdata (speedup)", "dumpdata", "dump", ">=", 3, django_note),
        ("dump / raw read", "dump", "raw_read", "<=", 1.5, ""),
    ]
    if pg:
        info = ("restore / raw write (executemany)", "restore", "raw_write", "", 0, "")
        specs.insert(2, info)
        jobs = ("dump --jobs 2 vs --jobs 1 (speedup)", "dump", "dump_jobs", ">=", 1.6,
                "goal at 1M rows")  # fmt: skip
        specs.append(jobs)
    specs += [
        ("restore + row transform / restore", "restore_transform", "restore",
         "<=", limit, f"goal of {issue}")
        for issue, limit in TRANSFORM_GOALS
    ]  # fmt: skip
    found = []
    for name, top, bottom, op, limit, note in specs:
        value, net = _ratio(result, top, bottom)
        goal, verdict = (
            (f"{op} {limit}x", _judge(value, op, limit)) if op else ("", "info")
        )
        found.append(Target(name, goal, value, net, "x", verdict, note))
    return found


def _memory_targets(result: EngineResult) -> list[Target]:
    found = []
    at = f"at {result.rows:,} rows"
    if result.rows < GOAL_ROWS:
        at += f"; the goal is for {GOAL_ROWS:,}"
    names = (("dump", "dump2py"), ("restore", "restore"))
    for key, name in names:
        step = result.steps.get(key)
        rss = step.rss_mb if step else None
        verdict = _judge(rss, "<=", RSS_LIMIT)
        goal = f"<= {RSS_LIMIT} MB"
        found.append(Target(f"peak RSS of {name}", goal, rss, None, " MB", verdict, at))
    for key, name in names:
        step, ref = result.steps.get(key), result.reference.get(key)
        growth = None
        note = "needs --rows above --django-limit"
        if step and ref and step.rss_mb is not None and ref.rss_mb is not None:
            growth = step.rss_mb - ref.rss_mb
            note = f"{ref.rss_mb:.0f} MB at {ref.rows:,} rows"
        verdict = _judge(growth, "<=", RSS_GROWTH)
        goal = f"<= {RSS_GROWTH} MB"
        label = f"RSS growth of {name} over the subset"
        found.append(Target(label, goal, growth, None, " MB", verdict, note))
    return found


def targets(result: EngineResult) -> list[Target]:
    """Return every goal of the issue with its figure and verdict."""
    return _time_targets(result) + _memory_targets(result)


def _cell(value: float | None, spec: str, width: int) -> str:
    return f"{'-' if value is None else format(value, spec):>{width}}"


def _step_line(label: str, step: Measurement) -> str:
    if step.seconds is None:
        return f"  {label:<38} {'n/a':>9}   {step.note}"
    notes = []
    if step.extrapolated:
        notes.append(f"extrapolated from {step.measured_rows:,} rows")
    if step.in_process:
        notes.append("in-process, DB work only")
    if step.note:
        notes.append(step.note)
    size = None if step.size_bytes is None else step.size_bytes / 2**20
    return (
        f"  {label:<38} {_cell(step.seconds, '.2f', 9)} "
        f"{_cell(step.rows_per_second, ',.0f', 10)} {_cell(step.rss_mb, '.1f', 9)} "
        f"{_cell(size, '.1f', 8)}   {'; '.join(notes)}"
    ).rstrip()


def _figure(value: float | None, unit: str) -> str:
    """Return *value* with its unit; ratios below 10 get two decimals."""
    if value is None:
        return "-"
    decimals = 2 if unit == "x" and value < 10 else 1
    return f"{value:.{decimals}f}{unit}"


def format_result(result: EngineResult) -> str:
    """Return the table of one engine: steps, then targets."""
    lines = [
        f"{result.version}: {result.rows:,} rows in {result.tables} tables "
        f"(generated in {result.generate_seconds:.1f} s)",
        f"  {'step':<38} {'wall s':>9} {'rows/s':>10} {'RSS MB':>9} {'size MB':>8}",
    ]
    for key, label in STEPS:
        if key in result.steps:
            lines.append(_step_line(label, result.steps[key]))
    for key, step in result.reference.items():
        label = f"{'dump2py' if key == 'dump' else 'restore'} at {step.rows:,} rows"
        lines.append(_step_line(label, step))
    lines.append("")
    lines.append(
        f"  {'target':<38} {'figure':>9} {'net':>9} {'goal':>10}  {'verdict':<8} note"
    )
    for t in targets(result):
        value, net = _figure(t.value, t.unit), _figure(t.net, t.unit)
        lines.append(
            f"  {t.name:<38} {value:>9} {net:>9} {t.goal:>10}  {t.verdict:<8} {t.note}".rstrip()
        )
    lines.append(
        "  net: the Django start-up time subtracted from every subprocess wall time "
        "(raw steps are timed in-process)."
    )
    return "\n".join(lines)
