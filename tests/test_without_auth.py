"""Every command on a site without ``auth``, without ``contenttypes``, or with neither (#13).

Lino sites do not install ``django.contrib.auth``; some have no
``contenttypes`` either. Each variant of the test site's settings
(``tests/settings/{noauth,nocontenttypes,bare}.py``) gets one migrated
database with a few rows, and every command runs on it in a ``manage.py``
process: ``dump2py`` (and ``--simulate``), ``dumpplan``, ``dumpcompare``, ``upgradedump``,
``makemigrator --dry-run``, then the restore (``run DIR/restore.py``) and
``restoredump`` into two empty migrated copies. Raw SQL is the oracle.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import VariantSite

#: variant → (``auth`` installed, ``contenttypes`` installed, ``library`` installed)
VARIANTS = {
    "noauth": (False, True, True),
    "nocontenttypes": (False, False, False),
    "bare": (False, False, False),
}

FILL = """\
from django.apps import apps
from tests.site.kitchen.models import Computed, Sample, Stamped
Sample.objects.create(id=1, label="one", rank=1, char="it's")
Sample.objects.create(id=2, label="two", rank=2, text="a\\nb")
Computed.objects.create(id=1, a=1, b=2)
Stamped.objects.create(id=1, name="stamp")
if apps.is_installed("tests.site.library"):
    from django.contrib.contenttypes.models import ContentType
    from tests.site.library.models import Bookmark
    sample = ContentType.objects.get_for_model(Sample)
    Bookmark.objects.create(id=1, label="two", target_type=sample, target_id=2)
print([apps.is_installed(f"django.contrib.{a}") for a in ("auth", "contenttypes")])
"""

SAMPLES = "SELECT id, label, rank, char, text FROM kitchen_sample ORDER BY id"
OTHERS = (
    "SELECT id, a, b, total, answer FROM kitchen_computed ORDER BY id",
    "SELECT id, name, created, modified FROM kitchen_stamped ORDER BY id",
)
BOOKMARK = (
    "SELECT b.label, t.app_label, t.model, b.target_id FROM library_bookmark b"
    " JOIN django_content_type t ON t.id = b.target_type_id"
)


def _rows(site: VariantSite, library: bool) -> list[list[tuple[object, ...]]]:
    """Return the rows the test wrote, read with SQL (the oracle)."""
    return site.sql(SAMPLES, *OTHERS, *([BOOKMARK] if library else []))


def _old_dump(dump: Path, old: Path) -> None:
    """Copy *dump* as if written by kitchen 0.9, whose ``stamped`` had ``legacy``."""
    shutil.copytree(dump, old)
    script = old / "restore.py"
    source = script.read_text()
    name = "            ('name', 'name', 'name', 'CharField', False, None),\n"
    legacy = name.replace("name", "legacy").replace("False", "True")
    stamped = source.index("'kitchen.stamped': {")
    at = source.index(name, stamped) + len(name)
    source = source[:at] + legacy + source[at:]
    assert 1 == source.count("'kitchen': '1.0'")
    script.write_text(source.replace("'kitchen': '1.0'", "'kitchen': '0.9'"))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_command_works_without_auth(
    variant: str, make_variant_site: Callable[..., VariantSite], tmp_path: Path
) -> None:
    """Dump, plan, compare, upgrade, makemigrator and both restores exit 0; rows return."""
    auth, contenttypes, library = VARIANTS[variant]
    site = make_variant_site(variant, variant)
    site.manage("migrate", "-v0")
    targets = [make_variant_site(variant, f"{variant}_to", like=site) for _ in "12"]
    assert f"[{auth}, {contenttypes}]\n" == site.python(FILL)
    expected = _rows(site, library)
    assert [(1, "one", 1, "it's", None), (2, "two", 2, None, "a\nb")] == expected[0]
    if library:
        assert [("two", "kitchen", "sample", 2)] == expected[-1]

    dump, upgraded = tmp_path / "dump", tmp_path / "upgraded"
    drift = site.manage("dump2py", str(tmp_path / "nothing"), "--simulate").stdout
    assert "\nNo drift: " in drift, drift
    site.manage("dump2py", str(dump), "--noinput", "-v0")
    assert "The restore would work." in site.manage("dumpplan", str(dump)).stdout
    site.manage("upgradedump", str(dump), str(upgraded), "-v0")
    for other in (dump, upgraded):
        compared = site.manage("dumpcompare", str(dump), str(other)).stdout
        assert "\nNo differences: " in compared, compared

    _old_dump(dump, tmp_path / "old")
    diff = site.manage("makemigrator", "kitchen", "--from", "old", "--dry-run").stdout
    assert '@migrator("kitchen", "1.0")' in diff
    assert 'm.remove_field("kitchen.stamped", "legacy")' in diff

    run = targets[0].manage("run", str(dump / "restore.py"), "--noinput")
    safe = targets[1].manage("restoredump", str(dump), "--noinput")
    for result, target in ((run, targets[0]), (safe, targets[1])):
        assert re.search(r"Restored \d+ rows of \d+ models", result.stdout)
        assert expected == _rows(target, library)
