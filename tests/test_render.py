"""The HTML and Excel report, rendered from hand-made data (docs/rules.md §11 "Summary", §9 call lists).

Figures echo seed 000 (二级 226 sold, 53 returned paid, 92886 yuan; cross-shop 131/33/20/9/7).
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from crmtool import render
from crmtool.render import render_html, write_report, write_xlsx_report

EVIL = "<script>alert(1)</script>"


def summary() -> dict:
    return {
        "as_of": "2021-10-31",
        "period": {"start": "2021-10-01", "end": "2021-10-31"},
        "tiers": {"A": 412, "B": 1187, "C": 1530, "D": 871},
        "status": {"new": 318, "loyal": 905, "general": 1420, "at_risk": 733, "lost": 624},
        "leakage": {
            "retained": 1204,
            "cross_shop": 200,
            "defected": 556,
            "out_of_channel": 356,
            "cross_shop_by_own_visits": {"1": 131, "2": 33, "3": 20, "4": 9, "5+": 7},
            "cross_shop_region": {"same": 110, "other": 90, "unknown": 0},
        },
        "new_car_defection": {"sold": 301, "defected": 84, "direct": 69},
        "secondary_network": {
            "sold": 226,
            "returned_paid": 53,
            "revenue": 92886.0,
            "no_paid": 173,
            "no_ro": 96,
            "by_outlet": [
                {
                    "outlet": "富阳网点",
                    "sold": 120,
                    "returned_paid": 31,
                    "revenue": 51234.5,
                    "no_paid": 89,
                    "no_ro": 44,
                },
                {
                    "outlet": "临安网点",
                    "sold": 106,
                    "returned_paid": 22,
                    "revenue": 41651.5,
                    "no_paid": 84,
                    "no_ro": 52,
                },
            ],
        },
        "never_returned": 96,
        "service_mix": {
            "first_service": {"count": 2254, "share": 0.19, "revenue": 451234.0},
            "maintenance": {"count": 4837, "share": 0.41, "revenue": 2210987.55},
            "repair": {"count": 1196, "share": 0.10, "revenue": 1876543.0},
            "body_paint": {"count": 1654, "share": 0.14, "revenue": 3321456.0},
            "warranty": {"count": 154, "share": 0.01, "revenue": 98765.0},
            "pds": {"count": 1233, "share": 0.10, "revenue": 0.0},
            "internal": {"count": 472, "share": 0.04, "revenue": 65432.0},
            "other": {"count": 0, "share": 0.0, "revenue": 0.0},
        },
        "leads": {
            "leads": 240,
            "visited": 96,
            "won": 31,
            "lost": 58,
            "conversion": 0.1292,
            "overdue": 17,
        },
        "data_quality": {"read": 15320, "loaded": 15011, "duplicates": 264, "rejected": 45},
        "maintenance_due": {"due": 812, "returned": 163, "rate": 0.2007},
        "tiers_by_series": [
            {"series": "迈腾", "A": 150, "B": 420, "C": 500, "D": 230},
            {"series": "朗逸", "A": 180, "B": 520, "C": 730, "D": 441},
            {"series": EVIL, "A": 82, "B": 247, "C": 300, "D": 200},
        ],
        "leads_by_source": [
            {
                "source": "汽车之家",
                "leads": 120,
                "visited": 50,
                "won": 18,
                "lost": 30,
                "conversion": 0.15,
                "overdue": 9,
            },
            {
                "source": "到店",
                "leads": 80,
                "visited": 40,
                "won": 11,
                "lost": 20,
                "conversion": 0.1375,
                "overdue": 4,
            },
            {
                "source": "易车",
                "leads": 40,
                "visited": 6,
                "won": 2,
                "lost": 8,
                "conversion": 0.05,
                "overdue": 4,
            },
        ],
        "leads_by_consultant": [
            {
                "consultant": "王芳",
                "leads": 130,
                "visited": 60,
                "won": 20,
                "lost": 30,
                "conversion": 0.1538,
                "overdue": 7,
            },
            {
                "consultant": "刘洋",
                "leads": 110,
                "visited": 36,
                "won": 11,
                "lost": 28,
                "conversion": 0.1,
                "overdue": 10,
            },
        ],
        "defected_by_dealer": [
            {"dealer": "D102", "name": "杭州西湖大众", "region": "杭州", "vehicles": 214},
            {"dealer": "D205", "name": "绍兴越城大众", "region": "绍兴", "vehicles": 133},
            {"dealer": "D309", "name": "湖州南浔大众", "region": "湖州", "vehicles": 98},
        ],
        "rejects_by_reason": [
            {"reason": "missing settle_date", "count": 30},
            {"reason": "missing VIN", "count": 15},
        ],
        "flags_by_kind": [
            {"flag": "vin_check_digit", "count": 41},
            {"flag": "phone_invalid", "count": 22},
        ],
    }


def previous() -> dict:
    s = summary()
    s["as_of"], s["period"] = "2021-09-30", {"start": "2021-09-01", "end": "2021-09-30"}
    s["tiers"] = {"A": 400, "B": 1190, "C": 1500, "D": 880}
    s["status"] = {"new": 320, "loyal": 910, "general": 1400, "at_risk": 740, "lost": 600}
    s["leakage"]["cross_shop"] = 210
    s["never_returned"] = 101
    s["leads"]["conversion"] = 0.11
    return s


def lists() -> dict[str, pl.DataFrame]:
    due = pl.DataFrame(
        {
            "vin": ["LSVAB2BM5KN000001", "LSVAB2BM5KN000002", "LSVAB2BM5KN000003"],
            "customer_id": ["C001", "C002", "C003"],
            "name": ["张三", '=HYPERLINK("http://x","y")', EVIL],
            "phone": ["13812345678", "13900001111", "+8613700002222"],
            "series": ["迈腾", "朗逸", "途观L"],
            "due_date": [date(2021, 11, 5), date(2021, 11, 20), date(2021, 9, 30)],
            "overdue": [False, False, True],
            "est_mileage": [23456.0, 40012.5, 9876.0],
        }
    )
    winback = pl.DataFrame(
        {
            "vin": [f"LSVWIN00000000{i:03d}" for i in range(15)],
            "customer_id": [f"W{i:03d}" for i in range(15)],
            "name": [f"李{i}" for i in range(15)],
            "phone": [f"1360000{i:04d}" for i in range(15)],
            "series": ["迈腾"] * 15,
            "tier": ["A"] * 15,
            "reason": ["defected"] * 15,
            "other_dealer_name": ["杭州西湖大众"] * 15,
            "lifetime_paid": [float(20000 - i * 100) for i in range(15)],
        }
    )
    empty = pl.DataFrame(
        schema={
            "vin": pl.String,
            "customer_id": pl.String,
            "name": pl.String,
            "phone": pl.String,
            "series": pl.String,
            "warranty_end": pl.Date,
        }
    )
    insurance = pl.DataFrame(
        {
            "vin": ["LSVINS00000000001"],
            "customer_id": ["C009"],
            "name": ["赵六"],
            "phone": ["13512345678"],
            "series": ["迈腾"],
            "settle_date": [date(2021, 10, 20)],
            "total_amount": [12500.0],
            "band": ["10000-20000"],
            "gift": ["300元续保代金券+抛光打蜡一次"],
        }
    )
    loyal = pl.DataFrame(
        {
            "vin": ["LSVLOY00000000001"],
            "customer_id": ["C010"],
            "name": ["钱七"],
            "phone": ["13612345678"],
            "series": ["朗逸"],
            "visits": [5],
            "tier": ["A"],
        }
    )
    return {
        "due": due,
        "warranty": empty,
        "insurance": insurance,
        "loyal": loyal,
        "winback": winback,
    }


# ----------------------------------------------------------------------------- HTML

SECTION_IDS = (
    "kpi",
    "tiers",
    "status",
    "leakage",
    "follow",
    "service",
    "lists",
    "leads",
    "quality",
)


def test_every_section_and_its_numbers() -> None:
    html = render_html(summary(), previous(), lists())
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in html
    for heading in (
        "客户价值等级",
        "客户忠诚状态",
        "客户去向（流失客户分析）",
        "业务构成",
        "本月招揽名单",
        "潜在客户（线索）",
        "数据质量",
        "分车系等级分布",
        "流失去向经销商",
        "定期保养入库率",
        "二级网点成交车辆回厂情况",
    ):
        assert f">{heading}<" in html
    # KPIs and their change against the previous period
    assert ">4,000<" in html  # vehicles ours = A+B+C+D
    assert ">10.3%<" in html  # tier A share 412/4000
    assert "▲ +24" in html  # lost 624 vs 600
    assert "▼ -10" in html  # cross-shop 200 vs 210
    assert "▲ +1.9 个百分点" in html  # conversion 12.9% vs 11.0%
    assert ">8,024,418<" in html  # service revenue, whole yuan
    # seed 000 figures beside their charts
    for cell in (
        ">131<",
        ">65.5%<",
        ">110<",
        ">90<",
        ">226<",
        ">53<",
        ">23.5%<",
        ">92,886.00<",
        ">96<",
        ">84<",
        ">69<",
        ">4,837<",
        ">41.0%<",
        ">2,210,987.55<",
        ">15,320<",
        ">缺少结算日期<",
        ">杭州西湖大众<",
    ):
        assert cell in html, cell
    assert "131 · 65.5%" in html  # the label inside the bar chart
    assert html.count("<svg") == 13  # every chart drawn
    # call lists: counts, top rows, the rest announced
    assert "流失客户招揽（15）" in html
    assert "显示前 10 行，共 15 行" in html
    assert "流失至他店" in html  # reason code in Chinese


def test_english_labels() -> None:
    html = render_html(summary(), None, lists(), lang="en")
    assert '<html lang="en">' in html
    assert ">Where customers go<" in html and ">Service mix<" in html
    assert "no previous period" in html
    assert "客户价值等级" not in html


def test_pii_masked_by_default_and_shown_on_request() -> None:
    masked = render_html(summary(), None, lists())
    assert "138****5678" in masked and ">张*<" in masked
    assert "13812345678" not in masked and "张三" not in masked
    shown = render_html(summary(), None, lists(), show_pii=True)
    assert "13812345678" in shown and ">张三<" in shown


def test_autoescape_keeps_data_out_of_the_markup() -> None:
    html = render_html(summary(), None, lists(), show_pii=True)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # table cell
    assert "&lt;script&gt;a…" in html  # clipped chart label


def test_offline_and_csp() -> None:
    html = render_html(summary(), previous(), lists(), show_pii=True)
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
    ) in html
    refs = re.findall(r'(?:src|href)\s*=\s*["\']?([^"\' >]*)', html)
    refs += re.findall(r"url\(\s*['\"]?([^'\")]*)", html)
    assert refs and all(r.startswith("#") for r in refs), refs
    assert "@import" not in html and "<link" not in html and "<script" not in html
    assert "@page { size: A4" in html
    assert '"Noto Sans CJK SC", "Noto Sans SC"' in html


def test_deterministic() -> None:
    assert render_html(summary(), previous(), lists()) == render_html(
        summary(), previous(), lists()
    )


def test_workbook_deterministic(tmp_path: Path) -> None:
    """Re-running the same month gives the same bytes (no creation timestamp drift)."""
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_xlsx_report(a, summary(), lists())
    write_xlsx_report(b, summary(), lists())
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:  # not the time of writing, which differs between runs
        assert (
            '<dcterms:created xsi:type="dcterms:W3CDTF">2000-01-01T00:00:00Z'
            in z.read("docProps/core.xml").decode()
        )


def test_missing_optional_blocks_are_skipped() -> None:
    s = summary()
    for key in (
        "maintenance_due",
        "tiers_by_series",
        "leads_by_source",
        "leads_by_consultant",
        "defected_by_dealer",
        "rejects_by_reason",
        "flags_by_kind",
    ):
        del s[key]
    html = render_html(s, None, {})
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in html
    assert "分车系等级分布" not in html and "流失去向经销商" not in html
    assert html.count("<svg") == 7


# ----------------------------------------------------------------------------- Excel


def test_workbook_sheets_charts_and_cells(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_xlsx_report(path, summary(), lists())
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "概览",
        "保养提醒",
        "脱保延保",
        "续保前移",
        "忠诚客户回馈",
        "流失客户招揽",
    ]
    assert len(wb["概览"]._charts) == 4 and wb.active.title == "概览"
    ws = wb["保养提醒"]
    assert [c.value for c in ws[1]] == [
        "车架号(VIN)",
        "客户编号",
        "客户姓名",
        "联系电话",
        "车系",
        "应保养日期",
        "已超期",
        "估算里程(km)",
    ]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H4"
    assert [(c.value, c.data_type) for c in ws["D"][1:]] == [
        ("13812345678", "s"),
        ("13900001111", "s"),
        ("+8613700002222", "s"),
    ]
    assert ws["C3"].value == '=HYPERLINK("http://x","y")' and ws["C3"].data_type == "s"
    assert ws["F2"].value.date() == date(2021, 11, 5) and ws["G4"].value == "是"
    assert ws.column_dimensions["A"].width > 17  # VIN fits
    assert wb["流失客户招揽"].max_row == 16  # full list, not the top rows
    assert wb["流失客户招揽"]["G2"].value == "流失至他店"
    assert wb["脱保延保"].max_row == 1  # empty list: header only


def test_workbook_masks_on_request_and_english(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_xlsx_report(path, summary(), lists(), lang="en", mask_pii=True)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Summary" and "Win-back" in wb.sheetnames
    ws = wb["Maintenance due"]
    assert ws["C2"].value == "张*" and ws["D2"].value == "138****5678"
    assert wb["Win-back"]["H2"].value == "杭州西湖大众"  # a dealer's name is not masked


def test_no_formula_anywhere(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"vin": ["X"], "name": ["+1 evil"], "phone": ["-1"], "series": ["@SUM"], "reason": ["=1+1"]}
    )
    s = summary()
    s["tiers_by_series"][0]["series"] = "=CMD()"
    path = tmp_path / "r.xlsx"
    write_xlsx_report(path, s, {"winback": frame})
    wb = openpyxl.load_workbook(path)
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


# ----------------------------------------------------------------------------- files


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_report_names_and_content(tmp_path: Path) -> None:
    paths = write_report(tmp_path, "2021-10", summary(), previous(), lists())
    assert [p.name for p in paths] == ["crmtool-report-2021-10.html", "crmtool-report-2021-10.xlsx"]
    assert _visible(tmp_path) == ["crmtool-report-2021-10.html", "crmtool-report-2021-10.xlsx"]
    first = paths[0].read_bytes()
    write_report(tmp_path, "2021-10", summary(), previous(), lists())
    assert paths[0].read_bytes() == first  # same month, same page


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failure_midway_keeps_the_previous_report(
    tmp_path: Path, monkeypatch, error: BaseException
) -> None:
    html, xlsx = write_report(tmp_path, "2021-10", summary(), previous(), lists())
    before = (html.read_bytes(), xlsx.read_bytes())
    changed = summary()
    changed["tiers"]["A"] = 999

    def broken(path: Path, *args, **kwargs) -> None:
        Path(path).write_bytes(b"partial")
        raise error

    monkeypatch.setattr(render, "write_xlsx_report", broken)
    with pytest.raises(type(error)):
        write_report(tmp_path, "2021-10", changed, previous(), lists())
    assert (html.read_bytes(), xlsx.read_bytes()) == before
    assert _visible(tmp_path) == ["crmtool-report-2021-10.html", "crmtool-report-2021-10.xlsx"]
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert sorted(p.name for p in leftovers) == _visible(tmp_path)


def test_bad_format_is_a_usage_error(tmp_path: Path) -> None:
    from crmtool.errors import UsageError

    with pytest.raises(UsageError):
        write_report(tmp_path, "2021-10", summary(), None, {}, formats=("pdf",))


# ----------------------------------------------------------------------------- command


def test_report_command_writes_and_logs_one_line(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from crmtool.cli import app
    from crmtool.db import connect
    from crmtool.report import data as report_data

    connect(tmp_path / "crm.duckdb").close()
    seen = []

    def fake(con, cfg, period, as_of):  # noqa: ANN001, ANN202
        seen.append((period.label, as_of))
        return summary(), previous(), lists()

    monkeypatch.setattr(report_data, "collect_report_data", fake)
    out = tmp_path / "out"
    out.mkdir()
    r = CliRunner().invoke(
        app,
        [
            "--db",
            str(tmp_path / "crm.duckdb"),
            "report",
            "--period",
            "2021-10",
            "--out",
            str(out),
            "--format",
            "html",
            "--allow-empty",
        ],
    )  # the database is empty: the data is faked
    assert r.exit_code == 0, r.output
    assert seen == [("2021-10", None)]
    assert _visible(out) == ["crmtool-report-2021-10.html"]
    assert re.fullmatch(
        rf"report 2021-10: wrote {re.escape(str(out))}/crmtool-report-2021-10"
        r"\.html in \d+\.\d s\n",
        r.stderr,
    )
    bad = CliRunner().invoke(
        app, ["--db", str(tmp_path / "crm.duckdb"), "report", "--out", str(out), "--format", "pdf"]
    )
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1
