"""The backend of a settings variant: ``LINO_MIGRATE_TEST_ENGINE`` names it.

``sqlite`` (the default) or ``postgres``: a variant (``noauth``,
``nocontenttypes``, ``bare``) imports this module instead of
``tests.settings.sqlite`` or ``tests.settings.postgres`` so that one variant
module serves both backends (#13).
"""

from __future__ import annotations

import os

if os.environ.get("LINO_MIGRATE_TEST_ENGINE", "sqlite") == "postgres":
    from tests.settings.postgres import *  # noqa: F403
else:
    from tests.settings.sqlite import *  # noqa: F403
