"""lino-migrate on a Lino site: enabling it, Lino's dumps and Lino's habits.

A Lino site builds ``INSTALLED_APPS`` from its plugins and always puts
``lino`` first, so by Django's rule (the first app that has a command wins)
Lino's own ``dump2py`` and ``run`` shadow ours. :func:`enable` is the one
documented way to put ours in front (docs/lino.md)::

    SITE = Site(globals())

    from lino_migrate.lino import enable

    enable(globals())
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

__all__ = ["APP", "LANGUAGES", "enable"]

#: The name of our Django app in ``INSTALLED_APPS``.
APP = "lino_migrate"
#: The module of the adapter that follows a change of ``Site.languages``.
LANGUAGES = "lino_migrate.lino.languages"


def enable(settings: MutableMapping[str, Any]) -> None:
    """Put lino_migrate first in the ``INSTALLED_APPS`` of *settings*.

    Call it in a Lino site's settings module after ``SITE = Site(globals())``,
    with ``globals()``. The app is added when the site does not list it as a
    plugin and moved to the front when it does, so that ``dump2py`` and
    ``run`` are ours. It adds the adapter of ``Site.languages``
    (:mod:`lino_migrate.lino.languages`) to ``LINO_MIGRATE["MIGRATORS"]``.
    It also leaves the time out of every dump
    (``LINO_MIGRATE["RECORD_CREATED"] = False`` unless the site sets it), so
    that two dumps of the same data are byte-identical, as Lino's ``ddt``
    (double-dump test) expects.

    :param settings: the settings module's ``globals()``.
    :raises ValueError: when *settings* holds no ``INSTALLED_APPS``: call it
        after ``SITE = Site(globals())``, which sets them.

    .. versionadded:: 0.1
    """
    try:
        installed = settings["INSTALLED_APPS"]
    except KeyError:
        msg = (
            "lino_migrate.lino.enable() found no INSTALLED_APPS in these settings; "
            "call it after SITE = Site(globals()), which sets them."
        )
        raise ValueError(msg) from None
    settings["INSTALLED_APPS"] = (APP, *(app for app in installed if app != APP))
    options = settings.setdefault("LINO_MIGRATE", {})
    options.setdefault("RECORD_CREATED", False)
    modules = list(options.get("MIGRATORS", ()))
    if LANGUAGES not in modules:
        options["MIGRATORS"] = [*modules, LANGUAGES]
