"""The Django application of lino_migrate."""

from __future__ import annotations

from django.apps import AppConfig


class LinoMigrateConfig(AppConfig):
    """Provide the ``dump2py`` and ``run`` management commands."""

    name = "lino_migrate"
    verbose_name = "lino-migrate"
    default_auto_field = "django.db.models.BigAutoField"
