"""The base class of lino_migrate's commands: Ctrl-C is an answer, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    OutputWrapper,
)

from lino_migrate.reports.progress import VERBOSITY_HELP, Progress, command_progress
from lino_migrate.reports.table import ReportOutput
from lino_migrate.restore.cli import ask, is_yes

__all__ = [
    "MIGRATE_INTERRUPTED",
    "RESTORE_INTERRUPTED",
    "InterruptibleCommand",
    "confirm_overwrite",
]

#: The exit status of a process ended by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130

#: What an interrupted restore leaves: its one transaction is rolled back.
RESTORE_INTERRUPTED = "the restore was rolled back; the database is unchanged."
#: The same after ``--migrate``, whose schema is not part of that transaction.
MIGRATE_INTERRUPTED = (
    "the restore was rolled back; the rows are as they were, but the tables that "
    "--migrate created, if any, stay."
)


class InterruptibleCommand(BaseCommand):
    """A command that, interrupted with Ctrl-C, says what became of its work.

    Every command of lino_migrate writes all or nothing (a dump into a
    temporary directory, a restore in one transaction), so an interruption
    leaves things as they were: the command says so in one line, on standard
    error, and exits with status 130 instead of printing a ``KeyboardInterrupt``
    traceback. ``--traceback`` shows the traceback as for any error.
    """

    #: What an interruption leaves behind, said after "Interrupted: ".
    interrupted: str = "nothing was written."

    def get_version(self) -> str:
        """Return what ``--version`` prints: lino-migrate's version, and Django's."""
        import django

        import lino_migrate

        return (
            f"lino-migrate {lino_migrate.__version__} (Django {django.get_version()})"
        )

    def add_base_argument(
        self, parser: CommandParser, *args: Any, **kwargs: Any
    ) -> None:
        """Add an option Django gives every command; ``-v`` says what each level shows."""
        if "--verbosity" in args:
            kwargs["help"] = VERBOSITY_HELP
        super().add_base_argument(parser, *args, **kwargs)

    def progress(
        self,
        options: Mapping[str, Any],
        *,
        json: bool = False,
        output: ReportOutput | None = None,
    ) -> Progress:
        """Return the progress of this command: lines, and a bar on a terminal (#14).

        :param json: the report is JSON: standard output holds nothing else.
        :param output: the text report written while the bar is shown: its
            tables and the bar share one console.
        """
        console = output.console if output is not None and output.rich else None
        return command_progress(
            _beneath(self.stdout),
            _beneath(self.stderr),
            options["verbosity"],
            json=json,
            color=not options.get("no_color", False),
            console=console,
        )

    def report_output(
        self,
        options: Mapping[str, Any],
        *,
        write: Callable[[str], object] | None = None,
    ) -> ReportOutput:
        """Return where the text report goes: rich tables on a terminal (#14).

        ``--no-color`` draws them without colors or styles.

        :param write: writes the plain text instead of standard output's
            ``write``, such as above a progress bar.
        """
        return ReportOutput(
            _beneath(self.stdout),
            write=write or (lambda text: self.stdout.write(text, ending="")),
            color=not options.get("no_color", False),
        )

    def run_from_argv(self, argv: list[str]) -> None:
        """Run the command from the command line; answer Ctrl-C (#12)."""
        try:
            super().run_from_argv(argv)
        except KeyboardInterrupt:
            if "--traceback" in argv:
                raise
            sys.stderr.write(f"Interrupted: {self.interrupted}\n")
            sys.exit(INTERRUPTED)


def _beneath(wrapper: OutputWrapper) -> TextIO:
    """Return the stream that *wrapper* writes to.

    OutputWrapper ends every write with a line end; a bar writes parts of
    lines, so it writes to the stream beneath.
    """
    return cast("TextIO", wrapper._out)


def confirm_overwrite(target: Path, what: str) -> None:
    """Ask whether the dump *target* may be replaced; raise CommandError unless yes.

    Only a person at a terminal is asked; an empty answer or end of input is
    no. Without a terminal on standard input (cron, a script) nobody can
    answer, and ``--overwrite`` on the command line is the answer, as with
    Lino's ``dump2py -o`` in the cron lines written for it (#13). *what* names
    the command's work in the message: ``"Dump"``, ``"Upgrade"``.
    """
    if not sys.stdin or not sys.stdin.isatty():
        return
    question = (
        f"Replace the dump {target} as a whole? Its files will be deleted. "
        "Type 'yes' to continue: "
    )
    if not is_yes(ask(question)):
        msg = (
            f"{what} cancelled; nothing was written. Pass --noinput to skip the "
            "question."
        )
        raise CommandError(msg)
