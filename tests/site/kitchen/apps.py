"""Configuration of the ``kitchen`` test app."""

from __future__ import annotations

from django.apps import AppConfig


class KitchenConfig(AppConfig):
    """Describe the app that holds one field of every built-in type."""

    name = "tests.site.kitchen"
    label = "kitchen"
    default_auto_field = "django.db.models.BigAutoField"
    migrate_version = "1.0"
