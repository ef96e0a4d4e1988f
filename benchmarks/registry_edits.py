"""Time a plan's field edits: generated source against plain closures.

Run from the repository root, with no Django involved::

    .venv/bin/python benchmarks/registry_edits.py [--rows N] [--repeat K]

A plan turns the field operations between two row transforms into one
function. ``migrations_registry._edits.chain_edits`` (what a plan uses) chains
one closure per operation; ``fuse_edits`` (``benchmarks/generated_edits.py``,
what the package used before #11) generates the source of one function and
``exec``-s it. Both run in the same process on the same rows: a migrator
renames a field and a ForeignKey, removes a field and adds two, then a row
function and two more field operations run; every row goes through
:meth:`Plan.apply`, with the dumped schema (as a restore passes it) and
without. The best of *K* runs of each is printed, with the ratio closures /
generated. Issue #11 allows generated code in ``migrations_registry`` only if
the closures make the migrated restore more than 10% slower; the field edits
are a small part of it, so the closures stay even though they are slower here.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from generated_edits import fuse_edits

import migrations_registry._rows
from migrations_registry import Migration, Operation, Plan, Registry, Row, Schema
from migrations_registry._edits import Edit, chain_edits

LABEL = "shop.order"
SCHEMA = {
    LABEL: {
        name: f"{name}_id" if name == "customer" else name
        for name in ("id", "customer", "amount", "legacy", "note", "date", "paid")
    }
}
Fuse = Callable[
    [Sequence[tuple[int, Operation]], Mapping[int, tuple[str, ...]]], Edit | None
]
#: The closures, then the generated functions.
FUSES: tuple[Fuse, Fuse] = (chain_edits, fuse_edits)


def reference(row: Row) -> str:
    """Return the default of the added field ``reference``."""
    return f"O{row['id']}"


def to_2_0(m: Migration) -> None:
    """Record typical field operations around a row function."""
    m.rename_field(LABEL, "customer", "client")
    m.rename_field(LABEL, "amount", "total")
    m.remove_field(LABEL, "legacy")
    m.add_field(LABEL, "currency", default="EUR")
    m.add_field(LABEL, "warehouse", default=1, attname="warehouse_id")

    @m.rows(LABEL)
    def cents(row: Row) -> Row:
        row["total"] *= 100
        return row

    m.remove_field(LABEL, "note")
    m.add_field(LABEL, "reference", default=reference)


@contextmanager
def fusing(fuse: Fuse) -> Iterator[None]:
    """Let the plans applied in the block fuse their edits with *fuse*."""
    calls = []

    def counted(
        operations: Sequence[tuple[int, Operation]],
        attnames: Mapping[int, tuple[str, ...]],
    ) -> Edit | None:
        calls.append(operations)
        return fuse(operations, attnames)

    saved = migrations_registry._rows.chain_edits
    migrations_registry._rows.chain_edits = counted
    try:
        yield
    finally:
        migrations_registry._rows.chain_edits = saved
    if not calls:
        msg = f"No plan fused its edits with {fuse.__name__}: nothing was measured."
        raise AssertionError(msg)


def make_rows(count: int) -> list[Row]:
    """Return *count* dumped rows of :data:`LABEL`."""
    return [
        {"id": i, "customer_id": i % 97, "amount": i % 1000, "legacy": "x",
         "note": "", "date": "2026-01-01", "paid": i % 2 == 0}
        for i in range(count)
    ]  # fmt: skip


def seconds(plan: Plan, rows: list[Row], schema: Schema | None) -> float:
    """Return the time to stream *rows* through *plan* (rows are edited in place)."""
    gc.collect()
    start = time.perf_counter()
    deque(plan.apply(LABEL, rows, schema=schema), maxlen=0)
    return time.perf_counter() - start


def measure(plan: Plan, count: int, repeat: int, schema: Schema | None) -> list[float]:
    """Return the best times of the closures and of the generated functions."""
    template = make_rows(count)
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for i, fuse in enumerate(FUSES):
            rows = [dict(row) for row in template]
            with fusing(fuse):
                best[i] = min(best[i], seconds(plan, rows, schema))
    return best


def check_same(plan: Plan, schema: Schema | None) -> None:
    """Raise if the two ways of fusing give other rows."""
    results = []
    for fuse in FUSES:
        with fusing(fuse):
            results.append(list(plan.apply(LABEL, make_rows(50), schema=schema)))
    if results[0] != results[1]:
        msg = "The closures and the generated functions give other rows."
        raise AssertionError(msg)


def main() -> None:
    """Print the times and the ratio, with and without the dumped schema."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=5, metavar="K")
    args = parser.parse_args()
    registry = Registry()
    registry.register("shop", "2.0", to_2_0)
    plan = registry.plan({"shop": "1.0"}, {"shop": "2.0"})
    print(f"{args.rows:,} rows of {LABEL}, best of {args.repeat}")
    print(f"{'':16}{'closures':>10}{'generated':>11}{'ratio':>8}")
    for title, schema in (("with schema", SCHEMA), ("without schema", None)):
        check_same(plan, schema)
        plain, generated = measure(plan, args.rows, args.repeat, schema)
        print(f"{title:16}{plain:9.3f}s{generated:10.3f}s{plain / generated:7.2f}x")


if __name__ == "__main__":
    main()
