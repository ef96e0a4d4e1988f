"""The test site as a Lino site: no ``auth``, and an app without migrations (#13).

Lino apps have no migrations: ``migrate --run-syncdb`` creates their tables.
``MIGRATION_MODULES`` set to ``None`` makes ``kitchen`` such an app, without
a new app. ``library`` keeps its migrations: its generic keys point to
``contenttypes``, and Django creates the tables of apps without migrations
before it applies any migration, so such an app cannot have a foreign key
to an app with migrations (PostgreSQL refuses the constraint).
"""

from __future__ import annotations

from tests.settings.noauth import *  # noqa: F403

MIGRATION_MODULES = {"kitchen": None}
