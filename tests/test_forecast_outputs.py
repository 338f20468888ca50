"""Where the forecast shows besides its list (issue 17 item 3, docs/rules.md §20): the summary's
table format, the report workbook's 价值预测 sheet, --dealer scoping, and one fit per run."""

from __future__ import annotations

import json
import zipfile

import openpyxl
import pytest
from test_forecast import rows, run, runner, store  # noqa: F401  (the 403-car store)

from crmtool import forecast
from crmtool import forecast_model as fm


def _block(path) -> dict:
    r = runner.invoke(
        _app(), ["--db", str(path), "summary", "--period", "2021-12", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["forecast"]


def _app():
    from crmtool.cli import app

    return app


def test_summary_table_shows_the_forecast(store):  # noqa: F811
    path, _ = store
    block = _block(path)
    r = runner.invoke(_app(), ["--db", str(path), "summary", "--period", "2021-12"])
    assert r.exit_code == 0, r.output
    text = r.stdout[r.stdout.index("价值预测") :]
    lines = {
        line.split("│")[0].strip(): line.split("│")[1].strip()
        for line in text.splitlines()
        if "│" in line
    }
    risk = block["value_12m_by_status"]["at_risk"] + block["value_12m_by_status"]["lost"]
    bands = block["p_alive_bands"]
    assert lines["车辆数"] == f"{block['vehicles']:,}" == "403"
    assert lines["预计12个月价值"] == f"{block['value_12m']:,.2f}"
    assert lines["准流失及流失客户的预计价值"] == f"{risk:,.2f}"
    assert lines["仅一次有偿回站"] == f"{bands['x0']:,}"
    for band in ("[0,0.2)", "[0.2,0.5)", "[0.5,0.8)", "[0.8,1]"):
        assert lines[f"仍在本店概率：{band}"] == f"{bands[band]:,}"
    # in English with --lang en
    r = runner.invoke(_app(), ["--db", str(path), "summary", "--period", "2021-12", "--lang", "en"])
    assert "Value at risk (at-risk and lost cars)" in r.stdout and "P(alive): [0,0.2)" in r.stdout


def test_report_workbook_has_the_forecast_sheet(store, tmp_path):  # noqa: F811
    path, _ = store
    block = _block(path)
    r = run(path, "report", "--period", "2021-12", "--out", str(tmp_path), "-q")
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(tmp_path / "crmtool-report-2021-12.xlsx")
    assert "价值预测" in wb.sheetnames
    ws = wb["价值预测"]
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    by_label = {row[0]: row[1:] for row in cells if row and isinstance(row[0], str)}
    status = block["value_12m_by_status"]
    # value per status (Chinese status names), the value at risk = at_risk + lost, the total
    for code, label in (("loyal", "忠诚客户"), ("at_risk", "准流失客户"), ("lost", "流失客户")):
        assert by_label[label][0] == pytest.approx(status[code], abs=0.005)
    risk = status["at_risk"] + status["lost"]
    assert by_label["准流失及流失客户的预计价值"][0] == pytest.approx(risk, abs=0.01)
    assert by_label["准流失及流失客户的预计价值"][1] == pytest.approx(risk / block["value_12m"])
    assert by_label["合计"][0] == pytest.approx(block["value_12m"], abs=0.005)
    # the P(alive) bands per tier, x = 0 apart, as in the summary
    head = next(row for row in cells if row[0] == "等级")
    assert list(head[:6]) == [
        "等级",
        "仅一次有偿回站",
        "[0,0.2)",
        "[0.2,0.5)",
        "[0.5,0.8)",
        "[0.8,1]",
    ]
    for tier in "ABCD":
        want = block["p_alive_bands_by_tier"][tier]
        assert list(by_label[tier][:5]) == [want[b] for b in forecast.BANDS]
    # the stacked bar chart beside the bands (openpyxl does not read charts: the file's XML)
    with zipfile.ZipFile(tmp_path / "crmtool-report-2021-12.xlsx") as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert any(
        "仍在本店概率分布（按价值等级）" in c and 'val="percentStacked"' in c for c in charts
    )


def test_report_workbook_words_the_fit_notes_in_chinese():
    from crmtool.report.common import forecast_notes
    from crmtool.report.common import labels as report_labels

    fc = {"note_codes": [{"code": "no_dropout", "value": "2e-11"}, {"code": "edge", "value": "a"}]}
    assert forecast_notes(fc, report_labels("zh")) == [
        "提示：模型几乎看不到流失（每次回站后流失的平均概率 a/(a+b) = 2e-11），"
        "所有车辆的仍在本店概率都接近1；请以忠诚状态（距上次回站天数）为准。",
        "提示：参数 a 到达模型边界（车辆之间在这方面差异很小）；预测仍可用，但其标准误没有意义。",
    ]
    assert forecast_notes(fc, report_labels("en"))[1] == (
        "a ran to the edge of the model (the data show little spread between cars there); "
        "the forecasts hold, but their standard errors mean nothing"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("summary", "--period", "2021-12", "--format", "json"),
        ("report", "--period", "2021-12", "-q"),
        ("segment", "--forecast", "--format", "csv"),
        ("campaign", "winback", "--forecast", "--format", "csv"),
        ("forecast", "--format", "csv"),
    ],
    ids=lambda a: a[0] + (" " + a[1] if a[1].startswith("w") else ""),
)
def test_one_fit_per_run(store, monkeypatch, tmp_path, args):  # noqa: F811
    path, _ = store
    calls: list[str] = []
    real_bg, real_gg = fm.fit_bgnbd, fm.fit_gamma_gamma
    monkeypatch.setattr(fm, "fit_bgnbd", lambda *a: calls.append("bg") or real_bg(*a))
    monkeypatch.setattr(fm, "fit_gamma_gamma", lambda *a: calls.append("gg") or real_gg(*a))
    extra = ["--out", str(tmp_path)] if args[0] == "report" else []
    r = run(path, *args, *extra)
    assert r.exit_code == 0, r.output
    assert calls == ["bg", "gg"]


def test_dealer_scopes_the_fit(tmp_path):
    # the 403-car store lives at D001; a second store D002 has its own 400 background cars:
    # --dealer D002 fits on D002's paid visits only and lists only its cars
    from test_forecast import _background

    from crmtool import db

    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    _background(con, n=300, seed=3)
    con.execute("UPDATE repair_orders SET dealer_code = 'D002' WHERE vin < 'B0100'")
    con.close()
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text('own_dealers = ["D001", "D002"]\n', encoding="utf-8")
    base = ["--db", str(path), "--config", str(cfg), "--as-of", "2021-12-31"]

    def params(*dealer: str) -> dict[str, str]:
        r = runner.invoke(_app(), [*base, *dealer, "forecast", "--params", "--format", "csv"])
        assert r.exit_code == 0, r.output
        return {row["parameter"]: row for row in rows(r.stdout)}

    group, d2 = params(), params("--dealer", "D002")
    assert group["r"]["vehicles"] == "300" and d2["r"]["vehicles"] == "100"  # B0000 … B0099
    assert group["r"]["value"] != d2["r"]["value"]
    r = runner.invoke(_app(), [*base, "--dealer", "D002", "forecast", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert sorted(row["vin"] for row in rows(r.stdout)) == [f"B{i:04d}" for i in range(100)]
