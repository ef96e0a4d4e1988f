"""Create the virtualenv of the Lino check and install Noi and lino-migrate into it.

Lino Noi and what its demo needs come from PyPI, once per virtualenv: a
stamp file records what was installed, so a reused virtualenv needs no
network for them. lino-migrate is installed from the checkout on every run,
*not* editable: the check then runs what a site gets from ``pip install``
(the built wheel, so a module missing from the package fails here), and a
reused virtualenv never holds a stale copy of the checkout. ``hatchling``
is installed into the virtualenv so that this build needs no network
(``--no-build-isolation``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["REQUIREMENTS", "SetupError", "default_venv", "ensure_venv"]

#: What the Noi demo needs, found by trial (``manage.py install --list``), and
#: hatchling, which builds lino-migrate without network.
REQUIREMENTS = (
    "lino-noi", "lino-react", "Pillow", "PyMuPDF", "appy", "atelier",
    "beautifulsoup4", "channels", "channels_redis", "daphne", "imagesize",
    "num2words", "odfpy", "openpyxl", "social-auth-app-django", "hatchling",
)  # fmt: skip
_STAMP = "lino-migrate-linobench.json"
#: Words in pip's output that say the package index could not be reached.
_OFFLINE = (
    "NewConnectionError",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "ConnectTimeout",
    "ReadTimeout",
    "No matching distribution",
)


class SetupError(Exception):
    """The virtualenv could not be made; the message says what failed and the fix."""


def default_venv() -> Path:
    """Return the cached virtualenv, under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "lino-migrate" / "linovenv"


def ensure_venv(venv: Path, checkout: Path, log: Path) -> Path:
    """Make *venv* ready (Noi from PyPI, lino-migrate from *checkout*); return its python.

    :raises SetupError: when the virtualenv cannot be created or pip fails.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"Creating the virtualenv {venv}")
        _run([sys.executable, "-m", "venv", str(venv)], log, "create the virtualenv")
    stamp = venv / _STAMP
    wanted = {"requirements": list(REQUIREMENTS)}
    if not stamp.exists() or json.loads(stamp.read_text()) != wanted:
        print("Installing Lino Noi and what its demo needs from PyPI (about 1 min)")
        _pip(python, log, "install", *REQUIREMENTS)
        stamp.write_text(json.dumps(wanted) + "\n")
    print(f"Installing lino-migrate from {checkout} (not editable)")
    _pip(python, log, "install", "--no-build-isolation", str(checkout))
    return python


def _pip(python: Path, log: Path, *args: str) -> None:
    """Run ``python -m pip ARGS`` quietly, without questions."""
    command = [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args]
    _run(command, log, "pip " + " ".join(args[:2]) + " ...")


def _run(command: list[str], log: Path, what: str) -> None:
    """Run *command*, its output appended to *log*; raise SetupError if it fails."""
    env = dict(os.environ, PIP_NO_INPUT="1")
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        status = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, check=False,
        ).returncode  # fmt: skip
    if status == 0:
        return
    text = log.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in text.splitlines() if not line.startswith("WARNING:")]
    tail = "\n".join(f"    {line}" for line in lines[-12:])
    hint = ""
    if any(word in text for word in _OFFLINE):
        hint = "\nIs PyPI reachable? pip needs it the first time (proxy: HTTPS_PROXY)."
    msg = f"Could not {what} (exit status {status}); the end of {log}:\n{tail}{hint}"
    raise SetupError(msg)
