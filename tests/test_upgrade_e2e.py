"""A dump of release 1 of the demo shop restores into release 3 (real processes)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

SHOP1 = ("shop_client", "shop_product", "shop_order", "shop_orderline")
SHOP3 = (
    "shop_customer",
    "shop_contact",
    "shop_product",
    "shop_order",
    "shop_orderline",
)
STATES = {"open": "pending", "paid": "settled"}
DEMO_DATA = ("generate_demo_data", "--rows", "150")


def expected_release_3(old: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Compute, by hand and without the migrators, what release 3 must hold."""
    customers = []
    for client in old["shop_client"]:
        first, _, last = client["name"].partition(" ")
        customers.append(
            {
                "id": client["id"],
                "first_name": first,
                "last_name": last,
                "city": client["city"],
            }
        )
    contacts = sorted(
        (c["id"], "email", c["email"]) for c in old["shop_client"] if c["email"]
    )
    products = [
        {"id": p["id"], "name": p["name"], "price": p["price"]}
        for p in old["shop_product"]
    ]
    orders = [
        {
            "id": o["id"],
            "customer_id": o["client_id"],
            "date": o["date"],
            "status": STATES[o["status"]],
        }
        for o in old["shop_order"]
    ]
    return {
        "shop_customer": customers,
        "shop_contact": contacts,
        "shop_product": products,
        "shop_order": orders,
        "shop_orderline": old["shop_orderline"],
    }


def actual_release_3(new: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Return the release-3 rows in the shape of :func:`expected_release_3`."""
    return {
        "shop_customer": new["shop_customer"],
        "shop_contact": sorted(
            (int(c["customer_id"]), c["kind"], c["value"]) for c in new["shop_contact"]
        ),
        "shop_product": new["shop_product"],
        "shop_order": new["shop_order"],
        "shop_orderline": new["shop_orderline"],
    }


def _release_1_dump(make_site: Any, tmp_path: Path) -> tuple[Any, Path]:
    """Return a release-1 site with demo data, and its dump in *tmp_path*/r1.

    The dump is written once per session and copied: the same data gives the
    same files.
    """
    source = make_site("r1", "1", prepare=[DEMO_DATA])

    def write(path: Path) -> None:
        source.manage("dump2py", str(path), "--noinput")

    shutil.copytree(make_site.once("release-1-dump", write), tmp_path / "r1")
    return source, tmp_path / "r1"


def test_release_1_dump_restores_into_release_3(make_site: Any, tmp_path: Path) -> None:
    """Two migrators in order turn release-1 rows into what a hand computation expects."""
    source, dump = _release_1_dump(make_site, tmp_path)
    old = source.tables(*SHOP1)
    for row in old["shop_client"]:
        row["id"] = int(row["id"])
    target = make_site("r3", "3")
    plan = target.manage("dumpplan", str(dump))
    assert "\n  shop            1.0 -> 3.0  migrators: 2.0, 3.0\n" in plan.stdout
    assert "The restore would work." in plan.stdout
    report = target.manage("run", str(dump / "restore.py"), "--noinput").stdout
    new = target.tables(*SHOP3)
    for row in new["shop_customer"]:
        row["id"] = int(row["id"])
    expected = expected_release_3(old)
    actual = actual_release_3(new)
    for table in SHOP3:
        assert expected[table] == actual[table], table
    counts = _report(report)
    contacts = len(expected["shop_contact"])
    assert (0, contacts, 0, contacts) == counts["shop.contact"]
    clients = len(old["shop_client"])
    assert (clients, clients, 0, 0) == counts["shop.customer"]
    # The content type of Client followed the rename; the new model got one.
    [rows] = target.sql(
        "SELECT model FROM django_content_type WHERE app_label = 'shop'"
    )
    keys = sorted(model for (model,) in rows)
    assert ["contact", "customer", "order", "orderline", "product"] == keys


def test_downgrade_fails_cleanly(make_site: Any, tmp_path: Path) -> None:
    """A release-3 dump restored with release-1 code fails; the database is unchanged."""
    source, dump = _release_1_dump(make_site, tmp_path)
    upgraded = make_site("r3", "3")
    upgraded.manage("run", str(dump / "restore.py"), "--noinput")
    upgraded.manage("dump2py", str(tmp_path / "r3"), "--noinput")
    before = source.tables(*SHOP1)
    result = source.manage(
        "run", str(tmp_path / "r3" / "restore.py"), "--noinput", check=False
    )
    assert result.returncode == 1
    assert "The dump was made with shop 3.0 but the code has shop 1.0" in result.stderr
    assert "nothing was written" in result.stderr
    assert before == source.tables(*SHOP1)
    plan = source.manage("dumpplan", str(tmp_path / "r3"), check=False)
    assert plan.returncode == 1
    assert "The restore would fail" in plan.stdout


def _report(text: str) -> dict[str, tuple[int, ...]]:
    """Return the restore report: per model, (in dump, written, dropped, created)."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[1].isdigit():
            found[parts[0]] = tuple(int(p) for p in parts[1:])
    return found


def _without_migrator(tmp_path: Path, version: str) -> tuple[str, Path]:
    """Return a copy of release 3 whose migrators.py lacks the one of *version*."""
    root = tmp_path / "variant"
    package = root / "shop3_variant"
    shutil.copytree(Path(__file__).resolve().parents[1] / "demo" / "shop3", package)
    apps_py = package / "apps.py"
    apps_py.write_text(apps_py.read_text().replace('"demo.shop3"', '"shop3_variant"'))
    migrators = package / "migrators.py"
    text = migrators.read_text()
    start = text.index(f'@migrator("shop", "{version}")')
    end = text.index("\n\n\n", start)
    migrators.write_text(text[:start] + text[end + 3 :])
    return "shop3_variant", root


def test_missing_migrator_fails_before_writing(make_site: Any, tmp_path: Path) -> None:
    """Without the 2.0 migrator, dumpplan and the restore name what is unexplained."""
    _source, dump = _release_1_dump(make_site, tmp_path)
    target = make_site("r3", "3")
    target.manage("run", str(dump / "restore.py"), "--noinput")
    before = target.tables(*SHOP3)
    variant = target.at("3", _without_migrator(tmp_path, "2.0"))
    plan = variant.manage("dumpplan", str(dump), check=False)
    assert plan.returncode == 1
    assert "shop 3.0 (to_3_0)" in plan.stdout
    assert "shop 2.0" not in plan.stdout
    assert (
        "model 'shop.client' is in the dump but not in the current code" in plan.stdout
    )
    assert "field 'legacy_code' of 'shop.product' is in the dump" in plan.stdout
    result = variant.manage("run", str(dump / "restore.py"), "--noinput", check=False)
    assert result.returncode == 1
    assert (
        "model 'shop.client' is in the dump but not in the current code"
        in result.stderr
    )
    assert "nothing was written" in result.stderr
    assert before == target.tables(*SHOP3)


def test_rehearsal_reports_what_the_restore_does(
    make_site: Any, tmp_path: Path
) -> None:
    """--simulate reports the counts of the real restore and changes nothing."""
    _source, dump = _release_1_dump(make_site, tmp_path)
    target = make_site("r3", "3")
    before = target.tables(*SHOP3)
    rehearsal = target.manage(
        "run", str(dump / "restore.py"), "--simulate", "--sample", "2"
    )
    assert "Rehearsed (rolled back)" in rehearsal.stdout
    assert "Migrators: shop 2.0 (to_2_0); shop 3.0 (to_3_0)" in rehearsal.stdout
    assert "before shop.client: {" in rehearsal.stdout
    assert " after shop.customer: {" in rehearsal.stdout
    assert before == target.tables(*SHOP3)
    real = target.manage("run", str(dump / "restore.py"), "--noinput")
    assert _report(rehearsal.stdout) == _report(real.stdout)
    assert _report(real.stdout)["shop.contact"][1] > 0
