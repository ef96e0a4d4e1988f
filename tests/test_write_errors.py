"""A disk that is full or a place that cannot be written: one message, nothing left (#12)."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path
from typing import IO, Any

import pytest
from django.core.management import CommandError, call_command

from lino_migrate.dump.writer import FileWriter


def _hashes(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
    }


class _FullDisk:
    """A file whose second write fails as on a full disk."""

    def __init__(self, real: IO[bytes]) -> None:
        self.real, self.writes = real, 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self.writes > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


@pytest.mark.django_db(transaction=True)
def test_full_disk_keeps_the_previous_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dump2py --overwrite on a full disk: one error, old dump intact, nothing beside."""
    target = tmp_path / "dumps" / "today"
    call_command("dump2py", str(target), "--noinput", "-v0")
    before = _hashes(target)
    real_open = FileWriter._open

    def full(self: FileWriter, name: str) -> Any:
        return _FullDisk(real_open(self, name))

    monkeypatch.setattr(FileWriter, "_open", full)
    with pytest.raises(CommandError, match="No space left on device") as error:
        call_command("dump2py", str(target), "--noinput", "--overwrite", "-v0")
    assert "a previous dump there is untouched" in str(error.value)
    assert before == _hashes(target)
    assert ["today"] == [p.name for p in target.parent.iterdir()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("command", ["dump2py", "upgradedump"])
def test_unwritable_place_is_one_message(command: str, tmp_path: Path) -> None:
    """A target under /proc (no directory can be made there) gives one clear error."""
    call_command("dump2py", str(tmp_path / "old"), "--noinput", "-v0")
    target = "/proc/lino-migrate-test/dump"
    args = [target] if command == "dump2py" else [str(tmp_path / "old"), target]
    with pytest.raises(CommandError, match="Could not write the dump") as error:
        call_command(command, *args, "--noinput", "-v0")
    assert target in str(error.value)
    assert "Traceback" not in str(error.value)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_full_database_disk_during_a_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database's disk fills up mid-restore: one message, rolled back, unchanged."""
    from django.db import OperationalError

    from lino_migrate.restore.loader import TableLoader
    from tests.site.data import populate
    from tests.snapshot import snapshot

    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    before = snapshot("other")
    calls = []

    def full(self: TableLoader, params: Any) -> None:
        calls.append(self.label)
        if len(calls) > 3:
            msg = "database or disk is full"
            raise OperationalError(msg)
        real(self, params)

    real = TableLoader._executemany
    monkeypatch.setattr(TableLoader, "_executemany", full)
    monkeypatch.setattr(TableLoader, "_copy", full)
    with pytest.raises(CommandError, match="database or disk is full") as error:
        call_command(
            "run", str(tmp_path / "d" / "restore.py"), "--noinput",
            "--database", "other", "-v0",
        )  # fmt: skip
    assert "The restore was rolled back; the database is unchanged." in str(error.value)
    assert 1 == len(str(error.value).strip().splitlines())
    assert before == snapshot("other")
