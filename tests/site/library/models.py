"""Models with primary keys and relations of every kind.

Primary keys: BigAutoField (:class:`Author`), AutoField (:class:`Publisher`),
SmallAutoField (:class:`Genre`), UUIDField (:class:`Book`), CharField
(:class:`Tag`), OneToOneField (:class:`Biography` and the multi-table children).
"""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

# Nullable string fields are deliberate here: the data distinguishes NULL from ''.
# ruff: noqa: DJ001


class Author(models.Model):
    """Be the target of a ``to_field`` key and point to another author."""

    name = models.CharField(max_length=100)
    code = models.CharField(max_length=50, unique=True)
    mentor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentees",
    )
    born = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Biography(models.Model):
    """Use a one-to-one key as primary key."""

    author = models.OneToOneField(Author, primary_key=True, on_delete=models.CASCADE)
    text = models.TextField(blank=True)

    def __str__(self) -> str:
        """Return the author's name."""
        return f"Biography of {self.author_id}"


class Publisher(models.Model):
    """Use an AutoField, a custom table name and a custom column name."""

    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=100, db_column="house_name")
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        db_table = "lib_publishing_house"

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Genre(models.Model):
    """Use a SmallAutoField."""

    id = models.SmallAutoField(primary_key=True)
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Tag(models.Model):
    """Use a text primary key (the data puts quotes, newlines and RTL text in it)."""

    name = models.CharField(max_length=100, primary_key=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Book(models.Model):
    """Use a UUID primary key, a ``to_field`` key and both kinds of M2M."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    author = models.ForeignKey(
        Author, to_field="code", on_delete=models.PROTECT, related_name="books"
    )
    publisher = models.ForeignKey(
        Publisher, null=True, blank=True, on_delete=models.SET_NULL
    )
    genres = models.ManyToManyField(Genre, blank=True, related_name="books")
    tags = models.ManyToManyField(
        Tag, through="Tagging", blank=True, related_name="books"
    )
    published = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        """Return the title."""
        return self.title


class Tagging(models.Model):
    """Be the custom ``through`` model of :attr:`Book.tags`."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    weight = models.SmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["book", "tag"], name="unique_tagging")
        ]

    def __str__(self) -> str:
        """Return the book and the tag."""
        return f"{self.book_id} / {self.tag_id}"


class Place(models.Model):
    """Be the root of a three-level multi-table inheritance."""

    name = models.CharField(max_length=100)
    address = models.TextField(blank=True)

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Branch(Place):
    """Inherit from :class:`Place` and close a key cycle with :class:`Librarian`."""

    opens = models.TimeField(null=True, blank=True)
    head = models.ForeignKey(
        "Librarian",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed",
    )


class MainBranch(Branch):
    """Inherit from :class:`Branch`, the third level."""

    archive_shelves = models.PositiveIntegerField(default=0)


class Librarian(models.Model):
    """Work at a branch that may have this librarian as its head."""

    name = models.CharField(max_length=100)
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="staff")

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Loan(models.Model):
    """Point to books without a database constraint (the data has dangling ids)."""

    book = models.ForeignKey(
        Book,
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    borrower = models.CharField(max_length=100)
    due = models.DateField()

    def __str__(self) -> str:
        """Return the borrower."""
        return self.borrower


class Bookmark(models.Model):
    """Point to any object through generic keys with int, UUID and text ids."""

    label = models.CharField(max_length=100)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    uuid_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    uuid_id = models.UUIDField(null=True, blank=True)
    uuid_target = GenericForeignKey("uuid_type", "uuid_id")
    text_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text_id = models.CharField(max_length=255, null=True, blank=True)
    text_target = GenericForeignKey("text_type", "text_id")

    def __str__(self) -> str:
        """Return the label."""
        return self.label


class VisibleManager(models.Manager["Announcement"]):
    """Hide archived announcements."""

    def get_queryset(self) -> models.QuerySet[Announcement]:
        """Return the announcements that are not archived."""
        return super().get_queryset().filter(archived=False)


class Announcement(models.Model):
    """Have a default manager that hides rows (the data has hidden rows)."""

    text = models.CharField(max_length=200)
    archived = models.BooleanField(default=False)
    all_objects = models.Manager()

    objects = VisibleManager()

    class Meta:
        default_manager_name = "objects"

    def __str__(self) -> str:
        """Return the text."""
        return self.text


class ArchivedAnnouncement(Announcement):
    """Be a proxy model (a dump skips it)."""

    class Meta:
        proxy = True


class LegacyCatalog(models.Model):
    """Be an unmanaged model whose table does not exist (a dump skips it)."""

    title = models.CharField(max_length=200)

    class Meta:
        managed = False
        db_table = "legacy_catalogue"

    def __str__(self) -> str:
        """Return the title."""
        return self.title
