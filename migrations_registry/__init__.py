"""Versioned migrators that turn the rows of an old dump into current rows.

Django-free: this package knows app labels, versions, model labels, field names,
and rows as dicts keyed by attname. It does no I/O.

.. versionadded:: 0.1
"""

from __future__ import annotations

from migrations_registry.exceptions import (
    DependencyCycleError,
    DowngradeError,
    DuplicateAdapterError,
    DuplicateMigratorError,
    InvalidAppVersionError,
    InvalidDependencyError,
    InvalidMigratorError,
    InvalidMigratorVersionError,
    InvalidNameError,
    MigratorAboveCurrentError,
    MigratorRecordingError,
    PlanError,
    RegistryError,
    RowTransformError,
    SchemaConflictError,
    UnfinishedStubError,
    UnknownDependencyError,
)
from migrations_registry.migration import AdapterFunc, Migration, MigratorFunc
from migrations_registry.operations import (
    AddField,
    AfterLoadHook,
    HookFunc,
    Operation,
    RemoveField,
    RemoveModel,
    RenameField,
    RenameModel,
    Row,
    RowFunc,
    RowResult,
    RowTransform,
    Schema,
)
from migrations_registry.plan import Plan
from migrations_registry.registry import (
    Registry,
    adapter,
    default_registry,
    migrator,
)
from migrations_registry.schema import SchemaTrace
from migrations_registry.step import Step

__all__ = [
    "AdapterFunc",
    "AddField",
    "AfterLoadHook",
    "DependencyCycleError",
    "DowngradeError",
    "DuplicateAdapterError",
    "DuplicateMigratorError",
    "HookFunc",
    "InvalidAppVersionError",
    "InvalidDependencyError",
    "InvalidMigratorError",
    "InvalidMigratorVersionError",
    "InvalidNameError",
    "Migration",
    "MigratorAboveCurrentError",
    "MigratorFunc",
    "MigratorRecordingError",
    "Operation",
    "Plan",
    "PlanError",
    "Registry",
    "RegistryError",
    "RemoveField",
    "RemoveModel",
    "RenameField",
    "RenameModel",
    "Row",
    "RowFunc",
    "RowResult",
    "RowTransform",
    "RowTransformError",
    "Schema",
    "SchemaConflictError",
    "SchemaTrace",
    "Step",
    "UnfinishedStubError",
    "UnknownDependencyError",
    "adapter",
    "default_registry",
    "migrator",
]
