"""Fill a database of the test site with deterministic edge-case data.

Every run writes the same rows: fixed ids, UUIDs and datetimes, nothing taken
from the clock or a random generator. :func:`populate` is the entry point.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.contrib.sites.models import Site
from django.core.management.color import no_style
from django.db import connections, models, transaction

from tests.site.kitchen.models import Computed, Sample, Stamped
from tests.site.kitchen.values import JSON_NULL, sample_rows
from tests.site.library.models import (
    Announcement,
    Author,
    Biography,
    Book,
    Bookmark,
    Branch,
    Genre,
    Librarian,
    Loan,
    MainBranch,
    Place,
    Publisher,
    Tag,
    Tagging,
)

__all__ = ["BOOKS", "SESSION_KEY", "TAGS", "populate"]

UTC = dt.UTC
BRUSSELS = ZoneInfo("Europe/Brussels")

#: Primary keys of the books, by short name.
BOOKS = {
    "notes": uuid.UUID("6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b"),
    "swim": uuid.UUID("00000000-0000-0000-0000-000000000001"),
    "quixote": uuid.UUID("ffffffff-ffff-4fff-bfff-ffffffffffff"),
    "idiot": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "masnavi": uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
}

#: Text primary keys of the tags: quotes, newlines, RTL text, case and spaces.
TAGS = [
    "fantasy",
    "Fantasy",
    "it's",
    'say "hi"',
    "line1\nline2",
    "crlf\r\nend",
    "עברית",
    "مرحبا",
    "📚 books",
    "back\\slash",
    "trailing space ",
    "%s",
    "\\N",
]

SESSION_KEY = "0123456789abcdefghijklmnopqrstuv"

# A fixed PBKDF2 hash of the password "admin": computing one takes a second.
ADMIN_PASSWORD = (
    "pbkdf2_sha256$1000000$limigrate2024$/Kv3VBA0Kn4dC9ksUYMS1GH1HcmUJUmI7c5T1d2Hp0E="
)


def populate(using: str = "default", *, portable: bool = False) -> None:
    """Fill the database *using* with the test data, in one transaction.

    The database must be migrated and empty except for what ``migrate``
    creates (content types, permissions, the example site).

    :param using: the alias of the database to fill.
    :param portable: write only values that SQLite and PostgreSQL both store
        exactly (no NaN or infinity, decimals within 15 significant digits,
        no NUL characters in text), so that two backends can be compared.
    """
    rows = sample_rows(connections[using].vendor, portable=portable)
    # Cached content type ids are stale after a flush or a restore renumbered them.
    ContentType.objects.clear_cache()
    with transaction.atomic(using=using):
        _populate_kitchen(using, rows)
        _populate_library(using)
        _populate_contrib(using)
        _reset_sequences(using)


def _populate_kitchen(using: str, rows: list[dict[str, Any]]) -> None:
    """Create the rows of the ``kitchen`` app, with *rows* as samples."""
    json_null = [i for i, row in enumerate(rows, start=1) if row["json"] is JSON_NULL]
    Sample.objects.using(using).bulk_create(
        Sample(
            id=i,
            **{k: None if v is JSON_NULL else v for k, v in row.items()},
        )
        for i, row in enumerate(rows, start=1)
    )
    Sample.objects.using(using).filter(pk__in=json_null).update(
        json=models.Value(None, output_field=models.JSONField())
    )
    created = dt.datetime(2024, 5, 1, 10, 30, 0, 123456, tzinfo=UTC)
    # Leaving "answer" out makes the database apply its db_default (42).
    Computed.objects.using(using).create(id=1, a=1, b=2, created=created)
    Computed.objects.using(using).create(id=2, a=-5, b=None, answer=7, created=created)
    Computed.objects.using(using).create(
        id=3,
        a=1_000_000,
        b=-1_000_000,
        answer=-1,
        created=dt.datetime.min.replace(microsecond=1, tzinfo=UTC),
    )
    _populate_stamped(using)


def _populate_stamped(using: str) -> None:
    """Create rows with ``auto_now`` fields, then give them fixed timestamps."""
    stamps = {
        1: ("first", dt.datetime(2020, 1, 1, tzinfo=UTC), None),
        2: ("edited", dt.datetime(2021, 6, 15, 8, 0, 0, 1, tzinfo=BRUSSELS), 1),
        3: (
            "clock skew",
            dt.datetime(2022, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            -1,
        ),
    }
    Stamped.objects.using(using).bulk_create(
        Stamped(id=pk, name=name) for pk, (name, _, _) in stamps.items()
    )
    # bulk_create() and save() set auto_now fields to now; update() does not.
    for pk, (_, created, days) in stamps.items():
        modified = created if days is None else created + dt.timedelta(days=days)
        Stamped.objects.using(using).filter(pk=pk).update(
            created=created, modified=modified
        )


def _populate_library(using: str) -> None:
    """Create the rows of the ``library`` app."""
    _populate_authors(using)
    _populate_books(using)
    _populate_places(using)
    Loan.objects.using(using).bulk_create(
        [
            Loan(
                id=1, book_id=BOOKS["notes"], borrower="Lea", due=dt.date(2024, 1, 31)
            ),
            # Dangling ids: the key has no database constraint.
            Loan(
                id=2,
                book_id=uuid.UUID("deadbeef-dead-beef-dead-beefdeadbeef"),
                borrower="Ghost",
                due=dt.date(2024, 2, 29),
            ),
            Loan(id=3, book_id=None, borrower="Nobody", due=dt.date(9999, 12, 31)),
            Loan(id=4, book_id=uuid.UUID(int=42), borrower="", due=dt.date(1, 1, 1)),
        ]
    )
    Announcement.all_objects.using(using).bulk_create(
        [
            Announcement(id=1, text="Open day", archived=False),
            Announcement(id=2, text="Closed for works", archived=True),
            Announcement(id=3, text="Old news", archived=True),
            Announcement(id=4, text="New books", archived=False),
        ]
    )
    _populate_bookmarks(using)


def _populate_authors(using: str) -> None:
    """Create authors whose mentors are created later, themselves, or a cycle."""
    authors = [
        (1, "Ada Lovelace", "ada", 5, dt.date(1815, 12, 10)),
        (2, "Flann O'Brien", "o'brien", 4, dt.date(1911, 10, 5)),
        (3, "Miguel de Cervantes", "cervantes", 3, dt.date(1547, 9, 29)),
        (4, "Фёдор Достоевский", "Достоевский", 2, None),
        (5, "Umberto Eco", "eco", None, dt.date(1932, 1, 5)),
        (6, "جلال‌الدین محمد رومی", "مولوی", 1, None),
    ]
    Author.objects.using(using).bulk_create(
        Author(id=pk, name=name, code=code, mentor_id=mentor, born=born)
        for pk, name, code, mentor, born in authors
    )
    Biography.objects.using(using).bulk_create(
        [
            Biography(author_id=1, text="Wrote the first program.\nAnd notes."),
            Biography(author_id=3, text=""),
            Biography(author_id=6, text="شاعر\r\nPoet"),
        ]
    )
    Publisher.objects.using(using).bulk_create(
        [
            Publisher(id=10, name="Penguin", country="GB"),
            Publisher(id=20, name="Gallimard", country="FR"),
            Publisher(id=3, name="Suhrkamp 'Verlag'", country=""),
        ]
    )
    Genre.objects.using(using).bulk_create(
        [
            Genre(id=1, name="Fiction"),
            Genre(id=2, name="Poetry"),
            Genre(id=300, name=""),
        ]
    )
    Tag.objects.using(using).bulk_create(
        Tag(name=name, description=f"Tag {name!r}") for name in TAGS
    )


def _populate_books(using: str) -> None:
    """Create books with their genres (auto ``through``) and tags (``Tagging``)."""
    books = [
        ("notes", "Notes", "ada", 10, [1, 2], ["fantasy", "it's", "line1\nline2"]),
        ("swim", "At Swim-Two-Birds", "o'brien", None, [], ['say "hi"', "עברית"]),
        ("quixote", "Don Quixote", "cervantes", 3, [1], ["Fantasy", "📚 books"]),
        ("idiot", "Идиот", "Достоевский", 20, [300], []),
        ("masnavi", "مثنوی معنوی", "مولوی", None, [2, 300], ["مرحبا", "\\N", "%s"]),
    ]
    Book.objects.using(using).bulk_create(
        Book(id=BOOKS[key], title=title, author_id=code, publisher_id=publisher)
        for key, title, code, publisher, _, _ in books
    )
    Book.objects.using(using).filter(pk=BOOKS["notes"]).update(
        published=dt.date(1843, 9, 1)
    )
    genre_link = Book.genres.through
    genre_link.objects.using(using).bulk_create(
        genre_link(book_id=BOOKS[key], genre_id=genre)
        for key, _, _, _, genres, _ in books
        for genre in genres
    )
    weights = [1, -1, 0, 32767, -32768]
    tag_pairs = [(key, tag) for key, *_, tags in books for tag in tags]
    Tagging.objects.using(using).bulk_create(
        Tagging(id=i, book_id=BOOKS[key], tag_id=tag, weight=weights[i % len(weights)])
        for i, (key, tag) in enumerate(tag_pairs, start=1)
    )


def _populate_places(using: str) -> None:
    """Create three levels of places and close the branch/librarian key cycle."""
    Place.objects.using(using).create(id=1, name="Town hall", address="Main St 1")
    Branch.objects.using(using).create(id=2, name="North", opens=dt.time(9, 0))
    MainBranch.objects.using(using).create(
        id=3,
        name="Central",
        address="Line 1\nLine 2",
        opens=dt.time(8, 30, 0, 500000),
        archive_shelves=120,
    )
    Branch.objects.using(using).create(id=4, name="South", opens=None)
    Place.objects.using(using).create(id=5, name="Park")
    MainBranch.objects.using(using).create(id=7, name="Old town", archive_shelves=0)
    Librarian.objects.using(using).bulk_create(
        [
            Librarian(id=1, name="Lea", branch_id=2),
            Librarian(id=2, name="Mo", branch_id=3),
            Librarian(id=3, name="Noor", branch_id=3),
            Librarian(id=4, name="Olek", branch_id=7),
        ]
    )
    for branch, head in [(2, 1), (3, 2), (7, 4)]:
        Branch.objects.using(using).filter(pk=branch).update(head_id=head)


def _populate_bookmarks(using: str) -> None:
    """Create bookmarks through generic keys with int, UUID and text object ids."""
    kinds = {
        "int": ("target_type", "target_id"),
        "uuid": ("uuid_type", "uuid_id"),
        "text": ("text_type", "text_id"),
    }
    marks: list[tuple[str, list[tuple[str, type[models.Model], Any]]]] = [
        ("author", [("int", Author, 1)]),
        ("hidden announcement", [("int", Announcement, 2)]),
        ("main branch", [("int", MainBranch, 3)]),
        ("superuser", [("int", User, 1)]),
        ("sample", [("int", Sample, 4)]),
        ("book", [("uuid", Book, BOOKS["notes"])]),
        ("another book", [("uuid", Book, BOOKS["quixote"])]),
        ("quoted tag", [("text", Tag, "it's")]),
        ("multi-line tag", [("text", Tag, "line1\nline2")]),
        ("session", [("text", Session, SESSION_KEY)]),
        ("site", [("text", Site, "2")]),
        (
            "all three",
            [
                ("int", Author, 6),
                ("uuid", Book, BOOKS["masnavi"]),
                ("text", Tag, "עברית"),
            ],
        ),
        ("nothing", []),
    ]
    content_types = ContentType.objects.db_manager(using)
    bookmarks = []
    for pk, (label, targets) in enumerate(marks, start=1):
        values: dict[str, Any] = {}
        for kind, model, object_id in targets:
            type_field, id_field = kinds[kind]
            values[type_field] = content_types.get_for_model(model)
            values[id_field] = object_id
        bookmarks.append(Bookmark(id=pk, label=label, **values))
    Bookmark.objects.using(using).bulk_create(bookmarks)


def _populate_contrib(using: str) -> None:
    """Create users, a group, permissions, a session, sites and log entries."""
    _populate_users(using)
    Session.objects.using(using).create(
        session_key=SESSION_KEY,
        session_data="e30:1tFixed:fixed-signature-of-an-empty-session",
        expire_date=dt.datetime(2030, 1, 1, tzinfo=UTC),
    )
    Site.objects.using(using).update_or_create(
        pk=1, defaults={"domain": "library.example.org", "name": "Library"}
    )
    Site.objects.using(using).create(id=2, domain="kitchen.example.org", name="Küche")
    _populate_log_entries(using)


def _populate_users(using: str) -> None:
    """Create a superuser, a user in a group, and their permissions."""
    joined = dt.datetime(2020, 2, 2, 2, 2, 2, 222222, tzinfo=UTC)
    User.objects.using(using).bulk_create(
        [
            User(
                id=1,
                username="admin",
                password=ADMIN_PASSWORD,
                email="admin@example.org",
                first_name="Ada",
                last_name="Admin",
                is_superuser=True,
                is_staff=True,
                last_login=dt.datetime(2024, 6, 1, 9, 0, 0, 1, tzinfo=UTC),
                date_joined=joined,
            ),
            User(
                id=2,
                username="reader",
                password="!unusable-fixed-password-for-the-test-site",
                first_name="נועה",
                last_name="O'Brien",
                date_joined=joined,
            ),
        ]
    )
    _grant_permissions(using)


def _grant_permissions(using: str) -> None:
    """Give permissions to a group, put the reader in it, and give some directly."""
    group = Group.objects.using(using).create(id=1, name="Librarians")
    group.permissions.set(
        _permissions(
            using,
            "library.add_book library.change_book library.delete_book "
            "library.view_author kitchen.view_sample auth.view_user "
            "sessions.view_session",
        )
    )
    reader = User.objects.using(using).get(pk=2)
    reader.groups.set([group])
    reader.user_permissions.set(
        _permissions(using, "library.change_tag kitchen.change_sample")
    )
    User.objects.using(using).get(pk=1).user_permissions.set(
        _permissions(using, "library.delete_loan")
    )


def _permissions(using: str, names: str) -> list[Permission]:
    """Return the permissions named ``app_label.codename``, separated by spaces."""
    result = []
    for name in names.split():
        app_label, codename = name.split(".")
        result.append(
            Permission.objects.using(using).get(
                content_type__app_label=app_label, codename=codename
            )
        )
    return result


def _populate_log_entries(using: str) -> None:
    """Create admin log entries that point to library objects by generic key."""
    content_types = ContentType.objects.db_manager(using)
    book, tag, author = (
        content_types.get_for_model(model) for model in (Book, Tag, Author)
    )
    when = dt.datetime(2024, 7, 14, 14, 7, 14, 714714, tzinfo=UTC)
    entries = [
        (book, str(BOOKS["notes"]), "Notes", ADDITION, '[{"added": {}}]'),
        (tag, "it's", "it's", CHANGE, '[{"changed": {"fields": ["Description"]}}]'),
        (author, "99", "Deleted author", DELETION, ""),
        (None, None, "No object", CHANGE, "A message\nwith two lines"),
    ]
    LogEntry.objects.using(using).bulk_create(
        LogEntry(
            id=i,
            action_time=when + dt.timedelta(minutes=i),
            user_id=1 if i % 2 else 2,
            content_type=content_type,
            object_id=object_id,
            object_repr=text,
            action_flag=flag,
            change_message=message,
        )
        for i, (content_type, object_id, text, flag, message) in enumerate(
            entries, start=1
        )
    )


def _reset_sequences(using: str) -> None:
    """Move the id sequences past the explicit ids (PostgreSQL needs that)."""
    connection = connections[using]
    models_ = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]
    statements = connection.ops.sequence_reset_sql(no_style(), models_)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
