"""The Django application of lino_migrate."""

from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

from lino_migrate.checks import check_commands
from lino_migrate.conf import migrator_modules


class LinoMigrateConfig(AppConfig):
    """Provide the management commands and collect the migrators of every app."""

    name = "lino_migrate"
    verbose_name = "lino-migrate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Import every app's ``migrators.py`` and register the system check.

        Importing registers their ``@migrator`` functions into
        :data:`migrations_registry.default_registry`; a duplicate version is an
        error here, at start-up, and so is a module that does not parse.

        :raises ImproperlyConfigured: naming the file and line that does not parse.
        """
        checks.register(check_commands)
        try:
            autodiscover_modules("migrators")
            for module in migrator_modules():
                import_module(module)
        except SyntaxError as e:
            msg = (
                f"{e.filename}, line {e.lineno}: {e.msg}. lino_migrate imports "
                "every migrators module when Django starts: fix this file first "
                "(manage.py makemigrator does not edit a file that does not parse)."
            )
            raise ImproperlyConfigured(msg) from e
