"""`crmtool inspect` on the hand-built exports of real systems (tests/vendor_exports.py):
pinned output, suggestions that make them load, and counts that agree with `crmtool load`."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import vendor_exports as ve
from typer.testing import CliRunner

from crmtool.cli import app

runner = CliRunner()


def run(tmp: Path, *args: str, config: Path | None = None):
    pre = ["--db", str(tmp / "crm.duckdb")] + (["--config", str(config)] if config else [])
    return runner.invoke(app, [*pre, *args])


def toml(tmp: Path, text: str) -> Path:
    path = tmp / "crmtool.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yonyou_codes_suggest_the_profile_and_load_with_it(tmp_path):
    book = ve.yonyou_workbook(tmp_path)
    r = run(tmp_path, "inspect", "--suggest-config", str(book))
    assert r.exit_code == 0, r.output
    # all 11 coded 维修类型 values are unknown without it; the profile knows each
    assert r.stdout == (
        "# the yonyou profile knows 11 unknown values and 0 missing columns of "
        'these files (crmtool/profiles.py)\nprofile = "yonyou"\n'
    )
    cfg = toml(tmp_path, r.stdout)
    shown = run(tmp_path, "inspect", "--lang", "en", str(book), config=cfg)
    lines = shown.stdout.splitlines()
    assert lines[:3] == [f"== {book}", "-- [维修工单]", "header row: line 3"]
    at = lines.index("values of ro_type:")
    assert lines[at + 1 : at + 12] == [
        "  BJPQ ×1 → body_paint",
        "  BXIU ×1 → warranty",
        "  CGBY ×1 → maintenance",
        "  FUWU ×1 → other",
        "  NBXL ×1 → internal",
        "  PTWX ×1 → repair",
        "  SBWS ×1 → warranty",
        "  SCBY ×1 → first_service",
        "  SHYX ×1 → warranty",
        "  SQWX ×1 → pds",
        "  XCZH ×1 → other",
    ]
    # 11 orders, 6 VINs (V4…V9) and 6 phones
    assert lines[at + 12 : at + 15] == [
        "a load would give: read 11 = loaded 11 + duplicates 0 + rejected 0 (repair_orders); "
        "also fed: customers +6, vehicles +6",
        f"  {book} [维修工单]: payer missing on 11 of 11 rows (no payer column): inferred from "
        "the order type ([defaults.payer_by_ro_type])",
        "flags (values that did not parse, odd VINs and phones):",
    ]
    load = run(tmp_path, "load", str(book), config=cfg)
    assert load.exit_code == 0, load.output
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    assert con.execute(
        "SELECT ro_type, count(*) FROM repair_orders GROUP BY 1 ORDER BY 1"
    ).fetchall() == [
        ("body_paint", 1),
        ("first_service", 1),
        ("internal", 1),
        ("maintenance", 1),
        ("other", 2),
        ("pds", 1),
        ("repair", 1),
        ("warranty", 3),
    ]
    assert con.execute("SELECT count(*) FROM flags WHERE flag = 'unknown_code'").fetchall() == [
        (0,)
    ]
    con.close()


SHOP_TEXT = [
    "header row: line 1 (gb18030)",
    "table: repair_orders (ro_id header 接车单号); evidence: ro_id, open_date, settle_date, "
    "ro_type, payer, total_amount, ro_status (7); runner-up: vehicles: plate (1)",
    "also feeds: customers, vehicles",
    "columns:",
    "  接车单号 → ro_id (built-in)",
    "  车牌号 → plate (built-in)",
    "  VIN → vin (built-in)",
    "  车主 → customers.name (built-in)",
    "  手机 → customers.phone (built-in)",
    "  接车日期 → open_date (built-in)",
    "  结算日期 → settle_date (built-in)",
    "  维修类型 → ro_type (built-in)",
    "  项目名称 → — (not used)",
    "  结算方式 → payer (built-in)",
    "  维修金额 → total_amount (built-in)",
    "  状态 → ro_status (built-in)",
    "values of ro_type:",
    "  保养 ×3 → maintenance",
    "  小修 ×3 → repair",
    "  中修 ×1 → repair",
    "  大修 ×1 → repair",
    "  普通维修 ×1 → repair",
    "  钣喷 ×1 → body_paint",
    "values of payer:",
    "  现金 ×4 → customer",
    "  会员卡 ×1 → customer",
    "  保险公司 ×1 → insurance",
    "  刷卡 ×1 → customer",
    "  微信 ×1 → customer",
    "  挂账 ×1 → customer",
    "  支付宝 ×1 → customer",
]


def test_shop_export_pinned_and_equal_to_the_load(tmp_path):
    assert run(tmp_path, "load", str(ve.shop_vehicles(tmp_path))).exit_code == 0  # 浙B30004
    shop = ve.shop_csv(tmp_path)
    r = run(tmp_path, "inspect", "--lang", "en", str(shop))
    assert r.exit_code == 0, r.output
    # 10 rows: J001's two item rows are one order (a duplicate); J003, J005 take the VIN of
    # their plate in this file, J006 the VIN the database has; J008 voided, J009 no VIN
    line = (
        "read 10 = loaded 7 + duplicates 1 + rejected 2 (repair_orders); "
        "also fed: customers +5, vehicles +4"
    )
    assert r.stdout.splitlines() == [
        f"== {shop}",
        *SHOP_TEXT,
        f"a load would give: {line}",
        "  voided: 1",
        "  VIN from plate: 3",
        "  line items: 2 rows summed into 1 orders",
        "flags (values that did not parse, odd VINs and phones):",
        "  repair_orders vin: vin_from_plate ×3: line 5: 浙B30001; line 7: 浙B30003; "
        "line 8: 浙B30004",
        "rejects:",
        "  repair_orders missing vin ×1: line 11",
        "  repair_orders voided order ×1: line 10",
        "",
        "total: read 10 = loaded 7 + duplicates 1 + rejected 2",
        f"nothing was written to {tmp_path / 'crm.duckdb'}",
    ]
    load = run(tmp_path, "load", str(shop))
    assert (
        load.stderr.splitlines()[0] == f"{shop}: {line}; voided: 1; VIN from plate: 3; "
        "line items: 2 rows summed into 1 orders"
    )


def test_files_inspected_together_count_as_one_load(tmp_path):
    """A vehicles file in the same invocation is not 'in the database before this load'
    (docs/rules.md §1 "VIN by plate"): J006's plate finds no VIN, as in `crmtool load` of both files."""
    vehicles, shop = ve.shop_vehicles(tmp_path), ve.shop_csv(tmp_path)
    r = run(tmp_path, "inspect", "--format", "json", str(vehicles), str(shop))
    got = json.loads(r.stdout)
    counts = [s["counts"] for f in got["files"] for s in f["sheets"]]
    # J006 rejected too: 10 = 6 + 1 + 3
    assert counts == [
        {"read": 1, "loaded": 1, "duplicates": 0, "rejected": 0},
        {"read": 10, "loaded": 6, "duplicates": 1, "rejected": 3},
    ]
    load = run(tmp_path, "load", str(vehicles), str(shop))
    assert load.stderr.splitlines()[1].startswith(
        f"{shop}: read 10 = loaded 6 + duplicates 1 + rejected 3 (repair_orders)"
    )


def test_history_without_order_numbers(tmp_path):
    hist = ve.history_without_ro(tmp_path)
    r = run(tmp_path, "inspect", "--lang", "en", str(hist))
    lines = r.stdout.splitlines()
    assert lines[2] == (
        "table: repair_orders (settle date 工单结算日期 + VIN VIN + 工单类型); "
        "evidence: open_date, settle_date, ro_type (3); runner-up: vehicles: — (0)"
    )
    at = lines.index(
        "a load would give: read 5 = loaded 5 + duplicates 0 + rejected 0 (repair_orders)"
    )
    assert lines[at + 1] == "  no order number: key = VIN + dates + type"
    s = run(tmp_path, "inspect", "--suggest-config", str(hist))
    assert s.stdout == (
        '# no repair order belongs to own_dealers ["D001"]; the files\' dealers:'
        ' D100 ×4, D200 ×1\nown_dealers = ["D100"]\n'
    )


def test_a_user_mapping_over_a_builtin_alias_is_shown_and_suggested(tmp_path):
    f = tmp_path / "o.csv"
    f.write_text(
        f"工单号,VIN,开工单时间,工单类型\nR1,{ve.V[1]},2021-03-01,保养\n", encoding="utf-8"
    )
    r = run(tmp_path, "inspect", "--suggest-config", str(f))
    # 开工单时间 is the built-in open_date; the file's only date column
    assert r.stdout == '[columns.repair_orders]\nsettle_date = ["开工单时间"]\n'
    cfg = toml(tmp_path, r.stdout)
    shown = run(tmp_path, "inspect", "--lang", "en", str(f), config=cfg).stdout.splitlines()
    assert "  开工单时间 → settle_date (config; takes it from built-in open_date)" in shown
    shown_zh = run(tmp_path, "inspect", str(f), config=cfg).stdout.splitlines()
    assert "  开工单时间 → settle_date 结算日期 (配置; 取代内置的 open_date 进厂日期)" in shown_zh
    load = run(tmp_path, "load", str(f), config=cfg)
    assert (
        load.stderr.splitlines()[0]
        == f"{f}: read 1 = loaded 1 + duplicates 0 + rejected 0 (repair_orders)"
    )


def test_close_evidence_is_shown_with_the_kinds_to_choose(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text(f"VIN,出厂日期,行驶里程,车型\n{ve.V[1]},2020-01-01,100,朗逸\n", encoding="utf-8")
    r = run(tmp_path, "inspect", "--lang", "en", str(f))
    lines = r.stdout.splitlines()
    assert lines[2:4] == [
        "table: repair_orders (settle date 出厂日期 + VIN VIN + 行驶里程); evidence: "
        "mileage_km (1); runner-up: vehicles: model (1)",
        "too close to choose, a load stops: pass --kind repair_orders | --kind vehicles",
    ]
    assert (
        f"a load would fail: {f}: cannot tell whether this file holds repair_orders or "
        "vehicles (repair_orders: 1 field, vehicles: 1 field); pass --kind repair_orders or "
        "--kind vehicles"
    ) in lines
    load = run(tmp_path, "load", str(f))
    assert load.stderr.endswith(f"; run `crmtool inspect {f}` to see why\n")
