"""The models of a dump that a restore leaves out (``--exclude``).

A model left out is as if the dump never held it: its rows are not read,
and the restore neither deletes nor writes its table. This is how the rows
of an app that the site no longer installs are left behind (#14).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from lino_migrate.exceptions import ExcludeError
from lino_migrate.format.layout import ModelInfo
from lino_migrate.restore.reader import DumpMeta

__all__ = ["excluded_labels", "without_models"]


def excluded_labels(meta: DumpMeta, names: Iterable[str]) -> set[str]:
    """Return the labels of the models of *meta* that *names* leave out.

    A name is an app label (every model of the app) or ``app_label.Model``
    (the model, in any case, and the automatic many-to-many tables it owns:
    ``app_label.model_field`` with a foreign key to it).

    :raises ExcludeError: naming each value that names nothing the dump holds.
    """
    labels: set[str] = set()
    unknown = []
    for name in names:
        found = _matching(meta.schema, name)
        if found:
            labels |= found
        else:
            unknown.append(name)
    if unknown:
        dumped = sorted({label.partition(".")[0] for label in meta.schema})
        raise ExcludeError(unknown, dumped)
    return labels


def _matching(schema: dict[str, ModelInfo], name: str) -> set[str]:
    if "." not in name:
        return {label for label in schema if label.partition(".")[0] == name}
    label = name.lower()
    if label not in schema:
        return set()
    return {label} | {
        other
        for other, info in schema.items()
        if other.startswith(f"{label}_") and any(f.target == label for f in info.fields)
    }


def without_models(meta: DumpMeta, names: Iterable[str]) -> DumpMeta:
    """Return *meta* without the models that *names* leave out (see :func:`excluded_labels`).

    :raises ExcludeError: when a name names nothing the dump holds.
    """
    names = list(names)
    if not names:
        return meta
    left_out = excluded_labels(meta, names)
    return dataclasses.replace(
        meta,
        schema={k: v for k, v in meta.schema.items() if k not in left_out},
        files=tuple(e for e in meta.files if e.model not in left_out),
    )
