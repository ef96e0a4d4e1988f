"""Restore a dump into a database: verify, plan, load, check, all or nothing."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import LinoMigrateError, LoadError, SchemaKeptError, plural
from lino_migrate.format.layout import (
    CONTENT_TYPE,
    NATURAL_KEYS,
    PERMISSION,
    FileEntry,
)
from lino_migrate.restore.checks import (
    ForeignKey,
    check_foreign_keys,
    drop_foreign_keys,
)
from lino_migrate.restore.keymaps import ContentTypeIds, PermissionIds
from lino_migrate.restore.loader import TableLoader, delete_rows
from lino_migrate.restore.media import MediaReport, MediaRestore
from lino_migrate.restore.pipeline import (
    COPIES,
    MIGRATED,
    PREPARED,
    READ,
    PipedFile,
    Pipeline,
    RowMigration,
    grouped,
)
from lino_migrate.restore.plan import (
    UpgradePlan,
    plan_upgrade,
    require_tables,
    runs_row_functions,
)
from lino_migrate.restore.pragmas import loading_settings
from lino_migrate.restore.reader import DumpMeta, read_meta, read_rows, verify_files
from lino_migrate.restore.router import RowRouter, decoded_dicts
from lino_migrate.restore.schema_setup import create_schema
from lino_migrate.restore.selection import without_models
from lino_migrate.restore.sequences import (
    Sequence,
    pin_sequences,
    reset_sequences,
    table_sequences,
)
from lino_migrate.workers import AUTO, parse_jobs
from migrations_registry import Registry, RegistryError

__all__ = ["ModelReport", "RestoreContext", "RestoreReport", "counted", "restore"]

Progress = Callable[[str, int], None]
#: Called as ``advance(label, rows)``: *rows* more rows of model *label* done.
Advance = Callable[[str, int], None]
Hook = Callable[["RestoreContext"], None]


@dataclass
class ModelReport:
    """What happened to the rows of one model (under its current label)."""

    label: str
    in_dump: int = 0
    written: int = 0

    @property
    def dropped(self) -> int:
        """Return how many more rows the dump had than were written."""
        return max(self.in_dump - self.written, 0)

    @property
    def created(self) -> int:
        """Return how many more rows were written than the dump had."""
        return max(self.written - self.in_dump, 0)


@dataclass
class RestoreReport:
    """What a restore did, per model."""

    database: str
    models: dict[str, ModelReport] = field(default_factory=dict)
    #: True for a rehearsal (``--simulate``): everything was rolled back.
    simulated: bool = False
    #: the migrators that ran, as ``app version (function)``
    migrators: list[str] = field(default_factory=list)
    #: rows the database refused (a rehearsal goes on and lists them all)
    violations: list[LoadError] = field(default_factory=list)
    #: data files edited by hand and accepted (``--accept-edits``)
    edits: list[str] = field(default_factory=list)
    #: per model label, example rows before (dumped label) and after migration
    samples: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    #: what became of the dump's media files (``media=True``, #15)
    media: MediaReport | None = None

    @property
    def written(self) -> int:
        """Return the number of rows written in all."""
        return sum(m.written for m in self.models.values())

    def model(self, label: str) -> ModelReport:
        """Return the report of model *label*, adding it when new."""
        return self.models.setdefault(label, ModelReport(label))


@dataclass
class RestoreContext:
    """What the hooks of ``restore.py`` receive."""

    using: str
    meta: DumpMeta
    report: RestoreReport

    @property
    def connection(self) -> BaseDatabaseWrapper:
        """Return the connection the restore writes through."""
        return connections[self.using]


def restore(
    script: Path | str,
    *,
    using: str = "default",
    hooks: dict[str, Any] | None = None,
    progress: Progress | None = None,
    advance: Advance | None = None,
    registry: Registry | None = None,
    simulate: bool = False,
    sample: int = 0,
    accept_edits: bool = False,
    migrate: bool = False,
    exclude: Iterable[str] = (),
    media: bool = False,
    overwrite_media: bool = False,
    jobs: int | str = 1,
) -> RestoreReport:
    """Restore the dump whose ``restore.py`` is *script* into database *using*.

    The dump is verified first (format, checksums, row counts, fit with the
    current models); then, in one transaction, the rows of every dumped model
    are replaced, constraints are checked and sequences reset. Any error
    rolls the whole restore back.

    :param hooks: namespace holding ``before_restore``/``after_restore``.
    :param progress: called as ``progress(message, level)``: a line per data
        file (level 2) and per step (level 3).
    :param advance: called as ``advance(label, rows)`` per batch of rows read
        from the data files of model *label* (#14).
    :param registry: the migrators to plan with; by default those that
        ``@migrator`` registered.
    :param simulate: rehearse: do everything, list every refused row instead
        of stopping at the first, then roll back. PostgreSQL sequences roll
        back too, so the database is exactly as before.
    :param sample: keep this many example rows per migrated model, before and
        after the migrators (in :attr:`RestoreReport.samples`).
    :param accept_edits: accept data files edited by hand (their checksums
        differ from ``restore.py``'s); they are listed in
        :attr:`RestoreReport.edits`.
    :param exclude: app labels or ``app_label.Model``: their rows are left out
        and their tables left as they are (``--exclude``; see
        :func:`~lino_migrate.restore.selection.without_models`).
    :param migrate: once the dump is verified and planned, run ``migrate
        --run-syncdb`` when the database is not fully migrated (#13). It is
        not part of the restore's transaction: a failed restore leaves the
        schema it created.
    :param media: put the dump's media files back into their storages once
        the transaction committed (:mod:`lino_migrate.restore.media`, #15);
        the files are verified before the first write. A file that cannot be
        written then is listed in the report's ``media.failures``.
    :param overwrite_media: replace a different file of the same name.
    :param jobs: worker processes that read and prepare the rows of the
        data files while this process writes them (``--jobs``, #16; see
        :mod:`~lino_migrate.restore.pipeline`); 1 starts none. ``"auto"``:
        :func:`~lino_migrate.workers.default_jobs`, but none for fewer than
        :data:`PIPELINE_MIN_ROWS` rows.
    :raises LinoMigrateError: for a value of *jobs* that is neither.
    :raises MediaConflictError: when a media file's name is taken by another
        file and *overwrite_media* is false (the restore is rolled back).
    :raises LinoMigrateError: for a bad dump or a row the database refuses.
    :raises SchemaKeptError: when the restore fails after *migrate* changed
        the schema.
    """
    workers = parse_jobs(jobs)
    script = Path(script)
    if script.is_dir():
        script = script / "restore.py"
    meta = read_meta(script)
    edits = verify_files(meta, accept_edits=accept_edits)
    meta = without_models(meta, exclude)
    files = _media(meta, media, overwrite_media)
    upgrade = plan_upgrade(meta, registry)
    schema = (
        create_schema(using, simulate=simulate, progress=progress) if migrate else None
    )
    report = RestoreReport(using, simulated=simulate, edits=edits)
    report.migrators = [str(step) for step in upgrade.plan.steps]
    run = _Run(meta, upgrade, connections[using], report, progress, sample, advance)
    run.violations = report.violations if simulate else None
    run.jobs, run.auto_jobs = workers, jobs == AUTO
    if files is not None:
        files.start(upgrade)
        run.media, report.media = files, files.report
    ctx = RestoreContext(using, meta, report)
    try:
        require_tables(upgrade, connections[using])
        with loading_settings(connections[using]), transaction.atomic(using=using):
            run.execute(hooks, ctx)
            if files is not None:
                files.check_targets()
            if simulate:
                transaction.set_rollback(True, using=using)
    except LinoMigrateError as e:
        if schema:
            # migrate's DDL is not part of the transaction: the tables stay (#13).
            raise SchemaKeptError(using, e) from e
        raise
    finally:
        _clear_caches()
    if files is not None and not simulate:
        # Now if committed, else when the outer transaction commits (#15).
        transaction.on_commit(files.write, using=using)
    return report


def _media(meta: DumpMeta, media: bool, overwrite: bool) -> MediaRestore | None:
    """Return the media files of *meta*, verified, when *media* asks for them."""
    if not media:
        return None
    files = MediaRestore(meta, overwrite=overwrite)
    files.verify()
    return files


#: The fewest rows of data files going straight into their tables for which
#: ``jobs="auto"`` starts worker processes: below, starting them and reading
#: every file once per worker costs more than they save (#16). A number of
#: jobs given is obeyed whatever the size.
PIPELINE_MIN_ROWS = 20_000

#: Test hook (#12): with ``LINO_MIGRATE_KILL_AT=POINT`` in the environment,
#: the process kills itself (SIGKILL) when a restore reaches the checkpoint
#: named POINT (see :meth:`_Run.checkpoint`), so that tests can prove that a
#: restore killed anywhere leaves the database unchanged.
KILL_AT = "LINO_MIGRATE_KILL_AT"


@dataclass
class _Run:
    """One restore, inside its transaction."""

    meta: DumpMeta
    upgrade: UpgradePlan
    connection: BaseDatabaseWrapper
    report: RestoreReport
    progress: Progress | None
    sample: int
    advance: Advance | None = None
    violations: list[LoadError] | None = None
    media: MediaRestore | None = None
    jobs: int = 1
    #: the number of jobs is the default: start no worker for a small dump
    auto_jobs: bool = False
    kill_at: str | None = field(default_factory=lambda: os.environ.get(KILL_AT))
    #: the foreign keys dropped for the load, added back by the check (PostgreSQL)
    dropped_keys: list[ForeignKey] = field(default_factory=list)

    def execute(self, hooks: dict[str, Any] | None, ctx: RestoreContext) -> None:
        """Replace the rows, run the hooks, check the constraints."""
        tables = [t.model._meta.db_table for t in self.upgrade.targets.values()]
        # setval and nextval are not transactional; pinned first, the
        # sequences roll back with the rows if the restore fails or is
        # killed (#12). Hooks may write anywhere: every model's are pinned.
        pin_sequences(self.connection, table_sequences(self.connection, _tables()))
        sequences = table_sequences(self.connection, tables)
        self.checkpoint("pinned")
        _call_hook(hooks, "before_restore", ctx)
        self.checkpoint("before_restore")
        if self.violations is None:
            # PostgreSQL checks them again, at once, when they are added back.
            # A rehearsal keeps them: it locks out writers only, not readers.
            self.dropped_keys = drop_foreign_keys(self.connection, tables)
        delete_rows(self.connection, tables)
        self.say(f"Deleted the rows of {plural(len(tables), 'table')}.")
        self.checkpoint("deleted")
        remaps = _merge_natural_keys(
            self.meta, self.connection.alias, self.report, self.upgrade.renamed_keys
        )
        router = RowRouter(
            self.connection, self.upgrade.targets, remaps, self.violations
        )
        with self.pipeline(router) as pipe:
            if pipe is not None:
                workers = plural(pipe.jobs, "worker process", "worker processes")
                self.say(f"Started {workers}.")
            for entry in self.meta.files:
                if entry.model not in NATURAL_KEYS:
                    self.load_file(entry, router, pipe)
                elif self.advance:
                    # Merged above, before any row that refers to them.
                    self.advance(entry.model, entry.rows)
        self.finish(hooks, ctx, router, sequences)

    def pipeline(self, router: RowRouter) -> AbstractContextManager[Pipeline | None]:
        """Return the workers that prepare the files loaded straight (#16), if any.

        They also migrate the files whose rows the plan may migrate batch by
        batch (``@m.rows(..., parallel=True)``).
        """
        if self.jobs < 2 or self.media is not None:
            return nullcontext()
        direct, migrations = self.upgrade.direct, self.parallel_migrations()
        entries = [e for e in self.meta.files if e.model not in NATURAL_KEYS]
        entries = [e for e in entries if e.model in direct or e.model in migrations]
        rows = sum(e.rows for e in entries)
        if not entries or (self.auto_jobs and rows < PIPELINE_MIN_ROWS):
            return nullcontext()
        loaders: dict[str, TableLoader] = {}
        for entry in entries:
            if entry.model in direct and entry.model not in loaders:
                model = self.upgrade.targets[entry.model].model
                info = self.meta.schema[entry.model]
                loaders[entry.model] = router.direct_loader(model, info, frozen=True)
        files = [
            PipedFile(e, loaders.get(e.model), migrations.get(e.model)) for e in entries
        ]
        return Pipeline(self.meta, files, self.jobs, self.kill_at)

    def parallel_migrations(self) -> dict[str, RowMigration]:
        """Return, per dumped label, how workers migrate its rows, if they may.

        Only for rows that meet a row function, all of whose row functions
        are declared ``parallel=True``.
        """
        plan, found = self.upgrade.plan, {}
        schema = self.upgrade.registry_schema
        for label in {e.model for e in self.meta.files} - self.upgrade.direct:
            try:
                parallel = plan.parallel_safe(label)
            except RegistryError:
                continue  # this process meets it, as with --jobs 1
            parallel = parallel and runs_row_functions(plan, label)
            if parallel and label in self.meta.schema:
                info = self.meta.schema[label]
                found[label] = RowMigration(plan, info, schema, self.sample)
        return found

    def finish(
        self,
        hooks: dict[str, Any] | None,
        ctx: RestoreContext,
        router: RowRouter,
        sequences: list[Sequence],
    ) -> None:
        """Write what comes after the data files, check, set the sequences."""
        # Rows created from here on (deferred rows, content types, hooks)
        # take ids from the sequences: move them past the restored ids.
        reset_sequences(self.connection, sequences)
        self.checkpoint("sequences")
        router.flush_deferred()
        self.checkpoint("deferred")
        _add_current_natural_keys(self.connection.alias)
        self.say("Added the content types and permissions of the current models.")
        self.checkpoint("natural_keys")
        for hook in self.upgrade.plan.after_load_hooks:
            hook.func(ctx)
        _call_hook(hooks, "after_restore", ctx)
        self.checkpoint("after_restore")
        for label, count in router.written().items():
            self.report.model(label).written += count
        restored = [t.model for t in self.upgrade.targets.values()]
        check_foreign_keys(
            self.connection, restored, self.violations, self.dropped_keys
        )
        self.say(f"Checked the constraints of {plural(len(restored), 'model')}.")
        self.checkpoint("checked")
        reset_sequences(self.connection, sequences)
        if sequences:
            self.say(f"Set {plural(len(sequences), 'sequence')} past the restored ids.")
        self.checkpoint("commit")

    def say(self, message: str) -> None:
        """Say what one step did (verbosity 3)."""
        if self.progress:
            self.progress(message, 3)

    def checkpoint(self, point: str) -> None:
        """Kill this process at *point* when the test hook :data:`KILL_AT` names it."""
        if self.kill_at is not None and self.kill_at == point:
            os.kill(os.getpid(), signal.SIGKILL)

    def load_file(
        self, entry: FileEntry, router: RowRouter, pipe: Pipeline | None = None
    ) -> None:
        """Load one data file: straight into its table, or through the migrators."""
        label, upgrade = entry.model, self.upgrade
        current = upgrade.sources.get(label, label)
        self.report.model(current).in_dump += entry.rows
        batches = counted(read_rows(self.meta, entry), label, self.advance)
        piped = pipe if pipe is not None and entry in pipe else None
        if piped is not None and label in upgrade.direct:
            target = upgrade.targets[current]
            loader = router.direct_loader(target.model, self.meta.schema[label])
            self.load_piped(entry, loader, piped)
            self.report.model(current).written += loader.written
        elif label in upgrade.direct:
            target = upgrade.targets[current]
            loader = router.direct_loader(target.model, self.meta.schema[label])
            if self.media:
                batches = self.media.direct(label, batches)
            for batch in batches:
                loader.insert(batch, entry.name)
            self.report.model(current).written += loader.written
        else:
            migrated: Iterable[tuple[str, dict[str, Any]]] = (
                self.migrated(label, batches)
                if piped is None
                else self.piped_rows(entry, piped)
            )
            try:
                router.feed(self._sampled_output(migrated), entry.name)
            except RegistryError as e:
                raise LoadError(label, str(e), file=entry.name) from e
        if self.progress:
            self.progress(f"{entry.name}: {plural(entry.rows, 'row')}", 2)
        self.checkpoint(f"loaded:{entry.name}")

    def migrated(
        self, label: str, batches: Iterable[list[Any]]
    ) -> Iterable[tuple[str, dict[str, Any]]]:
        """Return the rows that the plan makes of *batches* of model *label*."""
        rows = self._sampled(label, decoded_dicts(self.meta.schema[label], batches))
        if self.media:
            rows = self.media.dumped(label, rows)
        upgrade = self.upgrade
        migrated = upgrade.plan.apply(label, rows, schema=upgrade.registry_schema)
        if self.media:
            migrated = self.media.migrated(migrated)
        return migrated

    def piped_rows(
        self, entry: FileEntry, pipe: Pipeline
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield the rows that the workers migrated of *entry*, in the file's order.

        A batch they could not migrate is migrated here. When they cannot
        read on, this process reads the rest of the file itself, from that
        batch on, as ``jobs=1`` would.
        """
        label = entry.model
        if self.advance:
            self.advance(label, 0)
        before: list[dict[str, Any]] = []
        if self.sample:  # as _sampling does, even for a file without rows
            before = self.report.samples.setdefault(label, {}).setdefault("before", [])
        for done, (kind, payload) in enumerate(pipe.stream(entry)):
            if kind == MIGRATED:
                before += payload.before[: self.sample - len(before)]
                yield from payload.output
                rows = payload.rows
            elif kind == READ:
                yield from self.migrated(label, [payload])
                rows = len(payload)
            else:
                rest = islice(read_rows(self.meta, entry), done, None)
                yield from self.migrated(label, counted(rest, label, self.advance))
                return
            if self.advance:
                self.advance(label, rows)

    def load_piped(self, entry: FileEntry, loader: TableLoader, pipe: Pipeline) -> None:
        """Write the batches of *entry* that the workers prepared.

        A batch they could not prepare is prepared here. When they cannot
        read on, or the database refuses a batch, this process reads the
        rest of the file itself, from that batch on, as ``jobs=1`` would.
        """
        label = entry.model
        if self.advance:
            self.advance(label, 0)
        stream = pipe.stream(entry)
        for done, kind, payload in grouped(stream):
            before = loader.written
            if kind == READ:
                loader.insert(payload, entry.name)
            elif not _written(loader, kind, payload):
                stream.finish()
                rest = islice(read_rows(self.meta, entry), done, None)
                for batch in counted(rest, label, self.advance):
                    loader.insert(batch, entry.name)
                return
            if self.advance:
                # A rehearsal may have refused rows of a batch: count them done.
                rows = len(payload) if kind == READ else loader.written - before
                self.advance(label, rows)

    def _sampled(
        self, label: str, rows: Iterable[dict[str, Any]]
    ) -> Iterable[dict[str, Any]]:
        if not self.sample:
            return rows
        return self._sampling(label, rows)

    def _sampling(
        self, label: str, rows: Iterable[dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        kept = self.report.samples.setdefault(label, {}).setdefault("before", [])
        for row in rows:
            if len(kept) < self.sample:
                kept.append(dict(row))
            yield row

    def _sampled_output(
        self, rows: Iterable[tuple[str, dict[str, Any]]]
    ) -> Iterable[tuple[str, dict[str, Any]]]:
        if not self.sample:
            return rows
        return self._sampling_output(rows)

    def _sampling_output(
        self, rows: Iterable[tuple[str, dict[str, Any]]]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        for label, row in rows:
            kept = self.report.samples.setdefault(label, {}).setdefault("after", [])
            if len(kept) < self.sample:
                kept.append(dict(row))
            yield label, row


def counted(
    batches: Iterable[list[Any]], label: str, advance: Advance | None
) -> Iterator[list[Any]]:
    """Yield the *batches* of rows of model *label*, calling *advance* as they go.

    ``advance(label, 0)`` comes first; a batch is counted once the next one
    is asked for, that is once it was used. Per batch, not per row: cheap.
    """
    if advance is None:
        yield from batches
        return
    advance(label, 0)
    for batch in batches:
        yield batch
        advance(label, len(batch))


def _written(loader: TableLoader, kind: str, payload: Any) -> bool:
    """Write what a worker prepared; return whether the database took it all."""
    if kind == COPIES:
        return loader.write_copies(payload) is None
    return kind == PREPARED and loader.write(payload) is None


def _add_current_natural_keys(using: str) -> None:
    """Create the content types and permissions of every current model.

    As ``migrate`` does after it ran: a model the dump lacks has them too.
    """
    if not apps.is_installed("django.contrib.contenttypes"):
        return
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    for config in apps.get_app_configs():
        create_contenttypes(config, verbosity=0, interactive=False, using=using)
    if apps.is_installed("django.contrib.auth"):
        from django.contrib.auth.management import create_permissions

        for config in apps.get_app_configs():
            create_permissions(config, verbosity=0, interactive=False, using=using)


def _clear_caches() -> None:
    """Forget the rows Django caches per process: their ids may have changed."""
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()
    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site

        Site.objects.clear_cache()


def _call_hook(hooks: dict[str, Any] | None, name: str, ctx: RestoreContext) -> None:
    hook = (hooks or {}).get(name)
    if callable(hook):
        hook(ctx)


def _merge_natural_keys(
    meta: DumpMeta,
    using: str,
    report: RestoreReport,
    renamed: dict[tuple[str, str], tuple[str, str]],
) -> dict[str, dict[Any, Any]]:
    """Match content types, then permissions; return natural key -> id maps.

    :param renamed: ``(app_label, model)`` of renamed models -> current ones:
        their content types follow the rename, with their permissions.
    """
    if not apps.is_installed("django.contrib.contenttypes"):
        return {}
    content_types = ContentTypeIds(using, renamed)
    remaps: dict[str, dict[Any, Any]] = {CONTENT_TYPE: content_types}
    if CONTENT_TYPE in meta.schema:
        count = content_types.merge(_dict_rows(meta, CONTENT_TYPE))
        report.models[CONTENT_TYPE] = ModelReport(CONTENT_TYPE, count, count)
    if apps.is_installed("django.contrib.auth"):
        permissions = PermissionIds(using, content_types)
        remaps[PERMISSION] = permissions
        if PERMISSION in meta.schema:
            count = permissions.merge(_dict_rows(meta, PERMISSION))
            report.models[PERMISSION] = ModelReport(PERMISSION, count, count)
    return remaps


def _dict_rows(meta: DumpMeta, label: str) -> list[dict[str, Any]]:
    info = meta.schema.get(label)
    if info is None:
        return []
    batches = (
        batch
        for entry in meta.files
        if entry.model == label
        for batch in read_rows(meta, entry)
    )
    return list(decoded_dicts(info, batches))


def _tables() -> list[str]:
    """Return the tables of every model of the site."""
    return [m._meta.db_table for m in apps.get_models(include_auto_created=True)]
