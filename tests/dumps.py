"""Helpers to read and damage dumps on disk in tests."""

from __future__ import annotations

import ast
import hashlib
import re
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def data_files(directory: Path) -> dict[str, bytes]:
    """Return the bytes of every data file of a dump, by name."""
    return {
        p.name: p.read_bytes() for p in directory.iterdir() if p.name != "restore.py"
    }


def dump_files(path: Path) -> dict[str, bytes]:
    """Return every file of a dump directory or archive; restore.py without its date."""
    if path.is_dir():
        found = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
        found["restore.py"] = restore_script_body(path).encode()
        return found
    with tarfile.open(path) as tar:
        found = {
            # Without the top directory, which is named after the archive.
            m.name.partition("/")[2]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }
    if "restore.py" in found:
        lines = found["restore.py"].split(b"\n")
        found["restore.py"] = b"\n".join(
            line for line in lines if not line.startswith((b"# Generated", b"CREATED"))
        )
    return found


def restore_script_body(directory: Path) -> str:
    """Return ``restore.py`` without the lines that hold its creation time."""
    lines = (directory / "restore.py").read_text(encoding="utf-8").splitlines()
    return "\n".join(
        line for line in lines if not line.startswith(("# Generated", "CREATED = "))
    )


def reseal(directory: Path, name: str) -> None:
    """Record the current sha256 of data file *name* in ``restore.py``.

    Simulates a person who edited a data file and fixed the checksum too, so
    that the restore reaches the database with the edited rows.
    """
    script = directory / "restore.py"
    text = script.read_text(encoding="utf-8")
    digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    pattern = re.compile(
        rf"(\('[^']+', '{re.escape(name)}', \d+, ')([0-9a-f]{{64}})('\))"
    )
    text, count = pattern.subn(lambda m: m.group(1) + digest + m.group(3), text)
    assert count == 1, f"{name} not found in FILES"
    script.write_text(text, encoding="utf-8")


def edit_first_row(
    directory: Path, name: str, column: str, new: Callable[[Any], Any]
) -> dict[str, Any]:
    """Set *column* of the first row of data file *name* to ``new(old value)``.

    The file is resealed (:func:`reseal`). The oracle is Python's own
    :func:`ast.literal_eval`, not the dump reader.

    :return: the row as it was, by column.
    """
    path = directory / name
    text = path.read_text(encoding="utf-8")
    columns = ast.literal_eval(text.split("COLUMNS = ")[1].split("\n")[0])
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("    ("))
    row = list(ast.literal_eval(lines[at].strip().rstrip(",")))
    old = dict(zip(columns, row, strict=True))
    row[columns.index(column)] = new(old[column])
    lines[at] = f"    {tuple(row)!r},"
    path.write_text("\n".join(lines), encoding="utf-8")
    reseal(directory, name)
    return old
