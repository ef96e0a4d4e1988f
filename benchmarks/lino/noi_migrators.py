"""Example migrators for the Noi site: an invented release 1.0 of ``tickets`` (#13).

Lino upgrades a site's data with methods of ``Site.migration_class``
(``migrate_from_X_Y_Z``), which replace the ``create_<model>`` functions of a
Lino dump's ``restore.py``. With lino-migrate the same change is a function
that records operations on rows keyed by attname, declared for the version
whose data has the new format. This module is imported through
``LINO_MIGRATE["MIGRATORS"]`` by the ``settings_example`` site of
``benchmarks/lino/run.py``, which pins ``tickets`` to version 2.0 with
``LINO_MIGRATE["VERSIONS"]``; ``benchmarks/lino/example.py`` writes the 1.0
dump that it upgrades.

The changes restate, on today's Noi models, the kinds of change that
``lino_noi/lib/noi/migrate.py`` made between real releases of Noi: a model
renamed (products became topics), a foreign key renamed (``product`` became
``topic``), fields dropped from tickets (``nickname``), and values converted
while loading (ticket states looked up in ``TicketStates``).
"""

from __future__ import annotations

from typing import Any

from migrations_registry import migrator

#: The ticket states by name, as release 1.0 stored them, and the values of
#: Noi's ``TicketStates`` choicelist that 2.0 stores.
STATE_VALUES = {
    "new": "10", "talk": "15", "opened": "20", "working": "22", "sleeping": "30",
    "ready": "40", "closed": "50", "cancelled": "60", "waiting": "70",
}  # fmt: skip


@migrator("tickets", "2.0")
def tickets_2_0(m: Any) -> None:
    """Tickets 2.0: kinds became ticket types, summaries titles; states are values."""
    m.rename_model("tickets.kind", "tickets.tickettype")
    m.rename_field("tickets.ticket", "kind", "ticket_type")
    m.rename_field("tickets.ticket", "summary", "title")
    m.remove_field("tickets.ticket", "nickname")
    m.add_field("tickets.ticket", "urgent", default=False)

    @m.rows("tickets.ticket")
    def state_value(row: dict[str, Any]) -> dict[str, Any]:
        """Store the value of the ticket's state, not its name."""
        row["state"] = STATE_VALUES[row["state"]]
        return row
