"""A bad dump or a refused row leaves the target database exactly as it was."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lino_migrate.exceptions import ChecksumError, DumpFormatError, LoadError
from lino_migrate.restore import restore
from tests.dumps import edit_first_row, reseal
from tests.site.data import populate
from tests.site.library.models import Genre
from tests.snapshot import assert_same, snapshot

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """Return a dump of the populated default database; 'other' holds data too."""
    populate("default")
    call_command(
        "dump2py", str(tmp_path / "d"), "--noinput", "-v0", "--max-row-count", "2"
    )
    populate("other", portable=True)
    return tmp_path / "d"


def _last_file_of(dump: Path, stem: str) -> Path:
    names = sorted(
        (p for p in dump.glob(f"{stem}*.py")),
        key=lambda p: int(p.stem.rpartition("_")[2]) if p.stem != stem else 1,
    )
    return names[-1]


@BOTH
def test_unique_violation_in_last_file_rolls_back(dump_dir: Path) -> None:
    """A duplicate key in the last data file names model and row; nothing changes."""
    before = snapshot("other")
    path = _last_file_of(dump_dir, "library_author")
    lines = path.read_text(encoding="utf-8").split("\n")
    rows = [i for i, line in enumerate(lines) if line.startswith("    (")]
    # The last row takes the unique ``code`` of the first author.
    first = dump_dir / "library_author.py"
    first_row = next(
        line for line in first.read_text().split("\n") if line.startswith("    (")
    )
    code = ast.literal_eval(first_row.strip().rstrip(","))[2]
    last = list(ast.literal_eval(lines[rows[-1]].strip().rstrip(",")))
    last[2] = code
    lines[rows[-1]] = f"    {tuple(last)!r},"
    path.write_text("\n".join(lines), encoding="utf-8")
    reseal(dump_dir, path.name)
    with pytest.raises(LoadError, match=r"'library\.author' row pk=") as info:
        restore(dump_dir / "restore.py", using="other")
    assert info.value.pk == last[0]
    assert path.name == info.value.file
    assert_same(before, snapshot("other"))


@BOTH
def test_dangling_foreign_key_rolls_back(dump_dir: Path) -> None:
    """A foreign key to a missing row names model, row and field; nothing changes."""
    before = snapshot("other")
    edit_first_row(dump_dir, "library_book.py", "author_id", lambda _: "no-such-author")
    with pytest.raises(LoadError, match=r"'library\.book' row pk=.* field 'author'"):
        restore(dump_dir, using="other")
    assert_same(before, snapshot("other"))


@pytest.mark.parametrize("damage", ["corrupt", "truncate", "delete", "rows"])
@BOTH
def test_damaged_file_is_refused_before_writing(dump_dir: Path, damage: str) -> None:
    """A corrupted, truncated or missing data file is refused; nothing changes."""
    before = snapshot("other")
    path = dump_dir / "library_book.py"
    data = path.read_bytes()
    if damage == "corrupt":
        path.write_bytes(data.replace(b"(", b"[", 1))
        error: type[Exception] = ChecksumError
    elif damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
        error = ChecksumError
    elif damage == "delete":
        path.unlink()
        error = DumpFormatError
    else:
        lines = data.split(b"\n")
        del lines[-3]
        path.write_bytes(b"\n".join(lines))
        reseal(dump_dir, path.name)
        error = DumpFormatError
    with pytest.raises(error, match=r"library_book\.py"):
        restore(dump_dir, using="other")
    assert_same(before, snapshot("other"))


@BOTH
def test_truncated_file_with_matching_checksum_is_refused(dump_dir: Path) -> None:
    """A file cut inside its ROWS tuple is refused even when its checksum fits."""
    path = dump_dir / "library_book.py"
    path.write_bytes(path.read_bytes()[:-3])
    reseal(dump_dir, path.name)
    with pytest.raises(DumpFormatError, match="not closed"):
        restore(dump_dir, using="other")


@BOTH
def test_code_in_metadata_is_not_run(dump_dir: Path, tmp_path: Path) -> None:
    """restore.py metadata that is not a literal is refused, never evaluated."""
    script = dump_dir / "restore.py"
    marker = tmp_path / "pwned"
    text = script.read_text(encoding="utf-8")
    text = text.replace("PARTIAL = False", f"PARTIAL = open({str(marker)!r}, 'w')")
    script.write_text(text, encoding="utf-8")
    with pytest.raises(DumpFormatError, match="PARTIAL is not a literal"):
        restore(dump_dir, using="other")
    assert not marker.exists()


@BOTH
def test_code_in_data_file_is_not_run(dump_dir: Path, tmp_path: Path) -> None:
    """A data row holding a call is refused by the literal parser."""
    marker = tmp_path / "pwned"
    path = dump_dir / "library_genre.py"
    lines = path.read_text(encoding="utf-8").split("\n")
    row_at = next(i for i, line in enumerate(lines) if line.startswith("    ("))
    lines[row_at] = f"    (1, open({str(marker)!r}, 'w')),"
    path.write_text("\n".join(lines), encoding="utf-8")
    reseal(dump_dir, path.name)
    with pytest.raises(DumpFormatError, match="not literal rows"):
        restore(dump_dir, using="other")
    assert not marker.exists()


@BOTH
def test_newer_format_is_refused(dump_dir: Path) -> None:
    """A dump of an unknown format is refused with what was found and expected."""
    script = dump_dir / "restore.py"
    script.write_text(script.read_text().replace("FORMAT = 1", "FORMAT = 99"))
    with pytest.raises(
        CommandError, match="dump format 99 found, this lino_migrate reads format 1"
    ):
        call_command("run", str(script), "--noinput", "--database", "other")


@BOTH
def test_rehearsal_lists_every_violation_and_changes_nothing(dump_dir: Path) -> None:
    """--simulate goes on after a refused row, lists all, and rolls everything back."""
    # Move a sequence past the highest id: a restore would set it back.
    Genre.objects.using("other").create(name="gone").delete()
    before = snapshot("other")
    sequences = _sequences("other")
    path = dump_dir / "library_book.py"
    text = path.read_text(encoding="utf-8")
    columns = ast.literal_eval(text.split("COLUMNS = ")[1].split("\n")[0])
    index = columns.index("author_id")
    lines = text.split("\n")
    rows_at = [i for i, line in enumerate(lines) if line.startswith("    (")][:2]
    for at in rows_at:
        row = list(ast.literal_eval(lines[at].strip().rstrip(",")))
        row[index] = "no-such-author"
        lines[at] = f"    {tuple(row)!r},"
    path.write_text("\n".join(lines), encoding="utf-8")
    reseal(dump_dir, path.name)
    report = restore(dump_dir, using="other", simulate=True)
    assert report.simulated
    refused = [v for v in report.violations if v.model_label == "library.book"]
    assert 2 == len(refused)
    assert all(v.field == "author" for v in refused)
    assert report.models["library.author"].written > 0
    assert_same(before, snapshot("other"))
    assert sequences == _sequences("other")


def _sequences(using: str) -> list[tuple[object, ...]]:
    """Return the state of every sequence (PostgreSQL) or sqlite_sequence row."""
    from django.db import connections

    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"
            )
        else:
            cursor.execute("SELECT name, seq FROM sqlite_sequence ORDER BY 1")
        return list(cursor.fetchall())


@BOTH
def test_edited_file_needs_accept_edits(dump_dir: Path) -> None:
    """A hand-edited data file is refused, or accepted and reported with --accept-edits."""
    path = dump_dir / "library_genre.py"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("    ("))
    row = list(ast.literal_eval(lines[at].strip().rstrip(",")))
    row[1] = "Edited by hand"
    lines[at] = f"    {tuple(row)!r},"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ChecksumError, match=r"library_genre\.py"):
        restore(dump_dir, using="other")
    report = restore(dump_dir, using="other", accept_edits=True)
    assert len(report.edits) == 1
    assert report.edits[0].startswith("library_genre.py was edited")
    assert "Edited by hand" == Genre.objects.using("other").get(pk=row[0]).name
