#!/usr/bin/env python
"""Run a management command of the test site (used by the end-to-end tests)."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings.sqlite")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
