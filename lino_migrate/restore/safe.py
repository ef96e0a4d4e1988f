"""Name the code of a ``restore.py`` that a safe restore does not run.

``manage.py restoredump DIR`` reads ``restore.py``'s metadata by literal
evaluation and runs nothing of it. A dump from elsewhere may carry code: in
its hooks (``before_restore``, ``after_restore``) or anywhere at module
level. This module finds it, from the syntax tree alone, so that the safe
restore can say what it skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

from lino_migrate.exceptions import DumpFormatError
from lino_migrate.restore.source import ArchiveSource, is_archive, script_text

__all__ = ["HOOKS", "copied_code_warnings", "skipped_code"]

#: The functions of ``restore.py`` that the restore calls.
HOOKS = ("before_restore", "after_restore")


def skipped_code(script: Path, text: str | None = None) -> list[str]:
    """Return a description of each piece of code in *script* that does something.

    Metadata assignments (upper-case names), the module docstring, hooks whose
    body is only a docstring or ``pass`` and the ``if __name__ == "__main__"``
    block are not code that a safe restore misses; anything else is named with
    its line.

    :param text: the source of *script*, when it is read already (the
        ``restore.py`` of an archive, #15).
    :raises DumpFormatError: when *script* cannot be read or parsed.
    """
    if text is None and is_archive(script):
        text = script_text(ArchiveSource(script))
    try:
        source = script.read_bytes() if text is None else text
        tree = ast.parse(source, filename=str(script))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise DumpFormatError(script, f"cannot read the dump's restore.py: {e}") from e
    found = []
    for index, node in enumerate(tree.body):
        if index == 0 and _is_docstring(node):
            continue
        if _is_metadata(node) or _is_main_block(node):
            continue
        if isinstance(node, ast.FunctionDef) and node.name in HOOKS:
            if not _does_nothing(node.body):
                found.append(f"the hook {node.name}() (line {node.lineno})")
            continue
        kind = type(node).__name__
        found.append(f"module-level code (line {node.lineno}: {kind})")
    return found


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_metadata(node: ast.stmt) -> bool:
    """Return whether *node* assigns a literal to an upper-case name."""
    if not (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.isupper()
    ):
        return False
    try:
        ast.literal_eval(node.value)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False
    return True


def _is_main_block(node: ast.stmt) -> bool:
    """Return whether *node* is ``if __name__ == "__main__":``, whatever it does.

    That block runs only when the file is run; a safe restore runs its own
    entry point instead.
    """
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _does_nothing(body: list[ast.stmt]) -> bool:
    return all(_is_docstring(node) or isinstance(node, ast.Pass) for node in body)


def copied_code_warnings(script: Path, text: str | None = None) -> list[str]:
    """Return a warning per piece of code that ``upgradedump`` copies from *script*.

    :raises DumpFormatError: when *script* cannot be read or parsed.
    """
    return [
        f"restore.py holds {code}, copied as it was (the new header says so): "
        "read it before running the new restore.py, or restore with restoredump."
        for code in skipped_code(script, text)
    ]
