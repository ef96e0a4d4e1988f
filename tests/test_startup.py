"""Commands that dump and restore start without importing libcst (#16).

libcst, which edits source, takes about 0.3 s to import: a nightly dump
or a restore pays it for nothing. The oracle is ``sys.modules`` of a fresh
interpreter that loads each command as ``manage.py`` does.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

LOAD = """
import sys
import django
from django.core.management import load_command_class
django.setup()
load_command_class("lino_migrate", sys.argv[1])
print(sorted(m for m in sys.modules if m.split(".")[0] == "libcst"))
"""


@pytest.mark.parametrize("command", ["dump2py", "run", "restoredump", "dumpplan"])
def test_command_loads_without_libcst(command: str) -> None:
    """Loading the command imports no module of libcst."""
    found = subprocess.run(
        [sys.executable, "-c", LOAD, command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]", found.stdout + found.stderr


def test_the_check_sees_libcst_where_it_is_imported() -> None:
    """The same check finds libcst in a command that edits source."""
    found = subprocess.run(
        [sys.executable, "-c", LOAD, "makemigrator"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "'libcst'" in found.stdout, found.stdout + found.stderr
