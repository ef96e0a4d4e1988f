"""The sdist and wheel that ``python -m build`` makes install and run (#14).

A copy of the source tree is built once per module (``python -m build``
makes the sdist, then the wheel *from the sdist*, so the wheel also proves
that the sdist holds what a build needs); the wheel is installed into a fresh
venv, and a throwaway Django project there runs the installed commands. The
oracles are ``pyproject.toml`` (read with :mod:`tomllib`) and the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
PACKAGES = ("lino_migrate", "migrations_registry")
#: Top-level entries of a working tree that are not the project's sources.
NOT_SOURCES = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
NOT_SOURCES |= {".hypothesis", "build", "dist"}
Done = subprocess.CompletedProcess[str]

SETTINGS = """\
from pathlib import Path

SECRET_KEY = "throwaway"
INSTALLED_APPS = ["lino_migrate"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": Path(__file__).resolve().parent / "db.sqlite3",
    }
}
USE_TZ = True
"""
MANAGE = """\
import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
execute_from_command_line(sys.argv)
"""


@dataclass(frozen=True)
class Dists:
    """The sdist and the wheel built from one copy of the source tree."""

    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class Install:
    """A fresh venv with the wheel installed, and a Django project beside it."""

    python: Path
    venv: Path
    project: Path

    def run(self, *args: str) -> Done:
        """Run the venv's ``python ARGS`` in the project, outside the checkout."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
        }
        return subprocess.run(
            [str(self.python), *args],
            cwd=self.project, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip


def _ignore_non_sources(directory: str, names: list[str]) -> set[str]:
    """Leave out caches, venvs, builds and bytecode (for :func:`shutil.copytree`)."""
    here = Path(directory)
    ignored = {n for n in names if n == "__pycache__" or n.endswith(".sqlite3")}
    if here == ROOT:
        ignored |= NOT_SOURCES & set(names)
    if here == ROOT / "docs":
        ignored |= {"_build"} & set(names)
    return ignored


def _check(result: Done) -> Done:
    """Return *result*; fail with its output unless its exit status is 0."""
    output = f"{result.stdout}{result.stderr}"
    assert 0 == result.returncode, f"{result.args} failed:\n{output}"
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """Build the sdist and the wheel from a copy of the working tree."""
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_ignore_non_sources)
    # What Hypothesis leaves in a working tree must stay out of the sdist.
    (src / ".hypothesis" / "examples").mkdir(parents=True)
    (src / ".hypothesis" / "examples" / "0123").write_text("x")
    out = tmp / "dist"
    command = [sys.executable, "-m", "build", "--outdir", str(out), str(src)]
    _check(subprocess.run(command, capture_output=True, text=True, timeout=600))
    [sdist], [wheel] = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    return Dists(sdist=sdist, wheel=wheel)


@pytest.fixture(scope="module")
def installed(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Install:
    """Install the wheel into a fresh venv; make a Django project for it."""
    tmp = tmp_path_factory.mktemp("install")
    venv = tmp / "venv"
    make_venv = [sys.executable, "-m", "venv", str(venv)]
    _check(subprocess.run(make_venv, capture_output=True, text=True, timeout=300))
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", str(dists.wheel)]
    _check(subprocess.run(pip, capture_output=True, text=True, timeout=900))
    project = tmp / "project"
    project.mkdir()
    (project / "settings.py").write_text(SETTINGS)
    (project / "manage.py").write_text(MANAGE)
    return Install(python=python, venv=venv, project=project)


def _sdist_names(sdist: Path) -> Iterator[str]:
    """Yield the paths in *sdist* below its top directory."""
    with tarfile.open(sdist) as tar:
        for name in tar.getnames():
            _, _, inside = name.partition("/")
            if inside:
                yield inside


def test_sdist_holds_the_sources_and_no_caches(dists: Dists) -> None:
    """The sdist holds metadata, packages, tests and docs, not Hypothesis's cache."""
    names = set(_sdist_names(dists.sdist))
    needed = {"pyproject.toml", "README.md", "lino_migrate/__init__.py"}
    needed |= {"migrations_registry/__init__.py", "tests/conftest.py", "docs/conf.py"}
    assert set() == needed - names
    assert [] == [n for n in names if n.startswith(".hypothesis/")]
    assert [] == [n for n in names if "__pycache__" in n]


def test_wheel_holds_exactly_the_two_packages(dists: Dists) -> None:
    """The wheel holds every file of lino_migrate and migrations_registry, no tests."""
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
    assert "lino_migrate/management/commands/dump2py.py" in names
    assert "migrations_registry/__init__.py" in names
    assert [] == [n for n in names if n.startswith("tests/")]
    top = {n.split("/")[0] for n in names}
    assert {*PACKAGES, f"lino_migrate-{VERSION}.dist-info"} == top
    sources = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert sources == {n for n in names if n.split("/")[0] in PACKAGES}


def test_installed_wheel_runs_in_a_fresh_project(installed: Install) -> None:
    """The venv's own copy answers ``dump2py --help`` and pyproject's version.

    One test, so that the wheel is installed once even when pytest-xdist
    spreads the tests of this module over several processes.
    """
    code = (
        "import importlib.metadata, lino_migrate as a, migrations_registry as b; "
        "print(a.__file__, b.__file__, importlib.metadata.version('lino-migrate'))"
    )
    *paths, metadata_version = _check(installed.run("-c", code)).stdout.split()
    assert [] == [p for p in paths if not Path(p).is_relative_to(installed.venv)]
    assert VERSION == metadata_version
    result = _check(installed.run("-m", "lino_migrate", "--version"))
    assert f"lino-migrate {VERSION}" == result.stdout.strip()
    result = _check(installed.run("manage.py", "dump2py", "--help"))
    assert "--max-row-count" in result.stdout
