"""Exceptions raised by lino_migrate.

Library code raises these; management commands turn them into
:class:`~django.core.management.CommandError`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ChecksumError",
    "DumpExistsError",
    "DumpFormatError",
    "DumpReadError",
    "EncodeError",
    "LinoMigrateError",
    "LoadError",
    "MakeMigratorError",
    "RehearsalFailedError",
    "RestoreCancelledError",
    "SchemaMismatchError",
    "UpgradeError",
]


class LinoMigrateError(Exception):
    """Base class for errors raised by lino_migrate."""


class DumpExistsError(LinoMigrateError, FileExistsError):
    """The target directory of a dump exists already."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"The dump directory '{path}' exists already. Choose another "
            "directory or pass --overwrite to replace it."
        )


class DumpReadError(LinoMigrateError):
    """A model could not be read from the database while dumping."""

    def __init__(self, model_label: str, error: BaseException) -> None:
        self.model_label, self.error = model_label, error
        super().__init__(
            f"Could not read the rows of '{model_label}': {error}. "
            "Fix the database (is it migrated?) or pass --tolerate to skip "
            "this model and write a partial dump."
        )


class EncodeError(LinoMigrateError, ValueError):
    """A database value has no representation in a dump."""

    def __init__(
        self,
        model_label: str,
        pk: object,
        field: str,
        value: object,
        cause: BaseException | None = None,
    ) -> None:
        self.model_label, self.pk, self.field, self.value = (
            model_label,
            pk,
            field,
            value,
        )
        why = str(cause) if cause is not None and str(cause) else None
        if why is None:
            why = f"no dump encoding for {type(value).__name__}"
        super().__init__(
            f"Cannot write the value {value!r} of field '{field}' of "
            f"'{model_label}' row pk={pk!r}: {why}. Correct or remove the "
            "value in the database, or leave the model out with --exclude."
        )


class DumpFormatError(LinoMigrateError, ValueError):
    """A dump file is not in the format this version of lino_migrate reads."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


class ChecksumError(DumpFormatError):
    """A data file of a dump differs from what its ``restore.py`` recorded."""

    def __init__(self, path: Path, expected: str, found: str) -> None:
        self.expected, self.found = expected, found
        super().__init__(
            path,
            f"the sha256 is {found} but restore.py recorded {expected}: the "
            "file was changed or damaged after the dump was written. Restore "
            "from an intact copy of the dump.",
        )


class SchemaMismatchError(LinoMigrateError):
    """The rows of a dump do not fit the current models."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(
            f"The dump does not fit the current models ({len(problems)} "
            f"problem(s)); nothing was written:\n{lines}"
        )


class UpgradeError(SchemaMismatchError):
    """The migrators cannot turn the dump into rows of the current models."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        LinoMigrateError.__init__(
            self,
            f"The dump cannot be upgraded to the current code ({len(problems)} "
            f"problem(s)); nothing was written:\n{lines}",
        )


class MakeMigratorError(LinoMigrateError, ValueError):
    """A migrator cannot be generated; nothing was written.

    :param problem: what was found and what to do.
    :param path: the ``migrators.py`` concerned, if the problem is in it.
    :param line: the line of *path* the problem is on, if known.
    """

    def __init__(
        self, problem: str, path: Path | None = None, line: int | None = None
    ) -> None:
        self.problem, self.path, self.line = problem, path, line
        where = ""
        if path is not None:
            where = f"{path}, line {line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{problem}")


class LoadError(LinoMigrateError):
    """A row could not be written; the restore was rolled back."""

    def __init__(
        self,
        model_label: str,
        problem: str,
        *,
        pk: object = None,
        field: str | None = None,
        file: str | None = None,
    ) -> None:
        self.model_label, self.problem = model_label, problem
        self.pk, self.field, self.file = pk, field, file
        where = f"'{model_label}'"
        if pk is not None:
            where += f" row pk={pk!r}"
        if field is not None:
            where += f" field '{field}'"
        if file is not None:
            where += f" (file {file})"
        super().__init__(
            f"Could not restore {where}: {problem}. The restore was rolled "
            "back; the database is unchanged."
        )


class RestoreCancelledError(LinoMigrateError):
    """The person at the terminal did not confirm the restore; nothing was changed."""


class RehearsalFailedError(LinoMigrateError):
    """A rehearsal (``--simulate``) found rows that the database refuses."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(
            f"The rehearsal found {count} row(s) the database refuses (listed "
            "above); the real restore would fail. Nothing was changed."
        )
