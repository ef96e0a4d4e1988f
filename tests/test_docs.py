"""Every command and option is documented in docs/commands.md."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from django.core.management import load_command_class

from lino_migrate.restore.cli import build_parser

DOC = (Path(__file__).resolve().parents[1] / "docs" / "commands.md").read_text()
DOCS = Path(__file__).resolve().parents[1] / "docs"
COMMON = {"--version", "--settings", "--pythonpath", "--traceback", "--no-color",
          "--force-color", "--skip-checks", "--help", "-h"}  # fmt: skip


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for action in parser._actions for o in action.option_strings} - COMMON


@pytest.mark.parametrize(
    "name",
    ["dump2py", "run", "dumpplan", "upgradedump", "dumpcompare", "makemigrator"],
)
def test_command_options_are_documented(name: str) -> None:
    """Each option of the command appears in the command reference."""
    parser = load_command_class("lino_migrate", name).create_parser("manage.py", name)
    assert f"manage.py {name}" in DOC
    missing = sorted(o for o in _options(parser) if f"`{o}" not in DOC)
    assert missing == []


def test_restore_options_are_documented() -> None:
    """Each option of a dump's restore.py appears in the command reference."""
    missing = sorted(
        o for o in _options(build_parser("restore.py")) if f"`{o}" not in DOC
    )
    assert missing == []


@pytest.mark.parametrize("page", ["commands.md", "migrators.md"])
@pytest.mark.parametrize(
    "phrase",
    [
        "makemigrator APP --from", "--rename", "TODO", "ruff format --check",
        "adds nothing twice", "does not parse", "half-edited", "CRLF",
        "upgradedump OLD NEW", "byte for byte", "--accept-edits",
    ],
)  # fmt: skip
def test_source_editing_is_documented(page: str, phrase: str) -> None:
    """The command reference and the migrators page both explain #7's promises."""
    assert phrase in (DOCS / page).read_text()
