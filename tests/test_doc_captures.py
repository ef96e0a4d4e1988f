"""The output shown by the docs is what ``docs/capture.py`` captures now (#14).

The capture runs ``demo/manage.py`` in processes of its own: the test that
makes it is ``e2e`` (about 15 seconds). The committed files must equal the
fresh ones, Django's version aside (the files show the version that made
them) and, for the SVG files, only their text: their markup is that of the
installed rich.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import django
import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "captured"
#: Every file that docs/capture.py writes; the docs include each of them.
EXPECTED = (
    "drift-clean.txt",
    "drift.json",
    "drift.txt",
    "dump2py.txt",
    "dumpcompare-migrate.txt",
    "dumpcompare.json",
    "dumpcompare.txt",
    "dumpplan.json",
    "dumpplan.txt",
    "progress-dump2py.svg",
    "progress-restore.svg",
    "refusal-not-migrated.txt",
    "refusal-run-dir.txt",
    "restore.json",
    "restore.txt",
    "table-dumpplan.svg",
)


def _load_capture() -> ModuleType:
    """Import docs/capture.py, which is a script and not in a package."""
    spec = importlib.util.spec_from_file_location(
        "doc_capture", ROOT / "docs" / "capture.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


capture = _load_capture()


def _svg_text(svg: str) -> list[str]:
    """Return the text of the elements of an SVG that rich wrote, unescaped.

    Rich writes a space as a no-break space; it is a space again here.
    """
    texts = re.findall(r">([^<>]+)</text>", svg)
    return [html.unescape(text).replace("\xa0", " ") for text in texts]


def _comparable(path: Path, version: str) -> list[str] | None:
    """Return what is compared of the capture *path* made with Django *version*.

    Django's version becomes ``<django>``, and the spaces on its lines are
    collapsed (a version of another length pads a table otherwise). ``None``
    when there is no such file.
    """
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    lines = _svg_text(text) if path.suffix == ".svg" else text.splitlines()
    return [
        " ".join(line.replace(version, "<django>").split()) if version in line else line
        for line in lines
    ]


def _django_version(directory: Path) -> str:
    """Return the version of Django that made the captures in *directory*."""
    plan = json.loads((directory / "dumpplan.json").read_text(encoding="utf-8"))
    return str(plan["dump"]["django"])


@pytest.mark.e2e
def test_fresh_captures_equal_the_committed_ones(tmp_path: Path) -> None:
    """Every capture is made, equals the committed one, and the bars show counts."""
    fresh = tmp_path / "captured"
    capture.capture(fresh)
    assert sorted(EXPECTED) == sorted(p.name for p in fresh.iterdir())
    assert django.get_version() == _django_version(fresh)
    stale = [
        name
        for name in EXPECTED
        if _comparable(COMMITTED / name, _django_version(COMMITTED))
        != _comparable(fresh / name, django.get_version())
    ]
    assert [] == stale, "run `.venv/bin/python docs/capture.py` and commit the files"
    dump, restore = (
        " ".join(_svg_text((fresh / f"progress-{kind}.svg").read_text()))
        for kind in ("dump2py", "restore")
    )
    assert "shop.order" in dump
    assert "240 rows  8/11 models" in dump
    assert "shop.orderline" in restore
    assert "1,290/4,245 rows  10/11 models" in restore
    plan = " ".join(_svg_text((fresh / "table-dumpplan.svg").read_text()))
    assert "Versions (dump -> current):" in plan
    assert "shop.client" in plan
    assert "┌" in plan


def test_a_second_capture_writes_nothing(tmp_path: Path) -> None:
    """A file is written only when its content differs."""
    out = tmp_path / "out"
    captured = {"a.txt": "one\n", "b.json": "{}\n"}
    assert [out / "a.txt", out / "b.json"] == capture.write(out, captured)
    assert [] == capture.write(out, captured)
    assert [out / "a.txt"] == capture.write(out, {**captured, "a.txt": "two\n"})
    assert "two\n" == (out / "a.txt").read_text()


def test_paths_and_trailing_spaces_are_normalised(tmp_path: Path) -> None:
    """The temporary directory becomes /backups and /srv/shop, lines lose their ends."""
    shop = capture.Shop(tmp_path)
    text = (
        f"\nWrote 3 rows to {tmp_path}/backups/2026-11-25.  \n"
        f"into database 'default' (SQLite {tmp_path}/site/db.sqlite3)\n\n"
    )
    expected = (
        "Wrote 3 rows to /backups/2026-11-25.\n"
        "into database 'default' (SQLite /srv/shop/db.sqlite3)\n"
    )
    assert expected == shop.normalise(text)


#: The top-level keys of each JSON report, as docs/commands.md lists them.
DOCUMENTED_KEYS = {
    "drift.json": {"database", "vendor", "drift", "models", "extra_tables", "migrations"},
    "dumpcompare.json": {"apps", "dumps", "models", "summary"},
    "dumpplan.json": {
        "dump", "versions", "migrators", "models", "problems", "warnings", "ok",
    },
    "restore.json": {
        "database", "dump", "edits", "media", "migrators", "models", "ok",
        "simulated", "violations", "written",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DOCUMENTED_KEYS))
def test_json_reports_have_the_documented_keys(name: str) -> None:
    """Each JSON report, as captured, has exactly the keys the docs list (#14)."""
    document = json.loads((COMMITTED / name).read_text(encoding="utf-8"))
    assert DOCUMENTED_KEYS[name] == set(document)
