"""The layout of a dump: what ``restore.py`` records and how data files begin.

Both sides share this module: the dumper writes what it describes, the
reader, the restore, the comparison and the upgrade read it. It knows no
Django: a model is named by its label, a field by its attname and value type.

A dump directory holds ``restore.py`` (the metadata assignments of
:data:`METADATA`, the hooks, the entry point) and one or more data files per
model, named by :func:`data_file_name`, each opened by :func:`data_header`;
:func:`metadata_problems` says how a ``restore.py`` differs from this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lino_migrate
from lino_migrate.format.compression import uncompressed_name
from lino_migrate.format.media import MEDIA_METADATA

__all__ = [
    "CONTENT_TYPE",
    "FORMAT",
    "KEY_OF_LABEL",
    "METADATA",
    "NATURAL_KEYS",
    "NATURAL_KEY_MODELS",
    "PERMISSION",
    "FieldInfo",
    "FileEntry",
    "ModelInfo",
    "base_name",
    "data_file_name",
    "data_header",
    "format_literal",
    "header_comment",
    "metadata_problems",
    "render_restore_script",
    "rows_per_model",
    "unaccounted_models",
    "written_when",
]

#: Version of the dump format; bumped on any change a reader must know of.
FORMAT = 1

CONTENT_TYPE = "contenttypes.contenttype"
PERMISSION = "auth.permission"

#: Models whose rows a dump holds by natural key, without their ids: the ids
#: differ from database to database, the natural keys do not.
NATURAL_KEYS = {
    CONTENT_TYPE: ("app_label", "model"),
    PERMISSION: ("content_type_id", "codename"),
}
NATURAL_KEY_MODELS = tuple(NATURAL_KEYS)

#: The natural key of a content type's own row, and of a permission's.
KEY_OF_LABEL = {
    CONTENT_TYPE: ("contenttypes", "contenttype"),
    PERMISSION: ("auth", "permission"),
}


@dataclass(frozen=True)
class FieldInfo:
    """One stored column of a model."""

    name: str
    attname: str
    column: str
    type: str
    null: bool
    target: str | None

    def as_literal(self) -> tuple[Any, ...]:
        """Return the tuple written into ``SCHEMA``."""
        return (self.name, self.attname, self.column, self.type, self.null, self.target)

    @classmethod
    def from_literal(cls, value: Sequence[Any]) -> FieldInfo:
        """Return the field described by a ``SCHEMA`` tuple."""
        name, attname, column, type_, null, target = value
        return cls(name, attname, column, type_, bool(null), target)


@dataclass(frozen=True)
class ModelInfo:
    """The table of one concrete model and its stored columns."""

    label: str
    table: str
    pk: tuple[str, ...]
    fields: tuple[FieldInfo, ...]

    @property
    def attnames(self) -> tuple[str, ...]:
        """Return the attnames of the stored columns, in order."""
        return tuple(f.attname for f in self.fields)

    def as_literal(self) -> dict[str, Any]:
        """Return the dict written into ``SCHEMA``."""
        return {
            "table": self.table,
            "pk": self.pk,
            "fields": tuple(f.as_literal() for f in self.fields),
        }

    @classmethod
    def from_literal(cls, label: str, value: dict[str, Any]) -> ModelInfo:
        """Return the model described by a ``SCHEMA`` entry."""
        fields = tuple(FieldInfo.from_literal(f) for f in value["fields"])
        return cls(label, value["table"], tuple(value["pk"]), fields)


@dataclass(frozen=True)
class FileEntry:
    """One data file as ``restore.py`` records it in ``FILES``."""

    model: str
    name: str
    rows: int
    sha256: str

    def as_literal(self) -> tuple[str, str, int, str]:
        """Return the tuple written into ``FILES``."""
        return (self.model, self.name, self.rows, self.sha256)

    @classmethod
    def from_literal(cls, value: Sequence[Any]) -> FileEntry:
        """Return the file described by a ``FILES`` tuple.

        :raises TypeError: when a value is not of the type written.
        :raises ValueError: when the tuple has not four values.
        """
        model, name, rows, sha256 = value
        if not (type(model) is type(name) is type(sha256) is str and type(rows) is int):
            msg = f"expected (model, file name, rows, sha256), found {value!r:.200}"
            raise TypeError(msg)
        return cls(model, name, rows, sha256)


def rows_per_model(entries: Iterable[FileEntry]) -> dict[str, int]:
    """Return the rows of the data files *entries*, summed per model label."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.model] = counts.get(entry.model, 0) + entry.rows
    return counts


def base_name(label: str) -> str:
    """Return the file name stem of the data files of model *label*."""
    return label.replace(".", "_")


def data_file_name(label: str, number: int) -> str:
    """Return the name of the *number*-th data file of model *label*, from 1."""
    stem = base_name(label)
    return f"{stem}.py" if number == 1 else f"{stem}_{number}.py"


_LABEL = re.compile(r"\w+\.\w+")
_CHUNK_SUFFIX = re.compile(r"(?:_[1-9][0-9]*)?\.py(?:\.gz|\.xz|\.zst)?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def metadata_problems(
    schema: Mapping[str, ModelInfo], files: Sequence[FileEntry], skipped: object
) -> list[str]:
    """Return what makes ``SCHEMA``, ``FILES`` and ``SKIPPED`` unlike a dump's.

    A model that ``--tolerate`` skipped is in ``SKIPPED`` only. Data files
    have the names :func:`data_file_name` gives, with the suffix of a
    compression or none (:mod:`lino_migrate.format.compression`), each
    listed once: a name is never a path. See :func:`unaccounted_models` too.
    """
    problems = [p for info in schema.values() if (p := _model_problem(info))]
    names: set[str] = set()
    for entry in files:
        problem = _entry_problem(entry, schema, names)
        if problem:
            problems.append(problem)
        names.add(uncompressed_name(entry.name))
    if not isinstance(skipped, dict):
        problems.append(f"SKIPPED is {skipped!r:.100}, not a dict of model labels")
    elif both := [label for label in skipped if label in schema]:
        problems.append(
            f"SKIPPED names {', '.join(map(str, both))}, which SCHEMA describes "
            "too: a skipped model has no data file"
        )
    return problems


def unaccounted_models(
    schema: Mapping[str, ModelInfo], files: Sequence[FileEntry]
) -> list[str]:
    """Return the models of ``SCHEMA`` that no data file of ``FILES`` holds.

    A dump lists a data file for every model of ``SCHEMA``, an empty one for
    a model without rows: a restore empties the table of every model it
    covers, so a model without a file would lose its rows.
    """
    listed = {entry.model for entry in files}
    return [label for label in schema if label not in listed]


def _model_problem(info: ModelInfo) -> str:
    texts = [info.table, *info.pk]
    for f in info.fields:
        texts += [f.name, f.attname, f.column, f.type]
    problem = ""
    if type(info.label) is not str or not _LABEL.fullmatch(info.label):
        problem = "is not a model label (app_label.model)"
    elif not all(type(t) is str for t in texts) or not all(
        f.target is None or type(f.target) is str for f in info.fields
    ):
        problem = "has a name that is not a string"
    elif len(set(info.attnames)) != len(info.attnames):
        problem = "lists a field twice"
    elif not info.pk or not set(info.pk) <= set(info.attnames):
        problem = f"has a primary key {info.pk!r:.100} that is not one of its fields"
    return problem and f"SCHEMA entry {info.label!r:.100} {problem}"


def _entry_problem(
    entry: FileEntry, schema: Mapping[str, ModelInfo], names: set[str]
) -> str:
    where = f"FILES names {entry.name!r:.100}"
    if entry.model not in schema:
        return f"FILES names model {entry.model!r:.100}, which SCHEMA does not describe"
    stem = base_name(entry.model)
    suffix = entry.name[len(stem) :] if entry.name.startswith(stem) else ""
    if not _CHUNK_SUFFIX.fullmatch(suffix):
        return (
            f"{where}, not a data file of {entry.model} ({stem}.py or "
            f"{stem}_N.py, with .gz, .xz or .zst when compressed)"
        )
    if uncompressed_name(entry.name) in names:
        return f"{where} twice: each data file is loaded once"
    if entry.rows < 0:
        return f"{where} with {entry.rows} rows: a row count is not negative"
    if not _SHA256.fullmatch(entry.sha256):
        return f"{where} with sha256 {entry.sha256!r:.100}: not 64 hex digits"
    return ""


def data_header(info: ModelInfo) -> str:
    """Return the lines that open every data file of *info*'s model."""
    return (
        f"# Generated by lino_migrate {lino_migrate.__version__}: rows of "
        f"{info.label} (table {info.table}).\n"
        f"MODEL = {info.label!r}\n"
        f"COLUMNS = {info.attnames!r}\n"
        "ROWS = (\n"
    )


def _literal(name: str, value: object) -> str:
    return f"{name} = {format_literal(value)}\n"


def format_literal(value: object, indent: str = "") -> str:
    """Return *value* as Python source, one leaf item per line.

    Dicts (in insertion order) and tuples holding containers open one line per item;
    other values are written with :func:`repr`. The result is deterministic
    and :func:`ast.literal_eval` reads it back.
    """
    inner = indent + "    "
    if isinstance(value, dict) and value:
        items = "".join(
            f"{inner}{key!r}: {format_literal(value[key], inner)},\n" for key in value
        )
        return "{\n" + items + indent + "}"
    if isinstance(value, tuple | list) and any(
        isinstance(v, dict | tuple | list) for v in value
    ):
        items = "".join(f"{inner}{format_literal(v, inner)},\n" for v in value)
        opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        return opening + "\n" + items + indent + closing
    return repr(value)


#: The metadata assignments of ``restore.py``, in order.
METADATA = (
    "FORMAT", "CREATED", "DJANGO", "ENGINE", "PARTIAL", "SKIPPED",
    "VERSIONS", "MIGRATIONS", "SCHEMA", "FILES",
)  # fmt: skip


def header_comment(created: str | None, copied_code: bool = False) -> str:
    """Return the first line of ``restore.py``: what wrote it, and when.

    :param created: the time it was written, or ``None`` when none is recorded.

    :param copied_code: whether the file holds code that was not generated
        (``upgradedump`` keeps a person's code): the line then says so, so
        that it never vouches for code it did not write (#12).
    """
    line = f"# Generated by lino_migrate {lino_migrate.__version__}"
    if created is not None:
        line += f" on {created}"
    if copied_code:
        return line + (
            "; the code outside the metadata was copied from the dump it was "
            "upgraded from, not generated: read it before running this file."
        )
    return line + "."


def written_when(created: object) -> str:
    """Return when a dump was written, as a sentence part: ``written ...``."""
    if created is None:
        return "written at a time not recorded"
    return f"written {created}"


def render_restore_script(meta: dict[str, Any]) -> str:
    """Return the source of ``restore.py`` for a dump described by *meta*.

    *meta* holds the values of ``FORMAT``, ``CREATED``, ``DJANGO``,
    ``ENGINE``, ``PARTIAL``, ``SKIPPED``, ``VERSIONS``, ``MIGRATIONS``,
    ``SCHEMA`` and ``FILES``, and may hold ``MEDIA`` and ``MEDIA_MISSING``
    (:mod:`lino_migrate.format.media`).
    """
    body = "".join(_literal(name, meta[name]) for name in METADATA)
    # A dump with media files (dump2py --media) records them after FILES.
    body += "".join(
        _literal(name, meta[name]) for name in MEDIA_METADATA if name in meta
    )
    return (
        header_comment(meta["CREATED"]) + "\n"
        '"""Restore this dump: python manage.py run DIR/restore.py [--noinput].\n'
        "\n"
        "The assignments below describe the dump and are read without running\n"
        "this file. The hooks may be edited: regenerating this file keeps them.\n"
        '"""\n'
        "\n" + body + _HOOKS
    )


_HOOKS = '''

def before_restore(ctx):
    """Run inside the restore transaction, before any row is written."""


def after_restore(ctx):
    """Run inside the restore transaction, after the last row is written."""


if __name__ == "__main__":
    from lino_migrate.restore import main

    main(__file__, globals())
'''
