"""Models with one field of every built-in Django type.

Most value fields are nullable, string fields included, so that the test data
can tell SQL NULL from ``''``; a few are not, like real sites have them.
ImageField needs Pillow, which the ``dev`` extra installs.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.db.models.functions import Now

# Nullable string fields are deliberate here: the data distinguishes NULL from ''.
# ruff: noqa: DJ001


class Sample(models.Model):
    """Hold one value of every built-in field type per row."""

    label = models.CharField(max_length=100)
    flag = models.BooleanField(default=False)
    rank = models.IntegerField(default=0)

    char = models.CharField(max_length=255, null=True, blank=True)
    text = models.TextField(null=True, blank=True)
    slug = models.SlugField(null=True, blank=True)
    email = models.EmailField(null=True, blank=True)
    url = models.URLField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    path = models.FilePathField(path="/srv/files", null=True, blank=True)

    small = models.SmallIntegerField(null=True, blank=True)
    integer = models.IntegerField(null=True, blank=True)
    big = models.BigIntegerField(null=True, blank=True)
    psmall = models.PositiveSmallIntegerField(null=True, blank=True)
    pinteger = models.PositiveIntegerField(null=True, blank=True)
    pbig = models.PositiveBigIntegerField(null=True, blank=True)

    decimal = models.DecimalField(
        max_digits=30, decimal_places=10, null=True, blank=True
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    real = models.FloatField(null=True, blank=True)

    boolean = models.BooleanField(default=False)
    nboolean = models.BooleanField(null=True, blank=True)

    date = models.DateField(null=True, blank=True)
    datetime = models.DateTimeField(null=True, blank=True)
    time = models.TimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)

    uuid = models.UUIDField(null=True, blank=True)
    binary = models.BinaryField(null=True, blank=True)
    json = models.JSONField(null=True, blank=True)
    file = models.FileField(upload_to="uploads/", max_length=255, null=True, blank=True)
    image = models.ImageField(
        upload_to="images/", max_length=255, null=True, blank=True
    )

    def __str__(self) -> str:
        """Return the label."""
        return self.label


class Computed(models.Model):
    """Hold values that the database computes: defaults and a generated column."""

    a = models.IntegerField()
    b = models.IntegerField(null=True, blank=True)
    total = models.GeneratedField(
        expression=F("a") + F("b"),
        output_field=models.IntegerField(null=True),
        db_persist=True,
    )
    answer = models.IntegerField(db_default=42)
    created = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        """Return the two operands."""
        return f"{self.a} + {self.b}"


class Stamped(models.Model):
    """Hold timestamps that ``save()`` sets: a restore must keep the dumped ones."""

    name = models.CharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        """Return the name."""
        return self.name
