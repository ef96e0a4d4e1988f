"""Models that migrate does not create on a database are left out of its dump (#13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from lino_migrate.format.layout import ModelInfo
from lino_migrate.restore.reader import read_meta
from lino_migrate.schema import dumpable_models, left_out_models, model_label


class NoLibraryOnOther:
    """A router that keeps the library app off the database 'other'."""

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label == "library" and db == "other":
            return False
        return None


ROUTER = f"{__name__}.NoLibraryOnOther"


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_router_decides_what_other_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dump of 'other' holds no library model, and says which it left out and why."""
    with override_settings(DATABASE_ROUTERS=[ROUTER]):
        library = sorted(
            model_label(m) for m in dumpable_models() if m._meta.app_label == "library"
        )
        assert library
        assert library == sorted(label for label, _ in left_out_models("other"))
        call_command("dump2py", str(tmp_path / "d"), "--noinput", "--database", "other")
        out = capsys.readouterr().out
        meta = read_meta(tmp_path / "d" / "restore.py")
        assert [] == [label for label in meta.schema if label.startswith("library.")]
        for label in library:
            assert f"Left out {label}: " in out
        assert "the database routers do not migrate it on 'other'" in out
        # The default database still gets everything.
        assert [] == left_out_models("default")
    assert isinstance(next(iter(meta.schema.values())), ModelInfo)


def test_vendor_only_model_is_left_out_elsewhere() -> None:
    """Meta.required_db_vendor of another engine: left out, the vendor named."""
    from django.db import connections

    from lino_migrate import schema

    class Meta:
        required_db_vendor = "oracle"
        required_db_features: list[str] = []
        auto_created = False

    class Fake:
        _meta = Meta

    why = schema._not_migrated_here(Fake, "default")  # type: ignore[arg-type]
    assert (
        f"Meta.required_db_vendor is 'oracle', not '{connections['default'].vendor}'"
        == why
    )
