"""Settings of the benchmark site.

``BENCH_ENGINE``: ``sqlite`` (default) or ``postgres``.
``BENCH_DB``: the SQLite database file, or the PostgreSQL database name; the
PostgreSQL server comes from ``PGHOST``, ``PGPORT``, ``PGUSER`` and
``PGPASSWORD`` (default ``127.0.0.1:5432``, user ``postgres``).
``BENCH_APP_VERSION``: the version of the ``bench`` app (default ``1.0``),
so that a dump can be written by one version and restored by another.
"""

from __future__ import annotations

import os

SECRET_KEY = "lino-migrate-benchmarks-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "lino_migrate",
    "benchmarks.bench",
]

LINO_MIGRATE = {"VERSIONS": {"bench": os.environ.get("BENCH_APP_VERSION", "1.0")}}

_ENGINE = os.environ.get("BENCH_ENGINE", "sqlite")
_NAME = os.environ.get("BENCH_DB", "")

if _ENGINE == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _NAME or "lino_migrate_bench",
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _NAME or "bench.sqlite3",
        }
    }
