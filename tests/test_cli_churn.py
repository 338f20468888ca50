"""`crmtool churn / campaign / due / leads` through the CLI on a small database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.config import Config

runner = CliRunner()


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES"
        " ('C1', '张三', '13800138000'), ('C2', '李四', '13900139000')"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) VALUES"
        " ('V1', 'C1', '迈腾', DATE '2021-01-01', 'own'),"
        " ('V2', 'C2', '朗逸', DATE '2021-10-01', 'own'),"
        " ('V4', 'C1', '迈腾', DATE '2020-05-01', 'other')"
    )
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount, advisor) VALUES"
        " ('R1', 'D001', 'V1', DATE '2021-06-01', 'maintenance', 'customer', 500, '王五'),"
        " ('R2', 'D001', 'V3', DATE '2022-06-01', 'repair', 'customer', 80, NULL),"
        " ('R9', 'D001', 'V4', DATE '2022-06-20', 'body_paint', 'insurance', 12000,"
        "  '王五')"
    )
    con.close()
    return path


def run(path: Path, *args: str):
    return runner.invoke(app_(), ["--db", str(path), "--as-of", "2022-06-30", *args])


def app_():
    from crmtool.cli import app

    return app


def test_churn_csv(dbfile):
    # V1: last own visit 2021-06-01 → 394 days → lost, nothing since → out_of_channel, paid 500
    # V2: sold 2021-10-01, never back → 272 days → at_risk, never_returned; V3, V4: general
    r = run(dbfile, "churn", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "vin,customer_id,name,phone,series,status,days_since,last_own_visit,own_visits_12m,"
        "risk_ratio,warn,reason,other_dealer,other_dealer_name,last_other_visit,lifetime_paid,"
        "last_advisor",
        "V1,C1,张三,13800138000,迈腾,lost,394,2021-06-01,0,,false,out_of_channel,,,,500.0,王五",
        "V2,C2,李四,13900139000,朗逸,at_risk,272,,0,,false,never_returned,,,,0.0,",
    ]


def test_churn_filters_and_per_customer(dbfile):
    r = run(
        dbfile,
        "churn",
        "--reason",
        "never_returned",
        "--format",
        "csv",  # lost,at_risk
        "--columns",
        "vin,reason",
    )
    assert r.stdout.splitlines() == ["vin,reason", "V2,never_returned"]
    # C1 owns V1 (lost) and V4 (general): one row, the most urgent vehicle, 2 vehicles listed
    r = run(
        dbfile,
        "churn",
        "--status",
        "lost,general",
        "--per-customer",
        "--format",
        "csv",
        "--columns",
        "customer_id,vin,status,vehicles",
    )
    assert r.stdout.splitlines() == [
        "customer_id,vin,status,vehicles",
        "C1,V1,lost,2",
        ",V3,general,1",
    ]


def test_campaign_insurance_csv(dbfile):
    # 12,000 is in the 10,000 ≤ t ≤ 20,000 band: the second gift
    r = run(dbfile, "campaign", "insurance", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "vin,customer_id,name,phone,series,ro_id,settle_date,ro_type,total_amount,band,"
        "band_label,gift,advisor",
        f"V4,C1,张三,13800138000,迈腾,R9,2022-06-20,body_paint,12000.0,2,10000≤t≤20000,"
        f"{Config().insurance.gifts[1]},王五",
    ]


def test_leads_and_due_run(dbfile):
    r = run(dbfile, "leads", "--period", "2022-06", "--format", "csv")
    assert r.stdout.splitlines() == [
        "period,leads,visited,won,lost,conversion,overdue",
        "2022-06,0,0,0,0,0.0,0",
    ]
    # V1: last service 2021-06-01 → due 2021-12-01, 212 days before 2022-07-01: not listed;
    # V2: sold 2021-10-01, no service → first service 2022-04-01 (or 5000 km at 35 km/day =
    # 143 days → 2022-02-21, earlier): 130 days late on 2022-07-01 → overdue
    r = run(dbfile, "due", "--format", "csv", "--columns", "vin,due_date,due_by,days_overdue")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["vin,due_date,due_by,days_overdue", "V2,2022-02-21,km,130"]


@pytest.mark.parametrize(
    "args",
    [
        ["churn", "--leakage", "--period", "2021-13"],
        ["leads", "--period", "last year"],
        ["churn", "--status", "gone"],
        ["due", "--month", "2022Q3"],
    ],
)
def test_bad_usage_exit_2_one_line(dbfile, args):
    r = run(dbfile, *args)
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("crmtool: error: ")
