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
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path
from typing import Any

from lino_migrate.exceptions import (
    ChecksumError,
    DumpFormatError,
    DumpNotFoundError,
    plural,
)
from lino_migrate.format.layout import (
    FORMAT,
    FileEntry,
    ModelInfo,
    metadata_problems,
    unaccounted_models,
)
from lino_migrate.format.literals import parse_rows

__all__ = [
    "DumpMeta",
    "locate_dump",
    "open_dump",
    "read_meta",
    "read_rows",
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
#: The largest ``restore.py`` read: a thousand times that of a big site.
MAX_SCRIPT_SIZE = 64 << 20
#: The longest line before ``ROWS = (`` in a data file, in characters.
MAX_HEADER_LINE = 1 << 20
#: The most lines before ``ROWS = (`` in a data file.
MAX_HEADER_LINES = 100

#: What reading a literal raises, hostile ones included.
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)
#: Open without following a symbolic link, without waiting for a FIFO's writer.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


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

    :raises DumpFormatError: when the file is missing, not a regular file,
        too large, does not parse, lacks a required assignment, has a format
        this version cannot read, or its ``SCHEMA`` and ``FILES`` disagree.
    """
    source = _script_source(script)
    try:
        tree = ast.parse(source, filename=str(script))
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
    return _build_meta(script, values)


def _reason(error: BaseException) -> str:
    """Return what *error* says, or its kind when it says nothing (MemoryError)."""
    if isinstance(error, MemoryError | RecursionError):
        return f"nested too deeply or too large to read ({type(error).__name__})"
    return str(error) or type(error).__name__


def _script_source(script: Path) -> str:
    """Return the text of ``restore.py``, a regular file of bounded size."""
    try:
        with _open_regular(script, "the dump's restore.py") as file:
            data = file.read(MAX_SCRIPT_SIZE + 1)
    except OSError as e:
        msg = f"cannot read the dump's restore.py: {e.strerror or e}"
        raise DumpFormatError(script, msg) from e
    if len(data) > MAX_SCRIPT_SIZE:
        msg = (
            f"restore.py is larger than {MAX_SCRIPT_SIZE} bytes; lino_migrate "
            "never writes one that large: this is not the restore.py of a dump"
        )
        raise DumpFormatError(script, msg)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        msg = f"cannot read the dump's restore.py: not UTF-8: {e}"
        raise DumpFormatError(script, msg) from None


def _open_regular(path: Path, what: str) -> BufferedReader:
    """Open *path* for reading, if it is a regular file and not a symbolic link.

    Opening does not wait (a FIFO without a writer opens at once) and
    :func:`os.fstat` then refuses anything but a regular file.

    :raises DumpFormatError: for a link, a FIFO, a device, a directory, a
        name with a NUL, or a file that cannot be opened.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError) as e:
        if os.path.islink(path):
            msg = (
                f"{what} is a symbolic link; a dump holds regular files only. "
                "Copy the dump with its links resolved (cp -rL) if you trust them"
            )
        else:
            msg = f"cannot read {what}: {getattr(e, 'strerror', None) or e}"
        raise DumpFormatError(path, msg) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            msg = f"{what} is {_kind(mode)}, not a regular file; a dump holds regular files only"
            raise DumpFormatError(path, msg)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _build_meta(script: Path, values: dict[str, Any]) -> DumpMeta:
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
    return DumpMeta(script.parent, values, schema, files)


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


def locate_dump(path: Path | str) -> Path:
    """Return the ``restore.py`` of the dump at *path*, its directory or the file.

    :raises DumpNotFoundError: when *path* does not exist, is a directory
        without ``restore.py`` or a data file of a dump (#14).
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "restore.py").exists():
            raise DumpNotFoundError(path, "a directory without restore.py")
        return path / "restore.py"
    if not os.path.lexists(path):
        raise DumpNotFoundError(path, "nothing: no such file or directory")
    if path.name != "restore.py" and (path.parent / "restore.py").is_file():
        raise DumpNotFoundError(
            path,
            f"a file in the dump '{path.parent}', not the dump itself",
            f"Give the dump's directory '{path.parent}' (or its restore.py)",
        )
    return path


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
        raise DumpFormatError(meta.directory / "restore.py", msg)
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


def _sha256(path: Path) -> str:
    """Return the sha256 of the data file *path*."""
    try:
        with _open_regular(path, "the data file") as file:
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
    reader = _LineReader(path, digest)
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

    def __init__(self, path: Path, digest: Any) -> None:
        self.path, self.digest = path, digest
        self.max_line: int | None = MAX_HEADER_LINE

    def blocks(self) -> Iterator[tuple[int, list[str]]]:
        """Yield the lines of the file in blocks, with the first one's number.

        Lines come without their line break; the last line of the file must
        have one: a file cut short does not.
        """
        decode = codecs.getincrementaldecoder("utf-8")().decode
        number, pending = 1, [""]
        try:
            with _open_regular(self.path, "the data file") as file:
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
    path = meta.directory / entry.name
    info = meta.schema[entry.model]
    digest = hashlib.sha256()
    pending: list[tuple[Any, ...]] | None = None
    count = 0
    for first_line, chunk in _row_lines(path, info, digest):
        rows = _parsed(path, first_line, chunk, len(info.fields))
        count += len(rows)
        if pending is not None:
            yield pending
        pending = rows
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
        raise DumpFormatError(path, f"{where} are not literal rows: {e}") from e
    for offset, row in enumerate(rows):
        if type(row) is not tuple or len(row) != width:
            line = first_line + offset
            msg = f"line {line}: expected a tuple of {width} values, found {row!r:.200}"
            raise DumpFormatError(path, msg)
    return rows
