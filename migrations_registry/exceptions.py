"""Exceptions raised by :mod:`migrations_registry`.

Every error derives from :class:`RegistryError` and keeps the data it reports as
attributes, so that callers can react to it without parsing the message.

.. versionadded:: 0.1
"""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.version import Version

    from migrations_registry.operations import Operation
    from migrations_registry.step import Step

__all__ = [
    "DependencyCycleError",
    "DowngradeError",
    "DuplicateMigratorError",
    "InvalidAppVersionError",
    "InvalidDependencyError",
    "InvalidMigratorError",
    "InvalidMigratorVersionError",
    "InvalidNameError",
    "MigratorAboveCurrentError",
    "MigratorRecordingError",
    "PlanError",
    "RegistryError",
    "RowTransformError",
    "SchemaConflictError",
    "UnfinishedStubError",
    "UnknownDependencyError",
]

_ROW_REPR = reprlib.Repr()
_ROW_REPR.maxdict, _ROW_REPR.maxstring, _ROW_REPR.maxother = 12, 80, 80


class RegistryError(Exception):
    """Base class for errors raised by migrations_registry.

    .. versionadded:: 0.1
    """


# Registration errors: raised by Registry.register and Migration's methods.


class DuplicateMigratorError(RegistryError, ValueError):
    """An app already has a migrator for this version.

    .. versionadded:: 0.1
    """

    def __init__(self, version: Version, app_label: str, existing: Step) -> None:
        self.version, self.app_label, self.existing = version, app_label, existing
        super().__init__(
            f"A migrator for version '{version}' is already registered for "
            f"'{app_label}': {existing}. Give each migrator of an app its own "
            f"version, or merge the two functions."
        )


class DuplicateAdapterError(RegistryError, ValueError):
    """An adapter of this name is already registered.

    .. versionadded:: 0.3
    """

    def __init__(self, name: str, existing: Step) -> None:
        self.name, self.existing = name, existing
        super().__init__(
            f"An adapter named '{name}' is already registered: {existing}. "
            "Give each adapter its own name, or merge the two functions."
        )


class InvalidMigratorVersionError(RegistryError, ValueError):
    """A migrator (or a ``depends_on`` entry) names a version that is not PEP 440.

    .. versionadded:: 0.1
    """

    def __init__(self, app_label: str, version: str) -> None:
        self.app_label, self.version = app_label, version
        super().__init__(
            f"The migrator version {version!r} for '{app_label}' is not a valid "
            f"version: expected a PEP 440 version such as '2.0'."
        )


class InvalidMigratorError(RegistryError, TypeError):
    """The object registered as a migrator is not callable.

    .. versionadded:: 0.1
    """

    def __init__(self, app_label: str, version: str, func: object) -> None:
        self.app_label, self.version, self.func = app_label, version, func
        example = f"def to_{version.replace('.', '_')}(m): ..."
        if version == "adapter":
            example = "def adapt(m, dumped, current): ..."
        super().__init__(
            f"The migrator for '{app_label}' {version} is {func!r}, which is not "
            f"callable: expected a function taking a Migration, such as "
            f"'{example}'."
        )


class InvalidDependencyError(RegistryError, ValueError):
    """A ``depends_on`` entry is not an ``(app_label, version)`` pair.

    .. versionadded:: 0.1
    """

    def __init__(self, app_label: str, version: str, dependency: object) -> None:
        self.app_label, self.version, self.dependency = app_label, version, dependency
        super().__init__(
            f"The migrator '{app_label}' {version} has {dependency!r} in depends_on: "
            f"expected an (app_label, version) pair such as ('community', '3.0')."
        )


class InvalidNameError(RegistryError, ValueError):
    """An app label, model label or field name is malformed.

    :param value: The value found.
    :param kind: ``"app label"``, ``"model label"`` or ``"field name"``.

    .. versionadded:: 0.1
    """

    _EXPECTED: ClassVar[dict[str, str]] = {
        "app label": "a Python identifier such as 'ledger'",
        "model label": "'app_label.model_name' in lower case, such as 'ledger.invoice'",
        "field name": "a Python identifier such as 'amount'",
        "adapter name": "dotted Python identifiers such as 'lino.languages'",
    }

    def __init__(self, value: object, kind: str) -> None:
        self.value, self.kind = value, kind
        expected = self._EXPECTED.get(kind, "a valid name")
        super().__init__(f"Invalid {kind} {value!r}: expected {expected}.")


# Planning problems: collected and raised together as one PlanError.


class InvalidAppVersionError(RegistryError, ValueError):
    """A version in the dump's or the code's version mapping is not PEP 440.

    :param source: ``"dump"`` or ``"current"``: the mapping the version came from.

    .. versionadded:: 0.1
    """

    def __init__(self, app_label: str, version: object, source: str) -> None:
        self.app_label, self.version, self.source = app_label, version, source
        where = "the dump records" if source == "dump" else "the code reports"
        super().__init__(
            f"{where.capitalize()} version {version!r} for '{app_label}', which is "
            f"not a valid version: expected a PEP 440 version such as '2.0'."
        )


class DowngradeError(RegistryError, ValueError):
    """The dump was made with a newer version of an app than the code has.

    .. versionadded:: 0.1
    """

    def __init__(self, app_label: str, dump_version: Version, current: Version) -> None:
        self.app_label = app_label
        self.dump_version, self.current_version = dump_version, current
        super().__init__(
            f"The dump was made with {app_label} {dump_version} but the code has "
            f"{app_label} {current}: restore it with code at {app_label} "
            f"{dump_version} or later."
        )


class MigratorAboveCurrentError(RegistryError, ValueError):
    """A migrator's version is above the current version of its app.

    .. versionadded:: 0.1
    """

    def __init__(self, step: Step, current: Version) -> None:
        self.step, self.current_version = step, current
        self.app_label, self.version = step.app_label, step.version
        super().__init__(
            f"The migrator {step} is for a version above the current version of "
            f"{step.app_label}, {current}: raise {step.app_label}'s version to "
            f"{step.version} or later, or remove the migrator."
        )


class DependencyCycleError(RegistryError, ValueError):
    """The ``depends_on`` declarations of some migrators form a cycle.

    :param cycle: The migrators in the cycle; the first one depends on the last.

    .. versionadded:: 0.1
    """

    def __init__(self, cycle: Sequence[Step]) -> None:
        self.cycle = tuple(cycle)
        path = " -> ".join(str(step) for step in (*self.cycle, self.cycle[0]))
        super().__init__(
            f"The migrators {path} depend on each other in a cycle: remove one "
            f"of these depends_on declarations."
        )


class UnknownDependencyError(RegistryError, LookupError):
    """A ``depends_on`` entry names a migrator that is not registered.

    .. versionadded:: 0.1
    """

    def __init__(
        self, step: Step, app_label: str, version: Version, known: Sequence[Version]
    ) -> None:
        self.step, self.app_label, self.version = step, app_label, version
        self.known = tuple(known)
        listed = ", ".join(str(v) for v in self.known) or "none"
        super().__init__(
            f"The migrator {step} depends on {app_label} {version}, but no such "
            f"migrator is registered (versions registered for {app_label}: "
            f"{listed}): fix depends_on or register that migrator."
        )


class MigratorRecordingError(RegistryError):
    """A migrator function raised while recording its operations.

    The original exception is kept as :attr:`error` and as ``__cause__``.

    .. versionadded:: 0.1
    """

    def __init__(self, step: Step, error: BaseException) -> None:
        self.step, self.error = step, error
        self.__cause__ = error
        super().__init__(
            f"The migrator {step} raised {type(error).__name__} while recording "
            f"its operations: {error}. Fix the migrator function."
        )


class UnfinishedStubError(RegistryError):
    """A migrator holds a row function still marked as a stub (``todo=True``).

    ``manage.py makemigrator`` writes ``@m.rows(..., todo=True)`` on each row
    function that a person must complete; the mark goes when it is done.

    :param where: ``file, line N`` of the stub, if known.

    .. versionadded:: 0.3
    """

    def __init__(self, step: Step, function: str, where: str | None) -> None:
        self.step, self.function, self.where = step, function, where
        place = f" ({where})" if where else ""
        super().__init__(
            f"The migrator {step} has an unfinished stub: the row function "
            f"{function}{place} is marked todo=True. Write what its TODO asks, "
            "then remove todo=True from its @m.rows(...)."
        )


class PlanError(RegistryError):
    """Planning found problems; all of them are in :attr:`problems`.

    .. versionadded:: 0.1
    """

    def __init__(self, problems: Sequence[RegistryError]) -> None:
        self.problems: list[RegistryError] = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(
            f"Cannot plan the migration of the dump "
            f"({count} problem{'s' if count != 1 else ''}):\n{lines}"
        )


# Errors while applying a plan.


class RowTransformError(RegistryError):
    """A row function (or a callable default) failed on a row.

    The original exception is the ``__cause__``.

    .. versionadded:: 0.1
    """

    def __init__(
        self, step: Step, function: str, model_label: str, row: Any, reason: str
    ) -> None:
        self.step, self.function = step, function
        self.app_label, self.version = step.app_label, step.version
        self.model_label, self.row = model_label, row
        super().__init__(
            f"The migrator {step}: '{function}' failed on a row of '{model_label}' "
            f"with {reason}. Row: {_ROW_REPR.repr(row)}. Fix the function or "
            f"that row of the dump."
        )


class SchemaConflictError(RegistryError, ValueError):
    """An operation would give a model two fields with the same name.

    .. versionadded:: 0.1
    """

    def __init__(self, operation: Operation, model_label: str, name: str) -> None:
        self.operation, self.model_label, self.name = operation, model_label, name
        super().__init__(
            f"{operation} would replace field '{name}' that '{model_label}' "
            f"already has at this point: remove or rename '{name}' first."
        )
