"""The measured steps of one engine, in the order they run."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from benchmarks.bench.changes import (
    CHANGES,
    DUMP_VERSION,
    RESTORE_VERSION,
    unchanged,
)
from benchmarks.harness import (
    BenchError,
    Measurement,
    Server,
    UnsupportedOptionError,
    check_same,
    directory_size,
    say,
)
from benchmarks.pgtools import measure_pg_tools
from benchmarks.profiling import profile_engine
from benchmarks.result import EngineResult, jobs_key
from benchmarks.upgrade_report import REFERENCE_KEY, STEP_KEY

__all__ = ["run_engine"]

#: dumpdata flags that let loaddata read the file into a freshly migrated
#: database: content types and permissions come from ``migrate`` there.
DUMPDATA = (
    "dumpdata", "--format", "json", "--natural-foreign", "--natural-primary",
    "-e", "contenttypes", "-e", "auth.permission",
)  # fmt: skip


def _generate(server: Server, db: str, rows: int, seed: int) -> tuple[dict, float]:
    """Fill *db* with about *rows* rows; return rows per table and seconds."""
    say(f"generating {rows:,} rows")
    args = ("bench_generate", "--rows", str(rows), "--seed", str(seed))
    child = server.manage(db, *args, log=f"generate-{rows}")
    server.settle(db)
    return json.loads(child.output), child.seconds


def _check_values(server: Server, source: str, target: str, transformed: bool) -> str:
    """Raise unless *target* holds the values of :data:`CHANGES` it should.

    Each value must be the source's, passed through its change if
    *transformed*. A transformed restore must also have changed every row of
    the models whose change is not a no-op, so that the step cannot measure
    a restore that skipped the migrator.

    :return: a summary of the values checked.
    """
    step = "the restore with a row transform" if transformed else "the restore"
    wrong, checked, changed = [], 0, 0
    for change in CHANGES:
        args = (change.table, change.key, change.column)
        before = server.column_values(source, *args)
        after = server.column_values(target, *args)
        func = change.func if transformed else unchanged
        expected = {key: func(value) for key, value in before.items()}
        bad = sum(after.get(key) != value for key, value in expected.items())
        kept = sum(expected[key] == value for key, value in before.items())
        if bad:
            wrong.append(
                f"{change.label}.{change.column}: {bad} of {len(before)} wrong"
            )
        elif transformed and change.changes_every_row and kept:
            wrong.append(f"{change.label}.{change.column}: {kept} rows unchanged")
        checked += len(before)
        changed += len(before) - kept
    if wrong:
        msg = f"{step} did not give the expected values:\n    " + "\n    ".join(wrong)
        raise BenchError(msg)
    return f"{checked:,} values checked, {changed:,} changed"


def _dump(
    server: Server,
    source: str,
    rows: int,
    tag: str,
    *options: str,
    **env: str,
) -> tuple[Path, Measurement]:
    """Dump *source* with ``dump2py``; return the directory and the measurement."""
    directory = server.work / f"dump-{tag}"
    shutil.rmtree(directory, ignore_errors=True)
    say(f"dump2py {' '.join(options)} ({tag})".replace("  ", " "))
    args = ("dump2py", str(directory), "--noinput", *options)
    child = server.manage(source, *args, log=f"dump2py-{tag}", **env)
    size = directory_size(directory)
    step = Measurement.of_child("dump2py", child, rows=rows, size_bytes=size)
    return directory, step


def _restore(
    server: Server, directory: Path, rows: int, tag: str, *options: str, **env: str
) -> tuple[str, Measurement]:
    """Restore the dump *directory* into a fresh database; return it and the time."""
    target = server.fresh(f"restore_{tag}".replace("-", "_"))
    say(f"restore {' '.join(options)} ({tag})".replace("  ", " "))
    script = str(directory / "restore.py")
    args = ("run", script, "--noinput", *options)
    try:
        child = server.manage(target, *args, log=f"restore-{tag}", **env)
    except BenchError:
        server.drop(target)
        raise
    return target, Measurement.of_child("restore", child, rows=rows)


def _jobs_options(jobs: int, explicit: bool) -> tuple[str, ...]:
    """Return the options that ask a command for *jobs* processes."""
    return ("--jobs", str(jobs)) if explicit else ()


def _unsupported(name: str, error: UnsupportedOptionError, rows: int) -> Measurement:
    """Say that this tree's command does not take an option; return an empty step."""
    say(f"{name} is not supported by this tree: {error.reason}")
    return Measurement(name, rows=rows, note=f"not supported: {error.reason}")


def _restore_checked(
    server: Server, source: str, directory: Path, rows: int, tag: str, jobs: int,
    explicit: bool,
) -> Measurement:  # fmt: skip
    """Restore *directory* with ``--jobs`` *jobs*; check rows and values."""
    options = _jobs_options(jobs, explicit)
    try:
        target, step = _restore(server, directory, rows, tag, *options)
    except UnsupportedOptionError as e:
        step = _unsupported(f"restore.py --jobs {jobs}", e, rows)
        if jobs != 1:
            return step
        # One process is what the restore does without the option.
        target, step = _restore(server, directory, rows, tag)
        step.note = "run without --jobs 1, which this tree does not take"
    check_same(server, source, target, f"the restore {' '.join(options)}".strip())
    _check_values(server, source, target, transformed=False)
    server.drop(target)
    return step


def measure_ours(
    server: Server, source: str, rows: int, tag: str, jobs: Sequence[int] = (1,),
    explicit: bool = False,
) -> dict[str, Measurement]:  # fmt: skip
    """Dump *source* and restore the dump with each of *jobs*; check them.

    The dump of ``--jobs 1``, ``dump-TAG``, is kept for :func:`measure_upgradedump`;
    the dump of every other number of jobs must have the same files, byte for
    byte, and is removed once restored.
    """
    found: dict[str, Measurement] = {}
    serial = server.work / f"dump-{tag}"
    for count in jobs:
        options = _jobs_options(count, explicit)
        name = tag if count == 1 else f"{tag}-jobs{count}"
        key = jobs_key("dump", count)
        try:
            directory, found[key] = _dump(server, source, rows, name, *options)
        except UnsupportedOptionError as e:
            # The restore at that count still runs, from the dump of one process.
            found[key] = _unsupported(f"dump2py --jobs {count}", e, rows)
            directory = serial
        if directory != serial:
            _compare_dumps(serial, directory, count)
        found[jobs_key("restore", count)] = _restore_checked(
            server, source, directory, rows, name, count, explicit
        )
        if directory != serial:
            shutil.rmtree(directory)
    return found


def _compare_dumps(serial: Path, directory: Path, jobs: int) -> None:
    """Raise unless *directory* holds the files of *serial*, byte for byte."""
    names = sorted(
        {p.relative_to(serial) for p in serial.rglob("*") if p.is_file()}
        | {p.relative_to(directory) for p in directory.rglob("*") if p.is_file()}
    )
    differ = [
        str(name)
        for name in names
        if _dump_file(serial / name) != _dump_file(directory / name)
    ]
    if differ:
        msg = f"dump2py --jobs {jobs} wrote other files than --jobs 1: {differ}"
        raise BenchError(msg)


def _dump_file(path: Path) -> bytes | None:
    """Return the bytes of a dump file, restore.py without its time stamps."""
    if not path.exists():
        return None
    data = path.read_bytes()
    if path.name != "restore.py":
        return data
    keep = (b"# Generated", b"CREATED")
    return b"\n".join(x for x in data.split(b"\n") if not x.startswith(keep))


def measure_transform(server: Server, source: str, rows: int) -> Measurement:
    """Measure a restore that runs one row transform on every row.

    *source* is dumped by release 1.0 of the bench app and restored by 1.1,
    whose migrator (:mod:`benchmarks.bench.migrators`) passes every bench
    row through a row function (:data:`~benchmarks.bench.changes.CHANGES`).
    The restored values are checked against the source.
    """
    tag = "transform"
    directory, _ = _dump(server, source, rows, tag, BENCH_APP_VERSION=DUMP_VERSION)
    target, restore = _restore(
        server, directory, rows, tag, BENCH_APP_VERSION=RESTORE_VERSION
    )
    check_same(server, source, target, "the restore with a row transform")
    checked = _check_values(server, source, target, transformed=True)
    say(checked)
    server.drop(target)
    return replace(restore, name="restore + row transform", note=checked)


def measure_transform_parallel(
    server: Server, source: str, rows: int, jobs: int
) -> Measurement:
    """Measure the restore of :func:`measure_transform` with its row functions
    declared ``parallel=True`` (``BENCH_PARALLEL=1``) and ``--jobs`` *jobs*.

    It restores the dump that :func:`measure_transform` wrote, and checks the
    values the same way (#16).
    """
    tag = "transform-parallel"
    name = f"restore + row transform, parallel, --jobs {jobs}"
    directory = server.work / "dump-transform"
    env = {"BENCH_APP_VERSION": RESTORE_VERSION, "BENCH_PARALLEL": "1"}
    try:
        target, restore = _restore(
            server, directory, rows, tag, "--jobs", str(jobs), **env
        )
    except BenchError as e:  # a tree without parallel=True or --jobs
        reason = str(e).strip().split("\n")[0]
        say(f"{name} did not run in this tree: {reason}")
        return Measurement(name, rows=rows, note=f"not supported: {reason}")
    check_same(server, source, target, "the restore with parallel row functions")
    checked = _check_values(server, source, target, transformed=True)
    say(checked)
    server.drop(target)
    return replace(restore, name=name, note=checked)


def measure_upgradedump(
    server: Server, source: str, rows: int, tag: str
) -> Measurement:
    """Measure ``upgradedump`` of the 1.0 dump of *source* by release 1.1 (#11).

    The dump ``dump-TAG``, written by :func:`measure_ours` at the default
    version 1.0, goes through the migrator of 1.1 (one row function on every
    bench row). The upgraded dump is restored by 1.1, which runs no migrator,
    and checked like the restore with a row transform.
    """
    directory = server.work / f"dump-{tag}"
    new = server.work / f"dump-upgraded-{tag}"
    shutil.rmtree(new, ignore_errors=True)
    say(f"upgradedump ({tag})")
    env = {"BENCH_APP_VERSION": RESTORE_VERSION}
    args = ("upgradedump", str(directory), str(new))
    child = server.manage(server.template, *args, log=f"upgradedump-{tag}", **env)
    size = directory_size(new)
    target, _ = _restore(server, new, rows, f"upgraded-{tag}", **env)
    check_same(server, source, target, "the restore of the upgraded dump")
    checked = _check_values(server, source, target, transformed=True)
    say(checked)
    server.drop(target)
    shutil.rmtree(new)
    return Measurement.of_child(
        "upgradedump", child, rows=rows, size_bytes=size, note=checked
    )


def measure_django(
    server: Server, source: str, rows: int, tag: str
) -> tuple[Measurement, Measurement]:
    """Dump *source* with ``dumpdata`` and load it into a fresh database."""
    out = server.work / f"dumpdata-{tag}.json"
    say(f"dumpdata ({tag})")
    child = server.manage(source, *DUMPDATA, "-o", str(out), log=f"dumpdata-{tag}")
    size = out.stat().st_size
    dumpdata = Measurement.of_child("dumpdata", child, rows=rows, size_bytes=size)
    target = server.fresh(f"loaddata_{tag}")
    say(f"loaddata ({tag})")
    child = server.manage(target, "loaddata", str(out), log=f"loaddata-{tag}")
    loaddata = Measurement.of_child("loaddata", child, rows=rows)
    check_same(server, source, target, "loaddata")
    server.drop(target)
    out.unlink()
    return dumpdata, loaddata


def measure_raw(server: Server, source: str) -> dict[str, Measurement]:
    """Read every row with the DB-API, and write them into fresh databases."""
    found = {}
    say("raw read")
    child, figures = server.raw("read", server.engine, source, log="raw-read")
    found["raw_read"] = Measurement(
        "raw read", figures["seconds"], figures["rows"], child.rss_mb,
        in_process=True, tree_mb=child.tree_mb,
    )  # fmt: skip
    modes = [("raw_write", ())]
    if server.engine == "postgres":
        modes.append(("raw_copy", ("--copy",)))
    for key, flags in modes:
        target = server.fresh(key)
        say(key.replace("_", " "))
        args = ("write", server.engine, source, target, *flags)
        child, figures = server.raw(*args, log=key)
        found[key] = Measurement(
            key.replace("_", " "), figures["seconds"], figures["rows"], child.rss_mb,
            in_process=True, note=f"commit {figures['commit_seconds']:.2f} s",
            tree_mb=child.tree_mb,
        )  # fmt: skip
        check_same(server, source, target, key.replace("_", " "))
        server.drop(target)
    return found


def _extrapolated(step: Measurement, rows: int) -> Measurement:
    """Return *step* scaled linearly from its rows to *rows*."""
    scale = rows / step.rows if step.rows else 1.0
    return replace(
        step,
        seconds=None if step.seconds is None else step.seconds * scale,
        size_bytes=None if step.size_bytes is None else round(step.size_bytes * scale),
        rows=rows,
        extrapolated=True,
        measured_rows=step.rows,
        note="RSS as measured",
    )


def _keep_best(steps: dict[str, Measurement], new: dict[str, Measurement]) -> None:
    """Keep the fastest time and the highest peak RSS of repeated steps."""
    for key, step in new.items():
        old = steps.get(key)
        if old is None or old.seconds is None or step.seconds is None:
            steps[key] = step
            continue
        rss = max(old.rss_mb or 0.0, step.rss_mb or 0.0)
        tree = max(old.tree_mb or 0.0, step.tree_mb or 0.0) or None
        best = min(old, step, key=lambda s: s.seconds or 0.0)
        steps[key] = replace(best, rss_mb=rss, tree_mb=tree)


def _startup(server: Server) -> Measurement:
    script = server.work / "empty.py"
    script.write_text('"""Do nothing: measures the start-up of manage.py run."""\n')
    child = server.manage(server.template, "run", str(script), log="startup")
    return Measurement.of_child("start-up", child)


def _measure_all(
    server: Server, source: str, rows: int, args: argparse.Namespace
) -> dict[str, Measurement]:
    """Run the steps of the full size once; return them by key."""
    found = measure_ours(server, source, rows, "full", args.jobs, args.jobs_explicit)
    found["restore_transform"] = measure_transform(server, source, rows)
    if max(args.jobs) > 1:
        found["restore_transform_parallel"] = measure_transform_parallel(
            server, source, rows, max(args.jobs)
        )
    found[STEP_KEY] = measure_upgradedump(server, source, rows, "full")
    found.update(measure_raw(server, source))
    if server.engine == "postgres":
        found.update(measure_pg_tools(server, source, rows))
    found["startup"] = _startup(server)
    return found


def _measure_subset(
    server: Server, result: EngineResult, args: argparse.Namespace
) -> None:
    """Measure the steps again on a subset: Django's there, and the RSS growth."""
    subset = server.fresh("subset")
    _generate(server, subset, args.django_subset, args.seed)
    sub_rows = sum(server.count_rows(subset).values())
    if not args.skip_django:
        dumpdata, loaddata = measure_django(server, subset, sub_rows, "subset")
        result.steps["dumpdata"] = _extrapolated(dumpdata, result.rows)
        result.steps["loaddata"] = _extrapolated(loaddata, result.rows)
    result.reference.update(
        measure_ours(server, subset, sub_rows, "subset", args.jobs, args.jobs_explicit)
    )
    result.steps[REFERENCE_KEY] = measure_upgradedump(
        server, subset, sub_rows, "subset"
    )
    server.drop(subset)


def run_engine(server: Server, args: argparse.Namespace) -> EngineResult:
    """Generate the data on *server* and run every step; return the figures."""
    print(f"\n{server.label}:")
    server.prepare_template()
    source = server.fresh("source")
    generated, seconds = _generate(server, source, args.rows, args.seed)
    counts = server.count_rows(source)
    rows = sum(counts.values())
    result = EngineResult(
        server.engine, server.version(), rows, len(counts), generated, seconds,
        jobs=list(args.jobs), jobs_explicit=args.jobs_explicit,
    )  # fmt: skip
    for _ in range(args.repeat):
        _keep_best(result.steps, _measure_all(server, source, rows, args))
    if args.skip_django:
        for key in ("dumpdata", "loaddata"):
            result.steps[key] = Measurement(key, note="skipped (--skip-django)")
    if args.rows > args.django_limit:
        _measure_subset(server, result, args)
    elif not args.skip_django:
        result.steps["dumpdata"], result.steps["loaddata"] = measure_django(
            server, source, rows, "full"
        )
    if args.profile:
        kept = bool(args.keep or args.workdir)
        result.profile = profile_engine(server, source, kept)
    if not args.keep:
        server.drop(source)
    return result
