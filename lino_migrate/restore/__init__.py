"""Restore a Python dump: ``python manage.py run DIR/restore.py``.

Re-exports only. Every dump's ``restore.py`` runs
``from lino_migrate.restore import main``: keep that name here.
"""

from __future__ import annotations

from lino_migrate.exceptions import RehearsalFailedError, RestoreCancelledError
from lino_migrate.restore.cli import main
from lino_migrate.restore.restorer import (
    ModelReport,
    RestoreContext,
    RestoreReport,
    restore,
)

__all__ = [
    "ModelReport",
    "RehearsalFailedError",
    "RestoreCancelledError",
    "RestoreContext",
    "RestoreReport",
    "main",
    "restore",
]
