"""Segments (docs/rules.md §4, §17 "Tiers and segments") and the segment list; expected values worked out in comments.

as_of = 2021-12-31; window 2021-01-01 … 2021-12-31.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from builders import insert_ro

from crmtool import call_lists, facts
from crmtool.config import Config, config_from_dict
from crmtool.segment import (
    age_stage_sql,
    birth_decade_sql,
    daily_rates,
    frequency_band_sql,
    mileage_band_sql,
    segment_list,
)

AS_OF = date(2021, 12, 31)
D = date.fromisoformat


def car(con, vin, sale_date=None, channel="own", customer_id=None, status=None, series="朗逸"):
    con.execute(
        "INSERT INTO vehicles (vin, plate, customer_id, series, model, sale_date,"
        " sale_channel, usage, vehicle_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [vin, f"浙A{vin}", customer_id, series, "1.5L", sale_date, channel, "private", status],
    )


def ro(
    con,
    vin,
    day,
    km=None,
    total=100.0,
    payer="customer",
    ro_type="maintenance",
    dealer="D001",
    advisor=None,
):
    insert_ro(
        con,
        vin,
        day,
        dealer_code=dealer,
        mileage_km=km,
        ro_type=ro_type,
        payer=payer,
        total_amount=total,
        advisor=advisor,
    )


def rates(con, cfg=None) -> dict[str, dict]:
    cfg = cfg or Config()
    facts.install(con, cfg)
    return {r["vin"]: r for r in daily_rates(con, cfg, AS_OF).to_dicts()}


def expr(con, sql: str, values: list, cast: str = "DATE") -> list:
    """Evaluate a segment expression over the column x (of type `cast`) for each value."""
    out = []
    for v in values:
        params = {"v": v, "as_of": AS_OF} if "$as_of" in sql else {"v": v}
        out.append(
            con.execute(f"SELECT {sql} FROM (SELECT CAST($v AS {cast}) AS x)", params).fetchone()[0]
        )
    return out


def test_rollback_reading_dropped(con):
    car(con, "RB", D("2021-01-01"))
    ro(con, "RB", D("2021-02-01"), 5000)
    ro(con, "RB", D("2021-04-02"), 4000)  # below 5000: dropped
    ro(con, "RB", D("2021-05-02"), 11000)
    r = rates(con)["RB"]
    # first 5000 (02-01), last 11000 (05-02): 90 days → 6000 / 90 = 66.67 km/day;
    # est = 11000 + 6000/90 × 243 (05-02 → 12-31) = 11000 + 16200 = 27200
    assert (r["last_reading"], r["last_reading_date"], r["mileage_rollbacks"]) == (
        11000.0,
        D("2021-05-02"),
        1,
    )
    assert r["daily_km"] == pytest.approx(6000 / 90)
    assert r["est_mileage"] == 27200


def test_jump_over_max_daily_km_dropped(con):
    car(con, "JMP", D("2021-01-01"))
    ro(con, "JMP", D("2021-03-01"), 10000)
    ro(con, "JMP", D("2021-03-11"), 20000)  # +10000 in 10 days = 1000/day > 500: dropped
    ro(con, "JMP", D("2021-04-10"), 12000)  # vs kept 10000: 2000 / 40 days = 50/day: kept
    ro(con, "JMP", D("2021-05-10"), 11000)  # below kept 12000: dropped
    r = rates(con)["JMP"]
    # 2 dropped; rate (12000 − 10000) / 40 = 50; est = 12000 + 50 × 265 (04-10 → 12-31) = 25250
    assert (r["last_reading"], r["daily_km"], r["est_mileage"], r["mileage_rollbacks"]) == (
        12000.0,
        50.0,
        25250,
        2,
    )


def test_one_reading_no_reading_cap_and_30_day_rule(con):
    car(con, "ONE", D("2021-01-01"))
    ro(con, "ONE", D("2021-03-02"), 6000, dealer="D002")  # any dealer's reading counts
    car(con, "NONE", D("2021-01-01"))
    ro(con, "NONE", D("2021-03-02"), 0)  # 0 is no reading
    ro(con, "NONE", D("2022-01-05"), 5000)  # after as_of
    car(con, "NOTHING")
    car(con, "CAP", D("2021-06-01"))
    ro(con, "CAP", D("2021-07-01"), 18000)
    car(con, "R29", D("2021-06-01"))
    ro(con, "R29", D("2021-06-10"), 1000)
    ro(con, "R29", D("2021-06-30"), 3000)
    car(con, "R30", D("2021-05-01"))
    ro(con, "R30", D("2021-06-01"), 1000)
    ro(con, "R30", D("2021-07-01"), 4000)
    car(con, "SALE30", D("2021-06-01"))
    ro(con, "SALE30", D("2021-06-21"), 2000)
    ro(con, "SALE30", D("2021-07-01"), 3000)
    r = rates(con)
    got = {v: (r[v]["daily_km"], r[v]["est_mileage"]) for v in r}
    assert got == {
        # one reading 60 days after sale: 6000 / 60 = 100; 6000 + 100 × 304 (03-02 → 12-31)
        "ONE": (100.0, 36400),
        # no reading: 35 × 364 days since sale
        "NONE": (35.0, 12740),
        # no reading, no sale date: default rate, no estimate
        "NOTHING": (35.0, None),
        # 18000 in 30 days = 600/day, capped at 500; 18000 + 500 × 183 (07-01 → 12-31)
        "CAP": (500.0, 109500),
        # readings 20 days apart, last 29 days after sale: default 35; 3000 + 35 × 184
        "R29": (35.0, 9440),
        # readings exactly 30 days apart: 3000 / 30 = 100; 4000 + 100 × 183
        "R30": (100.0, 22300),
        # readings 10 days apart, last 30 days after sale: 3000 / 30 = 100; 3000 + 100 × 183
        "SALE30": (100.0, 21300),
    }
    assert r["NONE"]["last_reading"] is None and r["NONE"]["mileage_rollbacks"] == 0


def test_age_stage_boundaries(con):
    cfg = Config()
    sql = age_stage_sql(cfg, "x")
    # 1095 days = 2.998 years → new; 1096 = 3.0007 → mid; 2192 = 6.0014 → old; none → unknown
    days = [AS_OF - timedelta(days=n) for n in (0, 1095, 1096, 2191, 2192)]
    assert expr(con, sql, [*days, None]) == ["new", "new", "mid", "mid", "old", "unknown"]
    # exactly 4.0 years = 1461 days with age_stage_years = [4, 8]: mid (stages are [0, 4))
    sql4 = age_stage_sql(config_from_dict({"segments": {"age_stage_years": [4, 8]}}), "x")
    assert expr(con, sql4, [AS_OF - timedelta(days=1460), AS_OF - timedelta(days=1461)]) == [
        "new",
        "mid",
    ]


def test_bands_and_birth_decade(con):
    cfg = Config()
    assert expr(
        con,
        mileage_band_sql(cfg, "x"),
        [0.0, 9999.0, 10000.0, 29999.0, 30000.0, 60000.0, 99999.0, 100000.0, None],
        "DOUBLE",
    ) == [
        "<10k",
        "<10k",
        "10k-30k",
        "10k-30k",
        "30k-60k",
        "60k-100k",
        "60k-100k",
        "100k+",
        "unknown",
    ]
    assert expr(con, frequency_band_sql(cfg, "x"), [0, 1, 2, 3, 4, 9], "INTEGER") == [
        "0",
        "1",
        "2-3",
        "2-3",
        "4+",
        "4+",
    ]
    rows = con.execute(f"""
        SELECT {birth_decade_sql("b", "y")} FROM (VALUES
            (DATE '1985-06-01', NULL), (NULL, 1969), (DATE '1992-01-01', 1970),
            (DATE '2001-02-03', NULL), (NULL, 1958), (NULL, NULL)) t(b, y)""").fetchall()
    assert [r[0] for r in rows] == ["80后", "60后", "90后", "00后", "50后", None]


def test_segment_list(con):
    con.execute(
        "INSERT INTO customers (customer_id, name, phone, birth_year, area_type,"
        " occupation) VALUES ('C1', '张三', '13800000001', 1986, 'county', '教师')"
    )
    car(con, "A1", D("2020-01-01"), customer_id="C1")
    # own visits: a paid one (800, advisor 王) and a warranty-only one (a visit, not paid);
    # a later other-dealer order (advisor 赵) and an own pds order are not own visits
    ro(con, "A1", D("2021-11-01"), 30000, 800.0, advisor="王")
    ro(con, "A1", D("2021-12-01"), 31000, 500.0, payer="warranty", advisor="李")
    ro(con, "A1", D("2021-12-20"), None, 300.0, dealer="D002", advisor="赵")
    car(con, "SCRAP", D("2021-01-01"), status="scrapped")
    car(con, "MOVED", D("2021-01-01"), status="transferred")
    car(con, "THEIRS", D("2021-01-01"), channel="other")  # never ours
    cfg = Config()
    facts.install(con, cfg)
    res = segment_list(con, cfg, AS_OF)
    assert res.left_out == {"scrapped": 1, "transferred": 1}
    row = res.frame.to_dicts()
    # A1: ticket 800 (A), 1 paid visit (C), cycle 60 days (11-01 → 12-31, A) → C
    # sale 2020-01-01 → 730 days = 2.0 years → new; readings 30000 (11-01), 31000 (12-01):
    # 30 days apart → 1000/30 = 33.3 km/day; est = 31000 + 33.3 × 30 = 32000 → 30k-60k
    # own visits in window: 2 → '2-3'; last own visit 12-01 (advisor 李), days_since 30
    want = {
        "vin": "A1",
        "plate": "浙AA1",
        "customer_id": "C1",
        "name": "张三",
        "phone": "13800000001",
        "series": "朗逸",
        "model": "1.5L",
        "tier": "C",
        "ticket": 800.0,
        "visits_12m": 1,
        "cycle_days": 60.0,
        "age_stage": "new",
        "est_mileage": 32000,
        "mileage_band": "30k-60k",
        "frequency_band": "2-3",
        "usage": "private",
        "area_type": "county",
        "birth_decade": "80后",
        "occupation": "教师",
        "last_visit": D("2021-12-01"),
        "last_advisor": "李",
    }
    assert len(row) == 1
    extra = {k: row[0][k] for k in row[0] if k not in want}
    assert {k: row[0][k] for k in want} == want
    assert list(row[0])[: len(want)] == list(want)
    if extra:  # churn.vehicle_status present: 30 days since the last own visit, general
        assert extra == {"status": "general", "days_since": 30}


def test_per_customer_keeps_best_vehicle():
    frame = pl.DataFrame(
        {
            "vin": ["V1", "V2", "V3", "V4", "V5"],
            "customer_id": ["C1", "C1", "C2", None, "C2"],
            "tier": ["C", "B", "B", "D", "B"],
            "ticket": [900.0, 500.0, 400.0, None, 600.0],
            "visits_12m": [1, 2, 2, 0, 2],
        }
    )
    out = call_lists.per_customer(frame, call_lists.get("segment").best)
    # C1: B (V2) beats C (V1); C2: both B, higher ticket V5; V4 has no customer: kept
    assert out.select("vin", "vehicles").rows() == [("V2", 2), ("V4", 1), ("V5", 2)]
