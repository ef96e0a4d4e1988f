"""Write a dump as one archive file (``dump2py --archive``), all at once (#15).

The dump is written as a directory first, into a private temporary
directory beside the target (:func:`~lino_migrate.dump.directory.temporary_directory`);
the archive is then built in that directory from ``restore.py``, the
data files of ``FILES`` and the media files of ``MEDIA``
(:mod:`lino_migrate.format.archive` says how),
flushed to disk, and renamed over the target in one step: after a crash the
target is the old archive or the new one, whole. The temporary directory
is removed at the end, or by the next dump into the same parent after a
crash. ``--overwrite`` replaces only an archive of a dump of this tool.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable
from pathlib import Path

from lino_migrate.dump.directory import check_target, checkpoint
from lino_migrate.format.archive import ARCHIVE_SUFFIX, archive_member, archive_name

__all__ = [
    "ARCHIVE_SUFFIX",
    "archive_name",
    "archive_path",
    "move_archive_into_place",
    "write_archive",
]

#: The name of the archive while it is built, in the temporary directory.
_BUILDING = ".archive.tar"


def archive_path(target: Path) -> Path:
    """Return the archive that ``dump2py --archive TARGET`` writes: ``TARGET.tar``.

    A *target* that ends in ``.tar`` already is the archive itself.
    """
    return target.with_name(archive_name(target.name))


def write_archive(work: Path, target: Path, names: Iterable[str]) -> Path:
    """Write the archive of the dump in *work* into *work*; return its path.

    The members are ``TOP/restore.py``, then ``TOP/NAME`` for each of
    *names* (data files, then ``media/FILE``), in that order, where ``TOP``
    is the name of *target* without ``.tar``. The file is flushed to disk
    before it is returned.
    """
    top = target.name.removesuffix(ARCHIVE_SUFFIX)
    building = work / _BUILDING
    fd = os.open(building, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            for name in ("restore.py", *names):
                with (work / name).open("rb") as member:
                    size = os.fstat(member.fileno()).st_size
                    tar.addfile(archive_member(top, name, size), member)
        raw.flush()
        os.fsync(raw.fileno())
    checkpoint("archived")
    return building


def move_archive_into_place(built: Path, target: Path, *, overwrite: bool) -> None:
    """Rename the archive *built* to *target*, replacing an old archive in one step.

    *target* is checked again first: it may have changed while the dump was
    written.

    :raises NotADumpError: when *target* is no longer absent or an archive of a dump.
    :raises DumpExistsError: when *target* is now one and *overwrite* is false.
    """
    check_target(target, overwrite=overwrite, archive=True)
    checkpoint("checked")
    os.replace(built, target)
    checkpoint("renamed")
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Flush the rename in *directory* to disk, where the system allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
