"""Every command and option is documented in its own section of docs/commands.md.

The commands are discovered in the app, their options read from their
parsers; the page is split at its headings, and an option counts as
documented only as a term of the option list in its command's section.
"""

from __future__ import annotations

import argparse
import itertools
import re
from pathlib import Path

import pytest
from django.core.management import find_commands, load_command_class
from django.core.management.base import BaseCommand

import lino_migrate
from lino_migrate.restore.cli import build_parser

DOC = (Path(__file__).resolve().parents[1] / "docs" / "commands.md").read_text()
COMMANDS = sorted(find_commands(str(Path(lino_migrate.__file__).parent / "management")))
#: The heading of the section on a dump's ``restore.py`` (run by ``run``).
RESTORE = "manage.py run DIR/restore.py"


def _actions(parser: argparse.ArgumentParser) -> set[tuple[tuple[str, ...], str]]:
    return {(tuple(a.option_strings), str(a.help)) for a in parser._actions}


#: The options that Django gives every command (and argparse's --help), known
#: by their help text: makemigrator's own --version replaces Django's. Each
#: section documents -v, since what a command prints at each level is its own.
DJANGO = {
    action
    for action in _actions(BaseCommand().create_parser("manage.py", "any"))
    if "--verbosity" not in action[0]
}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """Return the options of *parser*, less those that Django adds to all."""
    return {o for action in _actions(parser) - DJANGO for o in action[0]}


def _sections(text: str) -> dict[str, str]:
    """Return the text under each heading (code spans unwrapped), by heading."""
    sections: dict[str, str] = {}
    heading, fenced = "", False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"#+ (.+)", line)
        if match:
            heading = match[1].replace("`", "").strip()
            assert heading not in sections, f"the heading {heading!r} is there twice"
            sections[heading] = ""
        elif heading:
            sections[heading] += line
    return sections


SECTIONS = _sections(DOC)


def _command_section(name: str) -> str:
    """Return the section of the command *name*: the one heading that names it."""
    found = [
        text
        for heading, text in SECTIONS.items()
        if heading.startswith(f"manage.py {name} ") and heading != RESTORE
    ]
    assert 1 == len(found), f"{len(found)} sections are headed 'manage.py {name} …'"
    return found[0]


def _documented(section: str) -> set[str]:
    """Return the options that are terms of the option list of *section*.

    A term is a line of code spans followed by a ``: definition`` line, such
    as ``-v {0,1,2,3}``, ``--verbosity``; each span names one option.
    """
    lines = section.splitlines()
    found = set()
    for term, definition in itertools.pairwise(lines):
        if term.startswith("`") and definition.startswith(": "):
            found |= {span.split()[0] for span in re.findall(r"`([^`]+)`", term)}
    return found


def test_every_command_has_one_section() -> None:
    """The commands with a section are exactly the app's commands."""
    headed = {h.split()[1] for h in SECTIONS if h.startswith("manage.py ")}
    assert {"dump2py", "run", "dumpplan", "upgradedump"} <= set(COMMANDS)
    assert set(COMMANDS) == headed


@pytest.mark.parametrize("name", COMMANDS)
def test_command_options_are_documented(name: str) -> None:
    """The options in the command's section are exactly those of the command."""
    parser = load_command_class("lino_migrate", name).create_parser("manage.py", name)
    assert _options(parser) == _documented(_command_section(name))


def test_restore_options_are_documented() -> None:
    """The options in the section on restore.py are exactly those of the script."""
    options = _options(build_parser("restore.py"))
    assert options == _documented(SECTIONS[RESTORE])
