"""The modules of migrations_registry import each other without a cycle, nor Django.

The oracle is the source text: every module is parsed with :mod:`ast`, and every
import counts, at module level, under ``if TYPE_CHECKING:`` or in a function (#11).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = "migrations_registry"
SOURCE = Path(__file__).resolve().parents[1] / PACKAGE


def module_name(path: Path) -> str:
    """Return the dotted name of the module in *path*, under :data:`SOURCE`."""
    parts = [PACKAGE, *path.relative_to(SOURCE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def imported(source: str, module: str, is_package: bool = False) -> set[str]:
    """Return the absolute names of what *source*, the text of *module*, imports.

    ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a module);
    relative imports are resolved against *module*.
    """
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def graph() -> dict[str, set[str]]:
    """Return, per module of the package, the modules of the package it imports."""
    edges = {}
    for module, path in MODULES.items():
        names = imported(path.read_text(), module, path.name == "__init__.py")
        edges[module] = {name for name in names if name in MODULES} - {module}
    return edges


def test_imported_finds_every_kind_of_import() -> None:
    """Imports under TYPE_CHECKING, in functions, and relative ones all count."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.step import Step\n"
        "def f():\n"
        "    import pkg.plan\n"
        "    from . import schema\n"
        "    from .._graph import order\n"
    )
    expected = {
        "typing",
        "typing.TYPE_CHECKING",
        "pkg.step",
        "pkg.step.Step",
        "pkg.plan",
        "pkg.sub",
        "pkg.sub.schema",
        "pkg._graph",
        "pkg._graph.order",
    }
    assert expected == imported(source, "pkg.sub.mod")


def test_graph_has_the_type_checking_imports() -> None:
    """The graph counts an import made only for type checking."""
    assert f"{PACKAGE}.step" in graph()[f"{PACKAGE}.exceptions"]


def test_modules_import_each_other_without_a_cycle() -> None:
    """No module of migrations_registry imports itself through others."""
    sorter = graphlib.TopologicalSorter(graph())
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        # graphlib lists each module before the ones that import it.
        cycle = " -> ".join(reversed(error.args[1]))
        pytest.fail(f"Import cycle, each module importing the next: {cycle}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_does_not_import_django(module: str) -> None:
    """No module of migrations_registry imports django, even for type checking."""
    names = imported(MODULES[module].read_text(), module)
    found = sorted(n for n in names if n == "django" or n.startswith("django."))
    expected: list[str] = []
    assert expected == found
