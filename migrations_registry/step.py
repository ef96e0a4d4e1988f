"""A registered migrator: what every operation, hook and error refers to.

This module imports nothing else from :mod:`migrations_registry`, so that the
operations, the migration context and the exceptions can all refer to a
:class:`Step` without importing each other (#11).

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.version import Version

__all__ = ["Step"]


@dataclass(frozen=True)
class Step:
    """A registered migrator: it upgrades *app_label*'s rows to *version*.

    :param app_label: The app whose version the migrator upgrades to.
    :param version: The version it upgrades to.
    :param func: The migrator function, a
        :data:`~migrations_registry.migration.MigratorFunc`.
    :param doc: The function's docstring, for reports.
    :param depends_on: Migrators of other apps, ``(app_label, version)``, that must
        run before this one.
    :param adapter: Whether this is an adapter (:meth:`Registry.adapter
        <migrations_registry.registry.Registry.adapter>`): run for what a dump
        and the current schema differ in, whatever the versions. Its
        *app_label* is then the adapter's name and its *version* is ``0``.

    .. versionadded:: 0.1
    """

    app_label: str
    version: Version
    # Typed by arity only: MigratorFunc names Migration, whose module needs this
    # one, and the package has no import cycle (#11). Registry.register takes a
    # MigratorFunc, so every Step's func is one.
    func: Callable[..., object]
    doc: str | None = None
    depends_on: tuple[tuple[str, Version], ...] = ()
    adapter: bool = False

    @property
    def name(self) -> str:
        """Return the migrator function's name."""
        return str(getattr(self.func, "__name__", None) or repr(self.func))

    @property
    def key(self) -> tuple[str, Version]:
        """Return ``(app_label, version)``, which identifies the migrator."""
        return (self.app_label, self.version)

    def __str__(self) -> str:
        if self.adapter:
            return f"adapter {self.app_label} ({self.name})"
        return f"{self.app_label} {self.version} ({self.name})"

    def __repr__(self) -> str:
        return f"<Step {self}>"
