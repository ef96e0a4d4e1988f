"""What ``upgradedump`` writes besides the rows: ``restore.py``, compression, media.

The upgraded dump keeps the old ``restore.py`` with its metadata replaced
(a person's hooks survive), the compression of the old dump unless told
otherwise, and its media files, from and into a directory or an archive (#15).
"""

from __future__ import annotations

import hashlib
from io import BufferedReader
from pathlib import Path
from typing import Any, BinaryIO

import django
from django.db.migrations.loader import MigrationLoader

from lino_migrate.conf import creation_time
from lino_migrate.exceptions import ChecksumError, DumpFormatError, LinoMigrateError
from lino_migrate.format.compression import (
    CompressionError,
    compression_of,
    require_compression,
)
from lino_migrate.format.layout import FORMAT, FileEntry
from lino_migrate.format.media import BLOCK, MEDIA_DIRECTORY, read_media
from lino_migrate.restore.reader import DumpMeta
from lino_migrate.restore.safe import copied_code_warnings
from lino_migrate.restore.source import script_text
from lino_migrate.versions import app_versions

__all__ = ["KEEP", "copy_media", "output_compression", "write_script"]

#: Keep the compression of the dump being upgraded (#15).
KEEP = "keep"


def copy_media(meta: DumpMeta, work: Path) -> list[str]:
    """Copy the media files of *meta* into ``work/media``; return their names there.

    Each file of ``MEDIA`` is read from the dump's source (its directory or
    its archive), never through a link, and checked against its size and
    sha256 as it is copied: the upgraded dump holds the same files (#15).

    :return: ``media/NAME`` for each file, in the order of ``MEDIA``.
    :raises DumpFormatError: for a bad ``MEDIA``, a missing or special file.
    :raises ChecksumError: for a file whose bytes differ from ``MEDIA``.
    """
    entries, problems = read_media(meta.values)
    if problems:
        listed = "".join(f"\n- {p}" for p in problems)
        msg = f"MEDIA does not describe the media files of a dump:{listed}"
        raise DumpFormatError(meta.script, msg)
    names = []
    for entry in entries:
        name = f"{MEDIA_DIRECTORY}/{entry.name}"
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        raw, _size = meta.source.open_raw(name, "the media file")
        with raw, target.open("xb") as out:
            digest = _copy(raw, out)
        if digest != entry.sha256:
            raise ChecksumError(meta.source.path(name), entry.sha256, digest)
        names.append(name)
    return names


def _copy(source: BufferedReader, out: BinaryIO) -> str:
    """Copy *source* to *out*; return the sha256 of what was copied."""
    digest = hashlib.sha256()
    while block := source.read(BLOCK):
        digest.update(block)
        out.write(block)
    return digest.hexdigest()


def write_script(
    meta: DumpMeta, work: Path, schema: dict[str, Any], files: list[FileEntry]
) -> list[str]:
    """Write the new ``restore.py`` into *work*: the old one, metadata replaced.

    :return: the warnings: code copied from the old one, metadata not replaced.
    """
    # Imported here: libcst takes 0.3 s to import, which every dump2py, run
    # and restoredump would pay for nothing (they import this module).
    from lino_migrate.rewrite.restore_script import replace_metadata

    # script_text() reads bytes: universal newlines would turn CRLF into LF.
    source = script_text(meta.source, meta.script_name)
    copied = copied_code_warnings(meta.script, source)
    values = _metadata(meta, schema, files)
    rewritten = replace_metadata(source, values, copied_code=bool(copied))
    (work / "restore.py").write_bytes(rewritten.code.encode("utf-8"))
    return rewritten.warnings + copied


def output_compression(meta: DumpMeta, compress: str | None) -> str | None:
    """Return the compression to write: *compress*, or with KEEP that of *meta*.

    A dump written by this tool compresses all its data files alike; with
    KEEP, the first file's compression is kept.

    :raises LinoMigrateError: for a compression this Python cannot write.
    """
    if compress == KEEP:
        compress = compression_of(meta.files[0].name) if meta.files else None
    try:
        require_compression(compress)
    except CompressionError as e:
        raise LinoMigrateError(str(e)) from e
    return compress


def _metadata(
    meta: DumpMeta, schema: dict[str, Any], files: list[FileEntry]
) -> dict[str, Any]:
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves: dict[str, list[str]] = {}
    for app, name in sorted(graph.leaf_nodes()):
        leaves.setdefault(app, []).append(name)
    return {
        "FORMAT": FORMAT,
        "CREATED": creation_time(),
        "DJANGO": django.__version__,
        "ENGINE": meta.values["ENGINE"],
        "PARTIAL": meta.partial,
        "SKIPPED": meta.values["SKIPPED"],
        "VERSIONS": app_versions(),
        "MIGRATIONS": {app: tuple(names) for app, names in leaves.items()},
        "SCHEMA": schema,
        "FILES": tuple(e.as_literal() for e in files),
    }
