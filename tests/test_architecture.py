"""The import graph of lino_migrate follows the data flow of docs/architecture.md.

The oracle is the source text: every module is parsed with :mod:`ast`, and
every import counts, those under ``if TYPE_CHECKING:`` and inside functions
included.
"""

from __future__ import annotations

import ast
import graphlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lino_migrate", "migrations_registry")

#: Per part of lino_migrate, the other parts it may import. A part is a
#: subpackage or a top-level module; ``lino_migrate`` is the package root.
ALLOWED = {
    "lino_migrate": set(),
    "__main__": {"lino_migrate"},
    "conf": {"exceptions"},
    "exceptions": set(),
    "format": {"lino_migrate"},
    "schema": {"format"},
    "versions": {"conf", "exceptions"},
    "naturalkeys": {"format", "schema"},
    "apps": {"checks", "conf"},
    "checks": set(),
    "workers": {"exceptions"},
    "dump": {
        "conf", "exceptions", "format", "naturalkeys", "schema", "versions", "workers",
    },
    "restore": {
        "exceptions", "format", "naturalkeys", "schema", "versions", "workers",
        "migrations_registry",
    },
    "rewrite": {"exceptions", "format"},
    "reports": {
        "conf", "dump", "exceptions", "format", "restore", "schema",
        "migrations_registry",
    },
    "upgrade": {
        "conf", "dump", "exceptions", "format", "naturalkeys", "restore", "rewrite",
        "schema", "versions", "migrations_registry",
    },
    "lino": {
        "conf", "dump", "exceptions", "format", "naturalkeys", "restore", "schema",
        "versions", "migrations_registry",
    },
    "storage": {"dump", "exceptions"},
    "management": {
        "lino_migrate", "conf", "dump", "exceptions", "format", "lino", "reports",
        "restore", "storage", "upgrade", "workers",
    },
}  # fmt: skip
#: Modules allowed one more arrow than their part: the restore's command line
#: prints the restore report.
EXTRA = {"lino_migrate.restore.cli": {"reports"}}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Return every module name *path* imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            msg = f"{path}: a relative import; the house style imports absolutely."
            raise AssertionError(msg)
    return names


def _graph() -> dict[str, set[str]]:
    return {
        name: {m for m in _imports(path) if m in MODULES} - {name}
        for name, path in MODULES.items()
    }


def _part(module: str) -> str:
    if module.startswith("migrations_registry"):
        return "migrations_registry"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_import_cycle() -> None:
    """No module imports, directly or not, a module that imports it."""
    graph = _graph()
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle: {' -> '.join(e.args[1])}")
    assert sorted(MODULES) == sorted(order)


def test_no_arrow_runs_back_up() -> None:
    """Each part imports only the parts below it in the data flow."""
    wrong = []
    for name, targets in _graph().items():
        if not name.startswith("lino_migrate"):
            continue
        part = _part(name)
        allowed = ALLOWED[part] | EXTRA.get(name, set()) | {part}
        wrong += [f"{name} -> {t}" for t in sorted(targets) if _part(t) not in allowed]
    assert [] == wrong


@pytest.mark.parametrize("package", ["lino_migrate.format", "migrations_registry"])
def test_pure_packages_import_no_django(package: str) -> None:
    """Nothing under format/ or migrations_registry imports Django, even indirectly."""
    graph = _graph()
    seen, todo = set(), [m for m in MODULES if m.startswith(package)]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += graph[module]
    django = sorted(
        f"{m} imports {name}"
        for m in seen
        for name in _imports(MODULES[m])
        if name == "django" or name.startswith("django.")
    )
    assert [] == django


def test_format_and_registry_load_in_a_bare_interpreter() -> None:
    """The format and the registry import without Django settings or Django."""
    code = (
        "import sys\n"
        "import lino_migrate.format.codec, lino_migrate.format.layout\n"
        "import lino_migrate.format.literals, migrations_registry\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "[]" == done.stdout.strip()


def test_architecture_page_lists_every_module() -> None:
    """docs/architecture.md has one line per module, and no line for a missing one."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = set(
        re.findall(
            r"^- `((?:lino_migrate|migrations_registry)/[\w/]+\.py)`", page, re.M
        )
    )
    files = {path.relative_to(ROOT).as_posix() for path in MODULES.values()}
    assert (sorted(files - listed), sorted(listed - files)) == ([], [])
