"""Read a dump without running any code from it.

``restore.py`` is parsed, not imported: only its literal assignments are
read. Data files are checked against the sha256 and row count recorded in
``restore.py`` before anything is written, then parsed in batches of lines
by :func:`~lino_migrate.format.literals.parse_rows`, which accepts literals
only. The bytes parsed are hashed again: a file changed after the first
check is refused at its end, before its last batch is handed over (#12).

Only regular files of the dump directory are opened, never through a
symbolic link and without waiting (a FIFO or a device is refused, not read);
``restore.py`` and the lines before ``ROWS = (`` have a bounded size. A
hostile dump gives a :class:`~lino_migrate.exceptions.DumpFormatError`
naming the file, not a hang or an exhausted memory (#12).
"""

from __future__ import annotations

import ast
import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lino_migrate.exceptions import (
    ChecksumError,
    DumpFormatError,
    DumpNotFoundError,
    plural,
)
from lino_migrate.format.compression import CompressionError
from lino_migrate.format.layout import (
    FORMAT,
    FileEntry,
    ModelInfo,
    metadata_problems,
    unaccounted_models,
)
from lino_migrate.format.literals import parse_rows
from lino_migrate.format.media import media_members
from lino_migrate.restore.source import (
    ArchiveSource,
    DirectorySource,
    DumpSource,
    is_archive,
    locate_dump,
    opened,
    script_text,
)

__all__ = [
    "DumpMeta",
    "locate_dump",
    "open_dump",
    "read_meta",
    "read_rows",
    "read_share",
    "script_text",
    "verify_files",
]

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
#: Bytes read from a data file at a time.
BLOCK = 1 << 20
#: The longest line before ``ROWS = (`` in a data file, in characters.
MAX_HEADER_LINE = 1 << 20
#: The most lines before ``ROWS = (`` in a data file.
MAX_HEADER_LINES = 100

#: What reading a literal raises, hostile ones included.
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)


@dataclass
class DumpMeta:
    """The metadata recorded in the ``restore.py`` of a dump."""

    #: the dump directory, or its archive
    directory: Path
    values: dict[str, Any]
    schema: dict[str, ModelInfo]
    files: tuple[FileEntry, ...]
    #: where its files are read from; by default the files of *directory*
    source: DumpSource = None  # type: ignore[assignment]
    #: the name of its ``restore.py`` in :attr:`source`
    script_name: str = "restore.py"

    def __post_init__(self) -> None:
        if self.source is None:
            self.source = DirectorySource(self.directory)

    @property
    def script(self) -> Path:
        """Return the path that names the dump's ``restore.py`` in messages."""
        return self.source.path(self.script_name)

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

    *script* may be a dump archive too: its ``restore.py`` is read (#15).

    :raises DumpFormatError: when the file is missing, not a regular file,
        too large, does not parse, lacks a required assignment, has a format
        this version cannot read, or its ``SCHEMA`` and ``FILES`` disagree.
    """
    source, name = _source_of(script)
    text = script_text(source, name)
    script = source.path(name)
    try:
        tree = ast.parse(text, filename=str(script))
    except _LITERAL_ERRORS as e:
        msg = f"cannot parse the dump's restore.py: {_reason(e)}"
        raise DumpFormatError(script, msg) from None
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
            except _LITERAL_ERRORS as e:
                name, line = node.targets[0].id, node.lineno
                msg = f"{name} is not a literal (line {line}): {_reason(e)}"
                raise DumpFormatError(script, msg) from None
    missing = [name for name in _REQUIRED if name not in values]
    if missing:
        names = ", ".join(missing)
        if len(missing) == len(_REQUIRED):
            found = f"a file that is not the restore.py of a dump ({names} missing)"
            raise DumpNotFoundError(script, found)
        msg = (
            f"not a complete restore.py of a lino_migrate dump: {names} missing; "
            "restore from an intact copy of the dump"
        )
        raise DumpFormatError(script, msg)
    if type(values["FORMAT"]) is not int or values["FORMAT"] != FORMAT:
        msg = (
            f"dump format {values['FORMAT']!r:.100} found, this lino_migrate reads "
            f"format {FORMAT}; use the lino_migrate release that wrote the dump"
        )
        raise DumpFormatError(script, msg)
    return _build_meta(source, name, values)


def _source_of(script: Path) -> tuple[DumpSource, str]:
    """Return where the dump of *script* (a ``restore.py`` or an archive) is read from."""
    if is_archive(script):
        return ArchiveSource(script), "restore.py"
    return DirectorySource(script.parent), script.name


def _reason(error: BaseException) -> str:
    """Return what *error* says, or its kind when it says nothing (MemoryError)."""
    if isinstance(error, MemoryError | RecursionError):
        return f"nested too deeply or too large to read ({type(error).__name__})"
    # ast names the node it refused by its address, which says nothing.
    return _AST_NODE.sub(r"an expression (\1), not a literal", str(error)) or (
        type(error).__name__
    )


_AST_NODE = re.compile(r"<ast\.(\w+) object at 0x[0-9A-Fa-f]+>")


def _build_meta(source: DumpSource, name: str, values: dict[str, Any]) -> DumpMeta:
    script = source.path(name)
    try:
        schema = {
            label: ModelInfo.from_literal(label, value)
            for label, value in values["SCHEMA"].items()
        }
        files = tuple(FileEntry.from_literal(item) for item in values["FILES"])
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise DumpFormatError(script, f"SCHEMA or FILES is malformed: {e}") from e
    problems = metadata_problems(schema, files, values["SKIPPED"])
    if problems:
        listed = "".join(f"\n- {p}" for p in problems)
        msg = (
            f"SCHEMA, FILES and SKIPPED do not describe one dump "
            f"({plural(len(problems), 'problem')}); restore from an intact copy:{listed}"
        )
        raise DumpFormatError(script, msg)
    if isinstance(source, ArchiveSource):
        source.check_listed([e.name for e in files] + media_members(values))
    return DumpMeta(source.location, values, schema, files, source, name)


def open_dump(path: Path | str, *, verify: bool = True) -> DumpMeta:
    """Return the metadata of the dump at *path*, its directory or its ``restore.py``.

    :param verify: check every data file first (:func:`verify_files`).
    :raises DumpFormatError: for a missing or malformed ``restore.py`` and,
        verifying, a missing, damaged or truncated data file.
    """
    meta = read_meta(locate_dump(path))
    if verify:
        verify_files(meta)
    return meta


def verify_files(meta: DumpMeta, *, accept_edits: bool = False) -> list[str]:
    """Check every data file's sha256, header and row count.

    Files are read in blocks: memory does not grow with their size.

    :param accept_edits: accept a file whose sha256 or row count differs from
        what ``restore.py`` recorded (a person edited it); the file must still
        be well-formed. The entries of *meta* then get the new figures, which
        :func:`read_rows` checks in turn.
    :return: one message per accepted edit.
    :raises DumpFormatError: for a missing, damaged or truncated file, or a
        model of ``SCHEMA`` without a data file in ``FILES``.
    """
    lacking = unaccounted_models(meta.schema, meta.files)
    if lacking:
        msg = (
            f"SCHEMA describes {', '.join(lacking)} but FILES lists no data file "
            "for them (a model without rows has one empty file): restoring would "
            "empty their tables. Restore from an intact copy of the dump"
        )
        raise DumpFormatError(meta.script, msg)
    edits = []
    files = list(meta.files)
    for index, entry in enumerate(files):
        path = meta.source.path(entry.name)
        digest = hashlib.sha256()
        try:
            lines = _row_lines(
                meta.source, entry.name, meta.schema[entry.model], digest
            )
            rows = sum(len(batch) for _first, batch in lines)
            found = digest.hexdigest()
        except DumpFormatError:
            # A damaged file: its checksum says so first, when it has one.
            sha256 = _sha256(meta.source, entry.name)
            if sha256 not in (None, entry.sha256) and not accept_edits:
                raise ChecksumError(path, entry.sha256, str(sha256)) from None
            raise
        if found != entry.sha256 and not accept_edits:
            raise ChecksumError(path, entry.sha256, found)
        if found == entry.sha256 and rows != entry.rows:
            msg = f"holds {plural(rows, 'row')}, restore.py recorded {entry.rows}"
            raise DumpFormatError(path, msg)
        if found != entry.sha256:
            edits.append(
                f"{entry.name} was edited (sha256 {found}, restore.py recorded "
                f"{entry.sha256}; {rows} rows, recorded {entry.rows}): accepted"
            )
            files[index] = FileEntry(entry.model, entry.name, rows, found)
    meta.files = tuple(files)
    return edits


def _sha256(source: DumpSource, name: str) -> str | None:
    """Return the sha256 of the data file *name*, uncompressed; ``None`` if unreadable."""
    digest = hashlib.sha256()
    try:
        with opened(source, name) as file:
            while block := file.read(BLOCK):
                digest.update(block)
    except (DumpFormatError, CompressionError, OSError):
        return None
    return digest.hexdigest()


def _row_lines(
    source: DumpSource, name: str, info: ModelInfo, digest: Any = None
) -> Iterator[tuple[int, list[str]]]:
    """Yield the row lines of a data file in batches, with the first line's number.

    The file is read in blocks, each line decoded once: memory does not grow
    with its size. The header is checked first, the closing ``)`` last;
    every byte read also goes into *digest* when one is given.

    :raises DumpFormatError: for an unreadable, misshapen or truncated file.
    """
    path = source.path(name)
    header: list[str] | None = []
    closed = False
    reader = _LineReader(source, name, digest)
    for first, lines in reader.blocks():
        start = 0
        if header is not None:
            if "ROWS = (" not in lines:
                header += lines
                _check_header_size(path, header)
                continue
            start = lines.index("ROWS = (") + 1
            header += lines[: start - 1]
            _check_header_size(path, header)
            _check_header(path, header, info)
            header = None
            reader.max_line = None
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


class _LineReader:
    """The lines of one data file, read in blocks, hashed as read.

    While :attr:`max_line` is set, a line longer than that is refused before
    it is read whole: the lines of the header are short, a hostile one is
    not read into memory.
    """

    def __init__(self, source: DumpSource, name: str, digest: Any) -> None:
        self.source, self.name, self.digest = source, name, digest
        self.path = source.path(name)
        self.max_line: int | None = MAX_HEADER_LINE

    def blocks(self) -> Iterator[tuple[int, list[str]]]:
        """Yield the lines of the file in blocks, with the first one's number.

        Lines come without their line break; the last line of the file must
        have one: a file cut short does not.
        """
        decode = codecs.getincrementaldecoder("utf-8")().decode
        number, pending = 1, [""]
        try:
            with opened(self.source, self.name) as file:
                while block := file.read(BLOCK):
                    if self.digest is not None:
                        self.digest.update(block)
                    text = decode(block)
                    if "\n" in text:
                        lines = text.split("\n")
                        lines[0] = "".join(pending) + lines[0]
                        pending = [lines.pop()]
                        self._check_length(number, lines)
                        yield number, lines
                        number += len(lines)
                    else:
                        pending.append(text)
                    if self.max_line is not None:
                        self._check_length(number, ["".join(pending)])
                pending.append(decode(b"", final=True))
        except CompressionError as e:
            raise DumpFormatError(self.path, str(e)) from None
        except OSError as e:
            raise DumpFormatError(self.path, f"cannot read the data file: {e}") from e
        except UnicodeDecodeError as e:
            msg = f"not UTF-8 from line {number} on: {e}"
            raise DumpFormatError(self.path, msg) from e
        if "".join(pending):
            msg = (
                "the ROWS tuple is not closed: the last line, "
                f"{number}, has no line break (file truncated?)"
            )
            raise DumpFormatError(self.path, msg)

    def _check_length(self, number: int, lines: list[str]) -> None:
        """Refuse a line of the header longer than :attr:`max_line`."""
        if self.max_line is None:
            return
        for at, line in enumerate(lines):
            if line == "ROWS = (":
                return
            if len(line) > self.max_line:
                msg = (
                    f"line {number + at} is longer than {self.max_line} characters "
                    "before 'ROWS = (': not the header of a data file"
                )
                raise DumpFormatError(self.path, msg)


def _check_header_size(path: Path, header: list[str]) -> None:
    if len(header) > MAX_HEADER_LINES:
        msg = f"no 'ROWS = (' line in the first {MAX_HEADER_LINES} lines"
        raise DumpFormatError(path, msg)


def _check_header(path: Path, header: list[str], info: ModelInfo) -> None:
    found: dict[str, Any] = {}
    for number, line in enumerate(header, start=1):
        name, sep, value = line.partition(" = ")
        if not (sep and name in ("MODEL", "COLUMNS")):
            if line and not line.startswith("#"):
                msg = f"line {number} is not a comment, MODEL or COLUMNS: {line!r:.100}"
                raise DumpFormatError(path, msg)
        else:
            try:
                found[name] = ast.literal_eval(value)
            except _LITERAL_ERRORS as e:
                msg = f"{name} is not a literal: {_reason(e)}"
                raise DumpFormatError(path, msg) from None
    if found.get("MODEL") != info.label:
        msg = f"MODEL is {found.get('MODEL')!r:.200}, restore.py says {info.label!r}"
        raise DumpFormatError(path, msg)
    columns = found.get("COLUMNS", ())
    if not isinstance(columns, tuple | list) or tuple(columns) != info.attnames:
        msg = f"COLUMNS {found.get('COLUMNS')!r:.200} differ from SCHEMA {info.attnames!r}"
        raise DumpFormatError(path, msg)


def read_rows(meta: DumpMeta, entry: FileEntry) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the rows of one data file in batches, as tuples of literals.

    The bytes parsed are hashed: a file whose sha256 or row count differs
    from *entry* at its end (it was changed since :func:`verify_files`) is
    refused before its last batch is yielded, so that the caller's
    transaction rolls back and no row of the changed end is loaded.

    :raises ChecksumError: when the file changed since it was verified.
    :raises DumpFormatError: when a row is not a literal tuple of the right
        size, or the row count differs from *entry*'s.
    """
    for _index, rows in read_share(meta, entry):
        yield rows


def read_share(
    meta: DumpMeta, entry: FileEntry, share: int = 0, shares: int = 1
) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """Yield the batches of one data file that fall to *share* of *shares*, numbered.

    Batch *k* (counted from 0) falls to share ``k % shares``: each of
    *shares* worker processes parses only its own batches, but reads and
    hashes the whole file, so that every one of them refuses a changed file
    before it yields its last batch, as :func:`read_rows` does (#16).

    :raises ChecksumError, DumpFormatError: as :func:`read_rows`.
    """
    path = meta.source.path(entry.name)
    info = meta.schema[entry.model]
    digest = hashlib.sha256()
    pending: tuple[int, list[tuple[Any, ...]]] | None = None
    count = 0
    lines = _row_lines(meta.source, entry.name, info, digest)
    for index, (first_line, chunk) in enumerate(lines):
        if index % shares != share:
            # One row per line: the share that parses them checks that.
            count += len(chunk)
            continue
        rows = _parsed(path, first_line, chunk, len(info.fields))
        count += len(rows)
        if pending is not None:
            yield pending
        pending = index, rows
    found = digest.hexdigest()
    if found != entry.sha256:
        raise ChecksumError(path, entry.sha256, found)
    if count != entry.rows:
        msg = f"holds {plural(count, 'row')}, restore.py recorded {entry.rows}"
        raise DumpFormatError(path, msg)
    if pending is not None:
        yield pending


def _parsed(
    path: Path, first_line: int, chunk: list[str], width: int
) -> list[tuple[Any, ...]]:
    """Return the rows of the lines *chunk*, each a tuple of *width* values."""
    try:
        rows = parse_rows(chunk)
    except _LITERAL_ERRORS as e:
        where = f"lines {first_line}-{first_line + len(chunk) - 1}"
        raise DumpFormatError(
            path, f"{where} are not literal rows: {_reason(e)}"
        ) from e
    for offset, row in enumerate(rows):
        if type(row) is not tuple or len(row) != width:
            line = first_line + offset
            msg = f"line {line}: expected a tuple of {width} values, found {row!r:.200}"
            raise DumpFormatError(path, msg)
    return rows
