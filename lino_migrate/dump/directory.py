"""Write a dump directory all at once: beside its target first, then renamed.

Both ``dump2py`` and ``upgradedump`` write a dump into a temporary directory
beside the target (same file system, so that a rename moves it), and swap it
into place at the end. A failed write leaves nothing behind; after a crash
during the swap, the target holds the old dump or the new one.

.. versionadded:: 0.1
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["move_into_place", "work_directory"]


@contextmanager
def work_directory(target: Path) -> Iterator[Path]:
    """Return a new, empty directory beside *target*; remove it on any failure.

    The parent of *target* is created if needed. The directory is hidden
    (``.NAME.xxxx``) and stays when the block succeeds: the block moves it
    into place with :func:`move_into_place`.

    .. versionadded:: 0.1
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def move_into_place(work: Path, target: Path) -> None:
    """Rename *work* to *target*, replacing an old *target* directory as a whole.

    The old directory is first renamed aside, then removed once *work* is in
    its place: no file of the old dump survives in the new one.

    .. versionadded:: 0.1
    """
    if not target.exists():
        work.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    old.rmdir()
    target.rename(old)
    work.rename(target)
    shutil.rmtree(old)
