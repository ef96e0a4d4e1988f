"""Measure ``dump2py --compress`` and ``--archive`` against an uncompressed dump (#15).

Run from anywhere with the Python that has the project installed::

    .venv/bin/python benchmarks/compression.py [--rows N] [--engine sqlite|postgres]

The benchmark site of ``benchmarks/run.py`` is filled with about N rows;
then, in this one run, the uncompressed dump and each compression (and an
archive, uncompressed and with gzip) are dumped by ``manage.py dump2py`` and
restored into a fresh database (``manage.py run DIR/restore.py``, or
``restoredump FILE.tar``), each restore checked row count by row count and
value by value. The table gives seconds and bytes, and each as a ratio to
the uncompressed run; with ``--repeat K``, the fastest of K rounds. zstd is measured when its library is installed
(``pip install lino-migrate[zstd]``).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The repository root, so that ``benchmarks`` imports as a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import (
    BenchError,
    Server,
    check_same,
    directory_size,
    make_server,
)
from benchmarks.steps import _check_values, _generate

#: Goal of issue 15: a gzip restore takes at most this times the uncompressed one.
GZIP_RESTORE_GOAL = 1.3


@dataclass
class Variant:
    """One way of writing the dump: its label and ``dump2py`` options."""

    label: str
    options: tuple[str, ...]
    archive: bool = False


@dataclass
class Figures:
    """What one variant measured."""

    variant: Variant
    dump_seconds: float
    restore_seconds: float
    size: int


def _variants() -> list[Variant]:
    found = [Variant("none", ()), Variant("gzip", ("--compress", "gzip"))]
    found.append(Variant("xz", ("--compress", "xz")))
    if importlib.util.find_spec("zstandard") or importlib.util.find_spec(
        "compression.zstd"
    ):
        found.append(Variant("zstd", ("--compress", "zstd")))
    found.append(Variant("archive", ("--archive",), archive=True))
    found.append(
        Variant("archive+gzip", ("--archive", "--compress", "gzip"), archive=True)
    )
    return found


def _measure(server: Server, source: str, variant: Variant) -> Figures:
    """Dump *source* as *variant* says, restore it, check it; return the figures."""
    tag = variant.label.replace("+", "-")
    target = server.work / f"dump-{tag}"
    shutil.rmtree(target, ignore_errors=True)
    print(f"  .. {variant.label}", flush=True)
    args = ("dump2py", str(target), "--noinput", *variant.options)
    dumped = server.manage(source, *args, log=f"dump-{tag}")
    written = target.with_name(target.name + ".tar") if variant.archive else target
    restored = server.fresh(f"restore_{tag}")
    if variant.archive:
        command = ("restoredump", str(written), "--noinput")
    else:
        command = ("run", str(written / "restore.py"), "--noinput")
    restore = server.manage(restored, *command, log=f"restore-{tag}")
    check_same(server, source, restored, f"the restore ({variant.label})")
    _check_values(server, source, restored, transformed=False)
    server.drop(restored)
    size = directory_size(written)
    if written.is_dir():
        shutil.rmtree(written)
    else:
        written.unlink()
    return Figures(variant, dumped.seconds, restore.seconds, size)


def _best(server: Server, source: str, repeat: int) -> list[Figures]:
    """Measure every variant *repeat* times, in turn; keep the fastest of each.

    Dump and restore times are kept apart: the fastest dump and the fastest
    restore of a variant may come from different rounds.
    """
    best: list[Figures] = []
    for _ in range(repeat):
        found = [_measure(server, source, v) for v in _variants()]
        best = best or found
        best = [
            Figures(
                old.variant,
                min(old.dump_seconds, new.dump_seconds),
                min(old.restore_seconds, new.restore_seconds),
                new.size,
            )
            for old, new in zip(best, found, strict=True)
        ]
    return best


def _table(figures: list[Figures], rows: int) -> str:
    base = figures[0]
    lines = [
        f"{rows:,} rows; ratios to the uncompressed dump of the same run",
        f"{'':14}{'dump s':>9}{'ratio':>7}{'restore s':>11}{'ratio':>7}"
        f"{'size MB':>10}{'ratio':>7}",
    ]
    for f in figures:
        lines.append(
            f"{f.variant.label:14}{f.dump_seconds:9.2f}"
            f"{f.dump_seconds / base.dump_seconds:7.2f}"
            f"{f.restore_seconds:11.2f}"
            f"{f.restore_seconds / base.restore_seconds:7.2f}"
            f"{f.size / 1e6:10.1f}{f.size / base.size:7.2f}"
        )
    return "\n".join(lines)


def _goal(figures: list[Figures]) -> str:
    base = {f.variant.label: f for f in figures}
    ratio = base["gzip"].restore_seconds / base["none"].restore_seconds
    verdict = "met" if ratio <= GZIP_RESTORE_GOAL else "NOT met"
    return f"gzip restore / uncompressed: {ratio:.2f} (goal <= {GZIP_RESTORE_GOAL}: {verdict})"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, metavar="N")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="K",
        help="Measure each variant K times, in turn, and keep the fastest.",
    )  # fmt: skip
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="lino-migrate-bench-compress-"))
    server = make_server(args.engine, work)
    status = 0
    try:
        server.prepare_template()
        source = server.fresh("source")
        _generate(server, source, args.rows, args.seed)
        rows = sum(server.count_rows(source).values())
        figures = _best(server, source, args.repeat)
        print(f"\n{server.label}: {_table(figures, rows)}\n{_goal(figures)}")
    except BenchError as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        status = 1
    finally:
        server.close(False)
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
