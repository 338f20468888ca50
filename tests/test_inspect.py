"""`crmtool inspect`: a dry run of `crmtool load` (docs/rules.md "Inspect before loading").

The fixtures are hand-written exports; the expected counts are worked out in the comments."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from crmtool.cli import app

runner = CliRunner()
V1 = "LSVAA4183E2000001"  # check digit right
V2 = "LSVAA4185E2000002"  # check digit right

# A shop's repair-order export in GBK: a title row, the header on line 2, a settle date under
# a header crmtool does not know (单据日期), the owner's plate and name, dealer D777 (not own).
#   line 3 R1: kept; ro_type 常规保养15K unknown (-> other), payer 团购 unknown (-> other)
#   line 4 R2: kept; mileage 'abc' does not parse (flag bad_mileage)
#   line 5 R3: no VIN (its plate is on no other row): rejected
#   line 6/7 R4 twice: the last line wins: loaded 1 + duplicates 1
# read 5 = loaded 3 (R1 R2 R4) + duplicates 1 + rejected 1; vehicles fed: V1, V2 = +2
SHOP = [
    "维修工单导出 2021年1月",
    "工单号,VIN,单据日期,维修类型,结算方式,进厂里程,车牌号,车主,经销商代码,备注",
    f"R1,{V1},2021-01-05,常规保养15K,团购,12000,京A12345,张三,D777,",
    f"R2,{V1},2021-02-05,保养,自费,abc,京A12345,张三,D777,",
    "R3,,2021-03-05,保养,自费,13000,京C99999,李四,D777,",
    f"R4,{V2},2021-03-06,钣喷,保险,13000,京B11111,李四,D777,",
    f"R4,{V2},2021-03-07,钣喷,保险,13000,京B11111,李四,D777,",
]


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def run(tmp: Path, *args: str, config: Path | None = None):
    pre = ["--db", str(tmp / "crm.duckdb")] + (["--config", str(config)] if config else [])
    return runner.invoke(app, [*pre, *args])


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def shop(tmp: Path) -> Path:
    return write(tmp / "ro.csv", SHOP, "gbk")


def mapping(tmp: Path) -> Path:
    path = tmp / "crmtool.toml"
    path.write_text('[columns.repair_orders]\nsettle_date = ["单据日期"]\n', encoding="utf-8")
    return path


def test_inspect_text_is_pinned_in_english(tmp_path):
    ro, db = shop(tmp_path), tmp_path / "crm.duckdb"
    r = run(tmp_path, "inspect", "--lang", "en", str(ro), config=mapping(tmp_path))
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout.splitlines() == [
        f"== {ro}",
        "header row: line 2 (gb18030)",
        # the ro_id header decides; the VIN and the store tag are no evidence (shared)
        "table: repair_orders (ro_id header 工单号); evidence: ro_id, settle_date, mileage_km, "
        "ro_type, payer (5); runner-up: vehicles: plate (1)",
        "also feeds: vehicles",
        "columns:",
        "  工单号 → ro_id (built-in)",
        "  VIN → vin (built-in)",
        "  单据日期 → settle_date (config)",
        "  维修类型 → ro_type (built-in)",
        "  结算方式 → payer (built-in)",
        "  进厂里程 → mileage_km (built-in)",
        "  车牌号 → plate (built-in)",
        "  车主 → — (not used)",  # an owner's name alone feeds no customer
        "  经销商代码 → dealer_code (built-in)",
        "  备注 → — (not used)",
        "values of ro_type:",
        "  保养 ×2 → maintenance",
        "  钣喷 ×2 → body_paint",
        "  常规保养15K ×1 → other (unknown)",
        "values of payer:",
        "  保险 ×2 → insurance",
        "  自费 ×2 → customer",
        "  团购 ×1 → other (unknown)",
        # 5 rows: R1 R2 R4 new, R4's first line replaced by its second, R3 without a VIN
        "a load would give: read 5 = loaded 3 + duplicates 1 + rejected 1 (repair_orders); "
        "also fed: vehicles +2",
        "flags (values that did not parse, odd VINs and phones):",
        "  repair_orders mileage_km: bad_mileage ×1: line 4: abc",
        "  repair_orders payer: unknown_code ×1: line 3: 团购",
        "  repair_orders ro_type: unknown_code ×1: line 3: 常规保养15K",
        "rejects:",
        "  repair_orders missing vin ×1: line 5",
        "",
        "warning: no repair order of this load belongs to own_dealers (D001); dealer codes "
        "loaded: D777 (3); set own_dealers in crmtool.toml",
        "total: read 5 = loaded 3 + duplicates 1 + rejected 1",
        f"database {db} does not exist yet: counts are for an empty one",
        f"nothing was written to {db}",
    ]
    assert not db.exists()


def test_inspect_text_is_chinese_by_default_and_says_why_a_load_fails(tmp_path):
    ro, db = shop(tmp_path), tmp_path / "crm.duckdb"
    r = run(tmp_path, "inspect", str(ro))
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        f"== {ro}",
        "表头行: 第2行 (gb18030)",
        "识别为: repair_orders 维修工单 (ro_id header 工单号); 依据: ro_id, mileage_km, ro_type, "
        "payer (4); 次选: vehicles 车辆: plate (1)",
        "同时补充: vehicles 车辆",
        "列映射:",
        "  工单号 → ro_id 工单号 (内置)",
        "  VIN → vin 车架号(VIN) (内置)",
        "  单据日期 → — (未使用)",
        "  维修类型 → ro_type 维修类型 (内置)",
        "  结算方式 → payer 付费方式 (内置)",
        "  进厂里程 → mileage_km 里程(km) (内置)",
        "  车牌号 → plate 车牌号 (内置)",
        "  车主 → — (未使用)",
        "  经销商代码 → dealer_code 经销商代码 (内置)",
        "  备注 → — (未使用)",
        # all five 单据日期 cells are dates
        "缺少必需字段 settle_date 结算日期: 可由这些列提供 单据日期 (5个值中5个可解析)",
        "ro_type 维修类型 的取值:",
        "  保养 ×2 → maintenance 定期保养",
        "  钣喷 ×2 → body_paint 钣金喷漆",
        "  常规保养15K ×1 → other 其他 (未知)",
        "payer 付费方式 的取值:",
        "  保险 ×2 → insurance 保险",
        "  自费 ×2 → customer 自费",
        "  团购 ×1 → other 其他 (未知)",
        f"导入将失败: {ro}: no column for repair_orders.settle_date; accepted headers: 结算日期, "
        "结算时间, 出厂日期, 完工日期, 工单结算日期, 提交结算时间, settle_date",
        "",
        "合计: 读取 0 = 入库 0 + 重复 0 + 拒收 0",
        "没有工单属于本店 own_dealers (D001): 所有指标将为0; 见 --suggest-config",
        f"数据库 {db} 尚不存在: 按空库计算",
        f"未写入 {db}",
    ]


def test_inspect_flags_and_rejects_in_chinese(tmp_path):
    ro = shop(tmp_path)
    r = run(tmp_path, "inspect", str(ro), config=mapping(tmp_path))
    lines = r.stdout.splitlines()
    at = lines.index("标记 (无法解析的值、异常VIN和电话):")
    assert lines[at - 1 : at + 6] == [
        "导入预计: 读取 5 = 入库 3 + 重复 1 + 拒收 1 (repair_orders); 另补充: vehicles +2",
        "标记 (无法解析的值、异常VIN和电话):",
        "  repair_orders 维修工单 mileage_km 里程(km): bad_mileage 里程无法识别 ×1: 第4行: abc",
        "  repair_orders 维修工单 payer 付费方式: unknown_code 未识别的代码值 ×1: 第3行: 团购",
        "  repair_orders 维修工单 ro_type 维修类型: unknown_code 未识别的代码值 ×1: 第3行: "
        "常规保养15K",
        "拒收:",
        "  repair_orders 维修工单 缺少车架号(VIN) ×1: 第5行",
    ]


def test_inspect_json_is_pinned(tmp_path):
    ro, db = shop(tmp_path), tmp_path / "crm.duckdb"
    r = run(tmp_path, "inspect", "--format", "json", str(ro), config=mapping(tmp_path))
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    sheet = got["files"][0].pop("sheets")[0]
    assert got == {
        "database": str(db),
        "database_exists": False,
        "load_ok": True,
        "files": [
            {
                "file": str(ro),
                "error": None,
                "skipped": None,
                "load_error": None,
                "flags": [
                    {
                        "kind": "repair_orders",
                        "field": "mileage_km",
                        "flag": "bad_mileage",
                        "count": 1,
                        "examples": [{"line": 4, "raw": "abc"}],
                    },
                    {
                        "kind": "repair_orders",
                        "field": "payer",
                        "flag": "unknown_code",
                        "count": 1,
                        "examples": [{"line": 3, "raw": "团购"}],
                    },
                    {
                        "kind": "repair_orders",
                        "field": "ro_type",
                        "flag": "unknown_code",
                        "count": 1,
                        "examples": [{"line": 3, "raw": "常规保养15K"}],
                    },
                ],
                "rejects": [
                    {
                        "kind": "repair_orders",
                        "reason": "missing vin",
                        "count": 1,
                        "examples": [{"line": 5, "reason": "missing vin"}],
                    }
                ],
                "alone": False,
                "earlier": None,
            }
        ],
        "load_error": None,
        "notices": [
            "no repair order of this load belongs to own_dealers (D001); dealer "
            "codes loaded: D777 (3); set own_dealers in crmtool.toml"
        ],
        "total": {"read": 5, "loaded": 3, "duplicates": 1, "rejected": 1},
        "own_dealers": ["D001"],
        "own_orders": 0,
        "suggested_config": (
            "# top-level key: put it above the first [table] of your config\n"
            '# no repair order belongs to own_dealers ["D001"]; the files\' dealers: D777 ×5\n'
            'own_dealers = ["D777"]\n\n[values.ro_type]\nmaintenance = ["常规保养15K"]\n\n'
            '# payer "团购" ×1 is unknown (loads as other); map it under [values.payer] to '
            "one of: customer warranty insurance internal other\n"
        ),
    }
    assert sheet.pop("detection") == {
        "kind": "repair_orders",
        "reason": "ro_id header 工单号",
        "score": 5,
        "evidence": ["ro_id", "settle_date", "mileage_km", "ro_type", "payer"],
        "runner_up": "vehicles",
        "runner_up_score": 1,
        "runner_up_evidence": ["plate"],
        "ambiguous": False,
        "forced": False,
        "feeds": ["vehicles"],
        "candidates": {"repair_orders": 5, "vehicles": 1, "dealers": 0},
    }
    columns = sheet.pop("columns")
    assert columns[2] == {
        "header": "单据日期",
        "column": 3,
        "field": "settle_date",
        "source": "config",
        "used": True,
        "overrides": None,
    }
    assert [(c["column"], c["header"], c["field"], c["source"], c["used"]) for c in columns] == [
        (1, "工单号", "ro_id", "built-in", True),
        (2, "VIN", "vin", "built-in", True),
        (3, "单据日期", "settle_date", "config", True),
        (4, "维修类型", "ro_type", "built-in", True),
        (5, "结算方式", "payer", "built-in", True),
        (6, "进厂里程", "mileage_km", "built-in", True),
        (7, "车牌号", "plate", "built-in", True),
        (8, "车主", None, "none", False),
        (9, "经销商代码", "dealer_code", "built-in", True),
        (10, "备注", None, "none", False),
    ]
    assert sheet == {
        "sheet": None,
        "header_line": 2,
        "encoding": "gb18030",
        "kind": "repair_orders",
        "missing": [],
        "notes": [],
        "codes": {
            "ro_type": [
                {"raw": "保养", "count": 2, "maps_to": "maintenance", "known": True},
                {"raw": "钣喷", "count": 2, "maps_to": "body_paint", "known": True},
                {"raw": "常规保养15K", "count": 1, "maps_to": "other", "known": False},
            ],
            "payer": [
                {"raw": "保险", "count": 2, "maps_to": "insurance", "known": True},
                {"raw": "自费", "count": 2, "maps_to": "customer", "known": True},
                {"raw": "团购", "count": 1, "maps_to": "other", "known": False},
            ],
        },
        "more_values": {},
        "dealers": {"D777": 5},
        "counts": {"read": 5, "loaded": 3, "duplicates": 1, "rejected": 1},
        "fed": {"vehicles": 2},
        "earlier": None,
    }


def test_inspect_writes_nothing(tmp_path):
    """The database file, the config, the exports and the folder stay byte-identical."""
    cu = write(tmp_path / "cu.csv", ["客户编号,手机", "C1,13800138000"])
    assert run(tmp_path, "load", str(cu)).exit_code == 0
    ro, cfg = shop(tmp_path), mapping(tmp_path)
    before = snapshot(tmp_path)
    for args in (
        ["inspect", str(ro)],
        ["inspect", "--format", "json", str(tmp_path)],
        ["inspect", "--suggest-config", str(ro), str(cu)],
        ["inspect", "--kind", "vehicles", str(ro)],
    ):
        r = run(tmp_path, *args, config=cfg)
        assert r.exit_code == 0, r.output
        assert snapshot(tmp_path) == before
    gone = tmp_path / "new.duckdb"
    r = runner.invoke(app, ["--db", str(gone), "inspect", str(ro)])
    assert r.exit_code == 0 and not gone.exists()


def test_suggested_config_makes_the_file_load(tmp_path):
    ro = shop(tmp_path)
    r = run(tmp_path, "inspect", "--suggest-config", str(ro))
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        '# no repair order belongs to own_dealers ["D001"]; the files\' dealers: D777 ×5\n'
        'own_dealers = ["D777"]\n'
        "\n"
        "[columns.repair_orders]\n"
        'settle_date = ["单据日期"]\n'  # the only column whose cells are dates
        "\n"
        "[values.ro_type]\n"
        'maintenance = ["常规保养15K"]\n'  # contains 常规保养 (4 characters) and 5K (2)
        "\n"
        '# payer "团购" ×1 is unknown (loads as other); map it under [values.payer] to one of:'
        " customer warranty insurance internal other\n"
    )
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text("ours_days = 700\n" + r.stdout, encoding="utf-8")
    load = run(tmp_path, "load", str(ro), config=cfg)
    assert load.exit_code == 0, load.output
    assert load.stderr.splitlines()[:2] == [
        f"{ro}: read 5 = loaded 3 + duplicates 1 + rejected 1 (repair_orders); "
        "also fed: vehicles +2",
        "total: read 5 = loaded 3 + duplicates 1 + rejected 1",
    ]
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    assert con.execute(
        "SELECT ro_id, ro_type, dealer_code FROM repair_orders ORDER BY 1"
    ).fetchall() == [
        ("R1", "maintenance", "D777"),
        ("R2", "maintenance", "D777"),
        ("R4", "body_paint", "D777"),
    ]
    # the reasons addressed are gone: no unknown ro_type; the payer was only a comment
    assert con.execute("SELECT field, flag FROM flags ORDER BY 1").fetchall() == [
        ("mileage_km", "bad_mileage"),
        ("payer", "unknown_code"),
    ]
    con.close()
    again = run(tmp_path, "inspect", "--suggest-config", str(ro), config=cfg)
    assert again.stdout.startswith('# payer "团购" ×1 is unknown')  # nothing else to add


def test_counts_agree_with_the_load_on_a_database_with_data(tmp_path):
    first = write(
        tmp_path / "a.csv", ["工单号,VIN,结算日期", f"R1,{V1},2021-01-05", f"R2,{V1},2021-02-05"]
    )
    assert run(tmp_path, "load", str(first)).exit_code == 0
    # R2 is in the database (a duplicate), R5 is new, R6 has no settle date
    second = write(
        tmp_path / "b.csv",
        ["工单号,VIN,结算日期", f"R2,{V1},2021-02-06", f"R5,{V2},2021-03-05", f"R6,{V2},"],
    )
    line = f"{second}: read 3 = loaded 1 + duplicates 1 + rejected 1 (repair_orders)"
    r = run(tmp_path, "inspect", "--lang", "en", str(second))
    assert (
        "a load would give: read 3 = loaded 1 + duplicates 1 + rejected 1 "
        "(repair_orders)" in r.stdout.splitlines()
    )
    assert "  repair_orders missing settle_date ×1: line 4" in r.stdout.splitlines()
    load = run(tmp_path, "load", str(second))
    assert load.stderr.splitlines()[0] == line


def test_a_file_loaded_before_shows_that_loads_counts_and_rejects(tmp_path):
    ro = shop(tmp_path)
    cfg = mapping(tmp_path)
    assert run(tmp_path, "load", str(ro), config=cfg).exit_code == 0
    r = run(tmp_path, "inspect", "--lang", "en", str(ro), config=cfg)
    lines = r.stdout.splitlines()
    assert "when it was loaded: read 5 = loaded 3 + duplicates 1 + rejected 1" in lines
    assert "  repair_orders missing vin ×1: line 5" in lines
    # --force, as for load: every kept row meets its key again (R1, R2, R4 twice), R3 no VIN
    forced = run(tmp_path, "inspect", "--force", "--lang", "en", str(ro), config=cfg)
    assert "total: read 5 = loaded 0 + duplicates 4 + rejected 1" in forced.stdout.splitlines()
    assert lines[-6:] == [
        "a load would skip it: already loaded",
        f"loaded before (load 1, as {ro}); the flags and rejects above are that load's",
        "",
        "total: read 0 = loaded 0 + duplicates 0 + rejected 0",
        "no repair order belongs to own_dealers (D001): every figure would be 0; "
        "see --suggest-config",
        f"nothing was written to {tmp_path / 'crm.duckdb'}",
    ]


def test_unreadable_file_and_workbook_sheets(tmp_path):
    import xlsxwriter

    odd = write(tmp_path / "odd.csv", ["甲,乙", "1,2"])
    book = tmp_path / "ro.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    wb.add_worksheet("说明").write_row(0, 0, ["导出说明"])
    ws = wb.add_worksheet("工单")
    for i, row in enumerate(
        [["工单导出"], ["2021年1月"], ["工单号", "VIN", "结算日期"], ["R1", V1, "2021-01-05"]]
    ):
        ws.write_row(i, 0, row)
    wb.close()
    r = run(tmp_path, "inspect", "--lang", "en", str(odd), str(book))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[:4] == [
        f"== {odd}",
        f"cannot be read: {odd}: no recognisable header in the first 20 rows (first row: 甲 | 乙)",
        f"a load would fail: {odd}: no recognisable header in the first 20 rows (first row: 甲 | "
        "乙)",
        "",
    ]
    assert lines[4:7] == [f"== {book}", "-- [工单]", "header row: line 3"]
    # named explicitly, a workbook with a sheet without header fails the load (rulebook §16)
    assert (
        f"a load would fail: {book}: sheet '说明' has 1 rows and no recognisable header in "
        "its first 20 rows (first row: 导出说明); load its folder instead to report it and "
        "load the rest"
    ) in lines
    data = json.loads(run(tmp_path, "inspect", "--format", "json", str(odd)).stdout)
    assert (data["load_ok"], data["files"][0]["sheets"]) == (False, [])


def test_usage_errors(tmp_path):
    ro = shop(tmp_path)
    for args, message in (
        (["--format", "xml"], "--format must be text or json"),
        (["--lang", "fr"], "--lang: unknown language 'fr'; use zh or en"),
        (
            ["--kind", "cars"],
            "--kind must be one of: customers, vehicles, repair_orders, leads, dealers, contacts",
        ),
    ):
        r = run(tmp_path, "inspect", *args, str(ro))
        assert (r.exit_code, r.stderr) == (2, f"crmtool: error: {message}\n")
    missing = run(tmp_path, "inspect", str(tmp_path / "nope.csv"))
    assert (missing.exit_code, missing.stderr) == (
        1,
        f"crmtool: error: {tmp_path / 'nope.csv'}: no such file or folder\n",
    )


def test_load_points_to_inspect(tmp_path):
    bad = write(tmp_path / "b.csv", ["工单号,结算日期", "R2,2021-01-05"])
    r = run(tmp_path, "load", str(bad))
    assert (r.exit_code, r.stderr) == (
        1,
        (
            f"crmtool: error: {bad}: no column for repair_orders.vin; accepted headers: VIN, VIN码, "
            "VIN号, 车辆VIN号, 车辆识别码(VIN), 车架号, 底盘号, 车辆识别代号, vin; "
            f"run `crmtool inspect {bad}` to see why\n"
        ),
    )
    ok = run(tmp_path, "load", str(shop(tmp_path)), config=mapping(tmp_path))
    assert ok.stderr.splitlines()[-1] == (
        f"rejected rows: `crmtool rejects`; how a file is read: "
        f"`crmtool inspect {tmp_path / 'ro.csv'}`"
    )
