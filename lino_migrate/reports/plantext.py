"""Describe what restoring a dump into the current code would do (``dumpplan``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from lino_migrate.exceptions import missing_tables_message, plural
from lino_migrate.format.layout import written_when
from lino_migrate.reports.table import Block, Table, plain_text
from lino_migrate.restore.plan import UpgradePlan, examine_upgrade, missing_tables
from lino_migrate.restore.reader import DumpMeta
from lino_migrate.restore.rowcheck import kept_references, row_problems
from lino_migrate.schema import describe
from migrations_registry import Registry, RenameField

__all__ = ["format_plan", "plan_blocks", "plan_report"]


def plan_report(
    meta: DumpMeta,
    registry: Registry | None = None,
    connection: BaseDatabaseWrapper | None = None,
) -> dict[str, Any]:
    """Return the plan of restoring *meta* (into *connection*) as a JSON-able dict.

    With *connection*, a table the restore writes that the database lacks is
    a problem, as the restore itself would find it; then every row is read
    and checked as the restore would (:func:`row_problems`), writing nothing.

    Keys: ``dump`` (directory, created, Django, engine, partial), ``versions``
    (per app: dump and current version, migrators to run), ``migrators``
    (app, version, adapter, name, doc, operations; an adapter's app is its
    name and its version ``None``), ``models`` (per dumped model: current
    label, rows, the operations that touch it or its fields, fields filled by
    default, the differences of its fields from the current model),
    ``problems``, ``warnings`` (what the restore needs of the target
    database that was not checked: without *connection*, the rows that
    foreign keys to models the dump lacks point to) and ``ok``.
    """
    upgrade = examine_upgrade(meta, registry)
    if connection is not None and not upgrade.problems:
        upgrade.problems += _database_problems(upgrade, connection)
    if connection is not None and not upgrade.problems:
        upgrade.problems += row_problems(meta, upgrade, connection)
    steps = upgrade.plan.steps
    warnings = [] if connection is not None else _kept_warnings(upgrade)
    return {
        "dump": {
            "directory": str(meta.directory),
            "created": meta.values["CREATED"],
            "django": meta.values["DJANGO"],
            "engine": meta.values["ENGINE"],
            "partial": meta.partial,
        },
        "versions": _version_document(upgrade),
        "migrators": [
            {
                "app": s.app_label,
                "version": None if s.adapter else str(s.version),
                "adapter": s.adapter,
                "name": s.name,
                "doc": s.doc or "",
                "operations": [
                    op.describe() for op in upgrade.plan.operations if op.step == s
                ],
            }
            for s in steps
        ],
        "models": _models(meta, upgrade),
        "problems": upgrade.problems,
        "warnings": warnings,
        "ok": not upgrade.problems,
    }


def _version_document(upgrade: UpgradePlan) -> dict[str, Any]:
    """Return, per app, its version in the dump and now, the migrators to run."""
    steps = upgrade.plan.steps
    return {
        app: {
            "dump": dumped,
            "current": current,
            "migrators": [str(s.version) for s in steps if s.app_label == app],
            "installed": app in apps.app_configs,
        }
        for app, (dumped, current) in sorted(upgrade.versions.items())
    }


def _kept_warnings(upgrade: UpgradePlan) -> list[str]:
    """Return what the target must hold, unchecked: rows the dump points to and lacks."""
    return [
        f"'{label}' field '{name}' points to {target}, which the dump lacks: the "
        f"restore keeps the rows of {target} of the target database, which must "
        "hold every row pointed to (dumpplan --database ALIAS checks it)"
        for label, name, target in kept_references(upgrade)
    ]


def _models(meta: DumpMeta, upgrade: UpgradePlan) -> dict[str, Any]:
    rows: dict[str, int] = {}
    for entry in meta.files:
        rows[entry.model] = rows.get(entry.model, 0) + entry.rows
    migrated = upgrade.trace.schema if upgrade.trace else {}
    found = {}
    for label, info in upgrade.dumped.items():
        current = upgrade.sources.get(label)
        names = migrated.get(current or "", {f.name: f.attname for f in info.fields})
        target = upgrade.targets.get(current or "")
        found[label] = {
            "current": current,
            "rows": rows.get(label, 0),
            "unchanged": label in upgrade.direct,
            "changes": _changes(upgrade, label, current, info, names),
            "filled": sorted(
                f.name
                for f in (target.columns if target else [])
                if f.name not in names
            ),
            "differences": _differences(upgrade, label, current, info, names),
        }
    return found


def _differences(
    upgrade: UpgradePlan,
    label: str,
    current: str | None,
    info: Any,
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """Return how the fields of the dumped model differ from the current model's.

    One entry per field: ``change`` (``renamed``: by a migrator, ``removed``:
    the dump has it after the migrators and the model not, ``added``: the
    model has it and the dump not, ``type``: its value type differs),
    ``field``, and ``dump`` and ``current`` (old name or value type).
    """
    if current is None:
        return []
    model = describe(apps.get_model(current))
    now = {f.name: f for f in model.fields}
    before = {f.name: f for f in info.fields}
    found: list[dict[str, Any]] = [
        {"change": "renamed", "field": op.new_name, "dump": op.old_name,
         "current": op.new_name}
        for op in upgrade.plan.operations
        if isinstance(op, RenameField) and op.model_label in (label, current)
    ]  # fmt: skip
    found += [
        {"change": "removed", "field": n, "dump": n, "current": None}
        for n in names
        if n not in now
    ]
    for name, f in now.items():
        if name not in names:
            found.append({"change": "added", "field": name, "dump": None,
                          "current": _field_type(f)})  # fmt: skip
        elif name in before and before[name].type != f.type:
            found.append({"change": "type", "field": name,
                          "dump": before[name].type, "current": f.type})  # fmt: skip
    return found


def _field_type(f: Any) -> str:
    """Return the value type of a field and whether it is nullable, for a person."""
    return f"{f.type}, {'NULL' if f.null else 'NOT NULL'}"


def _changes(
    upgrade: UpgradePlan,
    label: str,
    current: str | None,
    info: Any,
    names: dict[str, str],
) -> dict[str, list[str]]:
    """Return, per field (``(model)`` for the model), the operations on it."""
    trace = upgrade.trace
    if trace is None:
        return {}
    labels = [label] if current in (None, label) else [label, current]

    def explain(field: str | None) -> list[str]:
        ops = []
        for name in labels:
            ops += [str(op) for op in trace.explain(name, field) if str(op) not in ops]
        return ops

    dumped = [f.name for f in info.fields]
    changes = {"(model)": explain(None)}
    for field in dumped:
        changes[field] = explain(field)
    shown = {op for ops in changes.values() for op in ops}
    for field in [n for n in names if n not in dumped]:
        changes[field] = [op for op in explain(field) if op not in shown]
    return {key: ops for key, ops in changes.items() if ops}


def format_plan(report: dict[str, Any]) -> str:
    """Return *report* as plain text for a person."""
    return plain_text(plan_blocks(report))


def plan_blocks(report: dict[str, Any]) -> list[Block]:
    """Return *report* for a person: its lines and its tables (versions, models)."""
    dump = report["dump"]
    lines: list[Block] = [
        f"Dump {dump['directory']}: {written_when(dump['created'])} by Django "
        f"{dump['django']} on {dump['engine']}"
        + (" (PARTIAL)" if dump["partial"] else "")
        + ".",
        "",
        "Versions (dump -> current):",
        _versions(report["versions"]),
    ]
    lines += ["", "Migrators that will run, in order:"] if report["migrators"] else []
    for m in report["migrators"]:
        step = f"adapter {m['app']}" if m["adapter"] else f"{m['app']} {m['version']}"
        summary = m["doc"].splitlines()[0] if m["doc"] else ""
        lines.append(f"  {step} ({m['name']}): {summary}")
        lines += [f"      {op}" for op in m["operations"]]
    lines += ["", "Models:", _models_table(report["models"])]
    if report["warnings"]:
        lines += ["", "Warnings:"]
        lines += [f"  - {w}" for w in report["warnings"]]
    if report["problems"]:
        problems = plural(len(report["problems"]), "problem")
        lines += ["", f"The restore would fail ({problems}):"]
        lines += [f"  - {p}" for p in report["problems"]]
    else:
        lines += ["", "The restore would work."]
    return lines


def _difference(d: dict[str, Any]) -> str:
    """Return a difference of a field (see :func:`_differences`) as a line."""
    field = f"field {d['field']}"
    if d["change"] == "renamed":
        return f"{field}: renamed from {d['dump']}"
    if d["change"] == "type":
        return f"{field}: type {d['dump']} -> {d['current']}"
    if d["change"] == "added":
        return f"{field}: added ({d['current']}), not in the dump"
    return f"{field}: removed, in the dump only"


def _versions(versions: dict[str, Any]) -> Table:
    """Return a row per app: its version in the dump, the current one, migrators."""
    rows = []
    for app, v in versions.items():
        runs = f"  migrators: {', '.join(v['migrators'])}" if v["migrators"] else ""
        runs += "" if v["installed"] else "  (not installed)"
        rows.append((app, v["dump"] or "(not in dump)", "->", f"{v['current']}{runs}"))
    return Table(rows, align="<>", indent=2, gap=1)


def _models_table(models: dict[str, Any]) -> Table:
    """Return a row per dumped model: its label, rows, and where they go.

    Beneath each row, its notes: the operations on it, the fields filled
    with defaults, the differences of its fields.
    """
    rows, notes = [], []
    for label, m in models.items():
        where = "removed" if m["current"] is None else m["current"]
        state = "unchanged" if m["unchanged"] else f"-> {where}"
        state += " (fields differ)" if m["differences"] else ""
        rows.append((label, plural(m["rows"], "row"), state))
        lines = [f"{name}: {op}" for name, ops in m["changes"].items() for op in ops]
        if m["filled"]:
            lines.append(f"filled with defaults: {', '.join(m['filled'])}")
        lines += [_difference(d) for d in m["differences"]]
        notes.append(lines)
    return Table(rows, align="<><", indent=2, notes=notes)


def _database_problems(
    upgrade: UpgradePlan, connection: BaseDatabaseWrapper
) -> list[str]:
    """Return what keeps the restore from writing into *connection*'s database."""
    try:
        missing = missing_tables(upgrade, connection)
    except DatabaseError as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return [
            f"Database '{connection.alias}' cannot be read ({reason}): check its "
            "settings and that its server runs."
        ]
    return [missing_tables_message(connection.alias, missing)] if missing else []
