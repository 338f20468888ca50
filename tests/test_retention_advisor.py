"""`retention --by advisor`: a vehicle's advisor on a reference day is the one of its latest own
order up to that day, and of several orders on that day the highest ro_id's (as the lists'
last advisor, facts.last_advisor_sql); before, it was any of them, one run to the next."""

from __future__ import annotations

from datetime import date

from builders import insert, insert_ro

from crmtool import db, facts, retention
from crmtool.config import Config


def test_the_advisor_of_the_days_highest_order(tmp_path):
    con = db.connect(tmp_path / "s.duckdb")
    insert(con, "vehicles", {"vin": "V"}, {"vin": "W"})
    # V: twelve own orders on its last day, each with another advisor: V-11's wins
    for n in range(12):
        insert_ro(
            con,
            "V",
            date(2022, 1, 10),
            ro_id=f"V-{n:02d}",
            dealer_code="D001",
            advisor=f"顾问{n:02d}",
        )
    # W: an advisor in 2021; its later order has none; an order after the day does not count
    insert_ro(con, "W", date(2021, 3, 1), dealer_code="D001", advisor="张")
    insert_ro(con, "W", date(2022, 2, 1), dealer_code="D001", advisor=None)
    insert_ro(con, "W", date(2022, 7, 1), dealer_code="D001", advisor="李")
    con.close()
    con = db.connect(tmp_path / "s.duckdb", read_only=True)
    facts.install(con, Config())
    refs = "SELECT vin, DATE '2022-06-30' AS ref FROM (VALUES ('V'), ('W')) t(vin)"
    groups = retention._groups(con, Config(), "advisor", refs)
    got = dict(con.execute(f"SELECT vin, g FROM ({groups})").fetchall())
    assert got == {"V": "顾问11", "W": "张"}
    con.close()
