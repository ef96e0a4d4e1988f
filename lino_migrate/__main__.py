"""``python -m lino_migrate --version``: print the version of lino-migrate."""

from __future__ import annotations

import argparse

import lino_migrate


def main(argv: list[str] | None = None) -> None:
    """Parse *argv*; the commands themselves run through a site's ``manage.py``."""
    parser = argparse.ArgumentParser(
        prog="python -m lino_migrate",
        description="Migration-aware dump and restore for Django and Lino sites. "
        "Add 'lino_migrate' to INSTALLED_APPS and run its commands through "
        "manage.py: dump2py, run DIR/restore.py, restoredump, dumpplan, "
        "dumpcompare, upgradedump, makemigrator.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"lino-migrate {lino_migrate.__version__}",
    )
    parser.parse_args(argv)
    parser.print_help()


if __name__ == "__main__":
    main()
