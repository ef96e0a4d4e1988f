"""A dump as one file: an uncompressed tar archive of its directory (#15).

``dump2py --archive NAME`` writes ``NAME.tar``, which holds the dump
directory ``NAME/``: ``NAME/restore.py`` first, then the data files in the
order of ``FILES``; no directory entry, no link, nothing else. The archive
itself is not compressed (its data files may be, ``--compress``), so that a
reader seeks to any member without reading the ones before it.

Every member header is fixed: mode ``0600``, owner and group 0 without
names, time 0, so that the same dump gives the same bytes. ``tar xf
NAME.tar`` gives back the dump directory ``NAME/``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import tarfile

__all__ = [
    "ARCHIVE_SUFFIX",
    "MAX_MEMBERS",
    "archive_member",
    "is_tar_header",
    "member_problem",
]

ARCHIVE_SUFFIX = ".tar"
#: The most members an archive of a dump may have: data files and restore.py.
MAX_MEMBERS = 100_000
#: The mode of every member.
MEMBER_MODE = 0o600


def archive_member(top: str, name: str, size: int) -> tarfile.TarInfo:
    """Return the header of the file *name* of the dump *top*, *size* bytes long."""
    info = tarfile.TarInfo(f"{top}/{name}")
    info.size, info.mode, info.mtime = size, MEMBER_MODE, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def is_tar_header(block: bytes) -> bool:
    """Return whether *block*, the first 512 bytes of a file, opens a tar archive."""
    return len(block) == 512 and block[257:262] == b"ustar"


def member_problem(info: tarfile.TarInfo, top: str | None) -> tuple[str, str]:
    """Return what makes *info* no member of a dump archive, and its file name.

    A member is a regular file ``TOP/NAME``: *top* is the top directory of the
    members before it (``None`` for the first); ``NAME`` is a plain file name.
    The problem is ``""`` for a good member.
    """
    parts = info.name.split("/")
    name = parts[-1]
    shown = f"the member {info.name!r:.200}"
    if not info.isreg():
        kind = "a link" if info.issym() or info.islnk() else "not a regular file"
        return f"{shown} is {kind}; an archive of a dump holds regular files only", name
    if info.name.startswith("/") or len(parts) != 2:
        return f"{shown} is not a file of one directory (TOP/NAME)", name
    if any(p in ("", ".", "..") for p in parts) or "\\" in info.name:
        return f"{shown} is not a plain file name", name
    if top is not None and parts[0] != top:
        return f"{shown} is not in {top}/, the directory of the others", name
    return "", name
