"""Exercise the example migrators of ``noi_migrators.py`` on a Noi dump (#13).

:func:`make_old_dump` turns a dump of today's Noi into the dump that the
invented release 1.0 of ``tickets`` would have written (the inverse of each
operation of ``tickets_2_0``); :func:`check_example` restores that dump with
the migrators enabled into a blank database and checks that every table comes
back exactly as in the original. The dump files are read and written with
the standard library and lino_migrate's own layout module of this checkout.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.lino.checks import Check
from benchmarks.lino.databases import blank_copy
from benchmarks.lino.noisite import WITH_EXAMPLE, NoiSite
from benchmarks.lino.tables import compare_databases
from lino_migrate.format.layout import ModelInfo, data_header, render_restore_script

__all__ = ["OLD_VERSION", "check_example", "make_old_dump"]

#: The version of ``tickets`` that the old dump records.
OLD_VERSION = "1.0"
_TYPE, _KIND, _TICKET = "tickets.tickettype", "tickets.kind", "tickets.ticket"
_HERE = Path(__file__).resolve().parent


def check_example(site: NoiSite, pristine: Path) -> Check:
    """Restore the 1.0 dump of *pristine* through the migrators; compare every table."""
    name = "example migrators (tickets 1.0 -> 2.0)"
    dump = site.work / "dumps" / "ours-a"
    if not (dump / "restore.py").is_file():
        return Check(name, False, "no dump of ours to start from")
    old = site.work / "dumps" / f"noi-tickets-{OLD_VERSION}"
    make_old_dump(dump, old)
    site.use(blank_copy(pristine, site.work / "blank.db"))
    child = site.manage(WITH_EXAMPLE, "run", str(old / "restore.py"), "--noinput",
                        log="example-restore")  # fmt: skip
    if child.returncode:
        return Check(name, False, f"the restore failed:\n{child.tail()}")
    diffs = compare_databases(pristine, site.save(site.work / "example.db"))
    bad = [diff.table for diff in diffs if not diff.equal]
    if bad:
        return Check(name, False, f"tables differ: {', '.join(bad)}")
    return Check(name, True, f"{len(diffs)} tables equal after the upgrade")


def make_old_dump(dump: Path, old: Path) -> None:
    """Write into *old* the dump *dump* as release 1.0 of ``tickets`` had it."""
    shutil.rmtree(old, ignore_errors=True)
    shutil.copytree(dump, old)
    meta = _assignments(old / "restore.py")
    meta["VERSIONS"]["tickets"] = OLD_VERSION
    files, schema = list(meta["FILES"]), meta["SCHEMA"]
    _rename_type_model(old, schema, files)
    _old_tickets(old, schema, files)
    meta["SCHEMA"] = {(_KIND if k == _TYPE else k): v for k, v in schema.items()}
    meta["FILES"] = tuple(files)
    (old / "restore.py").write_text(render_restore_script(meta), encoding="utf-8")


def _rename_type_model(old: Path, schema: dict[str, Any], files: list) -> None:
    """Name ``tickets.tickettype`` ``tickets.kind``, with its table and content type."""
    schema[_TYPE]["table"] = "tickets_kind"
    for entry in schema.values():
        entry["fields"] = tuple(
            (*f[:5], _KIND) if f[5] == _TYPE else f for f in entry["fields"]
        )
    _columns, rows = _data(old, files, _TYPE)
    _write(old, files, ModelInfo.from_literal(_KIND, schema[_TYPE]), rows, _TYPE)
    label = "contenttypes.contenttype"
    _columns, rows = _data(old, files, label)
    renamed = [("tickets", "kind") if row == ("tickets", "tickettype") else row
               for row in rows]  # fmt: skip
    _write(old, files, ModelInfo.from_literal(label, schema[label]), renamed)


def _old_tickets(old: Path, schema: dict[str, Any], files: list) -> None:
    """Write the tickets as 1.0 had them: kind, summary, nickname, state names."""
    fields = []
    for field in schema[_TICKET]["fields"]:
        if field[0] == "ticket_type":
            field = ("kind", "kind_id", "kind_id", *field[3:])
        elif field[0] == "title":
            field = ("summary", "summary", "summary", *field[3:])
        if field[0] != "urgent":
            fields.append(field)
    fields.append(("nickname", "nickname", "nickname", "CharField", True, None))
    columns, rows = _data(old, files, _TICKET)
    urgent, state, pk = (columns.index(c) for c in ("urgent", "state", "id"))
    # Read, not imported: noi_migrators imports migrations_registry, not stdlib.
    values_by_name = _assignments(_HERE / "noi_migrators.py")["STATE_VALUES"]
    names = {value: name for name, value in values_by_name.items()}
    converted = []
    for row in rows:
        values = list(row)
        values[state] = names[values[state]]
        del values[urgent]
        converted.append((*values, f"#{row[pk]}"))
    schema[_TICKET]["fields"] = tuple(fields)
    _write(old, files, ModelInfo.from_literal(_TICKET, schema[_TICKET]), converted)


def _assignments(path: Path) -> dict[str, Any]:
    """Return the literal top-level assignments of a Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant | ast.Dict | ast.Tuple)
    }  # fmt: skip


def _data(old: Path, files: list, label: str) -> tuple[tuple, tuple]:
    """Read and remove the one data file of *label*; return its columns and rows."""
    (entry,) = (entry for entry in files if entry[0] == label)
    path = old / entry[1]
    values = _assignments(path)
    path.unlink()
    return values["COLUMNS"], values["ROWS"]


def _write(
    old: Path, files: list, info: ModelInfo, rows: Sequence, label: str = ""
) -> None:
    """Write *rows* of *info*'s model as one file, in place of *label*'s in *files*."""
    name = info.label.replace(".", "_") + ".py"
    text = data_header(info) + "".join(f"    {row!r},\n" for row in rows) + ")\n"
    data = text.encode("utf-8")
    (old / name).write_bytes(data)
    at = [entry[0] for entry in files].index(label or info.label)
    files[at] = (info.label, name, len(rows), hashlib.sha256(data).hexdigest())
