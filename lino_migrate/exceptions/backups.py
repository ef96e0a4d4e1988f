"""The exceptions of keeping backups: media files, storages, dated names (#15)."""

from __future__ import annotations

from collections.abc import Sequence

from lino_migrate.exceptions.base import LinoMigrateError, full_stop, listed, plural

__all__ = [
    "MediaConflictError",
    "MediaMissingError",
    "MediaWriteError",
    "NamePatternError",
    "StorageError",
]


class MediaMissingError(LinoMigrateError):
    """Files that the dumped rows name are missing from their storage (#15).

    :param missing: one item per file: model, pk, field, name and why.

    .. versionadded:: 0.4
    """

    def __init__(self, missing: Sequence[object]) -> None:
        self.missing = missing
        super().__init__(
            f"{plural(len(missing), 'file')} that the dumped rows name could not "
            f"be copied into the dump; nothing was written:"
            f"{listed(list(map(str, missing)))}\nPut the files back into their "
            "storage or clear the fields that name them, or pass --tolerate to "
            "write a PARTIAL dump that lists them in MEDIA_MISSING."
        )


class MediaConflictError(LinoMigrateError):
    """Media files of a dump differ from files of the same name in the storage.

    :param conflicts: one line per file: its name and its storage.

    .. versionadded:: 0.4
    """

    def __init__(self, conflicts: list[str]) -> None:
        self.conflicts = conflicts
        super().__init__(
            f"{plural(len(conflicts), 'media file')} of the dump differ from the "
            f"files of the same name already in their storage:"
            f"{listed(conflicts)}\nThe restore was rolled back; nothing was "
            "changed. Pass --overwrite-media to replace those files, or move "
            "them away first."
        )


class MediaWriteError(LinoMigrateError):
    """The rows were restored, but media files could not be written afterwards.

    Media files are written once the restore's transaction has committed, so
    that a failed restore writes none; this error therefore comes after the
    database was changed.

    :param failures: one line per file not written: its name and why.

    .. versionadded:: 0.4
    """

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__(
            "The database was restored (committed), but "
            f"{plural(len(failures), 'media file')} could not be written:"
            f"{listed(failures)}\nFix the cause (space, permissions, the "
            "storage's settings), then run the same restore again with --media: "
            "it replaces the rows again, keeps the files already written (they "
            "are identical) and writes the others."
        )


class StorageError(LinoMigrateError):
    """A Django storage cannot hold or give a dump: unknown alias, missing dump.

    :param alias: the storage's alias in ``settings.STORAGES``.
    :param problem: what was found, and what to do.

    .. versionadded:: 0.4
    """

    def __init__(self, alias: str, problem: str) -> None:
        self.alias, self.problem = alias, problem
        super().__init__(f"Storage '{alias}': {full_stop(problem)}")


class NamePatternError(LinoMigrateError, ValueError):
    """A ``--name`` pattern cannot name dated dumps.

    .. versionadded:: 0.4
    """

    def __init__(self, pattern: str, problem: str) -> None:
        self.pattern, self.problem = pattern, problem
        super().__init__(
            f"The --name pattern {pattern!r} {problem}. Give one "
            "'{date:FORMAT}' field with strftime codes and no '/', such as "
            "--name '{date:%Y-%m-%d_%H%M}'."
        )
