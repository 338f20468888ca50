"""`retention --by tier`: a vehicle's group on a reference day is its tier on that day (the tier
rule of crmtool/value_tiers.py at that as_of), computed in one LATERAL query for that day's
vehicles only. Before, the rule ran over the whole fleet once per reference day: 2,566 runs
and 71 s on the demo, more than 26 minutes at 1M repair orders.

Default tiers (strict: the worst grade): ticket A ≥ 700 (group A), visits A ≥ 4 / C ≥ 1,
cycle A ≤ 90 days; ours: an own event within 1,096 days."""

from __future__ import annotations

from datetime import date

from builders import insert, order, vehicle

from crmtool import db, facts, retention, value_tiers
from crmtool.config import Config


def test_the_tier_on_each_reference_day(tmp_path):
    con = db.connect(tmp_path / "s.duckdb")
    insert(con, "vehicles", vehicle("V", "迈腾"), vehicle("W", "迈腾"))
    # V: four paid visits of 800 yuan, two months apart
    days = ["2021-01-10", "2021-03-10", "2021-05-10", "2021-07-10"]
    insert(con, "repair_orders", *(order(f"V{n}", "V", d, 800) for n, d in enumerate(days)))
    # W: one visit in 2018, 1,303 days before 2021-07-31: not ours then
    insert(con, "repair_orders", order("W0", "W", "2018-01-05", 800))
    con.close()
    con = db.connect(tmp_path / "s.duckdb", read_only=True)
    cfg = Config()
    facts.install(con, cfg)
    refs = """SELECT * FROM (VALUES ('V', DATE '2021-07-31'), ('V', DATE '2021-02-28'),
                                    ('W', DATE '2021-07-31'), ('V', NULL)) t(vin, ref)"""
    groups = retention._groups(con, cfg, "tier", refs)
    got = {(v, r): g for v, r, g in con.execute(f"SELECT vin, ref, g FROM ({groups})").fetchall()}
    assert got == {
        # 4 visits in the year (A), ticket 800 (A), mean gap (59 + 61 + 61) / 3 = 60.3 days (A)
        ("V", date(2021, 7, 31)): "A",
        # 1 visit in the year (C), ticket 800 (A), 49 days since it (A): the worst, C
        ("V", date(2021, 2, 28)): "C",
        ("W", date(2021, 7, 31)): retention.UNKNOWN,  # not ours: no tier
        ("V", None): retention.UNKNOWN,
    }
    # the same as the tier rule run for the whole fleet at each day
    for day in (date(2021, 7, 31), date(2021, 2, 28)):
        fleet = dict(value_tiers.vehicle_tiers(con, cfg, day).select("vin", "tier").rows())
        assert fleet == {v: g for (v, r), g in got.items() if r == day and g != "unknown"}
    con.close()


def test_the_groups_words_read_chinese_in_tables():
    """A table (terminal, xlsx) says 未知 / 全部 for retention's groups unknown / all; tiers
    and series stay as they are; CSV and JSON keep the codes."""
    import polars as pl

    from crmtool.output.labels import translate_values

    frame = pl.DataFrame({"group": ["unknown", "all", "A", "迈腾"], "kpi": ["first_service"] * 4})
    for sheet in ("retention", "retention_trend", "retention_cohort"):
        shown = translate_values(frame, "zh", sheet)
        assert shown["group"].to_list() == ["未知", "全部", "A", "迈腾"]
    assert translate_values(frame, "en", "retention")["group"].to_list()[:2] == ["Unknown", "All"]
