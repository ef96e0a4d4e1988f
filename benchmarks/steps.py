"""The measured steps of one engine, in the order they run."""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

from benchmarks.bench.changes import (
    CHANGES,
    DUMP_VERSION,
    RESTORE_VERSION,
    unchanged,
)
from benchmarks.harness import BenchError, Measurement, Server, directory_size
from benchmarks.report import EngineResult
from benchmarks.upgrade_report import REFERENCE_KEY, STEP_KEY

__all__ = ["run_engine"]

#: dumpdata flags that let loaddata read the file into a freshly migrated
#: database: content types and permissions come from ``migrate`` there.
DUMPDATA = (
    "dumpdata", "--format", "json", "--natural-foreign", "--natural-primary",
    "-e", "contenttypes", "-e", "auth.permission",
)  # fmt: skip


def _say(message: str) -> None:
    print(f"  .. {message}", flush=True)


def _generate(server: Server, db: str, rows: int, seed: int) -> tuple[dict, float]:
    """Fill *db* with about *rows* rows; return rows per table and seconds."""
    _say(f"generating {rows:,} rows")
    args = ("bench_generate", "--rows", str(rows), "--seed", str(seed))
    child = server.manage(db, *args, log=f"generate-{rows}")
    server.settle(db)
    return json.loads(child.output), child.seconds


def _check_same(server: Server, source: str, target: str, step: str) -> None:
    """Raise if a table of *target* has another row count than in *source*."""
    want, have = server.count_rows(source), server.count_rows(target)
    differ = [
        f"{table}: {want.get(table)} in the source, {have.get(table)} after {step}"
        for table in sorted(want.keys() | have.keys())
        if want.get(table) != have.get(table)
    ]
    if differ:
        msg = f"{step} did not reproduce the source:\n    " + "\n    ".join(differ)
        raise BenchError(msg)


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
    _say(f"dump2py {' '.join(options)} ({tag})".replace("  ", " "))
    args = ("dump2py", str(directory), "--noinput", *options)
    child = server.manage(source, *args, log=f"dump2py-{tag}", **env)
    size = directory_size(directory)
    return directory, Measurement("dump2py", child.seconds, rows, child.rss_mb, size)


def _restore(
    server: Server, directory: Path, rows: int, tag: str, **env: str
) -> tuple[str, Measurement]:
    """Restore the dump *directory* into a fresh database; return it and the time."""
    target = server.fresh(f"restore_{tag}")
    _say(f"restore ({tag})")
    script = str(directory / "restore.py")
    args = ("run", script, "--noinput")
    child = server.manage(target, *args, log=f"restore-{tag}", **env)
    return target, Measurement("restore", child.seconds, rows, child.rss_mb)


def measure_ours(
    server: Server, source: str, rows: int, tag: str
) -> tuple[Measurement, Measurement]:
    """Dump *source* with ``dump2py`` and restore it into a fresh database."""
    directory, dump = _dump(server, source, rows, tag)
    target, restore = _restore(server, directory, rows, tag)
    _check_same(server, source, target, "the restore")
    _check_values(server, source, target, transformed=False)
    server.drop(target)
    return dump, restore


#: Worker processes of the parallel dump (PostgreSQL).
JOBS = 2


def measure_jobs(server: Server, source: str, rows: int) -> Measurement:
    """Dump *source* with ``dump2py --jobs 2``; check it equals the full dump."""
    directory, step = _dump(server, source, rows, "jobs", "--jobs", str(JOBS))
    serial = server.work / "dump-full"
    differ = [
        path.name
        for path in sorted(serial.iterdir())
        if _dump_file(path) != _dump_file(directory / path.name)
    ]
    if differ or len(list(directory.iterdir())) != len(list(serial.iterdir())):
        msg = f"dump2py --jobs {JOBS} wrote other files than dump2py: {differ}"
        raise BenchError(msg)
    shutil.rmtree(directory)
    return replace(step, name=f"dump2py --jobs {JOBS}")


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
    _check_same(server, source, target, "the restore with a row transform")
    checked = _check_values(server, source, target, transformed=True)
    _say(checked)
    server.drop(target)
    return replace(restore, name="restore + row transform", note=checked)


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
    _say(f"upgradedump ({tag})")
    env = {"BENCH_APP_VERSION": RESTORE_VERSION}
    args = ("upgradedump", str(directory), str(new))
    child = server.manage(server.template, *args, log=f"upgradedump-{tag}", **env)
    size = directory_size(new)
    target, _ = _restore(server, new, rows, f"upgraded-{tag}", **env)
    _check_same(server, source, target, "the restore of the upgraded dump")
    checked = _check_values(server, source, target, transformed=True)
    _say(checked)
    server.drop(target)
    shutil.rmtree(new)
    return Measurement(
        "upgradedump", child.seconds, rows, child.rss_mb, size, note=checked
    )


def measure_django(
    server: Server, source: str, rows: int, tag: str
) -> tuple[Measurement, Measurement]:
    """Dump *source* with ``dumpdata`` and load it into a fresh database."""
    out = server.work / f"dumpdata-{tag}.json"
    _say(f"dumpdata ({tag})")
    child = server.manage(source, *DUMPDATA, "-o", str(out), log=f"dumpdata-{tag}")
    dumpdata = Measurement(
        "dumpdata", child.seconds, rows, child.rss_mb, out.stat().st_size
    )
    target = server.fresh(f"loaddata_{tag}")
    _say(f"loaddata ({tag})")
    child = server.manage(target, "loaddata", str(out), log=f"loaddata-{tag}")
    loaddata = Measurement("loaddata", child.seconds, rows, child.rss_mb)
    _check_same(server, source, target, "loaddata")
    server.drop(target)
    out.unlink()
    return dumpdata, loaddata


def measure_raw(server: Server, source: str) -> dict[str, Measurement]:
    """Read every row with the DB-API, and write them into fresh databases."""
    found = {}
    _say("raw read")
    child, figures = server.raw("read", server.engine, source, log="raw-read")
    found["raw_read"] = Measurement(
        "raw read", figures["seconds"], figures["rows"], child.rss_mb, in_process=True
    )
    modes = [("raw_write", ())]
    if server.engine == "postgres":
        modes.append(("raw_copy", ("--copy",)))
    for key, flags in modes:
        target = server.fresh(key)
        _say(key.replace("_", " "))
        args = ("write", server.engine, source, target, *flags)
        child, figures = server.raw(*args, log=key)
        found[key] = Measurement(
            key.replace("_", " "), figures["seconds"], figures["rows"], child.rss_mb,
            in_process=True, note=f"commit {figures['commit_seconds']:.2f} s",
        )  # fmt: skip
        _check_same(server, source, target, key.replace("_", " "))
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
        steps[key] = replace(min(old, step, key=lambda s: s.seconds), rss_mb=rss)


def _startup(server: Server) -> Measurement:
    script = server.work / "empty.py"
    script.write_text('"""Do nothing: measures the start-up of manage.py run."""\n')
    child = server.manage(server.template, "run", str(script), log="startup")
    return Measurement("start-up", child.seconds, None, child.rss_mb)


def run_engine(server: Server, args: argparse.Namespace) -> EngineResult:
    """Generate the data on *server* and run every step; return the figures."""
    print(f"\n{server.label}:")
    server.prepare_template()
    source = server.fresh("source")
    generated, seconds = _generate(server, source, args.rows, args.seed)
    counts = server.count_rows(source)
    rows = sum(counts.values())
    result = EngineResult(
        server.engine, server.version(), rows, len(counts), generated, seconds
    )
    steps = result.steps
    for _ in range(args.repeat):
        dump, restore = measure_ours(server, source, rows, "full")
        transform = measure_transform(server, source, rows)
        upgrade = measure_upgradedump(server, source, rows, "full")
        raw = measure_raw(server, source)
        found = {"dump": dump, "restore": restore, "restore_transform": transform}
        found[STEP_KEY] = upgrade
        if server.engine == "postgres":
            found["dump_jobs"] = measure_jobs(server, source, rows)
        _keep_best(steps, {**found, **raw})
        _keep_best(steps, {"startup": _startup(server)})
    if args.skip_django:
        for key in ("dumpdata", "loaddata"):
            steps[key] = Measurement(key, note="skipped (--skip-django)")
    elif args.rows > args.django_limit:
        subset = server.fresh("subset")
        _generate(server, subset, args.django_subset, args.seed)
        sub_rows = sum(server.count_rows(subset).values())
        dumpdata, loaddata = measure_django(server, subset, sub_rows, "subset")
        steps["dumpdata"] = _extrapolated(dumpdata, rows)
        steps["loaddata"] = _extrapolated(loaddata, rows)
        ref_dump, ref_restore = measure_ours(server, subset, sub_rows, "subset")
        result.reference.update(dump=ref_dump, restore=ref_restore)
        steps[REFERENCE_KEY] = measure_upgradedump(server, subset, sub_rows, "subset")
        server.drop(subset)
    else:
        steps["dumpdata"], steps["loaddata"] = measure_django(
            server, source, rows, "full"
        )
    if not args.keep:
        server.drop(source)
    return result
