"""Where the files of a dump are read from: its directory, or an archive of it.

Every reader of a dump (the restore, ``dumpplan``, ``dumpcompare``,
``upgradedump``) opens the files of a dump by name through a source, which
hands out their bytes uncompressed (#15):

* :class:`DirectorySource`: the files of a dump directory. Only regular
  files are opened, never through a symbolic link and without waiting (a
  FIFO or a device is refused, not read) (#12).
* :class:`ArchiveSource`: the members of a ``.tar`` archive that
  ``dump2py --archive`` wrote (its media files included), read in place;
  nothing is extracted to disk.
  The members are checked when the archive is opened
  (:func:`lino_migrate.format.archive.member_problem`).

A compressed data file is read through :func:`~lino_migrate.format.compression.decompressing`:
its first bytes must be those of the compression its suffix names, and it
may not expand past :func:`~lino_migrate.format.compression.expansion_limit`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path
from typing import Any, Protocol

from lino_migrate.exceptions import DumpFormatError, DumpNotFoundError
from lino_migrate.format.archive import MAX_MEMBERS, is_tar_header, member_problem
from lino_migrate.format.compression import CompressionError, decompressing

__all__ = [
    "ArchiveSource",
    "DirectorySource",
    "DumpSource",
    "is_archive",
    "locate_dump",
    "open_regular",
    "opened",
    "script_text",
]

#: The largest ``restore.py`` read: a thousand times that of a big site.
MAX_SCRIPT_SIZE = 64 << 20

#: Open without following a symbolic link, without waiting for a FIFO's writer.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class DumpSource(Protocol):
    """The files of one dump, opened by name."""

    #: the dump directory, or the archive file
    location: Path

    def path(self, name: str) -> Path:
        """Return the path that names the file *name* in messages."""

    def open_raw(self, name: str, what: str) -> tuple[BufferedReader, int]:
        """Return the file *name* as stored (compressed or not), and its size.

        :raises DumpFormatError: when it is missing or not a regular file.
        """


@dataclass
class DirectorySource:
    """The files of a dump directory."""

    location: Path

    def path(self, name: str) -> Path:
        """Return the path of the file *name*."""
        return self.location / name

    def open_raw(self, name: str, what: str) -> tuple[BufferedReader, int]:
        """Return the regular file *name* of the directory, and its size.

        *name* may name a file in a subdirectory (``media/NAME``): no part of
        the path is followed through a symbolic link.
        """
        path = self.location
        for part in name.split("/")[:-1]:
            path = path / part
            if path.is_symlink():
                msg = "is a symbolic link; a dump holds regular files only"
                raise DumpFormatError(path, msg)
        file = open_regular(self.location / name, what)
        return file, os.fstat(file.fileno()).st_size


@contextmanager
def opened(source: DumpSource, name: str, what: str = "the data file") -> Any:
    """Yield the uncompressed bytes of the file *name* of *source*, to ``read``.

    :raises DumpFormatError: when the file cannot be opened, or its first
        bytes are not of the compression its name says; reading then raises
        :class:`~lino_migrate.format.compression.CompressionError`.
    """
    raw, size = source.open_raw(name, what)
    with raw:
        try:
            data = decompressing(raw, name, size)
        except CompressionError as e:
            raise DumpFormatError(source.path(name), str(e)) from None
        try:
            yield data
        finally:
            data.close()


def script_text(source: DumpSource, name: str = "restore.py") -> str:
    """Return the text of the ``restore.py`` *name*, a regular file of bounded size.

    :raises DumpFormatError: when it cannot be read, is too large or not UTF-8.
    """
    script = source.path(name)
    try:
        file, _size = source.open_raw(name, "the dump's restore.py")
        with file:
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


def open_regular(path: Path, what: str) -> BufferedReader:
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


def is_archive(path: Path) -> bool:
    """Return whether *path* is a regular file that starts as a tar archive does."""
    try:
        with open_regular(path, "the archive") as file:
            return is_tar_header(file.read(512))
    except (DumpFormatError, OSError):
        return False


@dataclass
class ArchiveSource:
    """The members of a dump archive (``dump2py --archive``), read in place.

    The archive is scanned once, headers only: every member must be a
    regular file ``TOP/NAME`` of one top directory. Each file is then read
    from its offset in the archive, opened anew (never extracted).

    :raises DumpFormatError: when the archive is not a readable tar file or a
        member is not one a dump holds.
    """

    location: Path
    members: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.members = self._scan()

    def _scan(self) -> dict[str, tuple[int, int]]:
        """Return the data offset and size of each member, by file name."""
        members: dict[str, tuple[int, int]] = {}
        top: list[str] = []
        try:
            with (
                open_regular(self.location, "the archive") as file,
                tarfile.open(fileobj=file, mode="r:") as tar,
            ):
                while (info := tar.next()) is not None:
                    if len(members) >= MAX_MEMBERS:
                        self._refuse(f"it holds more than {MAX_MEMBERS} members")
                    name = self._member_name(info, top, members)
                    members[name] = (info.offset_data, info.size)
                    # Only the offsets are kept, not every header: memory grows
                    # little per media file (typeshed omits TarFile.members).
                    tar.members.clear()  # type: ignore[attr-defined]
        except (tarfile.TarError, OSError, EOFError) as e:
            self._refuse(f"cannot read it as a tar archive: {e}")
        if "restore.py" not in members:
            self._refuse("it holds no restore.py")
        return members

    def _member_name(
        self, info: tarfile.TarInfo, top: list[str], seen: dict[str, Any]
    ) -> str:
        problem, name = member_problem(info, top[0] if top else None)
        if problem:
            self._refuse(problem)
        top[:] = [info.name.split("/")[0]]
        if name in seen:
            self._refuse(f"it holds the member {info.name!r:.200} twice")
        return name

    def _refuse(self, problem: str) -> None:
        msg = f"not an archive of a dump: {problem}. Give an archive that `dump2py --archive` wrote"
        raise DumpFormatError(self.location, msg)

    def path(self, name: str) -> Path:
        """Return ``ARCHIVE/NAME``, how a member is named in messages."""
        return self.location / name

    def open_raw(self, name: str, what: str) -> tuple[BufferedReader, int]:
        """Return the member *name* as stored, and its size.

        :raises DumpFormatError: when the archive holds no member *name*.
        """
        if name not in self.members:
            msg = f"cannot read {what}: the archive holds no member {name!r}"
            raise DumpFormatError(self.path(name), msg)
        offset, size = self.members[name]
        file = open_regular(self.location, "the archive")
        try:
            file.seek(offset)
            return io.BufferedReader(_Slice(file, size)), size
        except BaseException:
            file.close()
            raise

    def check_listed(self, names: Iterable[str]) -> None:
        """Refuse a member that is neither ``restore.py`` nor one of *names*.

        :param names: the data files of ``FILES`` and ``media/NAME`` for each
            file of ``MEDIA``.
        :raises DumpFormatError: naming the members ``FILES`` and ``MEDIA``
            do not list.
        """
        expected = {"restore.py", *names}
        extra = [name for name in self.members if name not in expected]
        if extra:
            msg = (
                f"the archive holds {', '.join(map(repr, extra[:5]))}, which FILES "
                "and MEDIA do not list: an archive of a dump holds restore.py, the "
                "data files of FILES and the media files of MEDIA (under media/) "
                "only. Restore from an intact copy"
            )
            raise DumpFormatError(self.location, msg)


def locate_dump(path: Path | str) -> Path:
    """Return the ``restore.py`` of the dump at *path*, its directory or the file.

    An archive of a dump (``dump2py --archive``) is returned as it is (#15).

    :raises DumpNotFoundError: when *path* does not exist, is a directory
        without ``restore.py`` or a data file of a dump (#14).
    """
    path = Path(path)
    if is_archive(path):
        return path
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


class _Slice(io.RawIOBase):
    """*size* bytes of *file* from its current position, seekable within them.

    Seekable, so that a media file can be measured, then read again, and
    given to a storage that asks for its size (#15).
    """

    def __init__(self, file: BufferedReader, size: int) -> None:
        self.file, self.start, self.size, self.at = file, file.tell(), size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.at, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            msg = f"negative seek position {base + offset}"
            raise ValueError(msg)
        self.at = base + offset
        self.file.seek(self.start + min(self.at, self.size))
        return self.at

    def readinto(self, buffer: Any) -> int:
        data = self.file.read(min(len(buffer), max(self.size - self.at, 0)))
        buffer[: len(data)] = data
        self.at += len(data)
        return len(data)

    def close(self) -> None:
        self.file.close()
        super().close()
