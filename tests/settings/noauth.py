"""The test site without ``django.contrib.auth`` (and admin), as a Lino site (#13).

``contenttypes`` stays: the ``library`` app's generic keys need it.
"""

from __future__ import annotations

from tests.settings.engine import *  # noqa: F403
from tests.settings.engine import INSTALLED_APPS

INSTALLED_APPS = [
    app
    for app in INSTALLED_APPS
    if app not in ("django.contrib.admin", "django.contrib.auth")
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES: list[dict[str, object]] = []
