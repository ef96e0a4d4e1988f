"""A dump as one archive (``dump2py --archive``): restored, compared, refused (#15).

The oracle of a round trip is the database, read raw (:mod:`tests.snapshot`);
archives are inspected and hostile ones built with :mod:`tarfile` from the
standard library.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lino_migrate.dump import archive
from tests.archives import member, rebuild
from tests.site.data import populate
from tests.snapshot import assert_same, snapshot

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def _dump(path: Path, *options: str, using: str = "default") -> Path:
    call_command(
        "dump2py", str(path), "--noinput", "-v0", "--archive", "--database", using,
        *options,
    )  # fmt: skip
    return path.with_name(path.name.removesuffix(".tar") + ".tar")


def _restore(dump: Path, using: str = "other") -> None:
    call_command("restoredump", str(dump), "--noinput", "--database", using, "-v0")


@BOTH
@pytest.mark.parametrize("options", [(), ("--compress", "gzip")])
def test_round_trip_is_exact_and_deterministic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: tuple[str, ...]
) -> None:
    """An archive restores every value; the same data gives the same archive bytes."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    populate("default")
    first = _dump(tmp_path / "a", "--max-row-count", "3", *options)
    assert [tmp_path / "a.tar"] == sorted(tmp_path.iterdir())
    _restore(first)
    assert_same(snapshot("default"), snapshot("other"))
    again = _dump(tmp_path / "b" / "a.tar", "--max-row-count", "3", *options)
    assert first.read_bytes() == again.read_bytes()


@BOTH
def test_members_are_fixed_and_extract_to_a_dump_directory(tmp_path: Path) -> None:
    """restore.py first, files in FILES order, owner 0, time 0, mode 0600; tar xf
    gives a dump directory that run DIR/restore.py restores."""
    populate("default")
    dump = _dump(tmp_path / "nightly", "--compress", "xz")
    with tarfile.open(dump) as tar:
        members = tar.getmembers()
        assert "nightly/restore.py" == members[0].name
        assert {(0, 0, "", "", 0, 0o600, True)} == {
            (m.uid, m.gid, m.uname, m.gname, m.mtime, m.mode, m.isreg())
            for m in members
        }
        assert all(m.name.endswith((".py", ".py.xz")) for m in members)
        tar.extractall(tmp_path / "out", filter="data")
    assert 0o600 == os.stat(dump).st_mode & 0o777
    call_command(
        "run", str(tmp_path / "out" / "nightly" / "restore.py"), "--noinput",
        "--database", "other", "-v0",
    )  # fmt: skip
    assert_same(snapshot("default"), snapshot("other"))


@BOTH
def test_every_reader_reads_an_archive(tmp_path: Path) -> None:
    """dumpplan, dumpcompare and upgradedump read an archive like a directory."""
    populate("default")
    dump = _dump(tmp_path / "a", "--compress", "gzip")
    call_command("dump2py", str(tmp_path / "dir"), "--noinput", "-v0")
    call_command("dumpplan", str(dump), stdout=io.StringIO())
    # Exit status 1 (a CommandError) would say that the dumps differ.
    call_command("dumpcompare", str(dump), str(tmp_path / "dir"), stdout=io.StringIO())
    call_command("upgradedump", str(dump), str(tmp_path / "up"), "-v0")
    call_command("upgradedump", str(dump), str(tmp_path / "up2"), "-v0", "--archive")
    assert (tmp_path / "up" / "restore.py").is_file()
    call_command(
        "dumpcompare", str(tmp_path / "up2.tar"), str(dump), stdout=io.StringIO()
    )
    _restore(tmp_path / "up2.tar")
    assert_same(snapshot("default"), snapshot("other"))


@pytest.mark.django_db
def test_run_names_restoredump_for_an_archive(tmp_path: Path) -> None:
    """run needs a script: for an archive it says to use restoredump."""
    dump = _dump(tmp_path / "a")
    with pytest.raises(CommandError, match="restoredump"):
        call_command("run", str(dump))


@pytest.mark.django_db
def test_overwrite_replaces_only_an_archive_of_a_dump(tmp_path: Path) -> None:
    """--overwrite replaces our archive; a plain file or another tar is refused."""
    dump = _dump(tmp_path / "a")
    with pytest.raises(CommandError, match="exists already"):
        _dump(tmp_path / "a")
    _dump(tmp_path / "a", "--overwrite")
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.addfile(tarfile.TarInfo("x/restore.py"), io.BytesIO(b""))
    plain = tmp_path / "plain.tar"
    plain.write_bytes(b"not a tar")
    for target in (other, plain):
        before = target.read_bytes()
        with pytest.raises(CommandError, match="replaces only such a dump"):
            _dump(target, "--overwrite")
        assert before == target.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.tar", "other.tar", "plain.tar",
    ]  # fmt: skip
    assert dump.is_file()


@pytest.mark.django_db
def test_a_failed_archive_leaves_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while archiving leaves the old archive whole and nothing else."""
    dump = _dump(tmp_path / "a")
    before = dump.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.os, "replace", fail)
    with pytest.raises(CommandError, match="No space left on device"):
        _dump(tmp_path / "a", "--overwrite")
    assert before == dump.read_bytes()
    assert ["a.tar"] == [p.name for p in tmp_path.iterdir()]


HOSTILE = {
    "dotdot": lambda m: [*m, member("a/../evil.py", b"x")],
    "absolute": lambda m: [*m, member("/tmp/evil.py", b"x")],
    "symlink": lambda m: [*m, member("a/library_x.py", kind=tarfile.SYMTYPE)],
    "hardlink": lambda m: [*m, member("a/library_x.py", kind=tarfile.LNKTYPE)],
    "device": lambda m: [*m, member("a/library_x.py", kind=tarfile.CHRTYPE)],
    "fifo": lambda m: [*m, member("a/library_x.py", kind=tarfile.FIFOTYPE)],
    "directory": lambda m: [member("a/", kind=tarfile.DIRTYPE), *m],
    "other top": lambda m: [*m, member("b/library_x.py", b"x")],
    "nested": lambda m: [*m, member("a/b/library_x.py", b"x")],
    "twice": lambda m: [*m, (m[-1][0], io.BytesIO(m[-1][1].getvalue()))],
    "not in FILES": lambda m: [*m, member("a/library_x.py", b"x")],
    "no restore.py": lambda m: m[1:],
}


@BOTH
@pytest.mark.parametrize("change", list(HOSTILE))
def test_a_hostile_archive_is_refused_and_nothing_changes(
    tmp_path: Path, change: str
) -> None:
    """Links, devices, paths out of the dump, stray members: refused before a write."""
    populate("default")
    dump = _dump(tmp_path / "a")
    rebuild(dump, HOSTILE[change])
    populate("other", portable=True)
    before = snapshot("other")
    with pytest.raises(
        CommandError, match=r"not an archive of a dump|FILES and MEDIA do not list"
    ):
        _restore(dump)
    with pytest.raises(
        CommandError, match=r"not an archive of a dump|FILES and MEDIA do not list"
    ):
        call_command("dumpplan", str(dump), stdout=io.StringIO())
    assert_same(before, snapshot("other"))
    assert ["a.tar"] == [p.name for p in tmp_path.iterdir()]


@BOTH
def test_a_damaged_member_is_refused_by_its_checksum(tmp_path: Path) -> None:
    """A member changed inside the archive fails its sha256, as a file would."""
    populate("default")
    dump = _dump(tmp_path / "a")

    def edit(members: list[tuple]) -> list[tuple]:
        changed = []
        for info, data in members:
            if info.name == "a/library_author.py":
                text = bytearray(data.read())
                at = text.rindex(b"'") - 1  # the last letter of a name
                text[at] ^= 0x20  # its case changed: the same size
                data = io.BytesIO(bytes(text))
            changed.append((info, data))
        return changed

    rebuild(dump, edit)
    with pytest.raises(CommandError, match="sha256"):
        _restore(dump)
