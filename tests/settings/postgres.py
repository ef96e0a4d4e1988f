"""Test settings on PostgreSQL, with an SQLite database for cross-engine tests.

The server is found through the usual libpq variables: ``PGHOST`` (default
127.0.0.1), ``PGPORT`` (5432), ``PGUSER`` (postgres) and ``PGPASSWORD``.
"""

from __future__ import annotations

import os

from tests.settings.base import *  # noqa: F403
from tests.settings.base import ENV_DB_NAME, ENV_OTHER_DB_NAME


def _postgres(name: str) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
    }


DATABASES = {
    "default": _postgres(ENV_DB_NAME or "lino_migrate"),
    "other": _postgres(ENV_OTHER_DB_NAME or "lino_migrate_other"),
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": "cross.sqlite3"},
}

# The field types of django.contrib.postgres (#13): on PostgreSQL only.
INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres", "tests.site.pgfields"]  # noqa: F405
