"""The options of ``manage.py dump2py``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lino_migrate.restore.reader import read_meta
from tests.site.data import populate
from tests.site.library.models import Announcement, Author

DB = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def _dump(target: Path, *args: str) -> str:
    out = StringIO()
    call_command("dump2py", str(target), "--noinput", *args, stdout=out, stderr=out)
    return out.getvalue()


@DB
def test_existing_directory_needs_overwrite(tmp_path: Path) -> None:
    """Without --overwrite an existing directory is an error and stays as it was."""
    target = tmp_path / "d"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match=r"exists already.*--overwrite"):
        _dump(target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


@DB
def test_overwrite_leaves_no_stale_file(tmp_path: Path) -> None:
    """--overwrite replaces the directory as a whole: no old chunk survives."""
    populate("default")
    target = tmp_path / "d"
    _dump(target, "--max-row-count", "1")
    assert (target / "library_author_2.py").exists()
    (target / "notes.txt").write_text("old")
    _dump(target, "--overwrite")
    names = {p.name for p in target.iterdir()}
    assert "library_author_2.py" not in names
    assert "notes.txt" not in names
    assert {e.name for e in read_meta(target / "restore.py").files} | {
        "restore.py"
    } == names
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
    assert 0o700 == target.stat().st_mode & 0o777


@DB
def test_hidden_rows_are_dumped(tmp_path: Path) -> None:
    """Rows that the default manager hides are dumped all the same."""
    populate("default")
    total = Announcement.all_objects.count()
    assert Announcement.objects.count() < total
    _dump(tmp_path / "d")
    meta = read_meta(tmp_path / "d" / "restore.py")
    assert total == sum(e.rows for e in meta.files if e.model == "library.announcement")


@DB
def test_exclude(tmp_path: Path) -> None:
    """-e leaves out an app or a model, with its automatic M2M tables."""
    _dump(tmp_path / "d", "-e", "kitchen", "-e", "library.Book")
    labels = set(read_meta(tmp_path / "d" / "restore.py").schema)
    assert not any(label.startswith("kitchen.") for label in labels)
    assert "library.book" not in labels
    assert "library.book_genres" not in labels
    assert "library.author" in labels


@DB
def test_exclude_unknown_is_an_error(tmp_path: Path) -> None:
    """An unknown app label in -e is a clear error."""
    with pytest.raises(CommandError, match="nosuchapp"):
        _dump(tmp_path / "d", "-e", "nosuchapp")
    assert not (tmp_path / "d").exists()


@DB
def test_simulate_writes_nothing(tmp_path: Path) -> None:
    """--simulate reads everything, prints counts, and leaves no file behind."""
    populate("default")
    out = _dump(tmp_path / "d", "--simulate")
    assert f"library.author: {Author.objects.count()} rows" in out
    assert "Would write" in out
    assert list(tmp_path.iterdir()) == []


@DB
def test_proxy_and_unmanaged_models_are_skipped(tmp_path: Path) -> None:
    """Proxy and unmanaged models have no data files."""
    _dump(tmp_path / "d")
    labels = set(read_meta(tmp_path / "d" / "restore.py").schema)
    assert "library.archivedannouncement" not in labels
    assert "library.legacycatalog" not in labels


@DB
def test_invalid_max_row_count(tmp_path: Path) -> None:
    """--max-row-count 0 is refused."""
    with pytest.raises(CommandError, match="at least 1"):
        _dump(tmp_path / "d", "--max-row-count", "0")
