"""Dealer groups (docs/rules.md §14): --dealer CODE, per-dealer summary figures; advisors on lists and
`--split-by advisor` to Excel."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from crmtool import db

runner = CliRunner()


@pytest.fixture
def group(tmp_path: Path) -> tuple[Path, Path]:
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text('own_dealers = ["D001", "D002"]\n', encoding="utf-8")
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES"
        " ('C1', '张三', '13800138000'), ('C2', '李四', '13900139000'),"
        " ('C3', '王五', '13700137000')"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel,"
        " vehicle_status) VALUES"
        " ('V1', 'C1', '朗逸', DATE '2019-01-01', 'own', NULL),"
        " ('V2', 'C2', '朗逸', DATE '2019-01-01', 'own', NULL),"
        " ('V3', 'C3', '朗逸', DATE '2019-01-01', 'own', 'scrapped')"
    )
    # June 2022: D001 two orders (V1 maintenance, V1 repair), D002 one (V2 maintenance),
    # D009 (not ours) one; every vehicle last seen in 2021 → lost at 2022-06-30 except V1, V2
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type,"
        " payer, total_amount, advisor) VALUES"
        " ('R1', 'D001', 'V1', DATE '2022-06-02', 'maintenance', 'customer', 500, '王伟'),"
        " ('R2', 'D001', 'V1', DATE '2022-06-20', 'repair', 'customer', 900, '李娜'),"
        " ('R3', 'D002', 'V2', DATE '2022-06-05', 'maintenance', 'customer', 400, '刘洋'),"
        " ('R4', 'D009', 'V2', DATE '2022-06-06', 'repair', 'customer', 100, NULL),"
        " ('R5', 'D001', 'V3', DATE '2020-05-01', 'maintenance', 'customer', 300, '王伟'),"
        " ('R6', 'D002', 'V2', DATE '2020-01-01', 'maintenance', 'customer', 300, '陈静'),"
        " ('R7', 'D001', 'V2', DATE '2020-03-01', 'maintenance', 'customer', 300, '陈静')"
    )
    con.close()
    return path, cfg


def run(group, *args: str):
    from crmtool.cli import app

    path, cfg = group
    return runner.invoke(
        app, ["--db", str(path), "--config", str(cfg), "--as-of", "2022-06-30", *args]
    )


def test_unknown_dealer_is_usage_error(group):
    r = run(group, "--dealer", "D009", "summary", "--period", "2022-06")
    assert r.exit_code == 2
    assert "not an own dealer" in r.stderr and "D001, D002" in r.stderr


def test_summary_by_dealer_adds_up(group):
    r = run(group, "summary", "--period", "2022-06", "--format", "json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    by = s["by_dealer"]
    assert list(by) == ["D001", "D002"]
    counts = {d: {t: v["count"] for t, v in by[d]["service_mix"].items() if v["count"]} for d in by}
    assert counts == {"D001": {"maintenance": 1, "repair": 1}, "D002": {"maintenance": 1}}
    whole = {t: v["count"] for t, v in s["service_mix"].items() if v["count"]}
    assert whole == {"maintenance": 2, "repair": 1}  # = D001 + D002; D009 is not ours
    for t in s["service_mix"]:
        assert s["service_mix"][t]["count"] == sum(by[d]["service_mix"][t]["count"] for d in by)
    # --dealer D002 gives the same figures as its by_dealer block
    r = run(group, "--dealer", "D002", "summary", "--period", "2022-06", "--format", "json")
    one = json.loads(r.stdout)
    assert "by_dealer" not in one
    assert one["service_mix"] == by["D002"]["service_mix"]
    assert one["tiers"] == by["D002"]["tiers"] and one["status"] == by["D002"]["status"]


def test_dealer_restricts_lists(group):
    # V1 is serviced only at D001 and sold more than 36 months ago: not D002's; V3 neither
    r = run(
        group,
        "--dealer",
        "D002",
        "churn",
        "--status",
        "lost,at_risk,general,loyal,new",
        "--format",
        "csv",
        "--columns",
        "vin,status,last_advisor",
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["vin,status,last_advisor", "V2,general,刘洋"]
    r = run(
        group,
        "churn",
        "--status",
        "lost,at_risk,general,loyal,new",
        "--format",
        "csv",
        "--columns",
        "vin,status,last_advisor",
    )
    assert r.stdout.splitlines() == [
        "vin,status,last_advisor",
        "V1,general,李娜",
        "V2,general,刘洋",
    ]
    assert "1 scrapped or transferred vehicle(s) left out" in r.stderr


@pytest.mark.parametrize(
    "cmd",
    [
        ["churn", "--status", "lost,at_risk,general,loyal,new"],
        ["campaign", "winback"],
        ["due", "--month", "2022-07"],
    ],
)
def test_lists_carry_last_advisor_and_leave_out_scrapped(group, cmd):
    r = run(group, *cmd, "--format", "csv")
    assert r.exit_code == 0, r.output
    header = r.stdout.splitlines()[0].split(",")
    assert "last_advisor" in header
    assert "V3" not in r.stdout


@pytest.mark.parametrize("column", ["last_advisor", "advisor"])  # advisor: the rulebook's name
def test_split_by_advisor_writes_one_sheet_each(group, tmp_path, column):
    out = tmp_path / "churn.xlsx"
    r = run(
        group,
        "churn",
        "--status",
        "lost,at_risk,general,loyal,new",
        "-o",
        str(out),
        "--split-by",
        column,
        "--lang",
        "en",
    )
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out, read_only=True)
    # V1 last own visit 2022-06-20 with 李娜, V2 2022-06-05 with 刘洋 (V3 scrapped: left out)
    assert sorted(wb.sheetnames) == sorted(["李娜", "刘洋"])
    rows = list(wb["李娜"].iter_rows(values_only=True))
    assert rows[1][0] == "V1" and len(rows) == 2


# ---------------------------------------------------------------- the report's "by dealer"

# June 2022 as of 2022-06-30, with V4 sold by the group 2021-12-01 and never back. Ours for
# the group: V1..V4; for D001: V1, V2 (D001 visit 2020-03-01), V3, V4 (a group sale is each
# store's); for D002: V2, V4. Tiers: V1 B (ticket 700, 2 visits, cycle 18 days) at the group
# and D001; V2 C (one paid visit of 400, at D002) at the group and D002, D at D001; V3, V4 D.
# Status: V1 general; V2 general (group, D002), lost at D001 (851 days); V3 lost; V4 at_risk
# (211 days since the sale). V3 is scrapped: not counted in tiers or status (docs/rules.md
# §18), so D001 has D = V2, V4 and lost = V2; the group D = V4 and lost = none.
# Orders and revenue add up; tiers D, at_risk, lost and never_returned (V4, counted by both
# stores) do not.
BY_DEALER = {  # label -> (D001, D002, group)
    "等级 A": ("0", "0", "0"),
    "等级 B": ("1", "0", "1"),
    "等级 C": ("0", "1", "1"),
    "等级 D": ("2", "1", "1"),
    "新车客户": ("0", "0", "0"),
    "忠诚客户": ("0", "0", "0"),
    "一般客户": ("1", "1", "2"),
    "准流失客户": ("1", "1", "1"),
    "流失客户": ("1", "0", "0"),
    "自店工单台次": ("2", "1", "3"),
    "售后产值（元）": ("1,400.00", "400.00", "1,800.00"),
    "销售后无回厂（超过180天）": ("1", "1", "1"),
}


def _with_v4(group) -> None:
    con = db.connect(group[0])
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) "
        "VALUES ('V4', 'C3', '朗逸', DATE '2021-12-01', 'own')"
    )
    con.close()


def test_report_by_dealer_section_and_sheet(group, tmp_path):
    import re

    _with_v4(group)
    out = tmp_path / "report"
    r = run(group, "report", "--period", "2022-06", "--out", str(out))
    assert r.exit_code == 0, r.output
    html = (out / "crmtool-report-2022-06.html").read_text("utf-8")
    assert '<a href="#by_dealer">按经销商</a>' in html
    sec = re.search(r'<section class="sec" id="by_dealer">(.*?)</section>', html, re.S).group(1)
    assert "<h2>按经销商</h2>" in sec
    table = [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr)]
        for tr in re.findall(r"<tr>(.*?)</tr>", sec, re.S)
    ]
    assert table[0] == ["指标", "D001", "D002", "集团合计"]
    assert {row[0]: tuple(row[1:]) for row in table[1:]} == BY_DEALER
    assert [row[0] for row in table[1:]] == list(BY_DEALER)
    # the same figures in the workbook's sheet, second after the summary
    wb = openpyxl.load_workbook(out / "crmtool-report-2022-06.xlsx")
    assert wb.sheetnames[:2] == ["概览", "按经销商"] and wb.active.title == "概览"
    rows = [r for r in wb["按经销商"].iter_rows(values_only=True) if any(r)]
    head = rows.index(("指标", "D001", "D002", "集团合计"))
    got = {r[0]: r[1:] for r in rows[head + 1 :]}
    assert list(got) == list(BY_DEALER)
    assert got["自店工单台次"] == (2, 1, 3) and got["售后产值（元）"] == (1400, 400, 1800)
    assert got["等级 D"] == (2, 1, 1) and got["一般客户"] == (1, 1, 2)
    for label, (d1, d2, whole) in got.items():  # what adds up, and what does not
        adds_up = label in (
            "自店工单台次",
            "售后产值（元）",
            "等级 A",
            "等级 B",
            "等级 C",
            "新车客户",
            "忠诚客户",
            "一般客户",
        )
        assert (d1 + d2 == whole) == adds_up, label
    # English labels; no section without a group (--dealer narrows to one store)
    r = run(
        group,
        "report",
        "--period",
        "2022-06",
        "--out",
        str(out),
        "--lang",
        "en",
        "--format",
        "html",
    )
    html = (out / "crmtool-report-2022-06.html").read_text("utf-8")
    assert "<h2>By dealer</h2>" in html and '<th class="num">Group</th>' in html
    r = run(group, "--dealer", "D002", "report", "--period", "2022-06", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert 'id="by_dealer"' not in (out / "crmtool-report-2022-06.html").read_text("utf-8")
    wb = openpyxl.load_workbook(out / "crmtool-report-2022-06.xlsx")
    assert "按经销商" not in wb.sheetnames
