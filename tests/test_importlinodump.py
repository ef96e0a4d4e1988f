"""``importlinodump LINODUMP OUT``: a dump of Lino's dump2py, read without running it.

The Lino dumps here are written by :func:`tests.lino_dumps.write_lino_dump` in the format that
Lino's ``dump2py`` writes (a ``restore.py`` of ``create_<table>()`` functions,
data files of ``loader.save(...)`` calls), for the models of the test site.
Lino itself is not needed: nothing of the dump is run. The oracles are the
rows in the database after ``run OUT/restore.py`` and the literals of OUT's
files, read with :func:`ast.literal_eval`.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import django
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lino_migrate.exceptions import LinoDumpError
from lino_migrate.lino.importer import import_lino_dump
from lino_migrate.restore.reader import open_dump
from tests.lino_dumps import write_lino_dump
from tests.site.kitchen.models import Sample
from tests.site.library.models import (
    Author,
    Bookmark,
    Branch,
    Librarian,
    MainBranch,
    Place,
    Tag,
)

DB = pytest.mark.django_db(transaction=True)

SAMPLE = (
    "loader.save(create_kitchen_sample(1,'all types',True,3,'chars','two\\nlines',"
    "'12345.6789000000','9.99','1.5',date(2024,2,29),dt(2024,5,1,10,0,0),"
    "time(13,14,15),'1 day, 2:03:04','12345678-1234-5678-1234-567812345678',"
    "'AAEC','{\"a\": [1, 2]}',None))"
)
SAMPLE_NULLS = (
    "loader.save(create_kitchen_sample(2,'nulls',False,-4,None,None,None,None,None,"
    "None,None,None,None,None,None,None,True))"
)
LIBRARY = {
    "library_author.py": [
        "loader.save(create_library_author(1,'Ann','A1',None,date(1950,1,2)))",
        "loader.save(create_library_author(3,'Cid','C3',1,None))",
    ],
    "library_author_2.py": [
        "loader.save(create_library_author(2,'Bob','B2',1,None))",
    ],
    "library_place.py": [
        "loader.save(create_library_place(1,'Central','Main street 1'))",
        "loader.save(create_library_place(2,'North',''))",
    ],
    "library_branch.py": ["loader.save(create_library_branch(1,time(9,0,0),1))"],
    "library_mainbranch.py": ["loader.save(create_library_mainbranch(1,12))"],
    "library_librarian.py": ["loader.save(create_library_librarian(1,'Lea',1))"],
    "library_bookmark.py": [
        "loader.save(create_library_bookmark(1,'an author',library_Author,2,None,"
        "None,library_Tag,'poetry'))",
        "loader.save(create_library_bookmark(2,'nothing',None,None,None,None,None,None))",
    ],
}


def _import(source: Path, out: Path, *args: str) -> None:
    call_command(
        "importlinodump", str(source), str(out), "--noinput", "-v0",
        "--source-package", "tests", *args,
    )  # fmt: skip


def _rows(out: Path, name: str) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Return ``COLUMNS`` and ``ROWS`` of OUT's data file *name*, read as literals."""
    tree = ast.parse((out / name).read_text(encoding="utf-8"))
    found = {
        node.targets[0].id: ast.literal_eval(node.value)  # type: ignore[attr-defined]
        for node in tree.body
        if isinstance(node, ast.Assign)
    }
    return found["COLUMNS"], list(found["ROWS"])


def _restore(out: Path) -> None:
    call_command("run", str(out / "restore.py"), "--noinput", "-v0")


@DB
def test_round_trip_restores_what_the_lino_dump_says(tmp_path: Path) -> None:
    """Lino dump -> importlinodump -> run OUT/restore.py: the rows of the fixture."""
    files = {"kitchen_sample.py": [SAMPLE, SAMPLE_NULLS], **LIBRARY}
    source = write_lino_dump(tmp_path / "lino", files)
    _import(source, tmp_path / "out")
    _restore(tmp_path / "out")
    one = Sample.objects.get(pk=1)
    expected = {
        "label": "all types", "flag": True, "rank": 3, "char": "chars",
        "text": "two\nlines", "decimal": decimal.Decimal("12345.6789000000"),
        "price": decimal.Decimal("9.99"), "real": 1.5,
        "date": datetime.date(2024, 2, 29),
        "datetime": datetime.datetime(2024, 5, 1, 10, tzinfo=datetime.UTC),
        "time": datetime.time(13, 14, 15),
        "duration": datetime.timedelta(days=1, hours=2, minutes=3, seconds=4),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "binary": b"\x00\x01\x02", "json": {"a": [1, 2]}, "nboolean": None,
    }  # fmt: skip
    assert expected == {name: getattr(one, name) for name in expected}
    assert bytes(one.binary) == b"\x00\x01\x02"
    two = Sample.objects.get(pk=2)
    assert (-4, None, None, True) == (two.rank, two.decimal, two.datetime, two.nboolean)
    assert [(1, None), (2, 1), (3, 1)] == list(
        Author.objects.order_by("pk").values_list("pk", "mentor_id")
    )
    assert datetime.date(1950, 1, 2) == Author.objects.get(pk=1).born
    main = MainBranch.objects.get(pk=1)
    assert ("Central", "Main street 1", datetime.time(9), "Lea", 12) == (
        main.name, main.address, main.opens, main.head.name, main.archive_shelves,
    )  # fmt: skip
    assert (2, 1, 1) == (Place.objects.count(), Branch.objects.count(), 1)
    assert 1 == Librarian.objects.get(pk=1).branch_id
    mark = Bookmark.objects.get(pk=1)
    assert ContentType.objects.get_for_model(Author) == mark.target_type
    assert ContentType.objects.get_for_model(Tag) == mark.text_type
    assert (2, None, "poetry") == (mark.target_id, mark.uuid_type, mark.text_id)
    assert Bookmark.objects.get(pk=2).target_type is None


@DB
def test_values_are_written_as_literals_of_their_type(tmp_path: Path) -> None:
    """OUT's data file holds each value as a dump of lino_migrate writes it."""
    source = write_lino_dump(tmp_path / "lino", {"kitchen_sample.py": [SAMPLE]})
    _import(source, tmp_path / "out")
    columns, rows = _rows(tmp_path / "out", "kitchen_sample.py")
    row = dict(zip(columns, rows[0], strict=True))
    expected = {
        "decimal": "12345.6789000000", "price": "9.99", "real": 1.5,
        "date": "2024-02-29", "datetime": "2024-05-01T10:00:00+00:00",
        "time": "13:14:15", "duration": 93784000000,
        "uuid": "12345678-1234-5678-1234-567812345678", "binary": b"\x00\x01\x02",
        "json": '{"a": [1, 2]}', "text": "two\nlines",
    }  # fmt: skip
    assert expected == {name: row[name] for name in expected}
    meta = open_dump(tmp_path / "out")
    assert [e.name for e in meta.files] == ["kitchen_sample.py"]


@DB
def test_chunks_are_read_in_turn_and_written_by_max_row_count(tmp_path: Path) -> None:
    """Two Lino chunks of a model make one model, rows by pk, in OUT's own chunks."""
    source = write_lino_dump(tmp_path / "lino", LIBRARY)
    _import(source, tmp_path / "out", "--max-row-count", "2")
    names = sorted(p.name for p in (tmp_path / "out").glob("library_author*.py"))
    assert ["library_author.py", "library_author_2.py"] == names
    ids = [row[0] for name in names for row in _rows(tmp_path / "out", name)[1]]
    assert [1, 2, 3] == ids


@DB
def test_content_types_are_written_by_natural_key(tmp_path: Path) -> None:
    """A model name becomes (app_label, model), as every dump of ours writes it."""
    source = write_lino_dump(tmp_path / "lino", LIBRARY)
    _import(source, tmp_path / "out")
    columns, rows = _rows(tmp_path / "out", "library_bookmark.py")
    row = dict(zip(columns, rows[0], strict=True))
    assert ("library", "author") == row["target_type_id"]
    assert ("library", "tag") == row["text_type_id"]


BABEL = ["loader.save(create_library_tag('poetry',['Poems', 'Gedichte']))"]


@DB
def test_babel_values_get_the_columns_of_their_language(tmp_path: Path) -> None:
    """Without a Lino site: description (en), description_de (de), the latter inferred."""
    source = write_lino_dump(tmp_path / "lino", {"library_tag.py": BABEL})
    result = import_lino_dump(source, tmp_path / "out", source_package="tests")
    columns, rows = _rows(tmp_path / "out", "library_tag.py")
    assert ("name", "description", "description_de") == columns
    assert [("poetry", "Poems", "Gedichte")] == rows
    assert any(
        "'description_de' is not in the current model" in n for n in result.notes
    )


@DB
def test_babel_values_follow_the_sites_languages_by_name(tmp_path: Path) -> None:
    """A site whose first language is de: de -> description; fr, unknown, dropped."""
    calls = [
        "loader.save(create_library_tag('poetry',['Poems', 'Gedichte', 'Poèmes']))"
    ]
    source = write_lino_dump(
        tmp_path / "lino", {"library_tag.py": calls}, languages=("en", "de", "fr")
    )
    info = SimpleNamespace
    site = info(language_dict={"de": info(suffix=""), "en": info(suffix="_en")})
    with override_settings(SITE=site):
        result = import_lino_dump(source, tmp_path / "out", source_package="tests")
    columns, rows = _rows(tmp_path / "out", "library_tag.py")
    assert ("name", "description", "description_en") == columns
    assert [("poetry", "Gedichte", "Poems")] == rows
    assert any(
        "The values in fr of babel fields are dropped" in n for n in result.notes
    )


@DB
def test_versions_come_from_the_dump_and_the_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SOURCE_VERSION for the site's package, --app-version first, the rest assumed."""
    source = write_lino_dump(tmp_path / "lino", LIBRARY, version="0.9")
    call_command(
        "importlinodump", str(source), str(tmp_path / "out"), "--noinput",
        "--source-package", "tests", "--app-version", "kitchen=0.5",
    )  # fmt: skip
    versions = open_dump(tmp_path / "out").versions
    assert ("0.9", "0.5") == (versions["library"], versions["kitchen"])
    assert django.__version__ == versions["contenttypes"]
    out = capsys.readouterr().out
    assert "got the version the dump records: library 0.9" in out
    assert "Assumed that" in out
    assert "--app-version APP=VERSION" in out


@DB
@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("kitchen", "expected APP=VERSION"),
        ("nosuchapp=1.0", "no installed app 'nosuchapp'"),
        ("kitchen=not a version", "is not a version"),
    ],
)
def test_a_wrong_app_version_is_refused(
    tmp_path: Path, option: str, message: str
) -> None:
    """A typo in --app-version is an error before anything is read or written."""
    source = write_lino_dump(tmp_path / "lino", LIBRARY)
    with pytest.raises(CommandError, match=message):
        _import(source, tmp_path / "out", "--app-version", option)
    assert not (tmp_path / "out").exists()


@DB
def test_a_field_the_model_lacks_gets_an_inferred_type(tmp_path: Path) -> None:
    """SCHEMA gives a vanished field a type from its values; dumpplan then asks."""
    extra = (
        "def create_library_genre(id, name, legacy, weight):\n    kw = dict()\n"
        "    kw.update(id=id)\n    kw.update(name=name)\n    kw.update(legacy=legacy)\n"
        "    if weight is not None: weight = Decimal(weight)\n"
        "    kw.update(weight=weight)\n    return library_Genre(**kw)\n\n"
        'library_Genre = resolve_model("library.Genre")\n'
    )
    calls = ["loader.save(create_library_genre(1,'Poetry',date(2001,1,1),'1.5'))"]
    source = write_lino_dump(
        tmp_path / "lino", {"library_genre.py": calls}, extra=extra
    )
    result = import_lino_dump(source, tmp_path / "out", source_package="tests")
    fields = {
        f.attname: f.type
        for f in open_dump(tmp_path / "out").schema["library.genre"].fields
    }
    assert {"id": "SmallAutoField", "name": "CharField", "legacy": "DateField",
            "weight": "DecimalField"} == fields  # fmt: skip
    assert any("'legacy' is not in the current model" in n for n in result.notes)
    with pytest.raises(CommandError, match=r"The restore would fail"):
        call_command("dumpplan", str(tmp_path / "out"))


#: Data file lines that cannot be read, and what the error says about them.
UNREADABLE = [
    ("loader.save(create_library_place(1,str(1),''))", "not a literal: str(1)"),
    ("exec('import os')", "not understood: exec('import os')"),
    ("loader.save(create_library_place(1,os.sep,''))", "not a literal: os.sep"),
    (
        "loader.save(create_library_nothing(1))",
        "create_library_nothing() is not defined",
    ),
    (
        "loader.save(create_library_place(1,'a'))",
        "2 arguments given to create_library_place()",
    ),
    ("raise Exception('table not dumped')", "Lino's dump2py left this table out"),
    ("loader.save(create_library_place(1,date(2024,2,30),''))", "not a valid date"),
    ("loader.save(create_library_place(1,{'a': 1},''))", "a dict argument"),
    ("Place = 1", "not understood: Place = 1"),
    (
        "loader.save(create_library_place('x','a',''))",
        "'x' where an integer is expected",
    ),
    (
        "loader.save(create_library_place(1,library_Author,''))",
        "a name (library_Author)",
    ),
    ("loader.save(create_library_place(1,'a',''))", "a second row of library.place"),
    ("loader.save(create_library_place(2,'a',''", "a statement that does not end"),
    ("loader.save(create_library_place(2,,'a'))", "not valid Python (invalid syntax"),
]


@DB
@pytest.mark.parametrize(("line", "message"), UNREADABLE)
def test_an_unreadable_construct_is_named_with_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    """Each construct is one problem at its file and line; nothing is written."""
    calls = ["loader.save(create_library_place(1,'Central',''))", line]
    source = write_lino_dump(tmp_path / "lino", {"library_place.py": calls})
    with pytest.raises(CommandError) as raised:
        _import(source, tmp_path / "out")
    text = str(raised.value)
    assert "library_place.py, line 4: " in text, text
    assert message in text
    assert "nothing was written" in text
    assert not (tmp_path / "out").exists()
    assert [] == [p.name for p in tmp_path.iterdir() if "lino-migrate" in p.name]


#: restore.py constructs that cannot be read.
UNREADABLE_SCRIPT = [
    (
        "def create_library_genre(id, name):\n    kw = dict()\n"
        "    kw.update(id=id.upper())\n    return library_Genre(**kw)\n",
        "create_library_genre: not understood: kw.update(id=id.upper())",
    ),
    (
        "def create_library_genre(id, name):\n    kw = dict()\n    exec('x')\n"
        "    return library_Genre(**kw)\n",
        "not understood: exec('x')",
    ),
    ("create_library_place = print\n", "create_library_place is assigned"),
    ("OTHER_SOURCES = dict(lino='1.0')\n", "OTHER_SOURCES is not a literal"),
]


@DB
@pytest.mark.parametrize(("code", "message"), UNREADABLE_SCRIPT)
def test_an_unreadable_create_function_is_named_with_its_line(
    tmp_path: Path, code: str, message: str
) -> None:
    """A create function or an assignment of another shape is named; nothing written."""
    source = write_lino_dump(tmp_path / "lino", LIBRARY, extra=code)
    with pytest.raises(LinoDumpError, match=r"restore\.py, line [0-9]+: ") as raised:
        import_lino_dump(source, tmp_path / "out", source_package="tests")
    assert message in str(raised.value)
    assert not (tmp_path / "out").exists()


@DB
def test_a_hostile_dump_is_never_run(tmp_path: Path) -> None:
    """Code with side effects in restore.py and the data files never runs."""
    mark = tmp_path / "mark"
    hostile = [
        f"open({str(mark)!r}, 'w').write('data file')",
        f"loader.save(create_library_place(9,__import__('os').system('touch {mark}'),''))",
        f"loader.save(create_library_place(9,[open({str(mark)!r}, 'w')],''))",
    ]
    module_code = f"open({str(mark)!r}, 'w').write('restore.py')\n"
    source = write_lino_dump(
        tmp_path / "lino", {**LIBRARY, "library_place.py": hostile}, extra=module_code
    )
    with pytest.raises(LinoDumpError) as raised:
        import_lino_dump(source, tmp_path / "out", source_package="tests")
    assert 3 == len(raised.value.problems)
    assert not mark.exists()
    # Without the hostile data file, restore.py's own code is passed over, not run.
    (source / "library_place.py").write_text(
        "loader.save(create_library_place(1,'a',''))\n"
    )
    import_lino_dump(source, tmp_path / "out", source_package="tests")
    assert not mark.exists()


@DB
def test_out_is_replaced_only_with_overwrite(tmp_path: Path) -> None:
    """An existing OUT is refused without --overwrite, untouched; replaced with it."""
    source = write_lino_dump(tmp_path / "lino", LIBRARY)
    _import(source, tmp_path / "out")
    before = (tmp_path / "out" / "restore.py").read_bytes()
    with pytest.raises(CommandError, match="exists already"):
        _import(source, tmp_path / "out")
    assert before == (tmp_path / "out" / "restore.py").read_bytes()
    (tmp_path / "out" / "stale.py").write_text("")
    _import(source, tmp_path / "out", "--overwrite")
    assert not (tmp_path / "out" / "stale.py").exists()


def test_a_directory_without_restore_py_is_no_lino_dump(tmp_path: Path) -> None:
    """The error says what was found and what to give."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(LinoDumpError, match="give the directory that Lino's"):
        import_lino_dump(tmp_path / "empty", tmp_path / "out")
