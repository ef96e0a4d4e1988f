#!/usr/bin/env python
"""Run a management command of the benchmark site.

The database is chosen by the environment variables ``BENCH_ENGINE`` and
``BENCH_DB`` (see ``settings.py``).
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # The repository root, so that ``benchmarks.settings`` and lino_migrate
    # import the same way from any working directory.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    from benchmarks.rawio import record_peak_rss

    record_peak_rss()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
