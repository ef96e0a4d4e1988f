"""The options of the commands that write a dump: ``--compress``, ``--archive`` (#15).

``dump2py`` and ``upgradedump`` take them alike, with the same help and
the same spelling of "no compression", so that they are defined here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from lino_migrate.dump.archive import archive_path
from lino_migrate.dump.dumper import COMPRESSIONS
from lino_migrate.upgrade.upgradedump import KEEP

__all__ = ["add_output_options", "compression", "output_path"]


def add_output_options(parser: CommandParser, *, keep: bool = False) -> None:
    """Add ``--compress`` and ``--archive`` to *parser*.

    :param keep: without ``--compress``, keep the compression of the input
        dump (``upgradedump``) rather than write none.
    """
    default = "its input's compression" if keep else "none"
    parser.add_argument(
        "--compress", choices=("none", *COMPRESSIONS), default=KEEP if keep else "none",
        help="Compress the data files with gzip, xz or zstd (zstd needs the "
        f"extra lino-migrate[zstd]); default: {default}. restore.py stays "
        "uncompressed.",
    )  # fmt: skip
    parser.add_argument(
        "--archive", action="store_true",
        help="Write one uncompressed tar file, NAME.tar, holding the dump "
        "directory, instead of the directory.",
    )  # fmt: skip


def compression(options: Mapping[str, Any]) -> str | None:
    """Return the compression that ``--compress`` says: a name, ``None``, or KEEP."""
    value = options["compress"]
    return None if value == "none" else str(value)


def output_path(options: Mapping[str, Any], key: str = "output") -> Path:
    """Return the path a command writes: the directory, or ``NAME.tar`` with ``--archive``."""
    path = Path(options[key])
    return archive_path(path) if options["archive"] else path
