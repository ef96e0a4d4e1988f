"""The migrations_registry package must never import Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = (
    "import migrations_registry, sys; "
    "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"
)


def test_importing_migrations_registry_imports_no_django() -> None:
    """Importing migrations_registry leaves Django out of sys.modules."""
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    expected = 0
    assert expected == result.returncode, result.stderr
