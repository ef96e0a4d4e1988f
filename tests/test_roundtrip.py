"""dump -> restore -> dump: every table and every value comes back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connections

from tests.dumps import data_files, restore_script_body
from tests.site.data import populate
from tests.site.library.models import Author, Book, Bookmark, Genre
from tests.snapshot import assert_same, snapshot

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def _restore(dump: Path, using: str) -> None:
    call_command(
        "run", str(dump / "restore.py"), "--noinput", "--database", using, "-v0"
    )


@BOTH
def test_round_trip_is_exact(tmp_path: Path) -> None:
    """Every table of a fresh database equals the source after a restore."""
    populate("default")
    call_command("dump2py", str(tmp_path / "a"), "--noinput", "-v0")
    _restore(tmp_path / "a", "other")
    assert_same(snapshot("default"), snapshot("other"))


@BOTH
def test_new_rows_get_fresh_ids_after_restore(tmp_path: Path) -> None:
    """Sequences follow the restored ids: the next row gets a free primary key."""
    populate("default")
    call_command("dump2py", str(tmp_path / "a"), "--noinput", "-v0")
    _restore(tmp_path / "a", "other")
    highest = max(Author.objects.using("other").values_list("pk", flat=True))
    created = Author.objects.using("other").create(name="New", code="new-author")
    assert created.pk > highest
    genre = Genre.objects.using("other").create(name="new")
    assert genre.pk > max(Genre.objects.values_list("pk", flat=True))


@BOTH
def test_second_dump_is_byte_identical(tmp_path: Path) -> None:
    """dump -> restore -> dump gives the same data files and restore.py."""
    populate("default")
    call_command(
        "dump2py", str(tmp_path / "a"), "--noinput", "-v0", "--max-row-count", "3"
    )
    _restore(tmp_path / "a", "other")
    call_command(
        "dump2py", str(tmp_path / "b"), "--noinput", "-v0", "--max-row-count", "3",
        "--database", "other",
    )  # fmt: skip
    first, second = data_files(tmp_path / "a"), data_files(tmp_path / "b")
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name] == second[name], name
    assert restore_script_body(tmp_path / "a") == restore_script_body(tmp_path / "b")


@BOTH
def test_content_type_ids_differ(tmp_path: Path) -> None:
    """Content types and permissions are matched by natural key, not by id."""
    populate("default")
    ct_of_ct = ContentType.objects.get_for_model(ContentType)
    book_ct = ContentType.objects.get_for_model(Book)
    permission = Permission.objects.get(codename="view_book")
    Bookmark.objects.create(label="ct", target_type=ct_of_ct, target_id=book_ct.pk)
    Bookmark.objects.create(
        label="perm",
        text_type=ContentType.objects.get_for_model(Permission),
        text_id=str(permission.pk),
    )
    call_command("dump2py", str(tmp_path / "a"), "--noinput", "-v0")
    # Give every content type of the target another id than in the source.
    other = ContentType.objects.db_manager("other")
    shift = max(ct.pk for ct in ContentType.objects.all()) + 100
    with connections["other"].cursor() as cursor:
        cursor.execute("DELETE FROM auth_permission")
        cursor.execute(f"UPDATE django_content_type SET id = id + {shift}")
    other.clear_cache()
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0, using="other")
    assert not set(other.values_list("pk", flat=True)) & set(
        ContentType.objects.values_list("pk", flat=True)
    )
    _restore(tmp_path / "a", "other")
    restored = Bookmark.objects.using("other")
    assert book_ct.natural_key() == restored.get(label="ct").target.natural_key()
    assert (
        permission.natural_key() == restored.get(label="perm").text_target.natural_key()
    )
    Bookmark.objects.filter(label__in=["ct", "perm"]).delete()
    restored.filter(label__in=["ct", "perm"]).delete()
    assert_same(snapshot("default"), snapshot("other"))
