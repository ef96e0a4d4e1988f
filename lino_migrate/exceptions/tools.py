"""The exceptions of the settings and of the tools around dumps: makemigrator, importlinodump."""

from __future__ import annotations

from pathlib import Path

from lino_migrate.exceptions.base import LinoMigrateError, plural

__all__ = ["LinoDumpError", "MakeMigratorError", "SettingError"]


class SettingError(LinoMigrateError, ValueError):
    """A setting or environment variable that lino_migrate reads is wrong.

    :param name: the setting, e.g. ``SOURCE_DATE_EPOCH``.
    :param value: what it holds.
    :param expected: what it should hold.

    .. versionadded:: 0.3
    """

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.name, self.value, self.expected = name, value, expected
        super().__init__(
            f"{name} is {value!r}; expected {expected}. Correct it or unset it."
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


class LinoDumpError(LinoMigrateError, ValueError):
    """A dump of Lino's ``dump2py`` holds what cannot be read without running it.

    Nothing was written.

    :param directory: the Lino dump.
    :param problems: one line per construct: file, line, what was found.

    .. versionadded:: 0.3
    """

    def __init__(self, directory: Path, problems: list[str]) -> None:
        self.directory, self.problems = directory, problems
        shown = "".join(f"\n- {p}" for p in problems[:50])
        more = f"\n- ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"The Lino dump '{directory}' cannot be imported without running "
            f"its code ({plural(len(problems), 'problem')}); nothing was "
            f"written:{shown}{more}\nA Lino dump holds create_<table>() "
            "functions and loader.save(create_<table>(...)) calls with literal "
            "arguments, as Lino's dump2py writes them: correct or remove these "
            "lines, or restore the dump with Lino's own restore.py if you trust "
            "its code."
        )
