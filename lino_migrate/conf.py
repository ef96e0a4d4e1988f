"""The settings of lino_migrate and their defaults, read in one place.

A site configures lino_migrate with one dict in its settings::

    LINO_MIGRATE = {
        "VERSIONS": {"ledger": "2.1"},        # app label -> version
        "MIGRATORS": ["mysite.migrators"],    # extra modules of @migrator functions
    }

Both keys are optional. The settings are read when they are needed, never
at import time, so that this module can be imported before Django is set up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DEFAULT_MAX_ROW_COUNT", "configured_versions", "migrator_modules"]

#: The most rows a data file holds unless ``--max-row-count`` says otherwise.
DEFAULT_MAX_ROW_COUNT = 50000


def _setting() -> Mapping[str, Any]:
    from django.conf import settings

    return getattr(settings, "LINO_MIGRATE", {})


def configured_versions() -> Mapping[str, object]:
    """Return ``LINO_MIGRATE["VERSIONS"]``: app label -> version, as written."""
    versions: Mapping[str, object] = _setting().get("VERSIONS", {})
    return versions


def migrator_modules() -> Sequence[str]:
    """Return ``LINO_MIGRATE["MIGRATORS"]``: the extra modules of migrators."""
    return tuple(_setting().get("MIGRATORS", ()))
