"""The test site with no ``django.contrib`` app at all: ``lino_migrate`` and ``kitchen`` (#13)."""

from __future__ import annotations

from tests.settings.engine import *  # noqa: F403

INSTALLED_APPS = ["lino_migrate", "tests.site.kitchen"]
MIDDLEWARE: list[str] = []
TEMPLATES: list[dict[str, object]] = []
