#!/usr/bin/env python
"""Run a management command of the demo site.

The database is named by the environment variables ``DEMO_DB`` (and
``DEMO_DB_ENGINE``), the release of the shop app by ``DEMO_SHOP_RELEASE``
(see ``settings.py``).
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # The repository root, so that ``demo.settings`` and ``demo.shop1`` import
    # the same way from any working directory.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
