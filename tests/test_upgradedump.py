"""``upgradedump``: an old dump migrated without a database, a person's edits kept."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

import lino_migrate
from lino_migrate.dump.writer import WRITE_BATCH, FileWriter
from lino_migrate.exceptions import DumpFormatError
from lino_migrate.format.layout import METADATA, FileEntry, ModelInfo
from lino_migrate.restore.reader import PARSE_BATCH, open_dump, read_rows
from lino_migrate.rewrite.restore_script import replace_metadata
from lino_migrate.upgrade import spool, upgradedump
from lino_migrate.upgrade.upgradedump import upgrade_dump
from migrations_registry import Registry
from tests.site.library.models import Genre, Publisher, Tag
from tests.test_upgrade_e2e import SHOP3, _release_1_dump

HOOK = '''def after_restore(ctx):
    """Run inside the restore transaction, after the last row is written."""
    # Edited by a person: count the customers.
    from django.apps import apps
    print("customers:", apps.get_model("shop", "customer").objects.count())
'''


def _edit_hooks(dump: Path) -> str:
    script = dump / "restore.py"
    text = script.read_text(encoding="utf-8")
    start = text.index("def after_restore(ctx):")
    end = text.index("\n\n\n", start)
    text = (
        text[:start] + HOOK.rstrip("\n") + text[end:] + "\n# Kept: a comment of mine.\n"
    )
    script.write_text(text, encoding="utf-8")
    return text[text.index("def before_restore") :]


def test_upgraded_dump_restores_like_the_old_one(
    make_site: Any, tmp_path: Path
) -> None:
    """NEW keeps the hooks byte for byte, needs no migrator, restores like OLD."""
    _source, old = _release_1_dump(make_site, tmp_path)
    hooks = _edit_hooks(old)
    first = make_site("first", "3")
    first.manage("upgradedump", str(old), str(tmp_path / "new"))
    text = (tmp_path / "new" / "restore.py").read_text(encoding="utf-8")
    assert hooks == text[text.index("def before_restore") :]
    assert "'shop': '3.0'" in text
    plan = first.manage("dumpplan", str(tmp_path / "new")).stdout
    assert "Migrators that will run" not in plan
    assert re.search(r"shop +3\.0 -> 3\.0", plan)
    assert "-> shop." not in plan
    from_old = first.manage("run", str(old / "restore.py"), "--noinput").stdout
    second = make_site("second", "3")
    from_new = second.manage("run", str(tmp_path / "new" / "restore.py"), "--noinput")
    assert "customers: " in from_old
    assert (
        from_old.split("customers: ")[1].split()[0]
        == from_new.stdout.split("customers: ")[1].split()[0]
    )
    assert first.tables(*SHOP3) == second.tables(*SHOP3)
    assert first.tables("django_content_type", "auth_permission") == second.tables(
        "django_content_type", "auth_permission"
    )


#: What a person writes above the hooks: a helper, which decorates before_restore.
HELPER = '''def _logged(hook):
    """Print the name of *hook* when it runs."""

    def run(ctx):
        print("hook:", hook.__name__)
        return hook(ctx)

    return run


@_logged
'''


def _edit_everywhere(dump: Path) -> str:
    """Edit restore.py where a person may; return it as it is on disk."""
    script = dump / "restore.py"
    text = script.read_bytes().decode("utf-8")
    edits = {
        "regenerating this file keeps them.\n": (
            "regenerating this file keeps them.\n\nEdited: the backup of 25 November.\n"
        ),
        "\nVERSIONS = ": "\n# Kept: a comment among the metadata.\nVERSIONS = ",
        "def before_restore(ctx):": HELPER + "def before_restore(ctx):",
    }
    for old, new in edits.items():
        assert 1 == text.count(old), old
        text = text.replace(old, new)
    start = text.index("def after_restore(ctx):")
    end = text.index("\n\n\n", start)
    text = text[:start] + HOOK.rstrip("\n") + text[end:] + "# Kept: the last line.\n"
    script.write_bytes(text.encode("utf-8"))
    return text


def _person_parts(text: str) -> str:
    """Return *text* (a restore.py) without the lines that a regeneration rewrites.

    Those are the header line and the top-level metadata assignments, found by
    :mod:`ast` (independently of the libcst codemod under test).
    """
    generated = {0}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in METADATA for t in node.targets
        ):
            generated.update(range(node.lineno - 1, (node.end_lineno or 0)))
    lines = text.splitlines(keepends=True)
    return "".join(line for i, line in enumerate(lines) if i not in generated)


def _table_names(site: Any) -> list[str]:
    """Return every table of the site's database but Django's migration history."""
    code = (
        "import json\n"
        "from django.db import connection\n"
        "print(json.dumps(connection.introspection.table_names()))"
    )
    return [t for t in json.loads(site.python(code)) if t != "django_migrations"]


def test_upgraded_dump_keeps_every_edit_and_restores_every_table_alike(
    make_site: Any, tmp_path: Path
) -> None:
    """Edits anywhere outside the metadata survive byte for byte; every table agrees.

    The docstring, a comment among the metadata, a decorated helper, both
    hooks and a last comment are edited in the release-1 dump; ``dumpplan
    NEW`` has no migrator, operation or filled field; restoring OLD and NEW
    into release 3 gives equal rows in every table (content types,
    permissions, users and groups included).
    """
    _source, old = _release_1_dump(make_site, tmp_path)
    before = _edit_everywhere(old)
    first = make_site("first", "3")
    first.manage("upgradedump", str(old), str(tmp_path / "new"))
    after = (tmp_path / "new" / "restore.py").read_bytes().decode("utf-8")
    assert _person_parts(before) == _person_parts(after)
    assert before != after

    report = json.loads(
        first.manage("dumpplan", str(tmp_path / "new"), "--format", "json").stdout
    )
    assert report["ok"]
    assert [] == report["migrators"]
    assert {
        "dump": "3.0",
        "current": "3.0",
        "migrators": [],
        "installed": True,
    } == report["versions"]["shop"]
    models = report["models"].items()
    assert [] == [k for k, v in models if v["changes"] or v["filled"]]
    assert [] == [k for k, v in models if not v["unchanged"] or v["current"] != k]

    from_old = first.manage("run", str(old / "restore.py"), "--noinput").stdout
    second = make_site("second", "3")
    from_new = second.manage("run", str(tmp_path / "new" / "restore.py"), "--noinput")
    hooks = ["hook: before_restore", "customers: "]
    assert all(h in from_old and h in from_new.stdout for h in hooks)
    tables = _table_names(first)
    assert {*SHOP3, "auth_user", "django_content_type"} <= set(tables)
    assert sorted(tables) == sorted(_table_names(second))
    assert first.tables(*tables) == second.tables(*tables)


@pytest.mark.django_db(transaction=True)
def test_crlf_restore_script_stays_crlf(tmp_path: Path) -> None:
    """A restore.py saved with Windows line endings keeps them through upgradedump."""
    call_command("dump2py", str(tmp_path / "old"), "--noinput", "-v0")
    script = tmp_path / "old" / "restore.py"
    before = script.read_bytes().replace(b"\n", b"\r\n")
    script.write_bytes(before)
    upgrade_dump(tmp_path / "old", tmp_path / "new")
    after = (tmp_path / "new" / "restore.py").read_bytes()
    assert b"\n" not in after.replace(b"\r\n", b"")
    assert (
        before[before.index(b"\r\ndef before_restore") :]
        == (after[after.index(b"\r\ndef before_restore") :])
    )


def _library_dump(tmp_path: Path, publishers: int, tags: int, genres: int = 0) -> Path:
    """Dump a database of that many rows, as if written by release 0.9 of library.

    The migrators of library 1.0 then run when the dump is upgraded.
    """
    Publisher.objects.bulk_create(
        Publisher(id=i, name=f"House {i}", country="BE")
        for i in range(1, publishers + 1)
    )
    Tag.objects.bulk_create(
        Tag(name=f"t{2 * i:05}", description=f"Tag {i}") for i in range(tags)
    )
    Genre.objects.bulk_create(Genre(id=i, name=f"G{i}") for i in range(1, genres + 1))
    old = tmp_path / "old"
    call_command("dump2py", str(old), "--noinput", "-v0")
    script = old / "restore.py"
    text = script.read_text(encoding="utf-8")
    assert 1 == text.count("'library': '1.0'")
    script.write_text(text.replace("'library': '1.0'", "'library': '0.9'"), "utf-8")
    return old


def _rows_of(dump: Path, label: str) -> list[tuple[Any, ...]]:
    """Return the rows of model *label* in the dump, file after file."""
    meta = open_dump(dump)
    return [
        row
        for entry in meta.files
        if entry.model == label
        for batch in read_rows(meta, entry)
        for row in batch
    ]


@pytest.mark.django_db(transaction=True)
def test_rows_stream_through_without_being_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model's rows are written while its old files are read, not after (#11).

    Rows read from the old dump but not written yet are counted, per model,
    each time the writer takes a row: a batch read and a batch being written
    at most, for a migrated model as for one copied through, however many
    rows the model has. Holding a model's rows in a list would count them all.
    """
    rows = 3 * (PARSE_BATCH + WRITE_BATCH)
    old = _library_dump(tmp_path, publishers=rows, tags=rows)
    registry = Registry()

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        @m.rows("library.publisher")
        def shout(row):  # type: ignore[no-untyped-def]
            row["name"] = row["name"].upper()
            return row

    read: Counter[str] = Counter()
    written: Counter[str] = Counter()
    held: Counter[str] = Counter()

    def counted_read(meta: Any, entry: FileEntry) -> Iterator[list[Any]]:
        for batch in read_rows(meta, entry):
            read[entry.model] += len(batch)
            yield batch

    def counted(label: str, rows: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        for row in rows:
            written[label] += 1
            held[label] = max(held[label], read[label] - written[label])
            yield row

    write = FileWriter.write

    def counted_write(
        self: FileWriter, info: ModelInfo, rows: Iterable[tuple[Any, ...]]
    ) -> list[FileEntry]:
        return write(self, info, counted(info.label, rows))

    monkeypatch.setattr(upgradedump, "read_rows", counted_read)
    monkeypatch.setattr(FileWriter, "write", counted_write)
    upgrade_dump(old, tmp_path / "new", registry=registry, max_row_count=2500)
    labels = ("library.publisher", "library.tag")
    assert [rows, rows] == [written[label] for label in labels]
    assert [rows, rows] == [read[label] for label in labels]
    assert all(held[label] <= PARSE_BATCH + WRITE_BATCH for label in labels), held
    publishers = _rows_of(tmp_path / "new", "library.publisher")
    assert [(i, f"HOUSE {i}", "BE") for i in range(1, rows + 1)] == publishers


@pytest.mark.django_db(transaction=True)
def test_rows_made_for_other_models_land_in_their_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows a row function makes for other models are merged into their files.

    Publishers get new, descending ids; each makes a tag (a model no migrator
    touches, whose own rows are copied) and a genre without an id. Spooled in
    runs of two rows, the rows come out ordered by primary key, the genres
    without an id numbered after the others, and the new dump restores them.
    """
    monkeypatch.setattr(spool, "RUN_ROWS", 2)
    monkeypatch.setattr(spool, "SPOOL_BATCH", 1)
    old = _library_dump(tmp_path, publishers=5, tags=3, genres=2)
    registry = Registry()

    @registry.migrator("library", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        @m.rows("library.publisher")
        def spread(row):  # type: ignore[no-untyped-def]
            number = row["id"]
            row["id"] = 100 - number
            tag = {"name": f"t{11 - 2 * number:05}", "description": f"from {number}"}
            genre = {"name": f"from {number}"}
            return [row, ("library.tag", tag), ("library.genre", genre)]

    upgrade_dump(old, tmp_path / "new", registry=registry, max_row_count=3)
    new = tmp_path / "new"
    publishers = [(100 - i, f"House {i}", "BE") for i in range(5, 0, -1)]
    assert publishers == _rows_of(new, "library.publisher")
    tags = [(f"t{2 * i:05}", f"Tag {i}") for i in range(3)]
    tags += [(f"t{11 - 2 * i:05}", f"from {i}") for i in range(1, 6)]
    assert sorted(tags) == _rows_of(new, "library.tag")
    genres = [(1, "G1"), (2, "G2")] + [(2 + i, f"from {i}") for i in range(1, 6)]
    assert genres == _rows_of(new, "library.genre")
    call_command("run", str(new / "restore.py"), "--noinput", "-v0")
    assert sorted(tags) == list(
        Tag.objects.order_by("name").values_list("name", "description")
    )
    assert genres == list(Genre.objects.order_by("id").values_list("id", "name"))
    assert sorted(publishers) == list(
        Publisher.objects.order_by("id").values_list("id", "name", "country")
    )


BEFORE = '''# Generated by lino_migrate 0.0.1 on 2020-01-01T00:00:00+00:00.
"""Docstring a person edited."""

FORMAT = 1
VERSIONS = {'shop': '1.0'}  # a comment beside

MINE = 42  # a person's own assignment


def before_restore(ctx):
    VERSIONS = "local, untouched"
'''


def test_replace_metadata_keeps_everything_else() -> None:
    """Only metadata values and the header change; a missing one is added."""
    result = replace_metadata(
        BEFORE, {"FORMAT": 1, "VERSIONS": {"shop": "3.0"}, "CREATED": "now"}
    )
    assert result.code.startswith("# Generated by lino_migrate ")
    assert " on now.\n" in result.code.splitlines(keepends=True)[0]
    assert "VERSIONS = {\n    'shop': '3.0',\n}  # a comment beside\n" in result.code
    assert "CREATED = 'now'\n" in result.code
    assert result.warnings == ["restore.py lacked CREATED: added"]
    tail = BEFORE[BEFORE.index("\nMINE") :]
    assert result.code.endswith(tail)


def test_replace_metadata_keeps_windows_line_endings() -> None:
    """A CRLF file stays CRLF."""
    source = BEFORE.replace("\n", "\r\n")
    result = replace_metadata(source, {"FORMAT": 1, "VERSIONS": {}})
    assert "\r\n" in result.code
    assert "\n" not in result.code.replace("\r\n", "")
    assert result.code.endswith(BEFORE[BEFORE.index("\nMINE") :].replace("\n", "\r\n"))


# Before/after strings of the restore.py codemod (LibCST's assertCodemod style) --

SCRIPT = """\
# Generated by lino_migrate 0.0.1 on 2020-01-01T00:00:00+00:00.
# A person's note under the header.
\"\"\"Restore this dump.

Edited: the docstring says more now.
\"\"\"

FORMAT=1
CREATED = '2020-01-01T00:00:00+00:00'  # when
VERSIONS = {
  'shop': '1.0',   # odd indentation
}
# Between the metadata: kept.
PARTIAL = False; SKIPPED = ()
MINE = {'VERSIONS': 1}


def _counted(func):
    \"\"\"A decorator a person wrote.\"\"\"
    return func


@_counted
def before_restore(ctx):
\tVERSIONS = "local, untouched"   # tabs


class  Hooks :  FORMAT = 2


if __name__ == "__main__":
    FILES = "not metadata"
    from lino_migrate.restore import main

    main(__file__, globals())
"""

SCRIPT_AFTER = """\
# Generated by lino_migrate <version> on 2026-12-01T00:00:00+00:00.
# A person's note under the header.
\"\"\"Restore this dump.

Edited: the docstring says more now.
\"\"\"

FORMAT=1
CREATED = '2026-12-01T00:00:00+00:00'  # when
VERSIONS = {
    'shop': '3.0',
    'auth': '5.2',
}
# Between the metadata: kept.
PARTIAL = False; SKIPPED = ()
FILES = (
    ('shop.customer', 'shop_customer.py', 2, 'e3b0c442'),
)
MINE = {'VERSIONS': 1}


def _counted(func):
    \"\"\"A decorator a person wrote.\"\"\"
    return func


@_counted
def before_restore(ctx):
\tVERSIONS = "local, untouched"   # tabs


class  Hooks :  FORMAT = 2


if __name__ == "__main__":
    FILES = "not metadata"
    from lino_migrate.restore import main

    main(__file__, globals())
"""

NEW_VALUES = {
    "FORMAT": 1,
    "CREATED": "2026-12-01T00:00:00+00:00",
    "VERSIONS": {"shop": "3.0", "auth": "5.2"},
    "PARTIAL": False,
    "SKIPPED": (),
    "FILES": (("shop.customer", "shop_customer.py", 2, "e3b0c442"),),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_replace_metadata_before_after(newline: str) -> None:
    """Comments, decorators, odd formatting and line endings survive; values change.

    Only the header line and the values of top-level metadata assignments are
    replaced; a metadata name inside a function, a class or the ``__main__``
    block is the person's; missing metadata goes after the last assignment.
    """
    before = SCRIPT.replace("\n", newline)
    after = SCRIPT_AFTER.replace("<version>", lino_migrate.__version__)
    result = replace_metadata(before, NEW_VALUES)
    assert after.replace("\n", newline) == result.code
    assert result.changed
    assert ["restore.py lacked FILES: added"] == result.warnings


def test_replace_metadata_again_changes_nothing() -> None:
    """The same values put into a regenerated script give it back unchanged."""
    once = replace_metadata(SCRIPT, NEW_VALUES).code
    twice = replace_metadata(once, NEW_VALUES)
    assert once == twice.code
    assert not twice.changed
    assert [] == twice.warnings


def test_replace_metadata_refuses_an_unparsable_script() -> None:
    """A restore.py that does not parse is an error naming the file."""
    with pytest.raises(DumpFormatError, match=r"^restore.py: does not parse: "):
        replace_metadata("FORMAT = (\n", NEW_VALUES)
