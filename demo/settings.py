"""Settings of the demo site.

``DEMO_SHOP_RELEASE``: which release of the shop app is installed; ``1`` means
the package ``demo.shop1``, ``3`` means ``demo.shop3``. Every release has the
app label ``shop``, so a dump written with one release can be restored with
another. Two releases never share a database: the upgrade goes through a dump.

``DEMO_DB_ENGINE``: ``sqlite`` (the default) or ``postgresql``.
``DEMO_DB``: the database: the SQLite file (default ``demo/demo.sqlite3``), or
the name of the PostgreSQL database (default ``lino_migrate_demo``), whose
server is given by ``PGHOST`` (default ``127.0.0.1``), ``PGPORT`` (``5432``),
``PGUSER`` (``postgres``) and ``PGPASSWORD``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DEMO_DIR = Path(__file__).resolve().parent

SHOP_RELEASE = os.environ.get("DEMO_SHOP_RELEASE", "1")
# The tests install a variant of a release (e.g. one migrator left out) this way.
SHOP_PACKAGE = os.environ.get("DEMO_SHOP_PACKAGE") or f"demo.shop{SHOP_RELEASE}"
_RELEASES = sorted(p.name[4:] for p in DEMO_DIR.glob("shop*") if p.is_dir())
if "DEMO_SHOP_PACKAGE" not in os.environ and SHOP_RELEASE not in _RELEASES:
    msg = (
        f"DEMO_SHOP_RELEASE={SHOP_RELEASE!r} names no release of the demo shop; "
        f"the releases are {', '.join(_RELEASES)}."
    )
    raise ImproperlyConfigured(msg)

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

DB_ENGINE = os.environ.get("DEMO_DB_ENGINE") or "sqlite"
if DB_ENGINE in ("sqlite", "sqlite3"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("DEMO_DB") or str(DEMO_DIR / "demo.sqlite3"),
        },
    }
elif DB_ENGINE in ("postgresql", "postgres"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("DEMO_DB") or "lino_migrate_demo",
            "HOST": os.environ.get("PGHOST") or "127.0.0.1",
            "PORT": os.environ.get("PGPORT") or "5432",
            "USER": os.environ.get("PGUSER") or "postgres",
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
        },
    }
else:
    msg = f"DEMO_DB_ENGINE={DB_ENGINE!r}: expected 'sqlite' or 'postgresql'."
    raise ImproperlyConfigured(msg)
