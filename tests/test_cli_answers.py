"""Common slips get an answer that says what to do (#14)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class

import lino_migrate

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("spelling", ["{dir}", "{dir}/"])
def test_run_on_a_dump_directory_names_its_restore_script(
    spelling: str, tmp_path: Path
) -> None:
    """``run DIR`` and ``run DIR/`` say to run DIR/restore.py, or restoredump."""
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    with pytest.raises(CommandError) as error:
        call_command("run", spelling.format(dir=tmp_path / "d"))
    assert f"manage.py run {tmp_path / 'd' / 'restore.py'}" in str(error.value)
    assert "restoredump" in str(error.value)


def test_run_on_a_missing_file_says_what_it_wants(tmp_path: Path) -> None:
    """A path that does not exist is named, and what is expected is said."""
    with pytest.raises(CommandError, match=r"No such file: .*a Python script"):
        call_command("run", str(tmp_path / "nothing.py"))


def test_run_help_points_to_the_restore_options() -> None:
    """``run --help`` says where the options of a restore are listed."""
    parser = load_command_class("lino_migrate", "run").create_parser("manage.py", "run")
    assert "manage.py run DIR/restore.py --help" in " ".join(
        parser.format_help().split()
    )


@pytest.mark.parametrize("name", ["dump2py", "restoredump", "dumpplan"])
def test_commands_print_the_version(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``manage.py COMMAND --version`` prints lino-migrate's version."""
    parser = load_command_class("lino_migrate", name).create_parser("manage.py", name)
    with pytest.raises(SystemExit):
        parser.parse_args(["--version"])
    assert capsys.readouterr().out.startswith(
        f"lino-migrate {lino_migrate.__version__} ("
    )


def test_python_m_lino_migrate_version() -> None:
    """``python -m lino_migrate --version``, in a fresh interpreter, without settings."""
    done = subprocess.run(
        [sys.executable, "-m", "lino_migrate", "--version"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"lino-migrate {lino_migrate.__version__}" == done.stdout.strip()
