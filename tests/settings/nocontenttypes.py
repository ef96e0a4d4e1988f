"""The test site without ``auth`` and ``contenttypes`` (nor admin, nor library) (#13).

``auth`` needs ``contenttypes``, so this is also the site without both; the
``library`` app goes too, since its generic keys need content types.
"""

from __future__ import annotations

from tests.settings.engine import *  # noqa: F403
from tests.settings.engine import INSTALLED_APPS

INSTALLED_APPS = [
    app
    for app in INSTALLED_APPS
    if app
    not in (
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "tests.site.library",
    )
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES: list[dict[str, object]] = []
