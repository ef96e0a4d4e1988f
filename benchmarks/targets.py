"""The goals of the benchmark, as ratios of the figures of one run (#16).

Every goal of issue 16 is judged at ``--jobs 2`` (or the most jobs measured,
when 2 was not), at 1,000,000 rows on 2 cores. The same ratios at the other
``--jobs`` are printed as information. The goals of issues 4 and 5 (a row
transform on every row) are kept; the older goals of the restore and dump
(20x ``loaddata``, 3x ``dumpdata``, 1.5x the raw steps, 150 MB per process)
are replaced by those of issue 16.
"""

from __future__ import annotations

from typing import NamedTuple

from benchmarks.result import EngineResult, Target, jobs_key

__all__ = ["GOAL_ROWS", "RSS_GROWTH", "RSS_LIMIT", "targets"]

#: Peak RSS of all processes together, in MiB: at most this at 1M rows ...
RSS_LIMIT = 250
#: ... and at most this much more than at the subset's size ("flat").
RSS_GROWTH = 30
GOAL_ROWS = 1_000_000
#: The cost of a row transform on every row: at most this times the plain
#: restore, per issue.
TRANSFORM_GOALS = (("#4", 1.5), ("#5", 1.3))
#: ``dump2py --jobs 2`` against ``--jobs 1`` on PostgreSQL (kept from #5).
DUMP_SPEEDUP_GOAL = 1.6


class Goals(NamedTuple):
    """The goals of #16 on one engine, as ratios of wall times."""

    restore_vs_raw: float
    restore_vs_loaddata: float
    dump_vs_raw: float
    dump_vs_dumpdata: float


GOALS = {"sqlite": Goals(2.5, 30, 3, 20), "postgres": Goals(1.6, 50, 1.3, 20)}


class Spec(NamedTuple):
    """One ratio ``top / bottom`` and its goal (no *op*: information only)."""

    name: str
    top: str
    bottom: str
    op: str = ""
    limit: float = 0
    note: str = ""


def _seconds(result: EngineResult, key: str) -> float | None:
    step = result.steps.get(key)
    return step.seconds if step else None


def _is_django_command(key: str) -> bool:
    """Return whether *key* is a ``manage.py`` step, whose start-up ``net`` drops."""
    return key.startswith(("dump", "restore", "loaddata"))


def _ratio(
    result: EngineResult, top: str, bottom: str
) -> tuple[float | None, float | None]:
    """Return ``top / bottom``, and the same net of the start-up of subprocesses."""
    a, b = _seconds(result, top), _seconds(result, bottom)
    if not a or not b:
        return None, None
    start = _seconds(result, "startup") or 0.0

    def net(key: str, value: float) -> float:
        return max(value - start, 1e-9) if _is_django_command(key) else value

    return a / b, net(top, a) / net(bottom, b)


def _judge(value: float | None, op: str, limit: float) -> str:
    if value is None:
        return "n/a"
    ok = value >= limit if op == ">=" else value <= limit
    return "met" if ok else "NOT met"


def _django_note(result: EngineResult) -> str:
    django = [result.steps[k] for k in ("dumpdata", "loaddata") if k in result.steps]
    return "Django side extrapolated" if any(s.extrapolated for s in django) else ""


def _jobs_specs(result: EngineResult, jobs: int) -> list[Spec]:
    """Return the ratios of the dump and restore at *jobs*; goals at the goal jobs."""
    pg = result.engine == "postgres"
    goals = GOALS[result.engine]
    judged = jobs == result.goal_jobs
    dump, restore = jobs_key("dump", jobs), jobs_key("restore", jobs)
    raw_write, raw_name = ("raw_copy", "COPY") if pg else ("raw_write", "executemany")
    django = _django_note(result)
    j = f" --jobs {jobs}"
    specs = [
        Spec(f"restore{j} / raw write ({raw_name})", restore, raw_write,
             "<=", goals.restore_vs_raw),
        Spec(f"restore{j} vs loaddata (speedup)", "loaddata", restore,
             ">=", goals.restore_vs_loaddata, django),
        Spec(f"dump{j} / raw read", dump, "raw_read", "<=", goals.dump_vs_raw),
        Spec(f"dump{j} vs dumpdata (speedup)", "dumpdata", dump,
             ">=", goals.dump_vs_dumpdata, django),
    ]  # fmt: skip
    if not judged:
        specs = [spec._replace(op="") for spec in specs]
    elif result.rows < GOAL_ROWS:
        at = f"goal at {GOAL_ROWS:,} rows"
        specs = [
            spec._replace(note="; ".join(filter(None, (spec.note, at))))
            for spec in specs
        ]
    if pg:
        specs += [
            Spec(f"restore{j} / raw write (executemany)", restore, "raw_write"),
            Spec(f"dump{j} / pg_dump -Fc", dump, "pg_dump"),
            Spec(f"restore{j} / pg_restore --data-only", restore, "pg_restore"),
            Spec(f"restore{j} / pg_restore, schema + data", restore, "pg_restore_all"),
        ]
    return specs


def _speedup_specs(result: EngineResult, jobs: int) -> list[Spec]:
    """Return the speedups of *jobs* over ``--jobs 1``."""
    j = f"--jobs {jobs} vs --jobs 1 (speedup)"
    dump = Spec(f"dump {j}", "dump", jobs_key("dump", jobs))
    if jobs == 2 and result.engine == "postgres":
        note = "goal of #5" + ("" if result.rows >= GOAL_ROWS else ", at 1M rows")
        dump = dump._replace(op=">=", limit=DUMP_SPEEDUP_GOAL, note=note)
    return [dump, Spec(f"restore {j}", "restore", jobs_key("restore", jobs))]


def _time_targets(result: EngineResult) -> list[Target]:
    specs = []
    for jobs in sorted(result.jobs, key=lambda j: j != result.goal_jobs):
        specs += _jobs_specs(result, jobs)
    for jobs in result.jobs:
        if jobs != 1:
            specs += _speedup_specs(result, jobs)
    specs += [
        Spec("restore + row transform / restore", "restore_transform", "restore",
             "<=", limit, f"goal of {issue}")
        for issue, limit in TRANSFORM_GOALS
    ]  # fmt: skip
    if max(result.jobs) > 1:
        name = f"row transform: parallel, --jobs {max(result.jobs)} (speedup)"
        specs.append(Spec(name, "restore_transform", "restore_transform_parallel"))
    found = []
    for spec in specs:
        value, net = _ratio(result, spec.top, spec.bottom)
        goal, verdict = (
            (f"{spec.op} {spec.limit:g}x", _judge(value, spec.op, spec.limit))
            if spec.op
            else ("", "info")
        )
        found.append(Target(spec.name, goal, value, net, "x", verdict, spec.note))
    return found


def _memory_targets(result: EngineResult) -> list[Target]:
    """Return the peak RSS of all processes of each dump and restore, and growth."""
    found = []
    at = f"at {result.rows:,} rows"
    if result.rows < GOAL_ROWS:
        at += f"; the goal is for {GOAL_ROWS:,}"
    keys = [
        (jobs_key(step, jobs), f"{step} --jobs {jobs}")
        for jobs in result.jobs
        for step in ("dump", "restore")
    ]
    for key, name in keys:
        step = result.steps.get(key)
        rss = step.tree_mb if step else None
        label = f"peak RSS, all processes, {name}"
        goal, verdict = f"<= {RSS_LIMIT} MB", _judge(rss, "<=", RSS_LIMIT)
        found.append(Target(label, goal, rss, None, " MB", verdict, at))
    for key, name in keys:
        step, ref = result.steps.get(key), result.reference.get(key)
        growth = None
        note = (
            "not measured" if result.reference else "needs --rows above --django-limit"
        )
        if step and ref and step.tree_mb is not None and ref.tree_mb is not None:
            growth = step.tree_mb - ref.tree_mb
            note = f"{ref.tree_mb:.0f} MB at {ref.rows:,} rows"
        label = f"RSS growth over the subset, {name}"
        goal, verdict = f"<= {RSS_GROWTH} MB", _judge(growth, "<=", RSS_GROWTH)
        found.append(Target(label, goal, growth, None, " MB", verdict, note))
    return found


def targets(result: EngineResult) -> list[Target]:
    """Return every goal with its figure and verdict, then the information lines."""
    return _time_targets(result) + _memory_targets(result)
