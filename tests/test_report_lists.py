"""The report in a minute at 10M (issue 18 item 2; docs/rules.md §11 "Report"): the workbook's
call-list sheets hold the first `[report] list_rows` rows of each list (per store in a dealer
group), a list cut short says in its first row how many rows it has and the command that
exports it; the other sheets and the report's figures are those of the code before."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from test_render import lists as hand_lists
from test_render import summary as hand_summary
from typer.testing import CliRunner

from crmtool import campaigns, care, db, facts
from crmtool.cli import app
from crmtool.config import Config, ReportConfig, load_config
from crmtool.errors import ConfigError
from crmtool.load import ingest
from crmtool.period import Period, add_months, month_of, parse_period
from crmtool.render import write_xlsx_report
from crmtool.report.data import collect_report_data
from crmtool.report.lists import export_command, list_sheets
from crmtool.report.retention import collect as retention_collect
from crmtool.sample import generate
from crmtool.summary import build_summary
from crmtool.suppression import apply_suppression, one_per_customer

runner = CliRunner()
AS_OF = date(2021, 12, 31)


def with_rows(cfg: Config, n: int) -> Config:
    return dataclasses.replace(cfg, report=ReportConfig(list_rows=n))


def sheet(path: Path, name: str) -> pl.DataFrame:
    """A sheet as written, every cell as text, no header row taken."""
    return (
        fastexcel.read_excel(path)
        .load_sheet_by_name(name, header_row=None, dtypes="string")
        .to_polars()
    )


# -- hand-built lists ------------------------------------------------------------------------


def test_capped_sheet_states_the_full_count(tmp_path):
    """winback has 15 rows; with list_rows = 4 its sheet holds a note, the header and the
    first 4 rows in the list's order; due (3 rows) is not cut and has no note."""
    lists = hand_lists()
    cfg = with_rows(Config(), 4)
    capped = list_sheets(db.connect(":memory:"), cfg, lists, date(2021, 10, 31))
    assert capped["winback"].total == 15 and capped["winback"].frame.height == 4
    assert capped["due"].note is None and capped["due"].frame.equals(lists["due"])
    path = tmp_path / "r.xlsx"
    write_xlsx_report(path, hand_summary(), lists, capped=capped)
    win = sheet(path, "流失客户招揽")
    assert win.height == 1 + 1 + 4  # note, header, 4 rows
    assert win.row(0)[0] == (
        "完整清单共 15 行，本表按清单优先顺序列出前 4 行。导出完整清单："
        "crmtool --as-of 2021-10-31 campaign winback --include-recent -o winback.xlsx"
    )
    assert win.row(1)[0] == "车架号(VIN)"
    assert [r[0] for r in win.rows()[2:]] == lists["winback"]["vin"].head(4).to_list()
    due = sheet(path, "保养提醒")
    assert due.row(0)[0] == "车架号(VIN)" and due.height == 1 + 3


def test_uncapped_workbook_unchanged(tmp_path):
    """A list_rows above every list's length writes the same bytes as before the cap."""
    lists = hand_lists()
    capped = list_sheets(db.connect(":memory:"), Config(), lists, date(2021, 10, 31))
    assert all(c.note is None for c in capped.values())
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_xlsx_report(a, hand_summary(), lists)
    write_xlsx_report(b, hand_summary(), lists, capped=capped)
    assert a.read_bytes() == b.read_bytes()


def test_per_store_in_a_group():
    """In a group, each store's customers get list_rows rows, and so do rows without a store:
    D001 has 3 rows, D002 2, no store 1; with 2 per store: 2 + 2 + 1 = 5 of 6 kept, in the
    list's order."""
    con = db.connect(":memory:")
    con.execute(
        "INSERT INTO customers (customer_id, dealer_code) VALUES ('D001/C1', 'D001'), "
        "('D001/C2', 'D001'), ('D001/C3', 'D001'), ('D002/C1', 'D002'), ('D002/C2', 'D002')"
    )
    ids = ["D001/C1", "D002/C1", "D001/C2", "X9", "D001/C3", "D002/C2"]
    frame = pl.DataFrame({"vin": [f"V{i}" for i in range(6)], "customer_id": ids})
    cfg = with_rows(dataclasses.replace(Config(), own_dealers=["D001", "D002"]), 2)
    got = list_sheets(con, cfg, {"winback": frame}, AS_OF)["winback"]
    assert got.frame["vin"].to_list() == ["V0", "V1", "V2", "V3", "V5"]
    assert got.total == 6
    assert got.note == (
        "完整清单共 6 行，本表按清单优先顺序列出每家经销商的前 2 行（共 5 行）。"
        "导出完整清单：crmtool --as-of 2021-12-31 campaign winback --include-recent -o winback.xlsx"
    )
    one = dataclasses.replace(cfg, own_dealers=["D002"], dealer_scope=["D001", "D002"])  # --dealer
    assert export_command("due", one, AS_OF) == (
        "crmtool --dealer D002 --as-of 2021-12-31 due --month 2022-01 --include-recent -o due.xlsx"
    )


def test_export_commands():
    cfg = Config()
    assert export_command("loyal", cfg, AS_OF).endswith(
        "campaign loyal --half 2021H2 --include-recent -o loyal.xlsx"
    )
    # a report at the end of October: the loyal list's half year is May … October
    assert export_command("loyal", cfg, date(2021, 10, 31)) == (
        "crmtool --as-of 2021-10-31 campaign loyal --from 2021-05-01 --to 2021-10-31 "
        "--include-recent -o loyal.xlsx"
    )
    assert export_command("birthdays", cfg, AS_OF) == (
        "crmtool --as-of 2021-12-31 care birthdays --month 2022-01 -o birthdays.xlsx"
    )


@pytest.mark.parametrize("rows", [0, -3])
def test_list_rows_is_validated(tmp_path, rows):
    toml = tmp_path / "crmtool.toml"
    toml.write_text(f"[report]\nlist_rows = {rows}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="report.list_rows"):
        load_config(toml)


# -- the bundled sample ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    generate(root / "data", "small", 7, "utf-8")
    cfg = load_config(root / "data" / "crmtool.toml")
    con = db.connect(root / "s.duckdb")
    ingest.load(con, [root / "data"], cfg)
    con.close()
    return root, cfg


def reference_report_data(con, cfg: Config, period: Period, as_of: date):
    """collect_report_data as it was before issue 18: the summary and the previous period's
    summary each on their own snapshot, the retention section on a third, the lists on the
    fact views."""
    summary = build_summary(con, cfg, period, as_of)
    facts.install(con, cfg, snapshot=True)
    summary["retention_detail"] = retention_collect(con, cfg, as_of)
    facts.install(con, cfg)
    prev = period.previous()
    previous = build_summary(con, cfg, prev, min(as_of, prev.end))
    half = Period(add_months(as_of, -6) + timedelta(days=1), as_of, "half")
    lists = {
        "due": campaigns.maintenance_due(con, cfg, month_of(as_of, 1), as_of).frame,
        "warranty": campaigns.warranty_expiring(con, cfg, as_of).frame,
        "insurance": campaigns.insurance_renewal(con, cfg, as_of).frame,
        "loyal": campaigns.loyal_reward(con, cfg, half).frame,
        "winback": campaigns.winback(con, cfg, as_of).frame,
    }
    care.ensure_contacts(con)
    calls = apply_suppression(con, cfg, care.callbacks(con, cfg, as_of).frame, as_of)[0]
    born = apply_suppression(con, cfg, care.birthdays(con, cfg, month_of(as_of, 1), as_of), as_of)
    open_ = apply_suppression(
        con, cfg, care.complaints(con, cfg, as_of), as_of, include_recent=True
    )[0]
    lists |= {
        "callbacks": one_per_customer(calls),
        "birthdays": born[0],
        "complaints": care.complaints_per_customer(open_),
    }
    return summary, previous, lists


def same(a: object, b: object) -> bool:
    """Equal, floats up to 1e-9 relative: the forecast's fits sum DOUBLE amounts in the
    engine's order (its parallel aggregation), which moves their last bits between runs of
    different plans; every other figure is compared exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_report_figures_unchanged(store):
    """The summary, the previous period's KPI figures and every list equal the reference."""
    root, cfg = store
    con = db.connect(root / "s.duckdb", read_only=True)
    try:
        period = parse_period("2021-12")
        summary, previous, lists = collect_report_data(con, cfg, period)
        ref_summary, ref_previous, ref_lists = reference_report_data(con, cfg, period, AS_OF)
    finally:
        con.close()
    assert same(summary, ref_summary)
    assert summary["retention_detail"]["trend"] and summary["forecast"]  # sections present
    # the previous period feeds the KPI tiles: the blocks they read, as the full summary has them
    assert previous == {k: ref_previous[k] for k in previous}
    assert set(previous) >= {"tiers", "status", "leakage", "never_returned", "service_mix", "leads"}
    assert lists.keys() == ref_lists.keys()
    for key, frame in lists.items():
        assert frame.equals(ref_lists[key]), key
    assert sum(f.height for f in lists.values()) > 0


def test_cli_report_caps_and_the_command_exports_the_list(store, tmp_path):
    """With list_rows = 7 through the config, the winback sheet states the full count, and
    the command it names exports exactly that many rows."""
    root, _ = store
    toml = tmp_path / "crmtool.toml"
    toml.write_text(
        (root / "data" / "crmtool.toml").read_text(encoding="utf-8")
        + "\n[report]\nlist_rows = 7\n",
        encoding="utf-8",
    )
    base = ["--db", str(root / "s.duckdb"), "--config", str(toml)]
    res = runner.invoke(app, [*base, "report", "--period", "2021-12", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    book = tmp_path / "crmtool-report-2021-12.xlsx"
    win = sheet(book, "流失客户招揽")
    note = win.row(0)[0]
    assert win.height == 2 + 7 and note.startswith("完整清单共 ")
    total = int(note.split("共 ")[1].split(" 行")[0].replace(",", ""))
    command = note.split("导出完整清单：")[1].split()
    assert command[:4] == ["crmtool", "--as-of", "2021-12-31", "campaign"]
    out = tmp_path / "winback.xlsx"
    res = runner.invoke(app, [*base, *command[1:-1], str(out)])
    assert res.exit_code == 0, res.output
    exported = sheet(out, "流失客户招揽")
    assert exported.height - 1 == total > 7  # the header, then every row of the list
    assert [r[0] for r in win.rows()[2:]] == [r[0] for r in exported.rows()[1:8]]
