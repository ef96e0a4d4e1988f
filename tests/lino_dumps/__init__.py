"""Dumps in the format of Lino's ``dump2py``, written for the test site's models.

:func:`write_lino_dump` writes a ``restore.py`` of ``create_<table>()``
functions and data files of ``loader.save(...)`` calls, as Lino's
``dump2py`` lays them out (the text is ours). Nothing here needs Lino:
``importlinodump`` never runs the dump.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["CREATORS", "write_lino_dump"]

HEAD = """\
# -*- coding: UTF-8 -*-
# A dump in the format of Lino's dump2py, written for the tests of lino_migrate.
from lino import logger

SOURCE_VERSION = {version!r}

import os
from decimal import Decimal
from datetime import datetime, time, date
from django.conf import settings
from lino.utils.dpy import create_mti_child, DpyLoader
from lino.core.utils import resolve_model


def dt(*args):
    return datetime(*args)


def new_content_type_id(m):
    return settings.SITE.models.contenttypes.ContentType.objects.get_for_model(m).pk


def bv2kw(fieldname, values):
    return settings.SITE.babelkw(fieldname, {languages})

"""

#: The create functions of the test site's models: (table, model, params, body).
CREATORS = {
    "kitchen_sample": (
        "kitchen.Sample",
        "id label flag rank char text decimal price real date datetime time "
        "duration uuid binary json nboolean",
        "    if decimal is not None: decimal = Decimal(decimal)\n"
        "    if price is not None: price = Decimal(price)\n",
    ),
    "library_author": ("library.Author", "id name code mentor_id born", ""),
    "library_tag": ("library.Tag", "name description", "babel:description"),
    "library_place": ("library.Place", "id name address", ""),
    "library_branch": (
        "library.Branch",
        "place_ptr_id opens head_id",
        "mti:library.Place",
    ),
    "library_mainbranch": (
        "library.MainBranch",
        "branch_ptr_id archive_shelves",
        "mti:library.Branch",
    ),
    "library_librarian": ("library.Librarian", "id name branch_id", ""),
    "library_bookmark": (
        "library.Bookmark",
        "id label target_type_id target_id uuid_type_id uuid_id text_type_id text_id",
        "    target_type_id = new_content_type_id(target_type_id)\n"
        "    uuid_type_id = new_content_type_id(uuid_type_id)\n"
        "    text_type_id = new_content_type_id(text_type_id)\n",
    ),
}


def _variable(label: str) -> str:
    app, _, model = label.partition(".")
    return f"{app}_{model}"


def _creator(table: str) -> str:
    """Return the create function of *table* as dump2py writes one."""
    label, params, body = CREATORS[table]
    names = params.split()
    babel = body.removeprefix("babel:") if body.startswith("babel:") else None
    parent = body.removeprefix("mti:") if body.startswith("mti:") else None
    lines = [f"def create_{table}({', '.join(names)}):"]
    if babel is None and parent is None and body:
        lines.append(body.rstrip("\n"))
    lines.append("    kw = dict()")
    for name in names[1:] if parent else names:
        if name == babel:
            lines.append(
                f"    if {name} is not None: kw.update(bv2kw({name!r},{name}))"
            )
        else:
            lines.append(f"    kw.update({name}={name})")
    if parent:
        made = f"create_mti_child({_variable(parent)}, {names[0]}, {_variable(label)}, **kw)"
        lines.append(f"    return {made}")
    else:
        lines.append(f"    return {_variable(label)}(**kw)")
    return "\n".join(lines) + "\n\n"


def write_lino_dump(
    directory: Path,
    files: Mapping[str, Sequence[str]],
    *,
    version: str = "1.0",
    languages: Sequence[str] = ("en", "de"),
    extra: str = "",
) -> Path:
    """Write a Lino dump: *files* maps a data file name to its ``loader.save`` lines.

    A file ``library_author_2.py`` is a further chunk of ``library_author``.
    """
    directory.mkdir(parents=True)
    used = {label for label, _params, _body in CREATORS.values()}
    used |= {"library.Tag", "library.Author", "library.Place", "library.Branch"}
    spoken = ", ".join(f"{lang}=values[{i}]" for i, lang in enumerate(languages))
    text = HEAD.format(version=version, languages=spoken)
    text += "".join(f'{_variable(m)} = resolve_model("{m}")\n' for m in sorted(used))
    text += "\n\n" + "".join(_creator(table) for table in CREATORS) + extra
    text += "\ndef main(args):\n    loader = DpyLoader(globals(), quick=True)\n"
    text += "    args = (globals(), locals())\n"
    text += "".join(f'    execfile("{name}", *args)\n' for name in files)
    text += "    loader.finalize()\n\n\nif __name__ == '__main__':\n    main(None)\n"
    (directory / "restore.py").write_text(text, encoding="utf-8")
    for name, calls in files.items():
        body = "".join(f"{call}\n" for call in calls)
        (directory / name).write_text(
            "# -*- coding: UTF-8 -*-\n"
            f'logger.info("Loading {len(calls)} objects to table {name[:-3]}...")\n'
            f"{body}\nloader.flush_deferred_objects()\n",
            encoding="utf-8",
        )
    return directory
