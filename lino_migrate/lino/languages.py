"""The adapter that follows a change of Lino's ``Site.languages`` (#13).

A Lino ``BabelCharField`` or ``BabelTextField`` named ``name`` is one column
per language of the site: ``name`` for the first, ``name_de``, ``name_fr``,
... for the others. Adding a language to ``Site.languages`` adds a column to
every such field, dropping one drops them: a configuration change, not a
release, so no app version tells a migrator to run. This adapter runs
whenever a dump and the current models differ in these columns: a dumped
column of a language the site no longer has is removed (and the plan lists
it), a column of a new language gets the field's default, an empty text,
which is what Lino's own restore leaves in it.

:func:`lino_migrate.lino.enable` installs it; a site that enables lino-migrate
by hand adds ``"lino_migrate.lino.languages"`` to ``LINO_MIGRATE["MIGRATORS"]``.
Limit: a change of the first language (whose text is in ``name`` itself) is
not seen, because the columns keep their names; write a migrator with
``@m.rows`` for it (docs/lino.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from migrations_registry import Migration, adapter

__all__ = ["BabelColumns", "adapt_languages", "babel_columns", "follow_languages"]

#: Model label -> {babel field name -> (its language columns -> default)}.
BabelColumns = Mapping[str, Mapping[str, Mapping[str, Any]]]

#: What follows ``name_`` in a language column: a Lino language name
#: (``de``, ``pt_BR``, ``zh_Hant``).
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")


def babel_columns() -> dict[str, dict[str, dict[str, Any]]]:
    """Return the language columns of the current models' babel fields.

    A language column is a field that Lino marks with ``_lino_babel_field``
    (the name of the field it translates); its default is what a new
    language's column is filled with.
    """
    from django.apps import apps

    from lino_migrate.schema import model_label

    found: dict[str, dict[str, dict[str, Any]]] = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            master = getattr(field, "_lino_babel_field", None)
            if isinstance(master, str):
                columns = found.setdefault(model_label(model), {})
                columns.setdefault(master, {})[field.name] = field.get_default()
    return found


def follow_languages(
    m: Migration,
    dumped: Mapping[str, Mapping[str, str]],
    current: Mapping[str, Mapping[str, str]],
    babel: BabelColumns,
) -> None:
    """Record on *m* the removals and additions of language columns.

    :param dumped: the schema the migrators leave of the dump.
    :param current: the current schema.
    :param babel: per model, its babel fields and their language columns.
    """
    for label, fields in sorted(babel.items()):
        names = dumped.get(label)
        if names is None or label not in current:
            continue
        for master, columns in sorted(fields.items()):
            prefix = master + "_"
            for name in sorted(names):
                gone = name.startswith(prefix) and name not in current[label]
                if gone and _LANGUAGE.fullmatch(name[len(prefix) :]):
                    m.remove_field(label, name)
            for name, default in sorted(columns.items()):
                if name not in names and master in names:
                    m.add_field(label, name, default=default)


@adapter("lino.languages")
def adapt_languages(
    m: Migration,
    dumped: Mapping[str, Mapping[str, str]],
    current: Mapping[str, Mapping[str, str]],
) -> None:
    """Drop the columns of removed languages, fill those of added ones."""
    follow_languages(m, dumped, current, babel_columns())
