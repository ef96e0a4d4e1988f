"""Configuration of the ``pgfields`` test app (PostgreSQL settings only)."""

from __future__ import annotations

from django.apps import AppConfig


class PgfieldsConfig(AppConfig):
    """Describe the app that holds the field types of ``django.contrib.postgres``."""

    name = "tests.site.pgfields"
    label = "pgfields"
    default_auto_field = "django.db.models.BigAutoField"
    migrate_version = "1.0"
