"""The models of release 1 of the demo shop."""

from __future__ import annotations

from django.db import models


class Client(models.Model):
    """A customer, with the full name in one field ("Ada Lovelace")."""

    name = models.CharField(max_length=200)
    email = models.EmailField()
    city = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """Something the shop sells."""

    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    legacy_code = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """An order of a client."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"

    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    date = models.DateField()
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)

    def __str__(self) -> str:
        return f"Order #{self.pk} of {self.client}"


class OrderLine(models.Model):
    """One product of an order, at the price it was sold for."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    qty = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.qty} x {self.product}"
