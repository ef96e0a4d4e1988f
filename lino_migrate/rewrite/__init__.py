"""Edit Python source with libcst: migrators.py files and restore.py scripts.

Each codemod takes source text and returns a :class:`RewriteResult`; it
keeps every line it does not mean to change byte for byte, line endings
included, and raises a :class:`~lino_migrate.exceptions.LinoMigrateError`
when the source does not parse.
"""

from __future__ import annotations

from lino_migrate.rewrite.migrators import add_migrator
from lino_migrate.rewrite.rendering import MigratorOp, migrator_name
from lino_migrate.rewrite.restore_script import replace_metadata
from lino_migrate.rewrite.result import RewriteResult

__all__ = [
    "MigratorOp",
    "RewriteResult",
    "add_migrator",
    "migrator_name",
    "replace_metadata",
]
