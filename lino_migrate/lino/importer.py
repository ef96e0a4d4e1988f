"""Write a dump of lino_migrate from a dump of Lino's ``dump2py`` (``importlinodump``).

The Lino dump is read without running it (:mod:`lino_migrate.lino.linodump`);
each ``loader.save(create_<table>(...))`` becomes a row of the model the
create function makes, its values keyed by the attnames of its
``kw.update(...)`` lines, converted as the function converts them:

* ``Decimal(x)``: the text of a decimal;
* ``new_content_type_id(x)``: a model name, written as the natural key
  ``(app_label, model)`` of its content type, as a dump of lino_migrate
  writes every reference to a content type;
* ``bv2kw('name', x)``: a list of texts, one per language of the dump,
  given to the columns ``name``, ``name_de``, ... of the current site
  (:func:`~lino_migrate.lino.linosite.language_suffixes`);
* ``create_mti_child(Parent, ptr, Child, **kw)``: a row of the child's own
  table, its parent link set to ``ptr``; the parent's row comes from the
  parent's own data file.

``SCHEMA`` describes each model by the current model's fields that the Lino
dump has; a field the current model lacks gets a value type inferred from its
create function or its values (reported), and so does a model the current
code lacks. Versions follow :mod:`lino_migrate.lino.linosite`. Everything is
read and converted, every problem collected, before anything is written; the
dump is then written beside its target and renamed into place. The rows of
the whole Lino dump are held in memory while they are sorted by primary key.

.. versionadded:: 0.3
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from lino_migrate.conf import DEFAULT_MAX_ROW_COUNT
from lino_migrate.dump.directory import (
    move_into_place,
    prepare_target,
    work_directory,
    writing,
)
from lino_migrate.dump.writer import FileWriter
from lino_migrate.exceptions import LinoDumpError, LinoMigrateError, plural
from lino_migrate.format.layout import (
    FORMAT,
    FileEntry,
    render_restore_script,
    rows_per_model,
)
from lino_migrate.lino.linodata import Call, read_calls
from lino_migrate.lino.linodump import LinoDump, read_lino_dump
from lino_migrate.lino.linosite import (
    AppVersions,
    language_suffixes,
    parse_app_versions,
    versions_of,
)
from lino_migrate.lino.linotables import Table, TableBuilder
from lino_migrate.schema import model_label, sort_models

__all__ = ["ImportResult", "import_lino_dump"]

Progress = Callable[[str, int], None]


@dataclass
class ImportResult:
    """What ``importlinodump`` read and wrote."""

    path: Path
    source_version: str | None
    languages: tuple[str, ...]
    versions: AppVersions
    files: list[FileEntry] = field(default_factory=list)
    #: assumptions and losses, for the report (fields inferred, languages dropped)
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> dict[str, int]:
        """Return the number of rows written per model label."""
        return rows_per_model(self.files)


def import_lino_dump(
    source: Path | str,
    target: Path | str,
    *,
    overwrite: bool = False,
    max_row_count: int = DEFAULT_MAX_ROW_COUNT,
    app_versions: Sequence[str] = (),
    source_package: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Write *target*, a dump of lino_migrate holding the rows of the Lino dump *source*.

    :param app_versions: ``APP=VERSION`` items that override the version an
        app gets (``--app-version``).
    :param source_package: the top-level package whose version is the dump's
        ``SOURCE_VERSION`` (default: that of the Lino ``Site`` class).
    :raises LinoDumpError: listing every construct of *source* that cannot
        be read, or a value that does not fit its field; nothing is written.
    :raises DumpExistsError: when *target* exists and *overwrite* is false.
    :raises LinoMigrateError: for a bad option.
    """
    source, target = Path(source), Path(target)
    if max_row_count < 1:
        msg = f"--max-row-count must be at least 1, not {max_row_count}."
        raise LinoMigrateError(msg)
    overrides = parse_app_versions(app_versions)
    prepare_target(target, overwrite=overwrite, progress=progress)
    dump = read_lino_dump(source)
    versions = versions_of(dump, overrides, source_package)
    result = ImportResult(target, dump.source_version, dump.languages, versions)
    tables = _read_tables(dump, result, progress)
    with writing(target), work_directory(target) as work:
        schema = _write_tables(work, tables, max_row_count, result, progress)
        meta = _metadata(versions.versions, schema, result.files)
        script = render_restore_script(meta)
        header, _, rest = script.partition("\n")
        provenance = (
            f"# Imported by importlinodump from the Lino dump '{source}' "
            f"(SOURCE_VERSION {dump.source_version!r}), without running its code.\n"
        )
        (work / "restore.py").write_text(
            f"{header}\n{provenance}{rest}", encoding="utf-8"
        )
        move_into_place(work, target, overwrite=overwrite)
    return result


def _read_tables(
    dump: LinoDump, result: ImportResult, progress: Progress | None
) -> list[Table]:
    """Return the tables of *dump*, rows converted; raise listing every problem."""
    suffixes, dropped = language_suffixes(dump.languages)
    if dropped:
        result.notes.append(
            f"The values in {', '.join(dropped)} of babel fields are dropped: the "
            "site has no such language (Lino's own restore drops them too)."
        )
    builder = TableBuilder(dump, suffixes, aware=settings.USE_TZ)
    for name in dump.files:
        count = 0
        for item in read_calls(dump.directory, name):
            if isinstance(item, Call):
                builder.add(item)
                count += 1
            else:
                builder.problems.append(item)
        if progress:
            progress(f"Read {plural(count, 'row')} from {name}.", 3)
    tables = builder.finish(dump.files)
    result.notes += builder.notes
    if builder.problems:
        raise LinoDumpError(dump.directory, builder.problems)
    return tables


def _write_tables(
    work: Path,
    tables: list[Table],
    max_row_count: int,
    result: ImportResult,
    progress: Progress | None,
) -> dict[str, Any]:
    """Write the data files of *tables* in load order; return ``SCHEMA``."""
    by_label = {t.label: t for t in tables}
    known = sort_models([t.model for t in tables if t.model is not None])
    order = [model_label(m) for m in known]
    order += sorted(label for label in by_label if label not in order)
    writer = FileWriter(work, max_row_count)
    schema: dict[str, Any] = {}
    for label in order:
        table = by_label[label]
        assert table.info is not None
        entries = writer.write(table.info, table.rows)
        schema[label] = table.info.as_literal()
        if progress:
            rows = sum(e.rows for e in entries)
            progress(
                f"{label}: {plural(rows, 'row')} in {plural(len(entries), 'file')}", 2
            )
    result.files = writer.entries
    return schema


def _metadata(
    versions: Mapping[str, str], schema: dict[str, Any], files: list[FileEntry]
) -> dict[str, Any]:
    return {
        "FORMAT": FORMAT,
        "CREATED": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        # A Lino dump records neither the Django nor the database it came from.
        "DJANGO": None,
        "ENGINE": None,
        "PARTIAL": False,
        "SKIPPED": {},
        "VERSIONS": dict(versions),
        "MIGRATIONS": {},
        "SCHEMA": schema,
        "FILES": tuple(e.as_literal() for e in files),
    }
