"""The options of ``dump2py`` for backups: ``--media``, ``--storage``, ``--name``, ``--keep``.

Parsed and checked here, so that the command's ``handle()`` only delegates
(#15); the work is done by :mod:`lino_migrate.dump.media`,
:mod:`lino_migrate.storage` and :mod:`lino_migrate.dump.retention`. Each goes
with ``--archive``: the archive holds the media files, is saved through the
storage as one file, and counts among the dated dumps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from lino_migrate.dump.archive import archive_name
from lino_migrate.dump.retention import (
    DumpPlace,
    LocalPlace,
    NamePattern,
    remove_old_dumps,
)
from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.storage import StoragePlace, dump_name

__all__ = [
    "add_backup_options",
    "check_backup_options",
    "dated_name",
    "remove_old",
    "say_removed",
]

#: The options that write something, which --simulate does not.
_WRITING = ("media", "storage", "name", "keep")


def add_backup_options(parser: CommandParser) -> None:
    """Add ``DIR``, ``--media``, ``--storage``, ``--name`` and ``--keep`` to ``dump2py``."""
    parser.add_argument(
        "output", metavar="DIR",
        help="The directory to write (with --name: the directory of the dated "
        "dumps; with --storage: the name in the storage).",
    )  # fmt: skip
    parser.add_argument(
        "--media", action="store_true",
        help="Also copy the files that the FileFields of the dumped rows name "
        "into media/ inside the dump.",
    )  # fmt: skip
    parser.add_argument(
        "--storage", metavar="ALIAS",
        help="Save the dump through the storage ALIAS of settings.STORAGES, "
        "under the name DIR.",
    )  # fmt: skip
    parser.add_argument(
        "--name", metavar="PATTERN",
        help="Write the dump into DIR under a dated name, such as "
        "'{date:%%Y-%%m-%%d_%%H%%M}' (strftime codes, local time).",
    )  # fmt: skip
    parser.add_argument(
        "--keep", type=int, metavar="N",
        help="With --name: then remove the oldest dumps in DIR whose names "
        "match the pattern beyond the N newest (this one included).",
    )  # fmt: skip


def check_backup_options(options: Mapping[str, Any]) -> None:
    """Refuse options that do not go together, before anything is read.

    :raises CommandError: saying which option, and what to do.
    """
    if options["simulate"]:
        given = [f"--{name}" for name in _WRITING if options[name]]
        if given:
            msg = f"--simulate writes no dump: {', '.join(given)} do not apply."
            raise CommandError(msg, returncode=2)
        return
    if options["format"] != "text":
        msg = "--format json only applies to --simulate."
        raise CommandError(msg, returncode=2)
    if options["keep"] is not None and not options["name"]:
        msg = (
            "--keep needs --name: only dumps whose names match the pattern of "
            "--name are ever removed, e.g. --name '{date:%Y-%m-%d}' --keep 7 DIR."
        )
        raise CommandError(msg)
    if options["keep"] is not None and options["keep"] < 1:
        msg = (
            f"--keep must be at least 1 (the dump just written), not {options['keep']}."
        )
        raise CommandError(msg)


def dated_name(options: Mapping[str, Any], now: dt.datetime | None = None) -> str:
    """Return where the dump goes: ``DIR``, or ``DIR/NAME`` with ``--name``.

    :raises NamePatternError: for a ``--name`` that cannot name dated dumps.
    :raises CommandError: for a storage name that is absolute or holds ``..``.
    """
    output = str(options["output"])
    if options["storage"]:
        try:
            output = dump_name(output)
        except ValueError as e:
            msg = f"--storage: the name {e}."
            raise CommandError(msg) from e
    if not options["name"]:
        return output
    name = NamePattern.parse(options["name"]).name(now or dt.datetime.now())
    if options["storage"]:
        return f"{output}/{name}"
    return str(Path(output) / name)


def remove_old(target: str, options: Mapping[str, Any]) -> list[str]:
    """Remove the dumps beside *target* beyond ``--keep``; return their names.

    Dated directories and dated archives of dumps count alike; with
    ``--archive``, *target* names the archive ``TARGET.tar`` written (#15).
    """
    if options["keep"] is None:
        return []
    pattern = NamePattern.parse(options["name"])
    if options.get("archive"):
        target = archive_name(target)
    place: DumpPlace
    if options["storage"]:
        parent, _, current = target.rpartition("/")
        place = StoragePlace(options["storage"], parent)
    else:
        place, current = LocalPlace(Path(target).parent), Path(target).name
    try:
        return remove_old_dumps(place, pattern, options["keep"], current)
    except OSError as e:
        msg = (
            f"The dump {target} was written, but removing older dumps failed: "
            f"{e.strerror or e} ({e.filename}). Remove them by hand, or fix the "
            "cause; the next run with --keep tries again."
        )
        raise LinoMigrateError(msg) from e


def say_removed(
    write: Callable[[str], object], removed: list[str], verbosity: int
) -> None:
    """Name the old dumps that ``--keep`` removed (verbosity 1 and more)."""
    if removed and verbosity >= 1:
        names = ", ".join(removed)
        write(f"Removed {plural(len(removed), 'older dump')} (--keep): {names}.")
