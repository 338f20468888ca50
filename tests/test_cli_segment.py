"""`crmtool segment` and `crmtool tiers` through the CLI on a small database file.

as_of 2021-12-31 (window 2021-01-01 … 2021-12-31). The vehicles, worked out by hand:

V1 (张三, 迈腾, group A, sold 2020-01-01 = 730 days → 2.0 years → new):
  paid 800 on 11-01 (30000 km, advisor 王), warranty visit on 12-01 (31000 km, advisor 李)
  ticket 800 → A, 1 paid visit → C, cycle = days since 11-01 = 60 → A  ⇒ tier C
  readings 30 days apart: 1000 / 30 km/day; est = 31000 + 30 × 1000/30 = 32000 → 30k-60k
  own visits 2 → '2-3'; last own visit 12-01 by 李; 30 days since → general
V2 (李四, 朗逸, sold 2018-12-01 = 1126 days → 3.08 years → mid; ours through its visits):
  paid 1000 on 03-01, 06-01, 09-01, 12-01: ticket 1000 → A, 4 visits → A,
  cycle (92 + 92 + 91) / 3 = 91.67 → B ⇒ tier B; no reading: 35 × 1126 = 39410 → 30k-60k;
  4 own visits → '4+' and loyal; 30 days since the last
V3 scrapped (sold 2021-06-01, no visit: tier D): left out of the segment list and not counted
  by `tiers` either (one definition of the vehicles counted, docs/rules.md §18);
V4 sold by another dealer, never here (not ours).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import db

runner = CliRunner()

HEADER = (
    "vin,plate,customer_id,name,phone,series,model,tier,ticket,visits_12m,cycle_days,"
    "age_stage,est_mileage,mileage_band,frequency_band,usage,area_type,birth_decade,"
    "occupation,last_visit,last_advisor,status,days_since"
)
ROW_V2 = (
    "V2,浙A22222,C2,李四,13900000002,朗逸,1.6L,B,1000.0,4,91.67,mid,39410,30k-60k,4+,"
    "private,,,,2021-12-01,,loyal,30"
)
ROW_V1 = (
    "V1,浙A11111,C1,张三,13800000001,迈腾,330TSI,C,800.0,1,60.0,new,32000,30k-60k,2-3,"
    "private,county,80后,教师,2021-12-01,李,general,30"
)


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone, birth_year, area_type,"
        " occupation) VALUES ('C1', '张三', '13800000001', 1986, 'county', '教师'),"
        " ('C2', '李四', '13900000002', NULL, NULL, NULL)"
    )
    con.execute(
        "INSERT INTO vehicles (vin, plate, customer_id, series, model, sale_date,"
        " sale_channel, usage, vehicle_status) VALUES"
        " ('V1', '浙A11111', 'C1', '迈腾', '330TSI', DATE '2020-01-01', 'own', 'private',"
        "  NULL),"
        " ('V2', '浙A22222', 'C2', '朗逸', '1.6L', DATE '2018-12-01', 'own', 'private',"
        "  NULL),"
        " ('V3', '浙A33333', 'C2', '朗逸', '1.6L', DATE '2021-06-01', 'own', 'private',"
        "  'scrapped'),"
        " ('V4', NULL, NULL, '朗逸', NULL, DATE '2021-06-01', 'other', NULL, NULL)"
    )
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, mileage_km,"
        " ro_type, payer, total_amount, advisor) VALUES"
        " ('R1', 'D001', 'V1', DATE '2021-11-01', 30000, 'maintenance', 'customer', 800,"
        "  '王'),"
        " ('R2', 'D001', 'V1', DATE '2021-12-01', 31000, 'warranty', 'warranty', 500,"
        "  '李'),"
        " ('R3', 'D001', 'V2', DATE '2021-03-01', NULL, 'repair', 'customer', 1000, NULL),"
        " ('R4', 'D001', 'V2', DATE '2021-06-01', NULL, 'repair', 'customer', 1000, NULL),"
        " ('R5', 'D001', 'V2', DATE '2021-09-01', NULL, 'repair', 'customer', 1000, NULL),"
        " ('R6', 'D001', 'V2', DATE '2021-12-01', NULL, 'repair', 'customer', 1000, NULL)"
    )
    con.close()
    return path


def run(path: Path, *args: str):
    from crmtool.cli import app

    return runner.invoke(app, ["--db", str(path), "--as-of", "2021-12-31", *args])


def test_segment_csv(dbfile):
    r = run(dbfile, "segment", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [HEADER, ROW_V2, ROW_V1]
    assert r.stderr.strip() == "1 vehicle(s) left out of the list: 1 scrapped"


@pytest.mark.parametrize(
    ("args", "rows"),
    [
        (["--tier", "A,B"], [ROW_V2]),
        (["--stage", "new"], [ROW_V1]),
        (["--frequency", "4+"], [ROW_V2]),
        (["--mileage-band", "30k-60k"], [ROW_V2, ROW_V1]),
        (["--series", "迈腾"], [ROW_V1]),
        (["--status", "loyal"], [ROW_V2]),
        (["--area", "county", "--usage", "private"], [ROW_V1]),
        (["--where", "ticket < 900"], [ROW_V1]),
        (["--tier", "D"], []),
    ],
)
def test_segment_filters(dbfile, args, rows):
    r = run(dbfile, "segment", "--format", "csv", *args)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [HEADER, *rows]


def test_segment_columns_and_per_customer(dbfile):
    r = run(
        dbfile,
        "segment",
        "--format",
        "csv",
        "--per-customer",
        "--columns",
        "customer_id,vin,tier,vehicles",
        "--sort",
        "-customer_id",
    )
    assert r.exit_code == 0, r.output
    # V3 is scrapped, so each customer has one vehicle on the list
    assert r.stdout.splitlines() == ["customer_id,vin,tier,vehicles", "C2,V2,B,1", "C1,V1,C,1"]


def test_segment_by(dbfile):
    r = run(dbfile, "segment", "--by", "tier,stage", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["tier,age_stage,vehicles,share", "B,mid,1,0.5", "C,new,1,0.5"]
    # --where filters the vehicles before counting
    r = run(dbfile, "segment", "--by", "mileage", "--where", "tier = 'C'", "--format", "csv")
    assert r.stdout.splitlines() == ["mileage_band,vehicles,share", "30k-60k,1,1.0"]


@pytest.mark.parametrize(
    "args",
    [
        ["--where", "tier = = 'A'"],
        ["--where", "nosuch > 1"],
        ["--tier", "X"],
        ["--by", "nosuch"],
    ],
)
def test_segment_bad_usage(dbfile, args):
    r = run(dbfile, "segment", "--format", "csv", *args)
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crmtool: error: ")


def test_tiers_distribution(dbfile):
    r = run(dbfile, "tiers", "--format", "csv")
    assert r.exit_code == 0, r.output
    # 朗逸 and 迈腾 are unlisted: default group A (700 / 550 / 400); 朗逸: V2 (B); V3 is
    # scrapped and not counted (it was D here before the vehicles counted were one definition)
    assert r.stdout.splitlines() == [
        "series,tier_group,ticket_a,ticket_b,ticket_c,A,B,C,D,vehicles,share_a,share_b,"
        "share_c,share_d",
        "(all),,,,,0,1,1,0,2,0.0,0.5,0.5,0.0",
        "朗逸,A,700.0,550.0,400.0,0,1,0,0,1,0.0,1.0,0.0,0.0",
        "迈腾,A,700.0,550.0,400.0,0,0,1,0,1,0.0,0.0,1.0,0.0",
    ]


def test_tiers_suggest(dbfile):
    # 迈腾, one vehicle: A = round(0.2) = 0 vehicles → just above the ticket (810);
    #   A+B = round(0.5) = 1 (half up), A+B+C = round(0.8) = 1 → the ticket in tens (800)
    # 朗逸, V2 (1000; V3 is scrapped, not counted): the same arithmetic as 迈腾 → 1010, 1000
    # tiers stay B, C (visits and cycle grades hold them down)
    r = run(dbfile, "tiers", "--suggest")
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        '[tiers.series_ticket]\n"朗逸" = [1010, 1000, 1000]\n"迈腾" = [810, 800, 800]\n'
    )
    assert (
        r.stderr.splitlines()[-1]
        == "with these cut points: A 0 (0.0%) · B 1 (50.0%) · C 1 (50.0%) · D 0 (0.0%)"
    )
    bad = run(dbfile, "tiers", "--suggest", "--mix", "20,30,30")
    assert bad.exit_code == 2 and bad.stderr.startswith("crmtool: error: --mix")
