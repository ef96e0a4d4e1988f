"""Settings of the demo site.

``DEMO_DB``: the SQLite database file (default ``demo/demo.sqlite3``).
``DEMO_SHOP_RELEASE``: which release of the shop app is installed; ``1`` means
the package ``demo.shop1``. Every release has the app label ``shop``, so a
dump written with one release can be restored with another.
"""

from __future__ import annotations

import os
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent

SHOP_RELEASE = os.environ.get("DEMO_SHOP_RELEASE", "1")
SHOP_PACKAGE = f"demo.shop{SHOP_RELEASE}"

SECRET_KEY = "lino-migrate-demo-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "lino_migrate",
    SHOP_PACKAGE,
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB") or str(DEMO_DIR / "demo.sqlite3"),
    },
}
