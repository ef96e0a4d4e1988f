"""The migrator of the bench app to 1.1: one row transform on every row.

The benchmark's step "restore + row transform" (:mod:`benchmarks.steps`)
dumps at ``BENCH_APP_VERSION=1.0`` and restores at ``1.1``, so that this
migrator runs on every bench row. Release 1.0 of an app does not have the
migrator of 1.1 yet, and a migrator above the current version is a planning
error: it is registered only when the bench app is at 1.1 or later. The plain
dump and restore, at the default 1.0, run no migrator. With
``BENCH_PARALLEL=1`` the row functions are declared ``parallel=True``, so
that a restore with ``--jobs`` runs them in its workers (#16).
"""

from __future__ import annotations

import os
from typing import Any

from django.apps import apps
from packaging.version import Version

from benchmarks.bench.changes import CHANGES, RESTORE_VERSION, row_function
from lino_migrate.versions import app_version
from migrations_registry import Migration, migrator

__all__ = ["to_1_1"]


def to_1_1(m: Migration) -> None:
    """Change one value in every row of every bench model (for the benchmark)."""
    # Passed only when asked: a tree older than #16 has no such keyword.
    parallel: dict[str, Any] = (
        {"parallel": True} if os.environ.get("BENCH_PARALLEL") == "1" else {}
    )
    for change in CHANGES:
        m.rows(change.label, **parallel)(row_function(change))


if app_version(apps.get_app_config("bench")) >= Version(RESTORE_VERSION):
    migrator("bench", RESTORE_VERSION)(to_1_1)
