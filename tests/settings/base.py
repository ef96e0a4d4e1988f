"""Settings shared by every backend of the test site."""

from __future__ import annotations

import os

SECRET_KEY = "lino-migrate-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Brussels"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "tests.site.urls"
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "lino_migrate",
    "tests.site.kitchen",
    "tests.site.library",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# End-to-end tests run ``manage.py`` in a subprocess on a database file or a
# PostgreSQL database that the test created; these variables name it.
ENV_DB_NAME = os.environ.get("LINO_MIGRATE_DB_NAME")
ENV_OTHER_DB_NAME = os.environ.get("LINO_MIGRATE_OTHER_DB_NAME")
