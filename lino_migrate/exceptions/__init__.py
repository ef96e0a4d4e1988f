"""Exceptions raised by lino_migrate.

Library code raises these; management commands turn them into
:class:`~django.core.management.CommandError`. Import them from here: the
modules of this package only keep each kind together, since one module had
passed 600 lines (#15). :func:`plural`, :func:`full_stop` and
:func:`missing_tables_message` are the helpers their messages share.
"""

from __future__ import annotations

from lino_migrate.exceptions.backups import (
    MediaConflictError,
    MediaMissingError,
    MediaWriteError,
    NamePatternError,
    StorageError,
)
from lino_migrate.exceptions.base import (
    LinoMigrateError,
)
from lino_migrate.exceptions.base import (
    full_stop as full_stop,
)
from lino_migrate.exceptions.base import (
    plural as plural,
)
from lino_migrate.exceptions.dump import (
    ChecksumError,
    DumpExistsError,
    DumpFormatError,
    DumpNotFoundError,
    DumpReadError,
    DumpWorkerError,
    DumpWriteError,
    EncodeError,
    NotADumpError,
)
from lino_migrate.exceptions.restore import (
    DatabaseNotReadyError,
    DatabaseUnavailableError,
    ExcludeError,
    InvalidValueError,
    LoadError,
    MigrateFailedError,
    RehearsalFailedError,
    RehearsalNeedsSchemaError,
    RestoreCancelledError,
    SchemaKeptError,
    SchemaMismatchError,
    SequenceError,
    UpgradeError,
    UsageError,
    WorkerError,
)
from lino_migrate.exceptions.restore import (
    missing_tables_message as missing_tables_message,
)
from lino_migrate.exceptions.tools import (
    LinoDumpError,
    MakeMigratorError,
    SettingError,
)

__all__ = [
    "ChecksumError",
    "DatabaseNotReadyError",
    "DatabaseUnavailableError",
    "DumpExistsError",
    "DumpFormatError",
    "DumpNotFoundError",
    "DumpReadError",
    "DumpWorkerError",
    "DumpWriteError",
    "EncodeError",
    "ExcludeError",
    "InvalidValueError",
    "LinoDumpError",
    "LinoMigrateError",
    "LoadError",
    "MakeMigratorError",
    "MediaConflictError",
    "MediaMissingError",
    "MediaWriteError",
    "MigrateFailedError",
    "NamePatternError",
    "NotADumpError",
    "RehearsalFailedError",
    "RehearsalNeedsSchemaError",
    "RestoreCancelledError",
    "SchemaKeptError",
    "SchemaMismatchError",
    "SequenceError",
    "SettingError",
    "StorageError",
    "UpgradeError",
    "UsageError",
    "WorkerError",
]
