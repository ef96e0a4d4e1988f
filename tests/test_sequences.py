"""PostgreSQL sequences: part of the restore transaction, set within their bounds.

``setval`` is not transactional; a restore that is refused or rehearsed must
leave every sequence as it found it, and a restored table must give the next
row a free id whatever ids the dump holds (#12).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from lino_migrate.exceptions import LoadError, SequenceError
from lino_migrate.restore import restore
from lino_migrate.restore.sequences import Sequence, pin_sequences
from tests.dumps import reseal
from tests.site.data import populate
from tests.site.library.models import Author, Genre, Publisher

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def sequences(using: str) -> dict[str, tuple[int, bool]]:
    """Return ``last_value`` and ``is_called`` of every sequence, read raw.

    This is the oracle: it asks each sequence itself, not the code under test.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
            "FROM pg_sequences ORDER BY 1"
        )
        names = [name for (name,) in cursor.fetchall()]
        found = {}
        for name in names:
            cursor.execute(f"SELECT last_value, is_called FROM {name}")
            found[name] = cursor.fetchone()
    assert found, "no sequence found: the oracle would prove nothing"
    return found


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """Return a dump of the populated default database; 'other' has more rows.

    'other' holds a genre, an author and a publisher with ids above the
    dump's, and its sequences are past them: a restore that set them back
    without being rolled back would make the next insert collide.
    """
    populate("default")
    call_command("dump2py", str(tmp_path / "d"), "--noinput", "-v0")
    populate("other", portable=True)
    Genre.objects.using("other").create(name="kept")
    Genre.objects.using("other").create(name="gone").delete()
    Author.objects.using("other").create(name="Kept", code="kept")
    Publisher.objects.using("other").create(name="Kept")
    return tmp_path / "d"


def _dangle_first_book(dump: Path) -> None:
    """Point the first book of *dump* to an author that does not exist."""
    path = dump / "library_book.py"
    text = path.read_text(encoding="utf-8")
    columns = ast.literal_eval(text.split("COLUMNS = ")[1].split("\n")[0])
    index = columns.index("author_id")
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("    ("))
    row = list(ast.literal_eval(lines[at].strip().rstrip(",")))
    row[index] = "no-such-author"
    lines[at] = f"    {tuple(row)!r},"
    path.write_text("\n".join(lines), encoding="utf-8")
    reseal(dump, path.name)


def _insert_through_orm(using: str) -> None:
    """Create one row in each table that 'other' holds more of than the dump."""
    Genre.objects.using(using).create(name="next")
    Author.objects.using(using).create(name="Next", code="next")
    Publisher.objects.using(using).create(name="Next")


@pytest.mark.postgres
@BOTH
def test_refused_restore_leaves_every_sequence(dump_dir: Path) -> None:
    """A restore refused by the final check leaves last_value and is_called."""
    before = sequences("other")
    _dangle_first_book(dump_dir)
    with pytest.raises(LoadError, match=r"'library\.book' row pk=.* field 'author'"):
        restore(dump_dir, using="other")
    assert before == sequences("other")
    _insert_through_orm("other")


@pytest.mark.postgres
@BOTH
def test_rehearsal_leaves_every_sequence(dump_dir: Path) -> None:
    """--simulate sets sequences during its rehearsal; its rollback undoes that."""
    before = sequences("other")
    report = restore(dump_dir, using="other", simulate=True)
    assert report.simulated
    assert report.models["library.genre"].written > 0
    assert before == sequences("other")
    _insert_through_orm("other")


@pytest.mark.postgres
@BOTH
def test_refused_rehearsal_leaves_every_sequence(dump_dir: Path) -> None:
    """A rehearsal that lists refused rows leaves every sequence too."""
    before = sequences("other")
    _dangle_first_book(dump_dir)
    report = restore(dump_dir, using="other", simulate=True)
    assert [v.field for v in report.violations] == ["author"]
    assert before == sequences("other")


@pytest.mark.postgres
@BOTH
def test_restore_sets_sequences_past_restored_ids(dump_dir: Path) -> None:
    """A committed restore moves each sequence to the highest restored id."""
    restore(dump_dir, using="other")
    after = sequences("other")
    assert (300, True) == after["public.library_genre_id_seq"]
    genre = Genre.objects.using("other").create(name="next")
    assert 301 == genre.pk


def _dump_genres(tmp_path: Path, ids: list[int]) -> Path:
    """Return a dump of the default database holding just genres *ids*."""
    Genre.objects.bulk_create(Genre(id=pk, name=f"g{pk}") for pk in ids)
    call_command("dump2py", str(tmp_path / "g"), "--noinput", "-v0")
    return tmp_path / "g"


@BOTH
def test_only_ids_below_one_restore_and_next_id_is_free(tmp_path: Path) -> None:
    """A SmallAutoField table holding only id=-5 restores; the next row gets 1."""
    dump = _dump_genres(tmp_path, [-5])
    Genre.objects.using("other").create(name="moved the sequence")
    call_command(
        "run", str(dump / "restore.py"), "--noinput", "--database", "other", "-v0"
    )
    assert [-5] == list(Genre.objects.using("other").values_list("pk", flat=True))
    _assert_next_genre_id("other", 1)


@BOTH
def test_ids_on_both_sides_of_one_continue_after_highest(tmp_path: Path) -> None:
    """Ids below the sequence's minimum are ignored; the next id follows the highest."""
    dump = _dump_genres(tmp_path, [-5, 0, 7])
    restore(dump, using="other")
    _assert_next_genre_id("other", 8)


def _assert_next_genre_id(using: str, expected: int) -> None:
    """Create a genre: its id is *expected* (PostgreSQL), or at least that."""
    created = Genre.objects.using(using).create(name="next")
    if connections[using].vendor == "postgresql":
        assert expected == created.pk
    else:
        # SQLite's AUTOINCREMENT never hands out an id twice, not even after
        # an earlier test's rows were flushed: any id above the rest is free.
        assert expected <= created.pk


@pytest.mark.postgres
@BOTH
def test_id_at_the_sequence_maximum_restores(tmp_path: Path) -> None:
    """An id at the top of a SmallAutoField restores; no free id is left above it."""
    dump = _dump_genres(tmp_path, [1, 32767])
    restore(dump, using="other")
    assert (32767, True) == sequences("other")["public.library_genre_id_seq"]


@pytest.mark.postgres
@BOTH
def test_sequence_that_cannot_be_altered_is_named() -> None:
    """A sequence the database refuses to alter ends the restore with its name."""
    missing = Sequence("public.no_such_seq", "library_genre", "id", 1, 1, 32767)
    with (
        pytest.raises(
            SequenceError,
            match=r"(?s)^Could not alter the sequence public\.no_such_seq of table "
            r"'library_genre': .*Restore as that user\.",
        ) as info,
        transaction.atomic(using="other"),
    ):
        pin_sequences(connections["other"], [missing])
    assert "library_genre" == info.value.table
