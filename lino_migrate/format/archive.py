"""A dump as one file: an uncompressed tar archive of its directory (#15).

``dump2py --archive NAME`` writes ``NAME.tar``, which holds the whole dump
directory ``NAME/``: ``NAME/restore.py`` first, then the data files in the
order of ``FILES``, then (``--media``) ``NAME/media/FILE`` for each file of
``MEDIA``, in its order; no directory entry, no link, nothing else. The
archive itself is not compressed (its data files may be, ``--compress``), so
that a reader seeks to any member without reading the ones before it.

Every member header is fixed: mode ``0600``, owner and group 0 without
names, time 0, so that the same dump gives the same bytes. ``tar xf
NAME.tar`` gives back the dump directory ``NAME/``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import tarfile
from typing import IO

from lino_migrate.format.media import MEDIA_DIRECTORY, name_problem

__all__ = [
    "ARCHIVE_SUFFIX",
    "MAX_MEMBERS",
    "archive_member",
    "archive_name",
    "is_tar_header",
    "member_problem",
    "script_head",
]

ARCHIVE_SUFFIX = ".tar"
#: The most members an archive of a dump may have: restore.py, data and media files.
MAX_MEMBERS = 1_000_000
#: The mode of every member.
MEMBER_MODE = 0o600


def archive_name(name: str) -> str:
    """Return the name of the archive of the dump *name*: ``NAME.tar``.

    A *name* that ends in ``.tar`` already is the archive's name itself.
    """
    return name if name.endswith(ARCHIVE_SUFFIX) else name + ARCHIVE_SUFFIX


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
    """Return what makes *info* no member of a dump archive, and its name in the dump.

    A member is a regular file ``TOP/NAME``, where ``NAME`` is a plain file
    name, or ``TOP/media/NAME``, where ``NAME`` is a media file's name as
    :func:`~lino_migrate.format.media.name_problem` accepts it; *top* is the
    top directory of the members before it (``None`` for the first). The
    problem is ``""`` for a good member; the name is ``NAME`` or ``media/NAME``.
    """
    top_name, _, name = info.name.partition("/")
    shown = f"the member {info.name!r:.200}"
    if not info.isreg():
        kind = "a link" if info.issym() or info.islnk() else "not a regular file"
        return f"{shown} is {kind}; an archive of a dump holds regular files only", name
    if info.name.startswith("/") or not top_name or not name:
        return f"{shown} is not a file of one directory (TOP/NAME)", name
    if top_name in (".", "..") or "\\" in top_name:
        return f"{shown} is not in a plain directory name", name
    media, _, media_name = name.partition("/")
    if not media_name and (name in (".", "..") or "\\" in name):
        return f"{shown} is not a plain file name", name
    if media_name and media != MEDIA_DIRECTORY:
        return f"{shown} is not a file of TOP/ nor of TOP/{MEDIA_DIRECTORY}/", name
    if media_name and (why := name_problem(media_name)):
        return f"{shown} is not a media file's name: {why}", name
    if top is not None and top_name != top:
        return f"{shown} is not in {top}/, the directory of the others", name
    return "", name


def script_head(file: IO[bytes], size: int) -> bytes | None:
    """Return the first *size* bytes of the ``TOP/restore.py`` that opens the tar *file*.

    Only the first member is read, as a stream: *file* needs ``read`` only
    (a file of a Django storage will do). ``None`` when that member is not
    a regular file ``TOP/restore.py``.

    :raises tarfile.TarError: when *file* is not a tar archive.
    """
    with tarfile.open(fileobj=file, mode="r|") as tar:
        first = tar.next()
        if first is None or not first.isreg():
            return None
        top, _, name = first.name.partition("/")
        if not top or name != "restore.py":
            return None
        script = tar.extractfile(first)
        return script.read(size) if script is not None else None
