"""The media files of a dump put back into their storages (``--media``, #15).

A restore with ``--media``:

1. verifies every file of the dump's ``MEDIA`` (a regular file under
   ``media/`` of its directory or of its archive, its size and sha256)
   before the first write to the database;
2. while the rows are loaded, learns which files the restored rows name and
   in which storage (``field.storage`` of the current model): a migrator that
   changes the value of a ``FileField`` renames the file, which follows the
   row (matched by model and primary key);
3. inside the transaction, before it commits, refuses a file whose name is
   taken in its storage by a different file, unless *overwrite*: the refusal
   rolls the restore back;
4. writes the files once the transaction has committed
   (:func:`django.db.transaction.on_commit`): a restore that fails writes none.
   A file that cannot be written then is listed in
   :attr:`MediaReport.failures`; running the same restore again writes it.

.. versionadded:: 0.4
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from io import BufferedReader
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.files import File
from django.db import models

from lino_migrate.exceptions import ChecksumError, DumpFormatError, MediaConflictError
from lino_migrate.format.media import MEDIA_DIRECTORY, measure, read_media
from lino_migrate.restore.plan import UpgradePlan
from lino_migrate.restore.reader import DumpMeta

if TYPE_CHECKING:
    from django.core.files.storage import Storage

__all__ = ["MediaReport", "MediaRestore"]

#: The field types whose values name media files, as ``SCHEMA`` records them.
FILE_TYPES = ("FileField", "ImageField")
Row = dict[str, Any]


@dataclass
class MediaReport:
    """What a restore did with the dump's media files."""

    #: files written into their storage
    written: list[str] = field(default_factory=list)
    #: files already in their storage with the same bytes, left as they were
    kept: list[str] = field(default_factory=list)
    #: names that restored rows hold but the dump has no file for
    absent: list[str] = field(default_factory=list)
    #: files that could not be written after the commit, with why
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return one line: files written, kept, absent."""
        line = f"Media: wrote {len(self.written)}, kept {len(self.kept)} identical"
        if self.absent:
            line += f"; {len(self.absent)} named by rows but not in the dump"
        return line + "."


@dataclass
class _Write:
    """One file to write: from the dump's *source* to *name* in *storage*."""

    storage: Storage
    name: str
    source: str
    #: the file there is identical: nothing to write
    identical: bool = False


class MediaRestore:
    """The media files of one restore, from verification to writing.

    :param meta: the dump.
    :param overwrite: replace a different file of the same name in a storage.
    :raises DumpFormatError: when the dump has no ``MEDIA`` or a bad one.
    """

    def __init__(self, meta: DumpMeta, *, overwrite: bool = False) -> None:
        """Read the dump's ``MEDIA``."""
        script = meta.script
        if "MEDIA" not in meta.values:
            msg = (
                "the dump holds no media files: it was written without "
                "dump2py --media. Restore it without --media"
            )
            raise DumpFormatError(script, msg)
        entries, problems = read_media(meta.values)
        if problems:
            listed = "".join(f"\n- {p}" for p in problems)
            msg = f"MEDIA does not describe the media files of a dump:{listed}"
            raise DumpFormatError(script, msg)
        self.meta, self.overwrite = meta, overwrite
        self.entries = {entry.name: entry for entry in entries}
        self.report = MediaReport()
        self._writes: dict[tuple[int, str], _Write] = {}
        #: (current label, pk) -> {attname: name} of dumped rows with files
        self._before: dict[tuple[str, Any], dict[str, str]] = {}
        self._upgrade: UpgradePlan | None = None

    def verify(self) -> None:
        """Check every media file: a regular file of the recorded size and sha256.

        The files are read from the dump's source: its directory, or its
        archive, in place (#15).

        :raises DumpFormatError: for a missing file, a link or a special file.
        :raises ChecksumError: for a file whose bytes differ.
        """
        for entry in self.entries.values():
            with self._open(entry.name) as file:
                size, digest = measure(file)
            path = self.meta.source.path(_member(entry.name))
            if digest != entry.sha256:
                raise ChecksumError(path, entry.sha256, digest)
            if size != entry.size:
                msg = f"holds {size} bytes, restore.py recorded {entry.size}"
                raise DumpFormatError(path, msg)

    def _open(self, name: str) -> BufferedReader:
        """Open the dump's file of *name*; never through a symbolic link."""
        return self.meta.source.open_raw(_member(name), "the media file")[0]

    def start(self, upgrade: UpgradePlan) -> None:
        """Use *upgrade* to find the current models of the rows loaded."""
        self._upgrade = upgrade

    def direct(
        self, label: str, batches: Iterable[list[tuple[Any, ...]]]
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Yield *batches* of model *label*, loaded as they are; note their files."""
        model = self._model(label)
        info = self.meta.schema[label]
        columns = [
            (index, f)
            for f in _file_fields(model)
            if (index := _index(info.attnames, f.attname)) is not None
        ]
        for batch in batches:
            for index, file_field in columns:
                for row in batch:
                    if row[index]:
                        self._note(file_field, row[index], row[index])
            yield batch

    def dumped(self, label: str, rows: Iterable[Row]) -> Iterator[Row]:
        """Yield the dumped *rows* of *label*, before the migrators; note their files."""
        info = self.meta.schema[label]
        names = [f.attname for f in info.fields if f.type in FILE_TYPES]
        current = self._upgrade.sources.get(label, label) if self._upgrade else label
        pk = info.pk[0]
        for row in rows:
            found = {n: row[n] for n in names if row.get(n)}
            if found:
                self._before[(current, row.get(pk))] = found
            yield row

    def migrated(self, rows: Iterable[tuple[str, Row]]) -> Iterator[tuple[str, Row]]:
        """Yield the migrated *rows*; note the files they name, renamed or not."""
        for label, row in rows:
            model = self._model(label)
            for file_field in _file_fields(model) if model else ():
                name = row.get(file_field.attname)
                if name:
                    source = self._source(label, row, model, file_field.attname, name)
                    self._note(file_field, name, source)
            yield label, row

    def _source(
        self, label: str, row: Row, model: Any, attname: str, name: str
    ) -> str | None:
        """Return the dump's file of the value *name*: itself, or its old name."""
        if name in self.entries:
            return name
        before = self._before.get((label, row.get(model._meta.pk.attname)), {})
        if attname in before:
            return before[attname]
        return next(iter(before.values())) if len(before) == 1 else None

    def _model(self, label: str) -> Any:
        try:
            return apps.get_model(label)
        except (LookupError, ValueError):
            return None

    def _note(
        self, file_field: models.FileField, name: str, source: str | None
    ) -> None:
        """Plan writing the dump's file *source* as *name* in the field's storage."""
        if source not in self.entries:
            if name not in self.report.absent:
                self.report.absent.append(name)
            return
        storage = file_field.storage
        self._writes.setdefault((id(storage), name), _Write(storage, name, str(source)))

    def check_targets(self) -> None:
        """Refuse a file whose name is taken by a different file, unless *overwrite*.

        Call it inside the transaction: the refusal rolls the restore back.

        :raises MediaConflictError: naming every such file.
        """
        conflicts = []
        for write in self._writes.values():
            found = _stored_digest(write.storage, write.name)
            write.identical = found == self.entries[write.source].sha256
            if found is not None and not write.identical and not self.overwrite:
                conflicts.append(f"{write.name} ({_describe(write.storage)})")
        if conflicts:
            raise MediaConflictError(conflicts)

    def write(self) -> None:
        """Write the files, once the transaction committed; list those that fail."""
        for write in self._writes.values():
            if write.identical:
                self.report.kept.append(write.name)
                continue
            try:
                self._write_one(write)
            except Exception as e:  # any storage error is listed, see MediaWriteError
                reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
                self.report.failures.append(f"{write.name}: {reason}")
            else:
                self.report.written.append(write.name)

    def _write_one(self, write: _Write) -> None:
        entry = self.entries[write.source]
        with self._open(entry.name) as source:
            if measure(source)[1] != entry.sha256:
                msg = "the file of the dump changed since it was verified"
                raise ValueError(msg)
            source.seek(0)
            if write.storage.exists(write.name):
                write.storage.delete(write.name)
            saved = write.storage.save(write.name, File(source))
        if saved != write.name:
            write.storage.delete(saved)
            msg = f"the storage saved it as {saved!r} (the name was taken meanwhile)"
            raise ValueError(msg)


def _file_fields(model: Any) -> list[models.FileField]:
    if model is None:
        return []
    return [
        f for f in model._meta.local_concrete_fields if isinstance(f, models.FileField)
    ]


def _index(names: tuple[str, ...], name: str) -> int | None:
    return names.index(name) if name in names else None


def _member(name: str) -> str:
    """Return the name of the media file *name* in the dump: ``media/NAME``."""
    return f"{MEDIA_DIRECTORY}/{name}"


def _stored_digest(storage: Storage, name: str) -> str | None:
    """Return the sha256 of *name* in *storage*, or None when it has no such file."""
    if not storage.exists(name):
        return None
    with storage.open(name, "rb") as file:
        return measure(file)[1]


def _describe(storage: Storage) -> str:
    where = getattr(storage, "location", None)
    kind = storage.__class__.__name__  # a LazyObject (default_storage) passes it on
    return f"{kind} at {where}" if isinstance(where, str) and where else kind
