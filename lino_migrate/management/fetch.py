"""A dump given on the command line: a local path, or a name in a storage (#15).

``restoredump --storage ALIAS NAME`` downloads the dump ``NAME`` from the
storage into a private temporary directory (mode ``0700``), removed at the
end, where it is verified and restored as a local dump. Only the files that
its ``restore.py`` lists are downloaded, each under a checked name; an
archive ``NAME.tar`` is downloaded as one file and read as an archive.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lino_migrate.exceptions import DumpFormatError
from lino_migrate.format.media import MEDIA_DIRECTORY, name_problem, read_media
from lino_migrate.restore.reader import locate_dump, read_meta
from lino_migrate.storage import StoragePlace, dump_name

__all__ = ["fetched"]


@contextmanager
def fetched(options: Mapping[str, Any]) -> Iterator[Path]:
    """Yield the ``restore.py`` (or archive) of the dump ``options["dump"]``.

    A dump in a storage is downloaded first (#15).

    :raises StorageError: for an unknown storage or an incomplete dump there.
    :raises DumpNotFoundError: for a local path that is not a dump.
    """
    if not options.get("storage"):
        yield locate_dump(options["dump"])
        return
    place = StoragePlace(options["storage"])
    try:
        name = dump_name(str(options["dump"]))
    except ValueError as e:
        raise DumpFormatError(Path(str(options["dump"])), str(e)) from e
    with tempfile.TemporaryDirectory(prefix="lino-migrate-") as scratch:
        media = bool(options.get("media"))
        yield place.fetch(name, Path(scratch), lambda s: _listed(s, media=media))


def _listed(script: Path, *, media: bool) -> list[str]:
    """Return the files of the dump *script* to download: data, and media if asked.

    :raises DumpFormatError: for a malformed ``restore.py`` or a bad name.
    """
    meta = read_meta(script)
    names = [entry.name for entry in meta.files]
    if media:
        entries, problems = read_media(meta.values)
        if problems:
            raise DumpFormatError(script, "; ".join(problems))
        names += [f"{MEDIA_DIRECTORY}/{entry.name}" for entry in entries]
    for name in names:
        if why := name_problem(name):
            raise DumpFormatError(script, f"lists the file {name!r:.100}: {why}")
    return names
