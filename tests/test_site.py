"""The guard of the round-trip tests: their comparison sees every model.

The round trips (``test_roundtrip``, ``test_restore_errors``,
``test_cross_engine``) compare :func:`~tests.snapshot.snapshot` of every table
with :func:`~tests.snapshot.assert_same`. A model that ``populate()`` leaves
empty, or a changed value that the comparison misses, would let them pass
without testing anything; this test fails instead.
"""

from __future__ import annotations

import copy
import re

import pytest
from django.apps import apps

from tests.site.data import populate
from tests.snapshot import assert_same, snapshot

CONTRIB_TABLES = [
    "admin.logentry",
    "auth.group",
    "auth.group_permissions",
    "auth.user",
    "auth.user_groups",
    "auth.user_user_permissions",
    "sessions.session",
    "sites.site",
]


def _site_labels() -> set[str]:
    """Return the labels of the concrete models of the test apps."""
    return {
        model._meta.label_lower
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in {"kitchen", "library"}
        and model._meta.managed
        and not model._meta.proxy
    }


@pytest.mark.django_db(databases=["default"])
@pytest.mark.parametrize("portable", [False, True])
@pytest.mark.parametrize("raw", [True, False])
def test_round_trips_compare_every_model(portable: bool, raw: bool) -> None:
    """Every model has rows, and one value changed in any model fails the comparison."""
    populate(portable=portable)
    snap = snapshot(raw=raw)
    labels = sorted({*_site_labels(), *CONTRIB_TABLES})
    assert {"library.book_genres", "library.tagging"} <= set(labels)
    assert [] == [label for label in labels if not snap[label]]
    for label in labels:
        changed = copy.deepcopy(snap)
        first = changed[label][0]
        changed[label][0] = (*first[:-1], ("changed", first[-1]))
        with pytest.raises(AssertionError, match=rf"^{re.escape(label)}: "):
            assert_same(snap, changed)
