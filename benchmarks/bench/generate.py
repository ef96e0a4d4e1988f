"""Generate the rows of the benchmark site, deterministically and fast.

:func:`plan` says how many rows each table gets for a total; :func:`tables`
returns, in foreign-key order, one :class:`Table` per table whose ``rows()``
is a generator of tuples: nothing is ever held in a list, so a million rows
take no more memory than a thousand. :func:`fill` writes them with raw
``executemany`` batches (``COPY`` on PostgreSQL): no ``save()``, no signals,
and multi-table children are written table by table, which ``bulk_create``
cannot do.
"""

from __future__ import annotations

import datetime
import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from benchmarks.bench.models import (
    Company,
    Country,
    Event,
    Membership,
    Note,
    Order,
    OrderLine,
    Partner,
    Payment,
    Person,
    Product,
    Tag,
    Team,
)

__all__ = ["Table", "fill", "plan", "tables"]

#: Rows per ``executemany`` call.
BATCH = 5000
#: Share of the total rows per table; the events take the rest.
WEIGHTS = {
    "bench.person": 0.07,
    "bench.company": 0.03,
    "bench.product": 0.04,
    "bench.product_tags": 0.08,
    "bench.order": 0.12,
    "bench.orderline": 0.20,
    "bench.payment": 0.06,
    "bench.team": 0.01,
    "bench.membership": 0.08,
    "bench.note": 0.10,
}
COUNTRIES = 50
TAGS = 97
GROUPS = 5

FIRST = (
    "Anna", "Bruno", "Chloé", "Dmitri", "Eva", "Farid", "Grete", "Hans", "Ines",
    "Jonas", "Karin", "Luc", "Maria", "Noah", "Olga", "Pierre", "Quentin", "Rita",
    "Sven", "Tereza", "Ulla", "Victor", "Wanda", "Xavier", "Yara", "Zoë",
)  # fmt: skip
LAST = (
    "Adam", "Bauer", "Claes", "Dubois", "Evers", "Fischer", "Gomez", "Hansen",
    "Ivanov", "Jansen", "Kowalski", "Lambert", "Meier", "Nowak", "Olsen", "Peeters",
    "Quispe", "Rossi", "Schmit", "Tamm", "Urban", "Vogel", "Weber", "Xu", "Young",
    "Zimmer",
)  # fmt: skip
WORDS = (
    "invoice", "delivery", "sample", "quality", "order", "partner", "payment",
    "reminder", "contract", "shipment", "product", "service", "support", "customer",
    "account", "balance", "discount", "warehouse", "stock", "return", "refund",
    "urgent", "pending", "approved", "review", "note", "call", "meeting", "followup",
    "offer", "price", "list", "catalogue", "export", "import", "tax", "vat",
    "due", "overdue", "paid", "open", "closed", "draft", "final", "revised",
    "special", "standard", "premium",
)  # fmt: skip
STATUSES = tuple(Order.Status.values)
METHODS = ("cash", "card", "transfer", "direct debit", "voucher")
ROLES = ("member", "lead", "guest", "coach")
KINDS = ("login", "logout", "view", "edit", "export", "import", "error", "mail")
EPOCH = datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC)
TEN_YEARS = 10 * 365 * 86400


@dataclass(frozen=True)
class Table:
    """The rows of one table: its model, the attnames of a row, the rows."""

    model: type[models.Model]
    attnames: tuple[str, ...]
    rows: Callable[[], Iterator[tuple[Any, ...]]]


def plan(total: int) -> dict[str, int]:
    """Return the number of rows per table for about *total* rows in all."""
    counts = {"bench.country": COUNTRIES, "bench.tag": TAGS, "auth.group": GROUPS}
    counts["auth.user"] = counts["auth.user_groups"] = max(5, total // 500)
    for label, weight in WEIGHTS.items():
        counts[label] = max(1, round(total * weight))
    # Pairs (left, right) of an m2m table are unique when the step 13 is
    # coprime with the number of rights and no left has more links than rights.
    if counts["bench.team"] % 13 == 0:
        counts["bench.team"] += 1
    persons, teams = counts["bench.person"], counts["bench.team"]
    counts["bench.membership"] = min(counts["bench.membership"], persons * teams)
    counts["bench.product_tags"] = min(
        counts["bench.product_tags"], counts["bench.product"] * TAGS
    )
    counts["bench.partner"] = counts["bench.person"] + counts["bench.company"]
    counts["bench.event"] = max(1, total - sum(counts.values()))
    return counts


class _Values:
    """Random values of the kinds the tables need, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def text(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def moment(self) -> datetime.datetime:
        seconds = self.rng.randrange(TEN_YEARS)
        micro = self.rng.randrange(1_000_000)
        return EPOCH + datetime.timedelta(seconds=seconds, microseconds=micro)

    def day(self) -> datetime.date:
        return (EPOCH + datetime.timedelta(days=self.rng.randrange(3650))).date()

    def money(self, high: int) -> Decimal:
        return Decimal(self.rng.randrange(100, high)).scaleb(-2)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def pick(self, count: int) -> int:
        """Return an id between 1 and *count*."""
        return self.rng.randrange(count) + 1


def _pairs(links: int, lefts: int, rights: int) -> Iterator[tuple[int, int]]:
    """Yield *links* distinct (left id, right id) pairs."""
    for i in range(links):
        left, turn = i % lefts, i // lefts
        yield left + 1, (left * 7 + turn * 13) % rights + 1


def tables(counts: dict[str, int], seed: int) -> list[Table]:
    """Return the tables to fill, parents before the tables that point to them."""
    v = _Values(seed)
    rng = v.rng
    n = counts
    persons, partners = n["bench.person"], n["bench.partner"]
    content_types = {
        m: ContentType.objects.get_for_model(m).pk
        for m in (Person, Company, Order, Product)
    }
    note_targets = (
        (content_types[Person], 0, persons),
        (content_types[Company], persons, n["bench.company"]),
        (content_types[Order], 0, n["bench.order"]),
        (content_types[Product], 0, n["bench.product"]),
    )

    def name_of(i: int) -> tuple[str, str]:
        return FIRST[i * 7 % len(FIRST)], LAST[i * 11 % len(LAST)]

    def countries() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.country"]):
            code = chr(65 + i // 26) + chr(65 + i % 26)
            yield i + 1, code, f"Country {code}"

    def tags() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.tag"]):
            yield i + 1, f"tag-{i}", f"#{rng.getrandbits(24):06x}"

    def groups() -> Iterator[tuple[Any, ...]]:
        for i in range(n["auth.group"]):
            yield i + 1, f"group {i}"

    def users() -> Iterator[tuple[Any, ...]]:
        password = "pbkdf2_sha256$1000000$benchsalt$" + "A" * 43 + "="
        for i in range(n["auth.user"]):
            first, last = name_of(i)
            yield (
                i + 1, password, v.moment(), i == 0, f"user{i}", first, last,
                f"user{i}@example.com", i < 3, True, v.moment(),
            )  # fmt: skip

    def user_groups() -> Iterator[tuple[Any, ...]]:
        for i in range(n["auth.user_groups"]):
            yield i + 1, i + 1, i % n["auth.group"] + 1

    def partners_() -> Iterator[tuple[Any, ...]]:
        for i in range(partners):
            if i < persons:
                first, last = name_of(i)
                name = f"{first} {last}"
            else:
                name = f"{LAST[i % len(LAST)]} & {LAST[i * 3 % len(LAST)]} Ltd"
            metadata = {"source": rng.choice(("web", "fair", "phone")), "rank": i % 9}
            if i % 5 == 0:
                metadata["labels"] = rng.sample(WORDS, 2)
            yield (
                i + 1, v.uuid(), name, f"p{i}@example.com",
                v.pick(n["bench.country"]), v.moment(), rng.random() < 0.9,
                v.money(10**8), v.text(0, 20) if i % 3 else "", metadata,
            )  # fmt: skip

    def persons_() -> Iterator[tuple[Any, ...]]:
        for i in range(persons):
            first, last = name_of(i)
            birth = v.day() - datetime.timedelta(days=9000) if i % 4 else None
            height = round(rng.gauss(172, 9), 1) if i % 6 else None
            yield i + 1, first, last, birth, rng.choice("FMX"), height

    def companies() -> Iterator[tuple[Any, ...]]:
        for i in range(persons, partners):
            founded = v.day() - datetime.timedelta(days=20000) if i % 3 else None
            yield i + 1, f"BE{rng.randrange(10**10):010d}", rng.randrange(5000), founded

    def products() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.product"]):
            attributes = {"color": rng.choice(("red", "blue", "green")), "size": i % 7}
            yield (
                i + 1, f"SKU{i:08d}", f"Product {v.text(1, 3)}", v.money(100000),
                round(rng.uniform(0.01, 80), 3), rng.random() < 0.95, attributes,
                rng.randbytes(rng.randint(16, 64)), v.moment(),
            )  # fmt: skip

    def product_tags() -> Iterator[tuple[Any, ...]]:
        pairs = _pairs(n["bench.product_tags"], n["bench.product"], n["bench.tag"])
        for i, (product, tag) in enumerate(pairs):
            yield i + 1, product, tag

    def orders() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.order"]):
            owner = v.pick(n["auth.user"]) if i % 4 else None
            yield (
                i + 1, 1_000_000 + i, v.pick(partners), owner, v.day(),
                rng.choice(STATUSES), v.money(10**7), v.uuid(),
                v.text(0, 12) if i % 2 else "", v.moment(),
            )  # fmt: skip

    def order_lines() -> Iterator[tuple[Any, ...]]:
        count, order_count = n["bench.orderline"], n["bench.order"]
        for i in range(count):
            yield (
                i + 1, i * order_count // count + 1, v.pick(n["bench.product"]),
                rng.randint(1, 50), v.money(100000), rng.choice((0.0, 0.05, 0.1)),
                v.text(1, 4) if i % 5 == 0 else "",
            )  # fmt: skip

    def payments() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.payment"]):
            yield (
                i + 1, v.pick(n["bench.order"]), v.money(10**7), v.moment(),
                rng.choice(METHODS), rng.random() < 0.8,
            )  # fmt: skip

    def teams() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.team"]):
            yield i + 1, f"Team {i}", v.text(0, 30), v.day()

    def memberships() -> Iterator[tuple[Any, ...]]:
        pairs = _pairs(n["bench.membership"], persons, n["bench.team"])
        for i, (person, team) in enumerate(pairs):
            yield i + 1, person, team, v.day(), rng.choice(ROLES), i % 10 != 0

    def notes() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.note"]):
            content_type, offset, count = note_targets[i % len(note_targets)]
            yield (
                i + 1, content_type, offset + v.pick(count), v.text(2, 6),
                v.text(5, 60), v.moment(), i % 17 == 0,
            )  # fmt: skip

    def events() -> Iterator[tuple[Any, ...]]:
        for i in range(n["bench.event"]):
            happened = v.moment()
            payload = (
                {"ip": f"10.0.{i % 256}.{i * 7 % 256}", "ok": i % 9 != 0, "n": i}
                if i % 10
                else None
            )
            yield (
                v.uuid(), rng.choice(KINDS), v.pick(partners) if i % 3 else None,
                happened, happened.time(),
                datetime.timedelta(seconds=rng.randrange(7200)),
                payload, rng.randbytes(32) if i % 4 == 0 else None,
                rng.random() * 100,
            )  # fmt: skip

    partner_fields = tuple(f.attname for f in Partner._meta.local_concrete_fields)
    return [
        Table(Country, ("id", "code", "name"), countries),
        Table(Tag, ("id", "name", "color"), tags),
        Table(Group, ("id", "name"), groups),
        Table(User, tuple(f.attname for f in User._meta.concrete_fields), users),
        Table(User.groups.through, ("id", "user_id", "group_id"), user_groups),
        Table(Partner, partner_fields, partners_),
        Table(Person, _local(Person), persons_),
        Table(Company, _local(Company), companies),
        Table(Product, _local(Product), products),
        Table(Product.tags.through, ("id", "product_id", "tag_id"), product_tags),
        Table(Order, _local(Order), orders),
        Table(OrderLine, _local(OrderLine), order_lines),
        Table(Payment, _local(Payment), payments),
        Table(Team, _local(Team), teams),
        Table(Membership, _local(Membership), memberships),
        Table(Note, _local(Note), notes),
        Table(Event, _local(Event), events),
    ]


def _local(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.local_concrete_fields)


#: Fields whose Python values every driver takes as they are.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.BinaryField,
    models.ForeignKey,
    models.AutoField,
    models.BigAutoField,
)


def _preparers(
    table: Table, connection: BaseDatabaseWrapper
) -> list[tuple[int, Callable[[Any], Any]]]:
    """Return ``(index, function)`` for each column whose value needs preparing."""
    opts = table.model._meta
    out = []
    for i, attname in enumerate(table.attnames):
        f = opts.get_field(attname)
        if isinstance(f, _PLAIN):
            continue

        def prepare(value: Any, f: Any = f) -> Any:
            return f.get_db_prep_save(value, connection)

        out.append((i, prepare))
    return out


def _prepared(table: Table, connection: BaseDatabaseWrapper) -> Iterator[tuple]:
    preparers = _preparers(table, connection)
    for row in table.rows():
        values = list(row)
        for i, prepare in preparers:
            if values[i] is not None:
                values[i] = prepare(values[i])
        yield tuple(values)


def _write(table: Table, connection: BaseDatabaseWrapper) -> int:
    """Write the rows of *table*; return how many."""
    qn = connection.ops.quote_name
    opts = table.model._meta
    columns = ", ".join(qn(opts.get_field(a).column) for a in table.attnames)
    name = qn(opts.db_table)
    rows = _prepared(table, connection)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        marks = ", ".join(["%s"] * len(table.attnames))
        sql = f"INSERT INTO {name} ({columns}) VALUES ({marks})"
        while batch := list(itertools.islice(rows, BATCH)):
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def fill(connection: BaseDatabaseWrapper, total: int, seed: int) -> dict[str, int]:
    """Fill the database of *connection* with about *total* rows.

    The database must be freshly migrated (it holds only content types and
    permissions). Everything is written in one transaction.

    :return: the rows written per table.
    """
    counts = plan(total)
    written: dict[str, int] = {}
    filled = tables(counts, seed)
    with transaction.atomic(using=connection.alias):
        for table in filled:
            written[table.model._meta.db_table] = _write(table, connection)
        restored = [t.model for t in filled]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), restored):
                cursor.execute(sql)
    return written
