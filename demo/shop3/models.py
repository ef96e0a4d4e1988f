"""The models of release 3 of the demo shop.

Since release 1: ``Client`` is now ``Customer``, with the name in two fields;
its e-mail address is a ``Contact``; products lost their legacy code; orders
are ``pending`` or ``settled``.
"""

from __future__ import annotations

from django.db import models


class Customer(models.Model):
    """A customer ("Ada" "Lovelace"); release 1 called it ``Client``."""

    first_name = models.CharField(max_length=200)
    last_name = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Contact(models.Model):
    """One way to reach a customer: an e-mail address, a phone number."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20, choices=Kind)
    value = models.CharField(max_length=254)

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class Product(models.Model):
    """Something the shop sells."""

    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """An order of a customer."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SETTLED = "settled", "Settled"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    date = models.DateField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)

    def __str__(self) -> str:
        return f"Order #{self.pk} of {self.customer}"


class OrderLine(models.Model):
    """One product of an order, at the price it was sold for."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    qty = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.qty} x {self.product}"
