"""Read a dump without running any code from it.

``restore.py`` is parsed, not imported: only its literal assignments are
read. Data files are checked against the sha256 and row count recorded in
``restore.py`` before anything is written, then parsed in batches of lines
by :func:`~lino_migrate.format.literals.parse_rows`, which accepts literals
only.
"""

from __future__ import annotations

import ast
import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lino_migrate.exceptions import ChecksumError, DumpFormatError
from lino_migrate.format.layout import FORMAT, FileEntry, ModelInfo
from lino_migrate.format.literals import parse_rows

__all__ = ["DumpMeta", "open_dump", "read_meta", "read_rows", "verify_files"]

_REQUIRED = ("FORMAT", "VERSIONS", "SCHEMA", "FILES")
_OPTIONAL: dict[str, Any] = {
    "CREATED": None,
    "DJANGO": None,
    "ENGINE": None,
    "PARTIAL": False,
    "SKIPPED": {},
    "MIGRATIONS": {},
}

#: Row lines parsed at a time.
PARSE_BATCH = 1000


@dataclass
class DumpMeta:
    """The metadata recorded in the ``restore.py`` of a dump."""

    directory: Path
    values: dict[str, Any]
    schema: dict[str, ModelInfo]
    files: tuple[FileEntry, ...]

    @property
    def partial(self) -> bool:
        """Return whether ``--tolerate`` skipped models when dumping."""
        return bool(self.values["PARTIAL"])

    @property
    def versions(self) -> dict[str, str]:
        """Return the app versions the dump was written with."""
        return dict(self.values["VERSIONS"])


def read_meta(script: Path) -> DumpMeta:
    """Return the metadata of the dump whose ``restore.py`` is *script*.

    :raises DumpFormatError: when the file is missing, does not parse, lacks
        a required assignment, or has a format this version cannot read.
    """
    try:
        source = script.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(script))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as e:
        raise DumpFormatError(script, f"cannot read the dump's restore.py: {e}") from e
    values: dict[str, Any] = dict(_OPTIONAL)
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.isupper()
        ):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, RecursionError) as e:
                msg = f"{node.targets[0].id} is not a literal (line {node.lineno}): {e}"
                raise DumpFormatError(script, msg) from e
    missing = [name for name in _REQUIRED if name not in values]
    if missing:
        msg = f"not a lino_migrate dump: {', '.join(missing)} missing"
        raise DumpFormatError(script, msg)
    if values["FORMAT"] != FORMAT:
        msg = (
            f"dump format {values['FORMAT']!r} found, this lino_migrate reads "
            f"format {FORMAT}; use the lino_migrate release that wrote the dump"
        )
        raise DumpFormatError(script, msg)
    return _build_meta(script, values)


def _build_meta(script: Path, values: dict[str, Any]) -> DumpMeta:
    try:
        schema = {
            label: ModelInfo.from_literal(label, value)
            for label, value in values["SCHEMA"].items()
        }
        files = tuple(FileEntry(*map(_expect_scalar, item)) for item in values["FILES"])
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise DumpFormatError(script, f"SCHEMA or FILES is malformed: {e}") from e
    for entry in files:
        if entry.model not in schema:
            msg = f"FILES names model {entry.model!r}, which SCHEMA does not describe"
            raise DumpFormatError(script, msg)
        if Path(entry.name).name != entry.name or not entry.name.endswith(".py"):
            msg = f"FILES names {entry.name!r}: not a file name inside the dump"
            raise DumpFormatError(script, msg)
    return DumpMeta(script.parent, values, schema, files)


def _expect_scalar(value: Any) -> Any:
    if not isinstance(value, str | int):
        msg = f"expected a string or an integer, found {value!r}"
        raise TypeError(msg)
    return value


def open_dump(path: Path | str, *, verify: bool = True) -> DumpMeta:
    """Return the metadata of the dump at *path*, its directory or its ``restore.py``.

    :param verify: check every data file first (:func:`verify_files`).
    :raises DumpFormatError: for a missing or malformed ``restore.py`` and,
        verifying, a missing, damaged or truncated data file.
    """
    path = Path(path)
    meta = read_meta(path / "restore.py" if path.is_dir() else path)
    if verify:
        verify_files(meta)
    return meta


def verify_files(meta: DumpMeta, *, accept_edits: bool = False) -> list[str]:
    """Check every data file's sha256, header and row count.

    Files are read in blocks: memory does not grow with their size.

    :param accept_edits: accept a file whose sha256 or row count differs from
        what ``restore.py`` recorded (a person edited it); the file must still
        be well-formed. The entries of *meta* then get the new figures.
    :return: one message per accepted edit.
    :raises DumpFormatError: for a missing, damaged or truncated file.
    """
    edits = []
    files = list(meta.files)
    for index, entry in enumerate(files):
        path = meta.directory / entry.name
        digest = hashlib.sha256()
        try:
            lines = _row_lines(path, meta.schema[entry.model], digest)
            rows = sum(len(batch) for _first, batch in lines)
            found = digest.hexdigest()
        except DumpFormatError:
            # A damaged file: its checksum says so first, when it has one.
            found = _sha256(path)
            if found != entry.sha256 and not accept_edits:
                raise ChecksumError(path, entry.sha256, found) from None
            raise
        if found != entry.sha256 and not accept_edits:
            raise ChecksumError(path, entry.sha256, found)
        if found == entry.sha256 and rows != entry.rows:
            msg = f"holds {rows} rows, restore.py recorded {entry.rows}"
            raise DumpFormatError(path, msg)
        if found != entry.sha256:
            edits.append(
                f"{entry.name} was edited (sha256 {found}, restore.py recorded "
                f"{entry.sha256}; {rows} rows, recorded {entry.rows}): accepted"
            )
            files[index] = FileEntry(entry.model, entry.name, rows, found)
    meta.files = tuple(files)
    return edits


#: Bytes read from a data file at a time.
BLOCK = 1 << 20


def _sha256(path: Path) -> str:
    """Return the sha256 of the file *path*."""
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as e:
        raise DumpFormatError(path, f"cannot read the data file: {e}") from e


def _row_lines(
    path: Path, info: ModelInfo, digest: Any = None
) -> Iterator[tuple[int, list[str]]]:
    """Yield the row lines of a data file in batches, with the first line's number.

    The file is read in blocks, each line decoded once: memory does not grow
    with its size. The header is checked first, the closing ``)`` last;
    every byte read also goes into *digest* when one is given.

    :raises DumpFormatError: for an unreadable, misshapen or truncated file.
    """
    header: list[str] | None = []
    closed = False
    for first, lines in _line_blocks(path, digest):
        start = 0
        if header is not None:
            if "ROWS = (" not in lines:
                header += lines
                continue
            start = lines.index("ROWS = (") + 1
            _check_header(path, header + lines[: start - 1], info)
            header = None
        if closed:
            msg = f"line {first + start} follows the ')' that closes ROWS"
            raise DumpFormatError(path, msg)
        end = len(lines)
        if ")" in lines[start:]:
            end = lines.index(")", start)
            closed = True
            if end + 1 < len(lines):
                msg = f"line {first + end + 1} follows the ')' that closes ROWS"
                raise DumpFormatError(path, msg)
        for at in range(start, end, PARSE_BATCH):
            yield first + at, lines[at : min(at + PARSE_BATCH, end)]
    if header is not None:
        raise DumpFormatError(path, "no 'ROWS = (' line")
    if not closed:
        raise DumpFormatError(path, "the ROWS tuple is not closed: file truncated?")


def _line_blocks(path: Path, digest: Any) -> Iterator[tuple[int, list[str]]]:
    """Yield the lines of the file *path* in blocks, with the first one's number.

    Lines come without their line break; the last line of the file must have
    one: a file cut short does not.
    """
    decode = codecs.getincrementaldecoder("utf-8")().decode
    number, rest = 1, ""
    try:
        with path.open("rb") as file:
            while block := file.read(BLOCK):
                if digest is not None:
                    digest.update(block)
                lines = (rest + decode(block)).split("\n")
                rest = lines.pop()
                if lines:
                    yield number, lines
                    number += len(lines)
            rest += decode(b"", final=True)
    except OSError as e:
        raise DumpFormatError(path, f"cannot read the data file: {e}") from e
    except UnicodeDecodeError as e:
        raise DumpFormatError(path, f"not UTF-8 from line {number} on: {e}") from e
    if rest:
        msg = (
            "the ROWS tuple is not closed: the last line, "
            f"{number}, has no line break (file truncated?)"
        )
        raise DumpFormatError(path, msg)


def _check_header(path: Path, header: list[str], info: ModelInfo) -> None:
    found: dict[str, Any] = {}
    for line in header:
        name, sep, value = line.partition(" = ")
        if sep and name in ("MODEL", "COLUMNS"):
            try:
                found[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError) as e:
                raise DumpFormatError(path, f"{name} is not a literal: {e}") from e
    if found.get("MODEL") != info.label:
        msg = f"MODEL is {found.get('MODEL')!r}, restore.py says {info.label!r}"
        raise DumpFormatError(path, msg)
    if tuple(found.get("COLUMNS", ())) != info.attnames:
        msg = f"COLUMNS {found.get('COLUMNS')!r} differ from SCHEMA {info.attnames!r}"
        raise DumpFormatError(path, msg)


def read_rows(meta: DumpMeta, entry: FileEntry) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the rows of one data file in batches, as tuples of literals.

    :raises DumpFormatError: when a row is not a literal tuple of the right size.
    """
    path = meta.directory / entry.name
    info = meta.schema[entry.model]
    width = len(info.fields)
    for first_line, chunk in _row_lines(path, info):
        try:
            rows = parse_rows(chunk)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
            where = f"lines {first_line}-{first_line + len(chunk) - 1}"
            raise DumpFormatError(path, f"{where} are not literal rows: {e}") from e
        for offset, row in enumerate(rows):
            if type(row) is not tuple or len(row) != width:
                line = first_line + offset
                msg = f"line {line}: expected a tuple of {width} values, found {row!r:.200}"
                raise DumpFormatError(path, msg)
        yield rows
