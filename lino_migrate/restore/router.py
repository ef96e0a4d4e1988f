"""Send migrated rows (dicts) to the tables of their current models, in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import LoadError
from lino_migrate.format.codec import literal_decoder
from lino_migrate.format.layout import ModelInfo
from lino_migrate.naturalkeys import references
from lino_migrate.restore.loader import DryRun, TableLoader, delete_rows
from lino_migrate.restore.plan import Target, emitted_target
from lino_migrate.schema import describe

__all__ = ["RowRouter", "decoded_dicts"]

#: Rows buffered per table before they are inserted.
BATCH = 1000


def decoded_dicts(
    info: ModelInfo, batches: Iterable[list[tuple[Any, ...]]]
) -> Iterable[dict[str, Any]]:
    """Yield the rows of *batches* as dicts of Python values, keyed by attname."""
    attnames = info.attnames
    decoders = [
        (f.attname, decode)
        for f in info.fields
        if (decode := literal_decoder(f.type)) is not None
    ]
    for batch in batches:
        # The reader checked the width of every row.
        for row in batch:
            values = dict(zip(attnames, row, strict=False))
            for name, decode in decoders:
                value = values[name]
                if value is not None:
                    values[name] = decode(value)
            yield values


def _exact_values(
    attnames: list[str],
) -> Callable[[dict[str, Any]], tuple[Any, ...] | None]:
    """Return the function giving a row dict's values in the order of *attnames*.

    It returns ``None`` unless the row has exactly these fields.
    """
    width = len(attnames)
    get = itemgetter(*attnames)

    def values(row: dict[str, Any]) -> tuple[Any, ...] | None:
        if len(row) != width:
            return None
        try:
            found = get(row)
        except KeyError:
            return None
        return found if width > 1 else (found,)

    return values


def _filled(
    row: dict[str, Any], attnames: list[str], fills: dict[str, Any]
) -> tuple[Any, ...]:
    """Return the row's values for *attnames*; a field it lacks is filled."""
    return tuple(row[a] if a in row else fills[a]() for a in attnames)


@dataclass
class _Sink:
    """The rows bound for one table: a loader and the rows not yet written."""

    target: Target
    loader: TableLoader
    attnames: list[str]
    #: the attnames a row may have: the model's stored fields
    allowed: frozenset[str]
    pk: str | None
    pending: list[tuple[Any, ...]] = field(default_factory=list)
    #: rows without their automatic primary key, written after all others
    deferred: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        #: the values of a row dict that has exactly the attnames, else None
        self.exact = _exact_values(self.attnames)
        #: where the automatic primary key is in a row's values, if written
        self.pk_index = (
            self.attnames.index(self.pk)
            if self.pk is not None and self.pk in self.attnames
            else None
        )


@dataclass
class RowRouter:
    """Write ``(model label, row dict)`` pairs into the current tables."""

    connection: BaseDatabaseWrapper
    targets: dict[str, Target]
    #: per natural-key model label, its natural key -> id map
    remaps: dict[str, dict[Any, Any]]
    #: when a list (rehearsal), refused rows are recorded there and skipped
    violations: list[LoadError] | None = None
    sinks: dict[str, _Sink] = field(default_factory=dict)
    #: when set (``dumpplan``), nothing is deleted or written: see
    #: :class:`~lino_migrate.restore.loader.TableLoader`
    dry_run: DryRun | None = None

    def feed(self, rows: Iterable[tuple[str, dict[str, Any]]], file: str) -> None:
        """Route *rows* (read from *file*) to their tables."""
        last, sink = None, None
        for label, row in rows:
            if label != last or sink is None:
                sink = self.sinks.get(label) or self._sink(label)
                last = label
            values = sink.exact(row)
            if values is None:
                # The row lacks fields or has others: check it, then fill it.
                if not sink.allowed.issuperset(row):
                    self._refuse_keys(sink, row, file)
                if sink.pk is not None and row.get(sink.pk) is None:
                    sink.deferred.append(row)
                    continue
                values = _filled(row, sink.attnames, sink.target.fills)
            elif sink.pk is not None and (
                sink.pk_index is None or values[sink.pk_index] is None
            ):
                sink.deferred.append(row)
                continue
            sink.pending.append(values)
            if len(sink.pending) >= BATCH:
                sink.loader.insert(sink.pending, file)
                sink.pending = []
        for sink in self.sinks.values():
            if sink.pending:
                sink.loader.insert(sink.pending, file)
                sink.pending = []

    def _refuse_keys(self, sink: _Sink, row: dict[str, Any], file: str) -> None:
        unknown = ", ".join(sorted(set(row) - sink.allowed))
        problem = (
            f"a migrated row has {unknown}, which the model does not have (a "
            "migrator must rename or remove it; nothing is dropped silently)"
        )
        raise LoadError(
            sink.target.label, problem, pk=row.get(sink.pk or "id"), file=file
        )

    def _sink(self, label: str) -> _Sink:
        new = label not in self.targets
        target = emitted_target(self.targets, label)
        if new and self.dry_run is None:
            # A model the dump lacks gets rows from a migrator: replace its rows too.
            delete_rows(self.connection, [target.model._meta.db_table])
        loader = self._loader(target, [f.attname for f in target.columns])
        pk = target.model._meta.pk
        auto = pk is not None and pk.get_internal_type().endswith("AutoField")
        attnames = [f.attname for f in target.columns]
        allowed = frozenset(f.attname for f in describe(target.model).fields)
        sink = _Sink(
            target,
            loader,
            attnames,
            allowed,
            pk.attname if auto and pk else None,
        )
        self.sinks[label] = sink
        return sink

    def direct_loader(
        self, model: type[models.Model], info: ModelInfo, *, frozen: bool = False
    ) -> TableLoader:
        """Return the loader of *model*, whose dumped rows (*info*) go in unchanged.

        Its references to content types and permissions take this router's maps.

        :param frozen: return the loader of a worker process (#16): it looks
            natural keys up in copies of the maps, which add nothing to the
            database, and raises at the first refused value instead of
            recording it; the writing process then prepares that batch itself.
        """
        remaps = self.remaps
        if frozen:
            remaps = {label: dict(ids) for label, ids in remaps.items()}
        fk_maps = {}
        for f in model._meta.local_concrete_fields:
            target = references(f)
            if target is not None and target in remaps:
                fk_maps[f.attname] = remaps[target]
        return TableLoader(
            model,
            info,
            self.connection,
            fk_maps,
            remaps,
            violations=None if frozen else self.violations,
            dry_run=None if frozen else self.dry_run,
        )

    def _loader(self, target: Target, attnames: list[str]) -> TableLoader:
        described = {f.attname: f for f in describe(target.model).fields}
        fields = tuple(described[a] for a in attnames)
        pk = target.model._meta.pk
        key = (
            (pk.attname,) if pk is not None and pk.attname in attnames else attnames[:1]
        )
        info = ModelInfo(target.label, target.model._meta.db_table, tuple(key), fields)
        fk_maps = {
            a: self.remaps[f.target]
            for a, f in described.items()
            if a in attnames and f.target in self.remaps
        }
        return TableLoader(
            target.model,
            info,
            self.connection,
            fk_maps,
            self.remaps,
            decoded=True,
            violations=self.violations,
            dry_run=self.dry_run,
        )

    def flush_deferred(self) -> None:
        """Write the rows that lacked their automatic primary key."""
        for sink in self.sinks.values():
            if not sink.deferred:
                continue
            attnames = [a for a in sink.attnames if a != sink.pk]
            loader = self._loader(sink.target, attnames)
            exact, fills = _exact_values(attnames), sink.target.fills
            rows = [
                exact(row) or _filled(row, attnames, fills) for row in sink.deferred
            ]
            for start in range(0, len(rows), BATCH):
                loader.insert(rows[start : start + BATCH], "(rows made by migrators)")
            sink.loader.written += loader.written
            sink.deferred = []

    def written(self) -> dict[str, int]:
        """Return the rows written per model label."""
        return {label: sink.loader.written for label, sink in self.sinks.items()}
