"""Measure lino-migrate's dump and restore against Django's and the raw DB-API.

Run from anywhere with the Python that has the project installed::

    .venv/bin/python benchmarks/run.py [--rows N] [--engine sqlite|postgres|both]

A benchmark site (``benchmarks/bench``: a dozen models with foreign keys,
multi-table inheritance, many-to-many tables, a generic foreign key and every
common field type) is filled with about N rows. Then, on each engine, every
step runs as a real subprocess and is timed, with its peak RSS:
``manage.py dump2py`` and ``manage.py run DIR/restore.py`` (into a fresh,
migrated database), the same restore with a migrator that transforms every
row (``benchmarks/bench/migrators.py``), ``upgradedump`` of the dump through
the same migrator, ``dumpdata``/``loaddata``, the raw limit, a DB-API
read and write of every row (``benchmarks/rawio.py``), and on PostgreSQL
``pg_dump -Fc`` and ``pg_restore`` (``benchmarks/pgtools.py``). The dump and
the restore run with each ``--jobs`` asked for; the peak memory of every
command is sampled over all its processes (``benchmarks/proctree.py``).
The table at the end gives the ratios and which of the goals of issues 4, 5
and 16 hold (``benchmarks/targets.py``); ``--profile`` adds where the time
of the dump and the restore goes (``benchmarks/profiling.py``).

PostgreSQL: the server of ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``
(default ``127.0.0.1:5432``, user ``postgres``); throwaway databases named
``lmbench_<pid>_*`` are created and dropped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

# The repository root, so that ``benchmarks`` imports as a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import BenchError, Server, make_server
from benchmarks.report import EngineResult, format_result, result_json
from benchmarks.steps import run_engine
from benchmarks.upgrade_report import format_upgradedump


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    add = parser.add_argument
    add("--rows", type=int, default=100_000, metavar="N",
        help="Rows in all tables (default 100000); the biggest table gets 20%%.")  # fmt: skip
    add("--engine", choices=("sqlite", "postgres", "both"), default="sqlite",
        help="The database engine(s) to measure (default sqlite).")  # fmt: skip
    add("--postgres", action="store_true",
        help="Measure PostgreSQL too (same as --engine both).")  # fmt: skip
    add("--seed", type=int, default=1, help="Seed of the generated data.")
    add("--skip-django", action="store_true",
        help="Do not measure dumpdata and loaddata at all.")  # fmt: skip
    add("--django-limit", type=int, default=200_000, metavar="N",
        help="Above N rows, measure dumpdata/loaddata on --django-subset rows "
        "and extrapolate linearly (default 200000).")  # fmt: skip
    add("--django-subset", type=int, default=100_000, metavar="N",
        help="The rows of that subset (default 100000).")  # fmt: skip
    add("--repeat", type=int, default=1, metavar="K",
        help="Run dump2py, both restores and the raw steps K times and keep "
        "the fastest (default 1); the Django steps run once.")  # fmt: skip
    add("--jobs", type=_jobs_list, default=None, metavar="LIST",
        help="Comma-separated numbers of processes for dump2py and the restore, "
        "e.g. 1,2 (default 1, without passing --jobs); --jobs 1 is always "
        "measured, as the reference.")  # fmt: skip
    add("--profile", action="store_true",
        help="Also run dump2py and the restore at --jobs 1 under cProfile and "
        "print where the time goes.")  # fmt: skip
    add("--json", type=Path, metavar="FILE", help="Write every figure to FILE.")
    add("--keep", action="store_true",
        help="Keep the work directory (databases, dumps, logs) and the "
        "PostgreSQL databases.")  # fmt: skip
    add("--workdir", type=Path, metavar="DIR",
        help="Work in DIR (kept) instead of a new temporary directory.")  # fmt: skip
    return parser


def _jobs_list(text: str) -> list[int]:
    """Return the sorted numbers of ``--jobs LIST``, 1 included."""
    try:
        found = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        found = set()
    if not found or min(found) < 1:
        msg = f"expected numbers of at least 1 separated by commas, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return sorted(found | {1})


def _engines(args: argparse.Namespace) -> list[str]:
    if args.postgres or args.engine == "both":
        return ["sqlite", "postgres"]
    return [args.engine]


def _meta(args: argparse.Namespace) -> dict[str, object]:
    import django

    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "rows_requested": args.rows,
        "seed": args.seed,
        "jobs": args.jobs,
        "jobs_explicit": args.jobs_explicit,
        "python": platform.python_version(),
        "django": django.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.jobs_explicit = args.jobs is not None
    args.jobs = args.jobs or [1]
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="lino-migrate-bench-"))
    meta = _meta(args)
    jobs = ",".join(map(str, args.jobs))
    print(f"Benchmark of {args.rows:,} rows, --jobs {jobs}, working in {work}")
    print(f"Python {meta['python']}, Django {meta['django']}, {meta['machine']}")
    results: list[EngineResult] = []
    servers: list[Server] = []
    status = 0
    try:
        for engine in _engines(args):
            server = make_server(engine, work)
            servers.append(server)
            results.append(run_engine(server, args))
            print()
            print(format_result(results[-1]))
            print(format_upgradedump(results[-1]))
            if results[-1].profile:
                print(results[-1].profile)
    except BenchError as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        status = 1
    finally:
        kept = [db for server in servers for db in server.close(args.keep)]
        if args.keep or status or args.workdir:
            print(
                f"\nKept {work}" + (f" and databases {', '.join(kept)}" if kept else "")
            )
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        data = {"meta": meta, "engines": {r.engine: result_json(r) for r in results}}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"Wrote {args.json}")
    return status


if __name__ == "__main__":
    sys.exit(main())
