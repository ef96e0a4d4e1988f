"""The files that the dumped rows name, copied into the dump (``dump2py --media``).

Every ``FileField`` (``ImageField`` included) of a dumped model names a file
in its storage (``field.storage``). The names are read in the dump's read
transaction, so they are those of the rows dumped; each file is read through
its storage and written to ``media/NAME`` inside the dump, hashed as written.
A name that is absolute or holds ``..`` is never followed; a file its storage
lacks is listed (:class:`~lino_migrate.format.media.MissingMedia`) and,
unless ``--tolerate``, refuses the dump.

.. versionadded:: 0.4
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import models

from lino_migrate.format.media import (
    MEDIA_DIRECTORY,
    MediaEntry,
    MissingMedia,
    measure,
    name_problem,
)
from lino_migrate.schema import model_label

if TYPE_CHECKING:
    from django.core.files.storage import Storage

__all__ = ["MediaCopy", "copy_media", "file_fields"]

#: Bytes copied at a time.
BLOCK = 1 << 20


@dataclass
class MediaCopy:
    """The media files of a dump: those copied and those missing."""

    entries: dict[str, MediaEntry] = field(default_factory=dict)
    missing: list[MissingMedia] = field(default_factory=list)
    #: the storage each copied file was read from, by name
    storages: dict[str, Storage] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """Return the ``MEDIA`` and ``MEDIA_MISSING`` assignments of ``restore.py``."""
        return {
            "MEDIA": tuple(self.entries[n].as_literal() for n in sorted(self.entries)),
            "MEDIA_MISSING": tuple(m.as_literal() for m in self.missing),
        }


def file_fields(model: type[models.Model]) -> list[models.FileField]:
    """Return the ``FileField``\\ s stored in *model*'s own table."""
    return [
        f for f in model._meta.local_concrete_fields if isinstance(f, models.FileField)
    ]


def copy_media(
    work: Path, models_: Iterable[type[models.Model]], using: str
) -> MediaCopy:
    """Copy the files the rows of *models_* name into ``work/media``.

    Call it inside the dump's read transaction: the names are those of the
    rows the dump holds.

    :raises OSError: when a file of the dump cannot be written.
    """
    copy = MediaCopy()
    for model in models_:
        for file_field in file_fields(model):
            for pk, name in _names(model, file_field, using):
                _copy_one(work, copy, model_label(model), pk, file_field, name)
    return copy


def _names(
    model: type[models.Model], file_field: models.FileField, using: str
) -> Iterator[tuple[Any, str]]:
    """Yield ``(pk, stored name)`` of every row of *model* naming a file."""
    rows = (
        model._base_manager.using(using)
        .exclude(**{f"{file_field.attname}__isnull": True})
        .exclude(**{file_field.attname: ""})
        .order_by("pk")
        .values_list("pk", file_field.attname)
    )
    yield from rows.iterator(chunk_size=2000)


def _copy_one(
    work: Path,
    copy: MediaCopy,
    label: str,
    pk: Any,
    file_field: models.FileField,
    name: str,
) -> None:
    """Copy the file *name* of one row, or list it as missing."""
    storage = file_field.storage
    why = name_problem(name)
    ref = (label, file_field.name)
    if not why and name in copy.entries:
        why = _same_file(copy, name, storage)
        if not why:
            _add_ref(copy, name, ref)
            return
    if not why:
        why = _copy_file(work, copy, name, storage, ref)
    if why:
        copy.missing.append(MissingMedia(label, pk, file_field.name, name, why))


def _add_ref(copy: MediaCopy, name: str, ref: tuple[str, str]) -> None:
    entry = copy.entries[name]
    if ref not in entry.refs:
        refs = tuple(sorted({*entry.refs, ref}))
        copy.entries[name] = MediaEntry(entry.name, entry.size, entry.sha256, refs)


def _same_file(copy: MediaCopy, name: str, storage: Storage) -> str:
    """Return why *name* in *storage* is not the file already copied, or ``""``."""
    if copy.storages[name] is storage:
        return ""
    try:
        with storage.open(name, "rb") as source:
            digest = measure(source)[1]
    except OSError as e:
        return f"cannot be read from its storage: {e.strerror or e}"
    if digest != copy.entries[name].sha256:
        return (
            "another storage holds a different file of the same name, copied "
            "first; a dump keeps one file per name"
        )
    return ""


def _copy_file(
    work: Path, copy: MediaCopy, name: str, storage: Storage, ref: tuple[str, str]
) -> str:
    """Copy *name* from *storage* into the dump; return why not, or ``""``."""
    try:
        if not storage.exists(name):
            return f"not found in its storage ({_describe(storage)})"
        source = storage.open(name, "rb")
    except OSError as e:
        return f"cannot be read from its storage: {e.strerror or e}"
    target = work / MEDIA_DIRECTORY / name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with source, target.open("xb") as out:
        while block := source.read(BLOCK):
            digest.update(block)
            out.write(block)
            size += len(block)
    copy.entries[name] = MediaEntry(name, size, digest.hexdigest(), (ref,))
    copy.storages[name] = storage
    return ""


def _describe(storage: Storage) -> str:
    """Return which storage *storage* is: its class, and its root if it has one."""
    where = getattr(storage, "location", None)
    kind = storage.__class__.__name__  # a LazyObject (default_storage) passes it on
    return f"{kind} at {where}" if isinstance(where, str) and where else kind
