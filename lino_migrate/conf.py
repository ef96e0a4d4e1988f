"""The settings of lino_migrate and their defaults, read in one place.

A site configures lino_migrate with one dict in its settings::

    LINO_MIGRATE = {
        "VERSIONS": {"ledger": "2.1"},        # app label -> version
        "MIGRATORS": ["mysite.migrators"],    # extra modules of @migrator functions
        "RECORD_CREATED": True,               # False: no time in restore.py
    }

Every key is optional. The settings are read when they are needed, never
at import time, so that this module can be imported before Django is set up.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from typing import Any

from lino_migrate.exceptions import SettingError

__all__ = [
    "DEFAULT_MAX_ROW_COUNT",
    "configured_versions",
    "creation_time",
    "migrator_modules",
]

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


def creation_time() -> str | None:
    """Return the time a new dump records as ``CREATED``, or ``None`` for none.

    ``LINO_MIGRATE["RECORD_CREATED"] = False`` records no time, so that two
    dumps of the same data are byte-identical (Lino's ``ddt`` compares them).
    Otherwise the time is now, in UTC, unless the environment variable
    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) gives it.

    :raises SettingError: when ``SOURCE_DATE_EPOCH`` is not a whole number.
    """
    if not _setting().get("RECORD_CREATED", True):
        return None
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        except (ValueError, OverflowError, OSError):
            name = "SOURCE_DATE_EPOCH"
            expected = "a whole number of seconds since 1970 (reproducible builds)"
            raise SettingError(name, epoch, expected) from None
    else:
        moment = datetime.datetime.now(datetime.UTC)
    return moment.isoformat(timespec="seconds")
