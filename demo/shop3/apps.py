"""The app configuration of release 3 of the demo shop."""

from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Release 3 of the shop; lino-migrate records ``migrate_version`` in dumps."""

    name = "demo.shop3"
    label = "shop"
    verbose_name = "Shop (release 3)"
    default_auto_field = "django.db.models.BigAutoField"
    migrate_version = "3.0"
