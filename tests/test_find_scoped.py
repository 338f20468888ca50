"""`find` computes only what the card shows (issue 18): the cards from the matched vehicles'
facts equal the cards from the fleet's, on the bundled sample, for every kind of query."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from crmtool import db
from crmtool.config import load_config
from crmtool.find import find
from crmtool.load import ingest
from crmtool.sample import generate


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("find")
    generate(root / "data", "small", 7, "utf-8")
    cfg = load_config(root / "data" / "crmtool.toml")
    con = db.connect(root / "s.duckdb")
    ingest.load(con, [root / "data"], cfg)
    con.close()
    return root / "s.duckdb", cfg


def test_scoped_cards_equal_fleet_cards(store):
    path, cfg = store
    con = db.connect(path, read_only=True)
    as_of = date(2021, 12, 31)
    plate, phone, vin, name = con.execute("""
        SELECT v.plate, c.phone, v.vin, c.name FROM vehicles v JOIN customers c USING
        (customer_id) WHERE v.plate IS NOT NULL AND c.phone IS NOT NULL
        ORDER BY v.vin LIMIT 1 OFFSET 17""").fetchone()
    lost = con.execute("""SELECT v.plate FROM vehicles v JOIN repair_orders r USING (vin)
        WHERE v.plate IS NOT NULL GROUP BY v.plate HAVING max(r.settle_date) < '2020-06-01'
        ORDER BY v.plate LIMIT 1""").fetchone()[0]  # a lost car: a win-back reminder
    queries = [plate, phone, vin[-6:], name, name[0], lost]
    shown = 0
    for q in queries:
        scoped = find(con, cfg, q, as_of)
        fleet = find(con, cfg, q, as_of, scoped=False)
        assert scoped == fleet, q
        shown += sum(len(c["vehicles"]) + len(c["reminders"]) for c in scoped)
    assert shown > len(queries)  # the cards compared are not empty
    # the connection is left as before: every vehicle visible again
    assert (
        con.execute("SELECT count(*) FROM vehicles").fetchone()[0]
        == con.execute("SELECT count(*) FROM main.vehicles").fetchone()[0]
    )
    con.close()


def test_a_customer_without_vehicles_has_a_card(store, tmp_path):
    """A customer the DMS knows with no vehicle (sold, or only a lead) gets a card with no
    vehicle, visit or reminder (the scoped facts of no vehicle at all)."""
    path, cfg = store
    copy = tmp_path / "copy.duckdb"
    shutil.copy(path, copy)
    con = db.connect(copy)
    con.execute(
        "INSERT INTO customers BY NAME SELECT 'C-NOCAR' AS customer_id, '钱无车' AS name, "
        "'13900001111' AS phone"
    )
    con.close()
    con = db.connect(copy, read_only=True)
    for query in ("钱无车", "139-0000-1111"):
        cards = find(con, cfg, query, date(2021, 12, 31))
        assert [c["customer"]["customer_id"] for c in cards] == ["C-NOCAR"], query
        assert (cards[0]["vehicles"], cards[0]["visits"], cards[0]["reminders"]) == ([], [], [])
        assert cards == find(con, cfg, query, date(2021, 12, 31), scoped=False)
    con.close()
