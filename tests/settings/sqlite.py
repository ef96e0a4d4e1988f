"""Test settings on SQLite: ``default`` and ``other`` are separate databases."""

from __future__ import annotations

from tests.settings.base import *  # noqa: F403
from tests.settings.base import ENV_DB_NAME, ENV_OTHER_DB_NAME

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ENV_DB_NAME or "default.sqlite3",
    },
    "other": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ENV_OTHER_DB_NAME or "other.sqlite3",
    },
}
