"""``manage.py generate_demo_data``: fill an empty shop with deterministic data."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from demo.shop1.models import Client, Order, OrderLine, Product

FIRST_NAMES = (
    "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Margaret", "Niklaus",
    "Frances", "John", "Radia", "Dennis", "Karen", "Ken", "Hedy", "Tim",
    "José", "Zoë", "Søren", "Ångström",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton",
    "Wirth", "Allen", "McCarthy", "Perlman", "Ritchie", "Spärck Jones",
    "Thompson", "Lamarr", "Berners-Lee", "van Rossum", "de la Cruz", "Müller",
    "O'Brien",
)  # fmt: skip
CITIES = (
    "Eupen", "Liège", "Brussels", "Tallinn", "Tartu", "Amsterdam", "Zürich",
    "Lyon", "Cork", "Porto",
)  # fmt: skip
ADJECTIVES = ("Small", "Large", "Blue", "Red", "Steel", "Wooden", "Organic", "Smart")
NOUNS = (
    "Teapot", "Lamp", "Chair", "Notebook", "Kettle", "Backpack", "Umbrella",
    "Keyboard", "Mug", "Bicycle bell",
)  # fmt: skip

FIRST_DAY = dt.date(2024, 1, 1)
CENT = Decimal("0.01")


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii())


def _clients(rng: random.Random, count: int) -> list[Client]:
    clients = []
    for pk in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}.{pk}@example.com".lower()
        city = rng.choice(CITIES)
        clients.append(Client(id=pk, name=f"{first} {last}", email=email, city=city))
    return clients


def _products(rng: random.Random, count: int) -> list[Product]:
    products = []
    for pk in range(1, count + 1):
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        price = Decimal(rng.randrange(99, 25000)) / 100
        # Release 1 still carries the code of an older system for some products.
        code = f"LC-{rng.randrange(10000):04d}" if rng.random() < 0.4 else ""
        products.append(Product(id=pk, name=name, price=price, legacy_code=code))
    return products


def _orders(
    rng: random.Random, count: int, clients: int, products: list[Product]
) -> tuple[list[Order], list[OrderLine]]:
    orders, lines = [], []
    for pk in range(1, count + 1):
        date = FIRST_DAY + dt.timedelta(days=rng.randrange(730))
        status = Order.Status.PAID if rng.random() < 0.7 else Order.Status.OPEN
        orders.append(
            Order(id=pk, client_id=rng.randint(1, clients), date=date, status=status)
        )
        for product in rng.sample(products, rng.randint(1, 5)):
            price = product.price
            if rng.random() < 0.1:
                price = (price * Decimal("0.9")).quantize(CENT)
            line = OrderLine(
                id=len(lines) + 1, order_id=pk, product_id=product.pk,
                qty=rng.randint(1, 12), unit_price=price,
            )  # fmt: skip
            lines.append(line)
    return orders, lines


class Command(BaseCommand):
    help = "Fill an empty shop with clients, products, orders and order lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rows", type=int, default=1000, metavar="N",
            help="Number of orders (default 1000); N/5 clients, N/20 products "
            "and about 3N order lines come with them.",
        )  # fmt: skip
        parser.add_argument(
            "--seed", type=int, default=1,
            help="Seed of the random generator (default 1): same seed, same rows.",
        )  # fmt: skip
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections),
            help="The database to fill (default 'default').",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        rows, db = options["rows"], options["database"]
        if rows < 1:
            msg = f"--rows must be at least 1, got {rows}."
            raise CommandError(msg)
        if Client.objects.using(db).exists():
            msg = (
                "The shop already has clients: run this on a freshly migrated database."
            )
            raise CommandError(msg)
        rng = random.Random(options["seed"])
        clients = _clients(rng, max(1, rows // 5))
        products = _products(rng, max(5, rows // 20))
        orders, lines = _orders(rng, rows, len(clients), products)
        with transaction.atomic(using=db):
            for model, objs in (
                (Client, clients), (Product, products),
                (Order, orders), (OrderLine, lines),
            ):  # fmt: skip
                model.objects.using(db).bulk_create(objs, batch_size=500)
        self.stdout.write(
            f"Created {len(clients)} clients, {len(products)} products, "
            f"{len(orders)} orders and {len(lines)} order lines "
            f"(seed {options['seed']})."
        )
