"""Media files with the data: ``dump2py --media``, restore ``--media`` (#15).

The oracle of every file is :mod:`hashlib` over the bytes read straight
from the directories involved, never through the code under test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lino_migrate.format.media import name_problem
from lino_migrate.restore.reader import read_meta
from lino_migrate.restore.restorer import restore
from migrations_registry import Registry
from tests.site.kitchen.models import Sample
from tests.uploads import FILES, make_uploads, tree

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def uploads(tmp_path: Path) -> Iterator[Path]:
    """Return a MEDIA_ROOT holding the files of three samples (a fourth has none)."""
    root = tmp_path / "uploads_root"
    with override_settings(MEDIA_ROOT=str(root)):
        make_uploads(root)
        yield root


def _dump(target: Path, *args: str) -> None:
    call_command("dump2py", str(target), "--noinput", "-v0", "--media", *args)


def _restore(dump: Path, *args: str) -> None:
    call_command(
        "restoredump", str(dump), "--noinput", "-v0", "--database", "other", *args
    )


@BOTH
def test_fresh_machine_gets_every_file_back(uploads: Path, tmp_path: Path) -> None:
    """A restore --media into an empty MEDIA_ROOT puts back every file, same bytes."""
    expected = tree(uploads)
    _dump(tmp_path / "d")
    fresh = tmp_path / "fresh"
    with override_settings(MEDIA_ROOT=str(fresh)):
        _restore(tmp_path / "d", "--media")
    assert expected == tree(fresh)
    assert {1: "uploads/a.txt", 3: "uploads/a.txt", 4: ""} == {
        s.id: s.file.name for s in Sample.objects.using("other").exclude(id=2)
    }


@BOTH
def test_the_dump_records_size_and_sha256(uploads: Path, tmp_path: Path) -> None:
    """MEDIA lists each file once, with its fields; media/ holds the same bytes."""
    _dump(tmp_path / "d")
    media = read_meta(tmp_path / "d" / "restore.py").values["MEDIA"]
    assert sorted(FILES) == [item[0] for item in media]
    for name, size, sha256, _refs in media:
        assert len(FILES[name]) == size
        assert _sha256(uploads / name) == sha256
        assert _sha256(tmp_path / "d" / "media" / name) == sha256
    refs = {item[0]: item[3] for item in media}
    assert (("kitchen.sample", "image"),) == refs["images/p.png"]


@BOTH
def test_run_restore_py_takes_media_too(uploads: Path, tmp_path: Path) -> None:
    """run DIR/restore.py --media does what restoredump --media does."""
    _dump(tmp_path / "d")
    fresh = tmp_path / "fresh"
    with override_settings(MEDIA_ROOT=str(fresh)):
        call_command(
            "run", str(tmp_path / "d" / "restore.py"), "--noinput", "-v0",
            "--database", "other", "--media",
        )  # fmt: skip
    assert tree(uploads) == tree(fresh)


@BOTH
def test_without_media_option_no_file_is_written(
    uploads: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --media the rows are restored, no file; a note says how."""
    _dump(tmp_path / "d")
    fresh = tmp_path / "fresh"
    capsys.readouterr()
    with override_settings(MEDIA_ROOT=str(fresh)):
        call_command(
            "restoredump", str(tmp_path / "d"), "--noinput", "--database", "other"
        )
    assert not fresh.exists()
    assert "this dump holds 3 media files; --media restores them" in (
        capsys.readouterr().out
    )


@BOTH
def test_a_missing_upload_refuses_the_dump(uploads: Path, tmp_path: Path) -> None:
    """The file is named with model, pk and field; nothing is written."""
    (uploads / "uploads/a.txt").unlink()
    with pytest.raises(CommandError) as info:
        _dump(tmp_path / "d")
    message = str(info.value)
    assert "kitchen.sample pk=1 field 'file': 'uploads/a.txt' (not found" in message
    assert "kitchen.sample pk=3 field 'file'" in message
    assert "--tolerate" in message
    assert not (tmp_path / "d").exists()
    assert [tmp_path / "uploads_root"] == list(tmp_path.iterdir())


@BOTH
def test_tolerate_records_what_is_missing(uploads: Path, tmp_path: Path) -> None:
    """With --tolerate the dump is PARTIAL and MEDIA_MISSING names the file."""
    (uploads / "images/p.png").unlink()
    _dump(tmp_path / "d", "--tolerate")
    values = read_meta(tmp_path / "d" / "restore.py").values
    assert values["PARTIAL"] is True
    assert {} == values["SKIPPED"]
    [(model, pk, field, name, why)] = values["MEDIA_MISSING"]
    assert ("kitchen.sample", 2, "image", "images/p.png") == (model, pk, field, name)
    assert why.startswith("not found in its storage (FileSystemStorage at ")
    assert "images/p.png" not in [item[0] for item in values["MEDIA"]]


@BOTH
def test_a_name_outside_the_storage_is_never_followed(
    uploads: Path, tmp_path: Path
) -> None:
    """A stored name with '..' or an absolute path is refused, not read."""
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    Sample.objects.filter(id=1).update(file="../secret.txt")
    Sample.objects.filter(id=3).update(file=str(secret))
    with pytest.raises(CommandError) as info:
        _dump(tmp_path / "d")
    assert "'../secret.txt' (a path with an empty, '.' or '..' part)" in str(info.value)
    assert "(an absolute path)" in str(info.value)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("uploads/a.txt", ""),
        ("a", ""),
        ("", "not a non-empty string"),
        ("/etc/passwd", "an absolute path"),
        ("a/../b", "a path with an empty, '.' or '..' part"),
        ("a//b", "a path with an empty, '.' or '..' part"),
        ("./a", "a path with an empty, '.' or '..' part"),
        ("a\\b", "holds a backslash or a NUL character"),
        ("a\0b", "holds a backslash or a NUL character"),
    ],
)
def test_name_problem(name: str, problem: str) -> None:
    """Only a relative, normalized POSIX path names a media file."""
    assert problem == name_problem(name)


@BOTH
def test_a_different_existing_file_is_not_overwritten(
    uploads: Path, tmp_path: Path
) -> None:
    """The restore is refused and rolled back; the file there stays as it was."""
    _dump(tmp_path / "d")
    fresh = tmp_path / "fresh"
    (fresh / "uploads").mkdir(parents=True)
    (fresh / "uploads/a.txt").write_bytes(b"someone else's file")
    with override_settings(MEDIA_ROOT=str(fresh)):
        with pytest.raises(CommandError, match=r"1 media file of the dump differ"):
            _restore(tmp_path / "d", "--media")
        assert b"someone else's file" == (fresh / "uploads/a.txt").read_bytes()
        assert ["uploads/a.txt"] == list(tree(fresh))
        assert 0 == Sample.objects.using("other").count()
        _restore(tmp_path / "d", "--media", "--overwrite-media")
    assert tree(uploads) == tree(fresh)
    assert 4 == Sample.objects.using("other").count()


@BOTH
def test_an_identical_existing_file_is_fine(uploads: Path, tmp_path: Path) -> None:
    """A file already there with the same bytes is kept; the restore goes on."""
    _dump(tmp_path / "d")
    fresh = tmp_path / "fresh"
    (fresh / "uploads").mkdir(parents=True)
    (fresh / "uploads/a.txt").write_bytes(FILES["uploads/a.txt"])
    with override_settings(MEDIA_ROOT=str(fresh)):
        report = restore(tmp_path / "d", using="other", media=True)
    assert report.media is not None
    assert ["uploads/a.txt"] == report.media.kept
    assert 2 == len(report.media.written)
    assert tree(uploads) == tree(fresh)


@BOTH
def test_a_failed_restore_writes_no_media_file(uploads: Path, tmp_path: Path) -> None:
    """Files are written after the commit: a restore that fails writes none."""
    _dump(tmp_path / "d")
    fresh = tmp_path / "fresh"

    def fail(ctx: object) -> None:
        msg = "refused by the hook"
        raise RuntimeError(msg)

    with override_settings(MEDIA_ROOT=str(fresh)), pytest.raises(RuntimeError):
        restore(
            tmp_path / "d", using="other", media=True, hooks={"after_restore": fail}
        )
    assert not fresh.exists()
    assert 0 == Sample.objects.using("other").count()


@BOTH
def test_media_is_verified_before_any_write(uploads: Path, tmp_path: Path) -> None:
    """A media file changed after the dump is refused before the database changes."""
    _dump(tmp_path / "d")
    (tmp_path / "d" / "media" / "images/p.png").write_bytes(b"tampered")
    fresh = tmp_path / "fresh"
    with (
        override_settings(MEDIA_ROOT=str(fresh)),
        pytest.raises(CommandError, match=r"p\.png: the sha256 is "),
    ):
        _restore(tmp_path / "d", "--media")
    assert not fresh.exists()
    assert 0 == Sample.objects.using("other").count()


@BOTH
def test_a_failed_write_after_the_commit_says_how_to_retry(
    uploads: Path, tmp_path: Path
) -> None:
    """The rows are committed; the message lists the files and says to run again."""
    _dump(tmp_path / "d")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "images").write_text("a file where a directory is needed")
    with override_settings(MEDIA_ROOT=str(fresh)):
        with pytest.raises(CommandError) as info:
            _restore(tmp_path / "d", "--media")
        assert 4 == Sample.objects.using("other").count()
        message = str(info.value)
        assert "The database was restored (committed), but 1 media file" in message
        assert "- images/p.png: " in message
        assert "run the same restore again with --media" in message
        (fresh / "images").unlink()
        _restore(tmp_path / "d", "--media")
    assert tree(uploads) == tree(fresh)


@BOTH
def test_media_without_media_in_the_dump_is_refused(tmp_path: Path) -> None:
    """--media on a dump written without it says so."""
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    with pytest.raises(CommandError, match="written without dump2py --media"):
        _restore(tmp_path / "d", "--media")


@BOTH
def test_a_migrator_renaming_a_file_moves_it(uploads: Path, tmp_path: Path) -> None:
    """A row function that changes a FileField's value makes the file follow."""
    _dump(tmp_path / "d")
    script = tmp_path / "d" / "restore.py"
    source = script.read_text()
    assert "'kitchen': '1.0'" in source
    script.write_text(source.replace("'kitchen': '1.0'", "'kitchen': '0.9'"))
    registry = Registry()

    @registry.migrator("kitchen", "1.0")
    def to_1_0(m):  # type: ignore[no-untyped-def]
        @m.rows("kitchen.sample")
        def move(row):  # type: ignore[no-untyped-def]
            if row["id"] == 1:
                row["file"] = "archive/a.txt"
            return row

    fresh = tmp_path / "fresh"
    with override_settings(MEDIA_ROOT=str(fresh)):
        restore(script, using="other", media=True, registry=registry)
    restored = tree(fresh)
    assert _sha256(uploads / "uploads/a.txt") == restored["archive/a.txt"]
    # Row 3 still names the old file: it is there too.
    assert _sha256(uploads / "uploads/a.txt") == restored["uploads/a.txt"]
    assert "archive/a.txt" == Sample.objects.using("other").get(id=1).file.name


@BOTH
def test_upgradedump_carries_the_media(uploads: Path, tmp_path: Path) -> None:
    """An upgraded dump keeps MEDIA and media/: restore --media still works."""
    _dump(tmp_path / "d")
    call_command("upgradedump", str(tmp_path / "d"), str(tmp_path / "u"), "-v0")
    fresh = tmp_path / "fresh"
    with override_settings(MEDIA_ROOT=str(fresh)):
        _restore(tmp_path / "u", "--media")
    assert tree(uploads) == tree(fresh)
