"""Models with the field types of ``django.contrib.postgres`` (#13).

Every field is nullable, so that the test data can tell SQL NULL from an
empty array, an empty hstore and an empty range.
"""

from __future__ import annotations

from django.contrib.postgres.fields import (
    ArrayField,
    BigIntegerRangeField,
    DateRangeField,
    DateTimeRangeField,
    DecimalRangeField,
    HStoreField,
    IntegerRangeField,
)
from django.contrib.postgres.search import SearchVectorField
from django.db import models

# Nullable string fields are deliberate here: the data distinguishes NULL from ''.
# ruff: noqa: DJ001


class Sample(models.Model):
    """Hold one value of every ``django.contrib.postgres`` field type per row."""

    label = models.CharField(max_length=100)
    ints = ArrayField(models.IntegerField(null=True), null=True)
    grid = ArrayField(ArrayField(models.IntegerField(null=True)), null=True)
    texts = ArrayField(models.CharField(max_length=20, null=True), null=True)
    stamps = ArrayField(models.DateTimeField(null=True), null=True)
    days = ArrayField(models.DateField(null=True), null=True)
    amounts = ArrayField(
        models.DecimalField(max_digits=20, decimal_places=6, null=True), null=True
    )
    uuids = ArrayField(models.UUIDField(null=True), null=True)
    spans = ArrayField(models.DurationField(null=True), null=True)
    ratios = ArrayField(models.FloatField(null=True), null=True)
    tags = HStoreField(null=True)
    int_range = IntegerRangeField(null=True)
    big_range = BigIntegerRangeField(null=True)
    decimal_range = DecimalRangeField(null=True)
    date_range = DateRangeField(null=True)
    time_range = DateTimeRangeField(null=True)
    search = SearchVectorField(null=True)
    name = models.CharField(max_length=30, null=True, db_collation="pgf_nocase")

    def __str__(self) -> str:
        """Return the label."""
        return self.label
