"""`find` computes only what the card shows (issue 18): its cards, in every format `find`
writes, are identical to those of the code before the change (tests/find_reference.py: every
rule over the fleet, reminders filtered from the full call lists) on the bundled sample."""

from __future__ import annotations

import json
from datetime import date

import pytest
from find_reference import reference_find
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app
from crmtool.config import load_config
from crmtool.find import find
from crmtool.load import ingest
from crmtool.sample import generate

AS_OF = date(2021, 12, 31)
runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cards")
    generate(root / "data", "small", 7, "utf-8")
    cfg = load_config(root / "data" / "crmtool.toml")
    con = db.connect(root / "s.duckdb")
    ingest.load(con, [root / "data"], cfg)
    con.close()
    return root, cfg


def queries(path) -> dict[str, str]:
    """One query of each kind the desk types, for customers whose cards show something."""
    con = db.connect(path, read_only=True)
    try:
        plate, phone, vin, name, cid = con.execute("""
            SELECT v.plate, c.phone, v.vin, c.name, c.customer_id FROM vehicles v
            JOIN customers c USING (customer_id)
            WHERE v.plate IS NOT NULL AND c.phone IS NOT NULL
              AND v.vin IN (SELECT vin FROM repair_orders)
            ORDER BY v.vin LIMIT 1 OFFSET 17""").fetchone()
        # a lost car (win-back reminder), a customer with several vehicles
        lost = con.execute("""SELECT v.plate FROM vehicles v JOIN repair_orders r USING (vin)
            WHERE v.plate IS NOT NULL GROUP BY v.plate HAVING max(r.settle_date) < '2020-06-01'
            ORDER BY v.plate LIMIT 1""").fetchone()[0]
        fleet_owner = con.execute("""SELECT customer_id FROM vehicles
            WHERE customer_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1
            ORDER BY 1 LIMIT 1""").fetchone()[0]
    finally:
        con.close()
    return {
        "plate": plate,
        "plate_tail": plate[-5:],
        "phone": phone,
        "phone_written": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}",
        "vin": vin,
        "vin_tail": vin[-6:],
        "name": name,
        "name_prefix": name[:2],
        "customer_id": cid,
        "lost": lost,
        "fleet_owner": fleet_owner,
    }


def test_cards_equal_the_reference(store):
    root, cfg = store
    con = db.connect(root / "s.duckdb", read_only=True)
    shown = {"vehicles": 0, "visits": 0, "reminders": 0, "cards": 0}
    try:
        for kind, q in queries(root / "s.duckdb").items():
            new = find(con, cfg, q, AS_OF)
            assert new == reference_find(con, cfg, q, AS_OF), kind
            assert find(con, cfg, q, AS_OF, 3) == reference_find(con, cfg, q, AS_OF, 3), kind
            shown["cards"] += len(new)
            for card in new:
                shown["vehicles"] += len(card["vehicles"])
                shown["visits"] += len(card["visits"])
                shown["reminders"] += len(card["reminders"])
        kinds = {r["kind"] for c in find(con, cfg, "", AS_OF) for r in c["reminders"]}
        assert kinds == set()  # an empty query finds no one
        assert find(con, cfg, "无此人", AS_OF) == reference_find(con, cfg, "无此人", AS_OF) == []
    finally:
        con.close()
    # every query found a card, and the cards compared are not empty
    assert shown["cards"] >= 11 and min(shown.values()) > 0, shown


def test_every_reminder_kind_compared(store):
    """The comparison covers maintenance, warranty and win-back reminders."""
    root, cfg = store
    con = db.connect(root / "s.duckdb", read_only=True)
    try:
        kinds: set[str] = set()
        for q in queries(root / "s.duckdb").values():
            kinds |= {r["kind"] for c in find(con, cfg, q, AS_OF) for r in c["reminders"]}
        if "warranty" not in kinds:  # a car whose warranty ends soon, looked up by VIN
            vin = con.execute(
                "SELECT vin FROM vehicles WHERE sale_date BETWEEN DATE '2019-01-15' "
                "AND DATE '2019-02-15' ORDER BY vin LIMIT 1"
            ).fetchone()[0]
            cards = find(con, cfg, vin, AS_OF)
            assert cards == reference_find(con, cfg, vin, AS_OF)
            kinds |= {r["kind"] for c in cards for r in c["reminders"]}
    finally:
        con.close()
    assert {"maintenance", "winback"} <= kinds


FORMATS = (
    ["--format", "json"],
    [],  # the cards as tables
    ["--format", "json", "--mask-pii", "--visits", "2"],
    ["--mask-pii", "--lang", "en", "--visits", "3"],
)


@pytest.mark.parametrize("kind", ["plate", "phone", "vin_tail", "name", "fleet_owner"])
def test_cli_output_equals_the_reference(store, monkeypatch, kind):
    """`crmtool find` prints the same bytes in every format with the new lookup as with the
    reference computation in its place."""
    root, _ = store
    q = queries(root / "s.duckdb")[kind]
    base = [
        "--db",
        str(root / "s.duckdb"),
        "--config",
        str(root / "data" / "crmtool.toml"),
        "--as-of",
        AS_OF.isoformat(),
        "find",
        q,
    ]
    new = [runner.invoke(app, base + f) for f in FORMATS]
    monkeypatch.setattr("crmtool.find.find", reference_find)
    ref = [runner.invoke(app, base + f) for f in FORMATS]
    for f, n, r in zip(FORMATS, new, ref, strict=True):
        assert n.exit_code == r.exit_code == 0, (f, n.output)
        assert n.stdout == r.stdout, f
    assert json.loads(new[0].stdout)  # non-empty cards
