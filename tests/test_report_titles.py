"""Period-aware report titles (issue 15 item 7): a quarter's or a year's report is not a 月报
with 本月 lists; a month's report keeps them."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app
from crmtool.report.common import period_kind

runner = CliRunner()


@pytest.mark.parametrize(
    ("start", "end", "kind"),
    [
        ("2021-10-01", "2021-10-31", "month"),
        ("2021-10-01", "2021-12-31", "quarter"),
        ("2021-07-01", "2021-12-31", "half"),
        ("2021-01-01", "2021-12-31", "year"),
        ("2021-02-01", "2021-04-30", "other"),
        ("2021-10-02", "2021-10-31", "other"),
    ],
)
def test_period_kind(start: str, end: str, kind: str) -> None:
    assert period_kind({"start": start, "end": end}) == kind


@pytest.mark.parametrize(
    ("period", "title", "lists"),
    [
        ("2021-12", "售后客户运营月报", "本月招揽名单"),
        ("2021Q4", "售后客户运营季报", "招揽名单（截至统计日期）"),
        ("2021", "售后客户运营年报", "招揽名单（截至统计日期）"),
    ],
)
def test_report_title_follows_the_period(
    tmp_path: Path, period: str, title: str, lists: str
) -> None:
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO vehicles (vin, series, sale_date, sale_channel) VALUES "
        "('V1', '迈腾', DATE '2020-01-01', 'own')"
    )
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount) VALUES ('R1', 'D001', 'V1', DATE '2021-12-01', 'maintenance',"
        " 'customer', 800)"
    )
    con.close()
    out = tmp_path / "reports"
    r = runner.invoke(
        app, ["--db", str(path), "report", "--period", period, "--out", str(out), "-q"]
    )
    assert r.exit_code == 0, r.output
    html = (out / f"crmtool-report-{period}.html").read_text(encoding="utf-8")
    assert f"<h1>{title}</h1>" in html and f"<h2>{lists}</h2>" in html
    if period != "2021-12":
        assert "月报" not in html and "本月招揽名单" not in html
    wb = openpyxl.load_workbook(out / f"crmtool-report-{period}.xlsx")
    cells = {c.value for row in wb.worksheets[0].iter_rows() for c in row if c.value}
    assert title in cells
