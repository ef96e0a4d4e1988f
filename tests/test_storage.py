"""Dumps through a Django storage: ``dump2py --storage``, ``restoredump --storage`` (#15).

Two real storages of Django: a ``FileSystemStorage`` under a root of its
own, and an ``InMemoryStorage``, so that every file goes through the
Storage API and nothing through the local path of the dump.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.conf import settings
from django.core.files.storage import InMemoryStorage, storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lino_migrate.restore.reader import read_meta
from tests.site.data import populate
from tests.site.kitchen.models import Sample
from tests.snapshot import assert_same, snapshot

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


class RecordingStorage(InMemoryStorage):
    """An in-memory storage that records the names it saves, in order."""

    saved: ClassVar[list[str]] = []

    def _save(self, name: str, content: Any) -> str:
        RecordingStorage.saved.append(name)
        return str(super()._save(name, content))


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Path]:
    """Add the storages ``files`` (under a root returned) and ``memory``."""
    root = tmp_path / "store"
    extra = {
        "files": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
        "memory": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "recording": {"BACKEND": "tests.test_storage.RecordingStorage"},
    }
    RecordingStorage.saved.clear()
    with override_settings(STORAGES={**settings.STORAGES, **extra}):
        yield root


def _dump(alias: str, name: str, *args: str) -> None:
    call_command(
        "dump2py", name, "--storage", alias, "--noinput", "-v0", *args
    )  # fmt: skip


def _restore(alias: str, name: str, *args: str) -> None:
    call_command(
        "restoredump", name, "--storage", alias, "--noinput", "-v0",
        "--database", "other", *args,
    )  # fmt: skip


@BOTH
@pytest.mark.parametrize("alias", ["files", "memory"])
def test_round_trip_through_a_storage(stores: Path, alias: str) -> None:
    """A dump saved in the storage is restored from it: the same tables."""
    populate("default")
    _dump(alias, "nightly/one")
    storage = storages[alias]
    assert storage.exists("nightly/one/restore.py")
    if alias == "files":
        meta = read_meta(stores / "nightly/one/restore.py")
        assert {e.name for e in meta.files} <= {
            p.name for p in (stores / "nightly/one").iterdir()
        }
    _restore(alias, "nightly/one")
    assert_same(snapshot("default"), snapshot("other"))


@BOTH
def test_media_through_a_storage(stores: Path, tmp_path: Path) -> None:
    """--media and --storage together: the files go there and come back."""
    uploads, fresh = tmp_path / "uploads", tmp_path / "fresh"
    (uploads / "uploads").mkdir(parents=True)
    (uploads / "uploads/a.txt").write_bytes(b"alpha")
    with override_settings(MEDIA_ROOT=str(uploads)):
        Sample.objects.create(id=1, label="a", file="uploads/a.txt")
        _dump("memory", "m", "--media")
    assert storages["memory"].exists("m/media/uploads/a.txt")
    with override_settings(MEDIA_ROOT=str(fresh)):
        _restore("memory", "m", "--media")
    assert b"alpha" == (fresh / "uploads/a.txt").read_bytes()


@BOTH
def test_restore_py_is_saved_last(stores: Path) -> None:
    """A dump without restore.py is incomplete: restore.py is the last file saved."""
    _dump("recording", "d")
    assert "d/restore.py" == RecordingStorage.saved[-1]
    assert len(RecordingStorage.saved) > 5


@BOTH
def test_an_incomplete_dump_is_never_read(stores: Path) -> None:
    """Without its restore.py (an interrupted upload) the dump is refused."""
    _dump("files", "d")
    (stores / "d" / "restore.py").unlink()
    with pytest.raises(
        CommandError,
        match=r"holds files but no restore\.py \(an interrupted upload\?\), not a",
    ):
        _restore("files", "d")


@BOTH
def test_an_existing_dump_needs_overwrite(stores: Path) -> None:
    """The name of a dump is refused without --overwrite; with it, replaced whole."""
    _dump("files", "d")
    (stores / "d" / "stale_chunk.py").write_text("x")
    with pytest.raises(CommandError, match=r"exists already.*--overwrite"):
        _dump("files", "d")
    _dump("files", "d", "--overwrite")
    assert not (stores / "d" / "stale_chunk.py").exists()
    assert (stores / "d" / "restore.py").exists()


@BOTH
def test_something_else_is_never_replaced(stores: Path) -> None:
    """Files under the name that are not a dump of ours are refused, even --overwrite."""
    (stores / "d").mkdir(parents=True)
    (stores / "d" / "restore.py").write_text("print('mine')\n")
    with pytest.raises(CommandError, match="not written by lino_migrate"):
        _dump("files", "d", "--overwrite")
    assert "print('mine')\n" == (stores / "d" / "restore.py").read_text()


@BOTH
def test_an_unknown_storage_is_named(stores: Path) -> None:
    """The message names the aliases of settings.STORAGES."""
    with pytest.raises(CommandError, match=r"Storage 'nope': not in settings.STORAGES"):
        _dump("nope", "d")


@BOTH
def test_a_name_with_dots_is_refused(stores: Path) -> None:
    """A storage name never climbs out of the storage."""
    with pytest.raises(CommandError, match=r"'\.\./d' is not a relative name"):
        _dump("files", "../d")


@BOTH
def test_an_interrupted_upload_is_never_replaced(stores: Path) -> None:
    """Files without restore.py under the name are refused, even with --overwrite."""
    (stores / "d").mkdir(parents=True)
    (stores / "d" / "app_model.py").write_text("ROWS = (\n)\n")
    with pytest.raises(CommandError, match=r"holding files but no restore\.py"):
        _dump("files", "d", "--overwrite")
