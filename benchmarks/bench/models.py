"""The models of the benchmark site.

A small business application: partners (multi-table inheritance: persons and
companies), products with tags (automatic many-to-many), orders with lines
and payments, teams of persons (many-to-many through :class:`Membership`),
notes attached to anything (generic foreign key) and events with a UUID
primary key. Between them they use every common field type: char, text,
integers, decimal, float, boolean, date, datetime, time, duration, UUID,
JSON and binary.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Country(models.Model):
    """A country, referenced by partners."""

    code = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Tag(models.Model):
    """A label put on products."""

    name = models.CharField(max_length=50, unique=True)
    color = models.CharField(max_length=7)

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Partner(models.Model):
    """Somebody the business deals with: the parent of persons and companies."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT)
    created = models.DateTimeField()
    active = models.BooleanField(default=True)
    credit_limit = models.DecimalField(max_digits=12, decimal_places=2)
    notes = models.TextField(blank=True)
    metadata = models.JSONField(default=dict)

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Person(Partner):
    """A natural person (multi-table child of :class:`Partner`)."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=1, blank=True)
    height = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        """Return the full name."""
        return f"{self.first_name} {self.last_name}"


class Company(Partner):
    """A legal person (multi-table child of :class:`Partner`)."""

    vat_id = models.CharField(max_length=20, blank=True)
    employees = models.PositiveIntegerField(default=0)
    founded = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        """Return the name and VAT id."""
        return f"{self.name} ({self.vat_id})"


class Product(models.Model):
    """Something that is sold, with tags (an automatic many-to-many table)."""

    sku = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    weight = models.FloatField()
    active = models.BooleanField(default=True)
    attributes = models.JSONField(default=dict)
    thumbnail = models.BinaryField(blank=True)
    created = models.DateTimeField()
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")

    def __str__(self) -> str:
        """Return the SKU and name."""
        return f"{self.sku} {self.name}"


class Order(models.Model):
    """An order of a partner, entered by a user."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    number = models.BigIntegerField(unique=True)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    date = models.DateField()
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    reference = models.UUIDField()
    remark = models.TextField(blank=True)
    created = models.DateTimeField()

    def __str__(self) -> str:
        """Return the order number."""
        return f"Order {self.number}"


class OrderLine(models.Model):
    """One product of an order: the biggest table."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    qty = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.FloatField(default=0.0)
    note = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        """Return quantity and product."""
        return f"{self.qty} x {self.product_id}"


class Payment(models.Model):
    """A payment of an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_at = models.DateTimeField()
    method = models.CharField(max_length=20)
    confirmed = models.BooleanField(default=False)

    def __str__(self) -> str:
        """Return the amount."""
        return f"{self.amount} for order {self.order_id}"


class Team(models.Model):
    """A group of persons (many-to-many through :class:`Membership`)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created = models.DateField()
    members = models.ManyToManyField(Person, through="Membership", related_name="teams")

    def __str__(self) -> str:
        """Return the name."""
        return self.name


class Membership(models.Model):
    """A person in a team: a custom many-to-many ``through`` model."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    since = models.DateField()
    role = models.CharField(max_length=20)
    active = models.BooleanField(default=True)

    class Meta:
        unique_together = (("person", "team"),)

    def __str__(self) -> str:
        """Return person and team."""
        return f"{self.person_id} in {self.team_id}"


class Note(models.Model):
    """A note attached to any object (generic foreign key)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    owner = GenericForeignKey("content_type", "object_id")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created = models.DateTimeField()
    pinned = models.BooleanField(default=False)

    def __str__(self) -> str:
        """Return the subject."""
        return self.subject


class Event(models.Model):
    """Something that happened: a UUID primary key, JSON and binary payloads."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = models.CharField(max_length=30)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL
    )
    happened = models.DateTimeField()
    at_time = models.TimeField()
    duration = models.DurationField()
    payload = models.JSONField(null=True, blank=True)
    blob = models.BinaryField(null=True, blank=True)
    score = models.FloatField()

    def __str__(self) -> str:
        """Return kind and time."""
        return f"{self.kind} at {self.happened}"
