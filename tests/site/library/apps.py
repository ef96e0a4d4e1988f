"""Configuration of the ``library`` test app."""

from __future__ import annotations

from django.apps import AppConfig


class LibraryConfig(AppConfig):
    """Describe the app that holds primary keys and relations of every kind."""

    name = "tests.site.library"
    label = "library"
    default_auto_field = "django.db.models.BigAutoField"
    migrate_version = "1.0"
