"""Write rows into tables: bulk inserts in one transaction, no ``save()``.

Each batch is inserted under a savepoint. When a batch fails, its rows are
inserted again one by one to name the offending row; the caller's atomic
block then rolls everything back. Before that, the values of a batch are
checked against their columns' value types: a value of the wrong type is
refused with its model, row and field, never sent to the database (#12).
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import InvalidValueError, LoadError
from lino_migrate.format.codec import Converter, compose, literal_decoder
from lino_migrate.format.layout import KEY_OF_LABEL, FieldInfo, ModelInfo
from lino_migrate.naturalkeys import generic_key_columns
from lino_migrate.restore.preparers import (
    ValueCheck,
    db_preparer,
    find_bad_values,
    literal_preparer,
    value_check,
)

__all__ = ["CopyData", "DryRun", "TableLoader", "delete_rows"]

#: What stands in for the database in a dry run: (loader, rows, file name).
DryRun = Callable[["TableLoader", Sequence[tuple[Any, ...]], str], None]


@dataclass(frozen=True)
class CopyData:
    """A batch of rows as the text that PostgreSQL's ``COPY FROM STDIN`` takes.

    What a worker process of ``--jobs`` sends in place of the parameters, so
    that the writing process only passes bytes on (#16). Its length is its
    number of rows.
    """

    rows: int
    data: bytes

    def __len__(self) -> int:
        return self.rows


@dataclass
class TableLoader:
    """Insert the rows of one dumped model into its current table.

    :param dumped: the model as the dump describes it (column order of rows).
    :param remaps: per attname, the map from natural key to id of the model
        that column points to (content types and permissions).
    :param natural_ids: per natural-key model label, its natural key -> id map,
        for generic foreign keys whose object is a content type or permission.
    :param decoded: rows hold Python values (migrated rows), not dump literals.
    :param violations: when a list (rehearsal), a refused row is recorded there
        and skipped instead of ending the restore.
    :param dry_run: when set (``dumpplan``), a batch is checked and converted
        but not written: this function gets the loader, the rows that passed
        and the file name, in place of the database (#12).
    """

    model: type[models.Model]
    dumped: ModelInfo
    connection: BaseDatabaseWrapper
    remaps: dict[str, dict[Any, Any]]
    natural_ids: dict[str, dict[Any, Any]] = field(default_factory=dict)
    decoded: bool = False
    violations: list[LoadError] | None = None
    dry_run: DryRun | None = None

    def __post_init__(self) -> None:
        opts = self.model._meta
        current = {f.attname: f for f in opts.local_concrete_fields}
        self.columns = [current[f.attname] for f in self.dumped.fields]
        self.converters = [
            (i, conv)
            for i, conv in enumerate(
                self._converter(info, field)
                for info, field in zip(self.dumped.fields, self.columns, strict=True)
            )
            if conv is not None
        ]
        self.generic_keys = [
            (ct, oid, text, KEY_OF_LABEL[label], ids)
            for ct, oid, text in generic_key_columns(self.model, self.dumped.attnames)
            for label, ids in self.natural_ids.items()
        ]
        self.checks = self._value_checks()
        attnames = self.dumped.attnames
        self.pk_indexes = [attnames.index(a) for a in self.dumped.pk if a in attnames]
        self.label = self.dumped.label
        self.written = 0

    def _value_checks(self) -> list[tuple[int, ValueCheck]]:
        """Return the check of each column whose value type is known."""
        objects = {oid for _ct, oid, *_ in self.generic_keys}
        found = []
        for i, info in enumerate(self.dumped.fields):
            keys = info.attname in self.remaps or i in objects
            check = value_check(info.type, decoded=self.decoded, keys=keys)
            if check is not None:
                found.append((i, check))
        return found

    def pk_of(self, row: tuple[Any, ...]) -> Any:
        """Return the primary key of *row*: a tuple for a composite one."""
        if len(self.pk_indexes) == 1:
            return row[self.pk_indexes[0]]
        return tuple(row[i] for i in self.pk_indexes) or None

    def _converter(self, info: FieldInfo, field: models.Field[Any, Any]) -> Converter:
        remap = self.remaps.get(field.attname)
        lookup = (
            None if remap is None else (lambda v: remap[v] if type(v) is tuple else v)
        )
        if self.decoded:
            return compose(lookup, db_preparer(field, self.connection))
        if lookup is None:
            return literal_preparer(info.type, field, self.connection)
        decode = literal_decoder(info.type)
        return compose(decode, lookup, db_preparer(field, self.connection))

    def convert(self, rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Return *rows* (dump literals) as driver parameters."""
        if not self.converters and not self.generic_keys:
            return list(rows)
        out = []
        converters, generic_keys = self.converters, self.generic_keys
        for row in rows:
            values = list(row)
            for ct, oid, text, own_key, ids in generic_keys:
                if values[ct] == own_key and type(values[oid]) is tuple:
                    new = ids[values[oid]]
                    values[oid] = str(new) if text else new
            for i, conv in converters:
                value = values[i]
                if value is not None:
                    values[i] = conv(value)
            out.append(tuple(values))
        return out

    def insert(self, literal_rows: Sequence[tuple[Any, ...]], file: str) -> None:
        """Insert a batch of rows as read from *file*.

        :raises LoadError: naming the row the database refused, or
            :class:`InvalidValueError` naming the value refused before.
        """
        rows, params = self.prepare(literal_rows, file)
        if not params:
            return
        if self.dry_run is not None:
            self.dry_run(self, rows, file)
            self.written += len(params)
            return
        refused = self.write(params)
        if refused is not None:
            self.written += self._find_bad_rows(rows, params, file, refused)

    def pack(self, params: list[tuple[Any, ...]]) -> list[tuple[Any, ...]] | CopyData:
        """Return *params* as :meth:`write` takes them at the least cost to it.

        On PostgreSQL, the text of ``COPY`` (formatted by the driver as its
        own ``write_row()`` would), made without the database: a worker
        process of ``--jobs`` calls this. Elsewhere, *params* themselves.
        """
        formatter = self._copy_formatter()
        if formatter is None:
            return params
        format_row, transformer = formatter
        data = bytearray()
        for row in params:
            format_row(row, transformer, data)
        return CopyData(len(params), bytes(data))

    def _copy_formatter(self) -> tuple[Callable[..., None], Any] | None:
        """Return the driver's function that formats a row as COPY text, with its adapters.

        ``None`` where there is none. It is the function that psycopg's own
        ``write_row()`` calls (in C with psycopg's binary package).
        """
        if self._inserter() != self._copy:
            return None
        try:
            from psycopg._copy_base import format_row_text
            from psycopg.adapt import Transformer
        except ImportError:  # pragma: no cover - a psycopg without them
            return None
        # The adapters of the connection, read without using the connection.
        return format_row_text, Transformer(self.connection.connection)

    def write(self, params: Sequence[tuple[Any, ...]] | CopyData) -> Exception | None:
        """Write a batch of driver parameters (or :meth:`pack`'s), all or none of them.

        :return: ``None`` when written, else what the database said; the
            batch is then rolled back to the savepoint taken before it.
        """
        refused = self._saved(lambda: self._inserter()(params))
        if refused is None:
            self.written += len(params)
        return refused

    def write_copies(self, batches: Iterable[CopyData]) -> Exception | None:
        """Write COPY texts (PostgreSQL) as they come, as one COPY, all or none.

        The database works on the first while the next are still made.

        :return: as :meth:`write`.
        """
        count = 0

        def texts() -> Iterator[CopyData]:
            nonlocal count
            for batch in batches:
                count += batch.rows
                yield batch

        refused = self._saved(lambda: self._copy(texts()))
        if refused is None:
            self.written += count
        return refused

    def _saved(self, write: Callable[[], None]) -> Exception | None:
        """Run *write* under a savepoint; return what the database refused, if anything."""
        alias = self.connection.alias
        sid = transaction.savepoint(using=alias)
        try:
            write()
        except _REFUSED as e:
            transaction.savepoint_rollback(sid, using=alias)
            return e
        transaction.savepoint_commit(sid, using=alias)
        return None

    def prepare(
        self, literal_rows: Sequence[tuple[Any, ...]], file: str
    ) -> tuple[Sequence[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Return the rows of a batch that pass the value checks, and their parameters.

        Nothing is written.

        :raises InvalidValueError: for the first value refused, unless recording.
        """
        rows = self._checked(literal_rows, file)
        try:
            return rows, self.convert(rows)
        except _CONVERSION_ERRORS:
            return self._convert_each(rows, file)

    def _checked(
        self, rows: Sequence[tuple[Any, ...]], file: str
    ) -> Sequence[tuple[Any, ...]]:
        """Return *rows* without those holding a value of the wrong type.

        :raises InvalidValueError: for the first such value, unless recording.
        """
        bad = find_bad_values(rows, self.checks)
        if not bad:
            return rows
        for n, i, problem in bad:
            self._refuse(
                InvalidValueError(
                    self.label,
                    rows[n][i],
                    problem,
                    pk=self.pk_of(rows[n]),
                    field=self.dumped.fields[i].name,
                    file=file,
                )
            )
        refused = {n for n, _i, _problem in bad}
        return [row for n, row in enumerate(rows) if n not in refused]

    def _refuse(self, error: LoadError, cause: BaseException | None = None) -> None:
        """Raise *error*; in a rehearsal, record it instead."""
        if self.violations is None:
            raise error from cause
        self.violations.append(error)

    def _convert_each(
        self, rows: Sequence[tuple[Any, ...]], file: str
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Convert *rows* one by one: name each value that cannot be converted.

        :return: the rows converted and their parameters (a rehearsal goes on).
        :raises LoadError: for the first such value, unless recording.
        """
        kept, params = [], []
        for row in rows:
            try:
                params += self.convert([row])
            except _CONVERSION_ERRORS:
                self._refuse_conversion(row, file)
                continue
            kept.append(row)
        return kept, params

    def _refuse_conversion(self, row: tuple[Any, ...], file: str) -> None:
        for i, conv in self.converters:
            if row[i] is None:
                continue
            try:
                conv(row[i])
            except _CONVERSION_ERRORS as e:
                # decimal's errors say nothing a person can use (#14).
                why = "" if isinstance(e, ArithmeticError) else f": {e}"
                kind = self.dumped.fields[i].type
                found = InvalidValueError(
                    self.label,
                    row[i],
                    f"{reprlib.repr(row[i])} is not a valid {kind} value{why}",
                    pk=self.pk_of(row),
                    field=self.dumped.fields[i].name,
                    file=file,
                )
                self._refuse(found, e)
                return
        # Only a generic key's natural key is left (its content type is unknown).
        self._refuse(
            LoadError(
                self.label, "a natural key is unknown", pk=self.pk_of(row), file=file
            )
        )

    def _find_bad_rows(
        self,
        rows: Sequence[tuple[Any, ...]],
        params: Sequence[tuple[Any, ...]],
        file: str,
        error: Exception,
    ) -> int:
        """Insert a refused batch row by row; name the rows refused.

        :return: the number of rows written (with :attr:`violations` only).
        :raises LoadError: for the first refused row, unless recording them.
        """
        alias = self.connection.alias
        written, refused = 0, 0
        for row, param in zip(rows, params, strict=True):
            sid = transaction.savepoint(using=alias)
            try:
                self._executemany([param])
            except _REFUSED as e:
                transaction.savepoint_rollback(sid, using=alias)
                problem = str(e).strip().replace("\n", " ")
                found = LoadError(self.label, problem, pk=self.pk_of(row), file=file)
                if self.violations is None:
                    raise found from e
                self.violations.append(found)
                refused += 1
                continue
            transaction.savepoint_commit(sid, using=alias)
            written += 1
        if not refused:
            raise LoadError(self.label, str(error).strip(), file=file) from error
        return written

    def _inserter(self) -> Callable[[Any], None]:
        if self.connection.vendor == "postgresql" and _has_copy(self.connection):
            return self._copy
        return self._executemany

    def _quoted(self) -> tuple[str, str]:
        qn = self.connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.columns)
        return qn(self.model._meta.db_table), columns

    def _executemany(self, params: Sequence[tuple[Any, ...]]) -> None:
        table, columns = self._quoted()
        marks = ", ".join(["%s"] * len(self.columns))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, params)

    def _copy(
        self, params: Sequence[tuple[Any, ...]] | CopyData | Iterator[CopyData]
    ) -> None:
        table, columns = self._quoted()
        sql = f"COPY {table} ({columns}) FROM STDIN"
        # The driver's own cursor does the COPY; Django's wrapper turns its
        # errors into django.db errors like any other query's.
        with (
            self.connection.cursor() as cursor,
            self.connection.wrap_database_errors,
            cursor.cursor.copy(sql) as copy,
        ):
            if isinstance(params, CopyData):
                copy.write(params.data)
            elif isinstance(params, Iterator):
                for batch in params:
                    copy.write(batch.data)
            else:
                for row in params:
                    copy.write_row(row)


#: What converting a value that does not fit its column raises.
_CONVERSION_ERRORS = (TypeError, ValueError, ArithmeticError, KeyError, AttributeError)

#: What the database (or its driver) raises for a row it refuses: the sqlite3
#: module raises OverflowError for an integer beyond 64 bits (#12).
_REFUSED = (DatabaseError, OverflowError)


def _has_copy(connection: BaseDatabaseWrapper) -> bool:
    driver = getattr(connection, "Database", None)
    return getattr(driver, "__name__", "") == "psycopg"


def delete_rows(connection: BaseDatabaseWrapper, tables: Iterable[str]) -> None:
    """Delete every row of *tables* (foreign keys are checked at the end)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {qn(table)}")
