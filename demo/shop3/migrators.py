"""Upgrade the rows of older dumps of the shop to release 3.

lino-migrate imports this module at start-up, as Django imports ``admin.py``.
A dump of release 1 (``shop`` 1.0) goes through both migrators, in version
order: ``to_2_0`` first, so that ``to_3_0`` finds ``shop.customer`` rows. A
dump of a release-2 site would go through ``to_3_0`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migrations_registry import migrator

if TYPE_CHECKING:
    from migrations_registry import Migration, Row, RowResult

#: The order states of release 1 and what they became in release 3.
STATUSES = {"open": "pending", "paid": "settled"}


@migrator("shop", "2.0")
def to_2_0(m: Migration) -> None:
    """Rename Client to Customer; the order's client becomes its customer; drop legacy codes."""
    m.rename_model("shop.client", "shop.customer")
    # A ForeignKey: its attname follows, client_id becomes customer_id.
    m.rename_field("shop.order", "client", "customer")
    m.remove_field("shop.product", "legacy_code")


def first_name(row: Row) -> str:
    """Return what comes before the first space of the customer's name."""
    return str(row["name"]).partition(" ")[0]


def last_name(row: Row) -> str:
    """Return what comes after the first space of the customer's name."""
    return str(row["name"]).partition(" ")[2]


@migrator("shop", "3.0")
def to_3_0(m: Migration) -> None:
    """Split customer names; move e-mail addresses into Contact rows; new order states."""
    # "shop.customer", the name given by to_2_0: it ran before.
    m.add_field("shop.customer", "first_name", default=first_name)
    m.add_field("shop.customer", "last_name", default=last_name)
    m.remove_field("shop.customer", "name")

    @m.rows("shop.customer")
    def move_email(row: Row) -> RowResult:
        if not row["email"]:
            return row
        # No "id": the restore numbers the new Contact rows.
        contact = {"customer_id": row["id"], "kind": "email", "value": row["email"]}
        return [row, ("shop.contact", contact)]

    # After move_email has read it.
    m.remove_field("shop.customer", "email")

    @m.rows("shop.order")
    def map_status(row: Row) -> Row:
        # An unknown state fails here, naming the row, rather than being guessed.
        row["status"] = STATUSES[row["status"]]
        return row
