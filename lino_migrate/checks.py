"""System checks: warn when another app's command shadows one of ours.

Django gives a command name to the first app in ``INSTALLED_APPS`` that has
it. Lino puts ``lino`` first, and Lino has its own ``dump2py`` and ``run``:
on a Lino site, ``manage.py dump2py`` then silently makes a Lino dump (#13).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core import checks
from django.core.management import find_commands, get_commands

__all__ = ["check_commands", "shadowed_commands"]

_APP = "lino_migrate"
_COMMANDS = Path(__file__).resolve().parent / "management"


def shadowed_commands() -> dict[str, str]:
    """Return our command names that another app's command shadows -> that app."""
    owners = get_commands()
    return {
        name: owners[name]
        for name in sorted(find_commands(str(_COMMANDS)))
        if owners.get(name, _APP) != _APP
    }


def check_commands(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[Any]:
    """Return a warning for each of our commands that another app's shadows."""
    return [
        checks.Warning(
            f"`manage.py {name}` runs the command of '{owner}', not lino_migrate's.",
            hint=(
                f"Put 'lino_migrate' before '{owner}' in INSTALLED_APPS. On a Lino "
                "site, call lino_migrate.lino.enable(globals()) after "
                "SITE = Site(globals()) in the settings (docs/lino.md)."
            ),
            id="lino_migrate.W001",
        )
        for name, owner in shadowed_commands().items()
    ]
