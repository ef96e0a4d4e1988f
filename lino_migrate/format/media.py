"""The media files of a dump: ``MEDIA`` and ``MEDIA_MISSING`` in ``restore.py``.

``dump2py --media`` copies every file that a ``FileField`` or ``ImageField``
of a dumped row names into ``media/`` inside the dump, under the name the
field stores (``media/uploads/a.pdf``). ``restore.py`` then records, as two
more optional assignments after ``FILES``::

    MEDIA = (
        # (stored name, size in bytes, sha256, ((model label, field name), ...))
        ("uploads/a.pdf", 5120, "9f86d0...", (("kitchen.sample", "file"),)),
    )
    MEDIA_MISSING = (
        # what --tolerate let through: (model label, pk, field name, name, why)
        ("kitchen.sample", 3, "file", "uploads/gone.pdf", "not in its storage"),
    )

A dump without media has neither. The format knows no Django: a name is a
relative POSIX path checked by :func:`name_problem` (never absolute, never
``..``), so a name read from a dump cannot point outside ``media/`` nor
outside the storage it is written to.

.. versionadded:: 0.4
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Protocol

__all__ = [
    "MEDIA_DIRECTORY",
    "MEDIA_METADATA",
    "MediaEntry",
    "MissingMedia",
    "measure",
    "media_members",
    "media_problems",
    "name_problem",
    "read_media",
]

#: The directory of a dump that holds its media files.
MEDIA_DIRECTORY = "media"
#: The optional metadata assignments of a dump with media, in order.
MEDIA_METADATA = ("MEDIA", "MEDIA_MISSING")

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Bytes read at a time when hashing.
BLOCK = 1 << 20
#: The longest stored name accepted (Django's ``FileField`` default is 100).
MAX_NAME = 1024


@dataclass(frozen=True)
class MediaEntry:
    """One media file of a dump: its stored name, size, sha256, and its fields."""

    name: str
    size: int
    sha256: str
    #: ``(model label, field name)`` of every field that names the file
    refs: tuple[tuple[str, str], ...]

    def as_literal(self) -> tuple[Any, ...]:
        """Return the tuple written into ``MEDIA``."""
        return (self.name, self.size, self.sha256, self.refs)

    @classmethod
    def from_literal(cls, value: Sequence[Any]) -> MediaEntry:
        """Return the file described by a ``MEDIA`` tuple.

        :raises TypeError: when a value is not of the type written.
        :raises ValueError: when the tuple has not four values.
        """
        name, size, sha256, refs = value
        if not (type(name) is type(sha256) is str and type(size) is int):
            msg = f"expected (name, size, sha256, refs), found {value!r:.200}"
            raise TypeError(msg)
        pairs = tuple(tuple(ref) for ref in refs)
        if not all(len(p) == 2 and all(type(s) is str for s in p) for p in pairs):
            msg = f"expected refs of (model label, field name), found {refs!r:.200}"
            raise TypeError(msg)
        return cls(name, size, sha256, pairs)


@dataclass(frozen=True)
class MissingMedia:
    """A file a dumped row names that could not be copied into the dump."""

    model: str
    pk: Any
    field: str
    name: str
    why: str

    def as_literal(self) -> tuple[Any, ...]:
        """Return the tuple written into ``MEDIA_MISSING``."""
        return (self.model, self.pk, self.field, self.name, self.why)

    def __str__(self) -> str:
        """Return the file and the row that names it, and why it is missing."""
        return (
            f"{self.model} pk={self.pk!r} field {self.field!r}: "
            f"{self.name!r:.200} ({self.why})"
        )


def name_problem(name: object) -> str:
    """Return why *name* cannot be the stored name of a media file, or ``""``.

    A name is a relative POSIX path of at most :data:`MAX_NAME` characters,
    without ``..``, ``.`` or empty parts, backslashes or NUL characters.
    """
    if type(name) is not str or not name:
        return "not a non-empty string"
    if len(name) > MAX_NAME:
        return f"longer than {MAX_NAME} characters"
    if "\\" in name or "\0" in name:
        return "holds a backslash or a NUL character"
    if name.startswith("/"):
        return "an absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a path with an empty, '.' or '..' part"
    if PurePosixPath(name).as_posix() != name:
        return "not a normalized path"
    return ""


def read_media(values: dict[str, Any]) -> tuple[list[MediaEntry], list[str]]:
    """Return the ``MEDIA`` of the metadata *values*, and what is wrong with it.

    A dump without ``MEDIA`` has no media files: ``([], [])``.
    """
    raw = values.get("MEDIA", ())
    if not isinstance(raw, tuple | list):
        return [], [f"MEDIA is {raw!r:.100}, not a tuple of media files"]
    entries, problems = [], []
    for item in raw:
        try:
            entries.append(MediaEntry.from_literal(item))
        except (TypeError, ValueError) as e:
            problems.append(f"MEDIA holds {item!r:.100}: {e}")
    return entries, problems + media_problems(entries)


def media_members(values: dict[str, Any]) -> list[str]:
    """Return ``media/NAME`` for each well-formed file of the ``MEDIA`` in *values*.

    The files a dump holds under ``media/``, in the order of ``MEDIA``; an
    entry that :func:`read_media` finds wrong is left out (a restore with
    ``--media`` refuses it).
    """
    entries, _problems = read_media(values)
    return [f"{MEDIA_DIRECTORY}/{e.name}" for e in entries if not name_problem(e.name)]


def media_problems(entries: Sequence[MediaEntry]) -> list[str]:
    """Return what makes *entries* unlike the ``MEDIA`` of a dump."""
    problems, names = [], set()
    for entry in entries:
        where = f"MEDIA names {entry.name!r:.100}"
        why = name_problem(entry.name)
        if why:
            problems.append(f"{where}: {why}; a media file stays inside media/")
        elif entry.name in names:
            problems.append(f"{where} twice: each media file is listed once")
        elif entry.size < 0:
            problems.append(f"{where} with {entry.size} bytes: a size is not negative")
        elif not _SHA256.fullmatch(entry.sha256):
            problems.append(f"{where} with sha256 {entry.sha256!r:.100}: not 64 hex")
        names.add(entry.name)
    return problems


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def measure(file: _Readable) -> tuple[int, str]:
    """Return the size and the sha256 of what *file* holds from where it is.

    Any object with ``read(size)`` does: an open file, a Django ``File``
    of any storage.
    """
    digest, size = hashlib.sha256(), 0
    while block := file.read(BLOCK):
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()
