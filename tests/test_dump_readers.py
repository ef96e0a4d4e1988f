"""``dump2py --jobs N`` on PostgreSQL: a big table is cut by key among the readers (#16).

The readers that share the snapshot are forked from this process, so they
inherit its monkeypatches. The oracle is the dump of ``--jobs 1``, which
cuts nothing, and the ``FILES`` of its ``restore.py``.
"""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from lino_migrate.dump import parallel
from lino_migrate.dump.job import DumpJob
from lino_migrate.dump.snapshot import KeyRange, key_ranges
from tests.conftest import is_postgres
from tests.dumps import dump_files
from tests.site.data import populate
from tests.site.kitchen.models import Sample
from tests.site.library.models import Author

pytestmark = [
    pytest.mark.skipif(not is_postgres(), reason="the readers are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]


def _dump(target: Path, *args: str) -> None:
    out = StringIO()
    call_command("dump2py", str(target), "--noinput", *args, stdout=out, stderr=out)


@pytest.fixture
def authors() -> None:
    """The test data, and enough authors for several files of -m 7."""
    populate("default")
    Author.objects.bulk_create(Author(name=f"n{i}", code=f"c{i}") for i in range(40))


@pytest.mark.usefixtures("authors")
def test_a_big_table_is_cut_among_the_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file of a big table is dumped as a part; the dump is --jobs 1's."""
    marks = tmp_path / "marks"
    dump_part = DumpJob.dump_part

    def noted(self: DumpJob, model: Any, part: KeyRange) -> Any:
        with marks.open("a") as out:
            out.write(f"{model._meta.label_lower} {part.number} {os.getpid()}\n")
        return dump_part(self, model, part)

    monkeypatch.setattr(DumpJob, "dump_part", noted)
    _dump(tmp_path / "one", "-m", "7", "--jobs", "1")
    assert not marks.exists()
    _dump(tmp_path / "two", "-m", "7", "--jobs", "2")
    lines = [line.split() for line in marks.read_text().splitlines()]
    numbers = sorted(int(n) for label, n, _ in lines if label == "library.author")
    one = dump_files(tmp_path / "one")
    files = [n for n in one if n.startswith("library_author")]
    assert len(files) > 3
    assert list(range(1, len(files) + 1)) == numbers
    assert os.getpid() != int(lines[0][2])  # a reader, not this process
    assert one == dump_files(tmp_path / "two")


@pytest.mark.usefixtures("authors")
def test_key_ranges_hold_the_files_of_one_process() -> None:
    """The ranges, read back with SQL of their own, are the slices of the ordered keys."""
    keys = list(Author.objects.order_by("pk").values_list("pk", flat=True))
    from lino_migrate.schema import describe

    parts = key_ranges(connection, describe(Author), 7)
    assert parts is not None
    assert [keys[i : i + 7] for i in range(0, len(keys), 7)] == [
        list(
            Author.objects.filter(pk__gte=p.first)
            .filter(**({} if p.below is None else {"pk__lt": p.below}))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for p in parts
    ]
    assert [len(keys[i : i + 7]) for i in range(0, len(keys), 7)] == [
        p.rows for p in parts
    ]


@pytest.mark.usefixtures("authors")
def test_a_part_with_other_rows_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A range that gives other rows than were counted ends the dump; nothing is left."""

    def one_more(connection: Any, info: Any, size: int) -> Any:
        parts = key_ranges(connection, info, size)
        if not parts or info.label != "library.author":
            return parts
        first = parts[0]
        return [KeyRange(1, first.first, first.below, first.rows + 1), *parts[1:]]

    monkeypatch.setattr(parallel, "key_ranges", one_more)
    expected = (
        r"'library_author.py' of 'library.author' got 7 rows where 8 were counted"
    )
    (tmp_path / "out").mkdir()
    with pytest.raises(CommandError, match=expected):
        _dump(tmp_path / "out" / "d", "-m", "7", "--jobs", "2")
    assert [] == list((tmp_path / "out").iterdir())


def test_a_part_that_cannot_be_written_skips_its_model_with_tolerate(
    tmp_path: Path,
) -> None:
    """An infinite timestamp in one part: an error, or with --tolerate the model skipped."""
    populate("default")
    pk = Sample.objects.order_by("id").values_list("id", flat=True).last()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE kitchen_sample SET datetime = 'infinity' WHERE id = %s", [pk]
        )
    (tmp_path / "out").mkdir()
    with pytest.raises(CommandError, match=rf"'kitchen.sample' row pk={pk}"):
        _dump(tmp_path / "out" / "d", "-m", "1", "--jobs", "2")
    assert [] == list((tmp_path / "out").iterdir())
    _dump(tmp_path / "one", "-m", "1", "--jobs", "1", "--tolerate")
    _dump(tmp_path / "two", "-m", "1", "--jobs", "2", "--tolerate")
    one = dump_files(tmp_path / "one")
    assert not [name for name in one if name.startswith("kitchen_sample")]
    assert one == dump_files(tmp_path / "two")
