"""The exceptions of a restore: the plan, the database, the command line, the rows."""

from __future__ import annotations

import re

from lino_migrate.exceptions.base import LinoMigrateError, cause_of, full_stop, plural

__all__ = [
    "DatabaseNotReadyError",
    "DatabaseUnavailableError",
    "ExcludeError",
    "InvalidValueError",
    "LoadError",
    "MigrateFailedError",
    "RehearsalFailedError",
    "RehearsalNeedsSchemaError",
    "RestoreCancelledError",
    "SchemaKeptError",
    "SchemaMismatchError",
    "SequenceError",
    "UpgradeError",
    "UsageError",
    "WorkerError",
    "missing_tables_message",
]


class SchemaMismatchError(LinoMigrateError):
    """The rows of a dump do not fit the current models."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(
            "The dump does not fit the current models "
            f"({plural(len(problems), 'problem')}); nothing was written:\n{lines}"
        )


class UpgradeError(SchemaMismatchError):
    """The migrators cannot turn the dump into rows of the current models."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        LinoMigrateError.__init__(
            self,
            "The dump cannot be upgraded to the current code "
            f"({plural(len(problems), 'problem')}); nothing was written:\n{lines}",
        )


class DatabaseNotReadyError(LinoMigrateError):
    """The target database lacks tables the restore writes: never migrated?

    :param database: the alias of the database.
    :param missing: ``(table, model label)`` of each missing table.
    """

    def __init__(self, database: str, missing: list[tuple[str, str]]) -> None:
        self.database, self.missing = database, missing
        super().__init__(missing_tables_message(database, missing))


def missing_tables_message(database: str, missing: list[tuple[str, str]]) -> str:
    """Return what :class:`DatabaseNotReadyError` says, for reports too."""
    shown = ", ".join(f"'{table}' ({label})" for table, label in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (
        f"Database '{database}' lacks {plural(len(missing), 'table')} the restore "
        "writes: "
        f"{shown}{more}. Was it never migrated? Restore with --migrate, which "
        "creates the schema first, or run `python manage.py migrate --database "
        f"{database}` first (with --run-syncdb for apps without migrations), then "
        "restore again; nothing was written."
    )


class MigrateFailedError(LinoMigrateError):
    """``migrate``, run by a restore's ``--migrate``, failed; no row was restored.

    :param database: the alias of the database.
    :param target: which database it is (its engine and name).
    :param error: what ``migrate`` raised.

    .. versionadded:: 0.3
    """

    def __init__(self, database: str, target: str, error: BaseException) -> None:
        self.database, self.target, self.error = database, target, error
        super().__init__(
            f"--migrate could not create the schema of database '{database}' "
            f"({target}): `manage.py migrate --run-syncdb` failed: {cause_of(error)} "
            "The migrations applied before the failure stay applied; no row of the "
            f"dump was restored. Fix the cause (`python manage.py migrate "
            f"--run-syncdb --database {database}` shows the whole error), then "
            "restore again."
        )


class RehearsalNeedsSchemaError(LinoMigrateError, ValueError):
    """``--simulate --migrate`` on a database whose schema ``migrate`` would change.

    A rehearsal writes nothing, and creating the schema is a write that its
    rollback does not undo; without the schema there is nothing to rehearse on.

    :param database: the alias of the database.
    :param target: which database it is (its engine and name).
    :param work: what ``migrate`` would do (``apply 18 migrations``).

    .. versionadded:: 0.3
    """

    def __init__(self, database: str, target: str, work: str) -> None:
        self.database, self.target, self.work = database, target, work
        super().__init__(
            f"--simulate writes nothing, but database '{database}' ({target}) is "
            f"not fully migrated: --migrate would {work} first, which no rollback "
            "undoes. Rehearse on a migrated database: run `python manage.py migrate "
            f"--run-syncdb --database {database}` (or restore with --migrate, "
            "without --simulate), then rehearse again; nothing was written."
        )


#: The end of a message that says the restore left the database as it was.
_UNCHANGED = re.compile(
    r"(?:[;.]?\s+|; )(?:the restore was rolled back; the database is unchanged"
    r"|nothing was (?:written|changed))\.$",
    re.IGNORECASE,
)


class SchemaKeptError(LinoMigrateError):
    """A restore failed after ``--migrate`` created the schema, which stays.

    ``migrate`` runs before the restore's transaction: the rows roll back,
    the tables stay.

    :param database: the alias of the database.
    :param error: why the restore failed (kept, as :attr:`error`).

    .. versionadded:: 0.3
    """

    def __init__(self, database: str, error: BaseException) -> None:
        self.database, self.error = database, error
        detail = _UNCHANGED.sub(".", str(error).rstrip())
        super().__init__(
            f"{full_stop(detail)} The restore was rolled back, but not the schema "
            "that --migrate created before it (migrate is not part of the "
            f"restore's transaction): database '{database}' now has its tables but "
            "no rows of the dump; run again after fixing the dump."
        )


class DatabaseUnavailableError(LinoMigrateError):
    """A database cannot be connected to, or not read (never migrated?).

    :param database: the alias.
    :param target: which database the alias is (engine, file or server and name).
    :param error: the driver's error.
    :param connected: whether the connection worked (then a table is missing).

    .. versionadded:: 0.3
    """

    def __init__(
        self,
        database: str,
        target: str,
        error: BaseException,
        *,
        connected: bool = False,
    ) -> None:
        self.database, self.target, self.error = database, target, error
        self.connected = connected
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        why = " ".join(map(full_stop, lines)) or f"{type(error).__name__}."
        if connected:
            super().__init__(
                f"Database '{database}' ({target}) cannot be read: {why} "
                "Was it never migrated? Run `python manage.py migrate --database "
                f"{database}` first; nothing was written."
            )
            return
        check = (
            "that the directory of its file exists and that DATABASES in the "
            f"settings names the file right for '{database}' (NAME)"
            if target.startswith("SQLite ")
            else "that the server runs and that DATABASES in the settings names "
            f"it right for '{database}' (HOST, PORT, NAME, USER, PASSWORD)"
        )
        super().__init__(
            f"Cannot connect to database '{database}' ({target}): {why} Check "
            f"{check}; nothing was written."
        )


class UsageError(LinoMigrateError, ValueError):
    """A command line of a dump's ``restore.py`` is wrong.

    :param command: the command, as its usage line shows it.
    :param problem: what argparse found.

    .. versionadded:: 0.3
    """

    def __init__(self, command: str, problem: str) -> None:
        self.command, self.problem = command, problem
        super().__init__(
            f"{command}: {full_stop(problem)} `{command} --help` lists the options."
        )


class ExcludeError(LinoMigrateError, ValueError):
    """An ``--exclude`` of a restore names nothing the dump holds.

    :param names: the values that name no app or model of the dump.
    :param apps: the app labels the dump holds.

    .. versionadded:: 0.3
    """

    def __init__(self, names: list[str], apps: list[str]) -> None:
        self.names, self.apps = names, apps
        super().__init__(
            f"--exclude {', '.join(names)}: the dump holds no such app or model "
            f"(its apps: {', '.join(apps) or 'none'}). Give an app label or "
            "app_label.Model of the dump; nothing was written."
        )


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
        #: what was refused and why, without what became of the restore: a
        #: rehearsal lists many and says once that it rolled back (#14)
        self.detail = full_stop(f"Could not restore {where}: {problem}")
        super().__init__(
            f"{self.detail} The restore was rolled back; the database is unchanged."
        )


class InvalidValueError(LoadError, ValueError):
    """A value of a row is not what its column's type allows; nothing was written.

    :param value: the value refused (a ``bytes`` in a ``CharField``, a string
        in an ``IntegerField``, a text holding a lone surrogate).
    :param problem: what was found and what was expected.
    """

    def __init__(
        self,
        model_label: str,
        value: object,
        problem: str,
        *,
        pk: object = None,
        field: str | None = None,
        file: str | None = None,
    ) -> None:
        self.value = value
        super().__init__(
            model_label,
            f"{problem} (correct the value in the data file and its sha256 in "
            "restore.py, or convert it in a migrator)",
            pk=pk,
            field=field,
            file=file,
        )


class RestoreCancelledError(LinoMigrateError):
    """The person at the terminal did not confirm the restore; nothing was changed.

    :param database: the database named in the question.
    :param answer: what was answered (``""`` for no answer at all).
    """

    def __init__(self, database: str, answer: str = "") -> None:
        self.database, self.answer = database, answer
        got = f"the answer was {answer!r}" if answer else "there was no answer"
        super().__init__(
            f"Restore cancelled ({got}, not 'yes'); nothing was changed in "
            f"{database}. Answer 'yes' to restore, or pass --noinput to skip "
            "the question."
        )


class SequenceError(LinoMigrateError):
    """A PostgreSQL sequence could not be made part of the restore transaction."""

    def __init__(self, sequence: str, table: str, error: BaseException) -> None:
        self.sequence, self.table, self.error = sequence, table, error
        super().__init__(
            f"Could not alter the sequence {sequence} of table '{table}': "
            f"{cause_of(error)} A restore alters the sequences of the site's tables "
            "(without changing them) so that a failed restore sets them back; "
            "that needs the owner of the tables, as 'migrate' does. Restore as "
            "that user. The restore was rolled back; the database is unchanged."
        )


class RehearsalFailedError(LinoMigrateError):
    """A rehearsal (``--simulate``) found rows that the database refuses."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(
            f"The rehearsal found {plural(count, 'row')} the database refuses "
            "(listed above); the real restore would fail. Nothing was changed."
        )


class WorkerError(LinoMigrateError):
    """A worker process of ``--jobs`` ended before its work was done (#16).

    :param file: the data file it was preparing.
    :param how: what happened, as "was killed by signal 9 (SIGKILL) before
        it was done".
    """

    def __init__(self, file: str, how: str) -> None:
        self.file = file
        super().__init__(
            f"The worker process preparing {file} {how}. The restore was rolled back: "
            "the database is as it was. Run it again, or with --jobs 1 to "
            "prepare the rows in the restoring process itself."
        )
