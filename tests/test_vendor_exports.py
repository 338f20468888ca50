"""Real DMS export shapes (issue 13) load right the first time, or stop with one line:
tests/vendor_exports.py writes them; every count and figure below is worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import vendor_exports as ve
from typer.testing import CliRunner

from crmtool.cli import app
from crmtool.config import Config, config_from_dict
from crmtool.errors import CrmError
from crmtool.load import ingest
from crmtool.load.detect import detect_kind, map_columns
from crmtool.load.validate import validate

D = dt.date
V = ve.V
runner = CliRunner()


def rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def counts(r: ingest.SheetResult) -> tuple:
    return (r.kind, r.read, r.loaded, r.duplicates, r.rejected)


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def check(con) -> dict[str, int]:
    return {c.name: c.count for c in validate(con, Config(), D(2021, 12, 31))}


# ---------------------------------------------------------------- OEM repair orders


def test_oem_export_with_owner_columns_and_no_payer(con, tmp_path):
    cfg = config_from_dict({"own_dealers": ["D100"]})  # the one config line it needs
    res = ingest.load(con, [ve.oem_repair_orders(tmp_path)], cfg)
    (s,) = res.sheets
    # 6 rows: R2106 is voided (已作废): dropped and counted as rejected; 5 orders loaded
    assert counts(s) == ("repair_orders", 6, 5, 0, 1)
    assert s.detection.reason == "ro_id header 工单号"
    assert s.detection.runner_up == "vehicles"  # plate, brand, series, model: fed, not chosen
    # owners and vehicles fed: K001-K003 and V1-V3
    assert s.fed == {"customers": 3, "vehicles": 3}
    assert rows(con, "SELECT line, reason FROM rejects") == [(7, "voided order")]
    got = rows(
        con,
        "SELECT ro_id, dealer_code, vin, open_date, settle_date, mileage_km, "
        "ro_type, payer, labor_amount, parts_amount, total_amount, advisor "
        "FROM repair_orders ORDER BY ro_id",
    )
    assert got == [
        # 保养 with 单据保养次数 = 1: first service, payer by type: warranty
        (
            "R2101",
            "D100",
            V[1],
            D(2021, 3, 1),
            D(2021, 3, 1),
            5000.0,
            "first_service",
            "warranty",
            100.0,
            200.0,
            300.0,
            "王芳",
        ),
        (
            "R2102",
            "D100",
            V[2],
            D(2021, 3, 2),
            D(2021, 3, 3),
            12000.0,
            "maintenance",
            "customer",
            150.0,
            250.0,
            400.0,
            "王芳",
        ),
        (
            "R2103",
            "D100",
            V[1],
            D(2021, 4, 5),
            D(2021, 4, 6),
            9000.0,
            "repair",
            "customer",
            500.0,
            700.0,
            1200.0,
            "赵强",
        ),
        (
            "R2104",
            "D100",
            V[3],
            D(2021, 4, 7),
            D(2021, 4, 7),
            30000.0,
            "body_paint",
            "insurance",
            800.0,
            1200.0,
            2000.0,
            "赵强",
        ),
        (
            "R2105",
            "D100",
            V[2],
            D(2021, 5, 1),
            D(2021, 5, 1),
            15000.0,
            "warranty",
            "warranty",
            0.0,
            600.0,
            600.0,
            "王芳",
        ),
    ]
    assert rows(con, "SELECT customer_id, name, phone FROM customers ORDER BY 1") == [
        ("K001", "张三", "13800000001"),
        ("K002", "李四", "13800000002"),
        ("K003", "王五", "13800000003"),
    ]
    assert rows(con, "SELECT vin, plate, customer_id, series FROM vehicles ORDER BY plate") == [
        (V[1], "渝A10001", "K001", "CS75"),
        (V[2], "渝A10002", "K002", "CS55"),
        (V[3], "渝A10003", "K003", "逸动"),
    ]
    # customer-paid: R2102 400 + R2103 1200
    assert rows(con, "SELECT sum(total_amount) FROM repair_orders WHERE payer = 'customer'") == [
        (400.0 + 1200.0,)
    ]
    assert res.warnings == [
        f"{s.file}: payer missing on 5 of 5 rows (no payer column): inferred from the order "
        "type ([defaults.payer_by_ro_type])"
    ]
    # validate counts the inferred payers by type: 5 orders
    assert check(con)["payer_inferred"] == 5


def test_oem_export_without_own_dealer_says_so(tmp_path):
    f = ve.oem_repair_orders(tmp_path)
    r = runner.invoke(app, ["--db", str(tmp_path / "c.duckdb"), "load", str(f)])
    assert r.exit_code == 0, r.output
    assert (
        "crmtool: warning: no repair order of this load belongs to own_dealers (D001); "
        "dealer codes loaded: D100 (5); set own_dealers in crmtool.toml"
    ) in r.stderr.splitlines()


def test_own_dealer_without_data_is_named(con, tmp_path):
    cfg = config_from_dict({"own_dealers": ["D100", "D300"]})
    res = ingest.load(con, [ve.oem_repair_orders(tmp_path)], cfg)
    assert res.notices == [
        "own_dealers D300 match no loaded repair order; check own_dealers in crmtool.toml"
    ]


# ---------------------------------------------------------------- Yonyou workbook


YONYOU_TYPES = [
    "first_service",
    "maintenance",
    "repair",
    "body_paint",
    "warranty",
    "pds",
    "internal",
    "other",
    "warranty",
    "other",
    "warranty",
]


def test_yonyou_workbook_with_coded_types_needs_one_line(con, tmp_path):
    cfg = config_from_dict({"profile": "yonyou"})
    res = ingest.load(con, [ve.yonyou_workbook(tmp_path)], cfg)
    (s,) = res.sheets
    assert counts(s) == ("repair_orders", 11, 11, 0, 0)
    assert s.fed == {"customers": 6, "vehicles": 6}  # 陈一 … 陈六, V4 … V9
    got = rows(con, "SELECT ro_type, payer FROM repair_orders ORDER BY ro_id")
    assert [t for t, _ in got] == YONYOU_TYPES
    # payers by type: first_service, warranty -> warranty; pds, internal -> internal;
    # body_paint -> insurance; the rest customer
    assert [p for _, p in got] == [
        "warranty",
        "customer",
        "customer",
        "insurance",
        "warranty",
        "internal",
        "internal",
        "customer",
        "warranty",
        "customer",
        "warranty",
    ]
    # FUWU 服务活动 and XCZH 精品装潢 are known others: nothing reported as unknown
    assert rows(con, "SELECT count(*) FROM flags WHERE flag = 'unknown_code'") == [(0,)]
    # customer-paid: CGBY 500 + PTWX 1200 + XCZH 880 + FUWU 0
    assert rows(con, "SELECT sum(total_amount) FROM repair_orders WHERE payer = 'customer'") == [
        (500.0 + 1200.0 + 880.0 + 0.0,)
    ]
    assert rows(
        con, "SELECT ro_id, settle_date, mileage_km FROM repair_orders ORDER BY ro_id LIMIT 1"
    ) == [("RO2106010001", D(2021, 6, 1), 3000.0)]


def test_yonyou_codes_without_the_profile_are_reported_not_guessed(con, tmp_path):
    ingest.load(con, [ve.yonyou_workbook(tmp_path)], Config())
    assert rows(con, "SELECT DISTINCT ro_type FROM repair_orders") == [("other",)]
    assert check(con)["unknown_ro_type"] == 11


# ---------------------------------------------------------------- shop CSV


def test_shop_csv_gbk_blank_vins_payment_methods_line_items(con, tmp_path):
    ingest.load(con, [ve.shop_vehicles(tmp_path)], Config())  # 浙B30004 is V14, known before
    res = ingest.load(con, [ve.shop_csv(tmp_path)], Config())
    (s,) = res.sheets
    # 10 rows: J008 voided and J009 (plate unknown, no VIN) rejected; J001's two item rows
    # are one order (one duplicate); 7 orders J001 … J007
    assert counts(s) == ("repair_orders", 10, 7, 1, 2)
    assert s.notes == ["voided: 1", "VIN from plate: 3", "line items: 2 rows summed into 1 orders"]
    assert rows(con, "SELECT line, reason FROM rejects ORDER BY line") == [
        (10, "voided order"),
        (11, "missing vin"),
    ]
    got = rows(
        con, "SELECT ro_id, vin, ro_type, payer, total_amount FROM repair_orders ORDER BY ro_id"
    )
    assert got == [
        ("J001", V[10], "maintenance", "customer", 300.0 + 80.0),  # 现金, two items
        ("J002", V[11], "repair", "customer", 450.0),  # 小修, 微信
        ("J003", V[10], "repair", "customer", 260.0),  # 中修, 支付宝, VIN of 浙B30001
        ("J004", V[12], "repair", "customer", 8000.0),  # 大修, 刷卡
        ("J005", V[12], "maintenance", "customer", 300.0),  # 挂账, VIN of 浙B30003
        ("J006", V[14], "repair", "customer", 60.0),  # 普通维修, 会员卡, VIN from the database
        ("J007", V[13], "body_paint", "insurance", 1500.0),  # 保险公司
    ]
    assert rows(con, "SELECT line, raw FROM flags WHERE flag = 'vin_from_plate' ORDER BY line") == [
        (5, "浙B30001"),
        (7, "浙B30003"),
        (8, "浙B30004"),
    ]
    assert res.warnings == []  # every row has its payer
    # customer-paid 380 + 450 + 260 + 8000 + 300 + 60
    assert rows(con, "SELECT sum(total_amount) FROM repair_orders WHERE payer = 'customer'") == [
        (380.0 + 450 + 260 + 8000 + 300 + 60,)
    ]
    assert check(con)["vin_from_plate"] == 3


def test_plate_of_two_vins_or_loaded_in_the_same_load_is_no_vin(con, tmp_path):
    two = write(
        tmp_path / "a.csv",
        [
            "接车单号,车牌号,VIN,结算日期,结算方式",
            f"A1,浙B1,{V[1]},2021-01-01,现金",
            f"A2,浙B1,{V[2]},2021-01-02,现金",
            "A3,浙B1,,2021-01-03,现金",
        ],
    )
    # the vehicles file loads in the same invocation: not "before this load" (docs/rules.md §1 "VIN by plate")
    res = ingest.load(
        con,
        [
            two,
            ve.shop_vehicles(tmp_path),
            write(
                tmp_path / "b.csv",
                ["接车单号,车牌号,VIN,结算日期,结算方式", "B1,浙B30004,,2021-01-03,现金"],
            ),
        ],
        Config(),
    )
    assert [counts(s) for s in res.sheets] == [
        ("repair_orders", 3, 2, 0, 1),
        ("vehicles", 1, 1, 0, 0),
        ("repair_orders", 1, 0, 0, 1),
    ]


# ---------------------------------------------------------------- history without ro_id


def test_history_without_order_numbers_loads_with_stable_keys(con, tmp_path):
    cfg = config_from_dict({"own_dealers": ["D100"]})
    f = ve.history_without_ro(tmp_path)
    (s,) = ingest.load(con, [f], cfg).sheets
    assert counts(s) == ("repair_orders", 5, 5, 0, 0)
    assert s.notes == ["no order number: key = VIN + dates + type"]
    assert rows(
        con, "SELECT ro_id, dealer_code, ro_type, payer FROM repair_orders ORDER BY _line"
    ) == [
        (f"~{V[15]}/2021-01-10/2021-01-10/首次保养/1", "D100", "first_service", "warranty"),
        (f"~{V[15]}/2021-07-13/2021-07-12/定期保养/1", "D100", "maintenance", "customer"),
        (f"~{V[16]}/2021-02-02/2021-02-01/一般维修/1", "D100", "repair", "customer"),
        (f"~{V[16]}/2021-02-02/2021-02-01/一般维修/2", "D100", "repair", "customer"),
        (f"~{V[17]}/2021-03-03/2021-03-03/三包维修/1", "D200", "warranty", "warranty"),
    ]
    # a later export of the same history (other bytes: one more visit) changes nothing of it
    again = write(
        tmp_path / "维修履历2.csv",
        [",".join(ve.HISTORY_HEADER)]
        + [",".join(r) for r in ve.HISTORY_ROWS]
        + [f"{V[15]},D100,2021-12-01,2021-12-01,定期保养"],
    )
    (s2,) = ingest.load(con, [again], cfg).sheets
    assert counts(s2) == ("repair_orders", 6, 1, 5, 0)
    assert rows(con, "SELECT count(*) FROM repair_orders") == [(5 + 1,)]


# ---------------------------------------------------------------- customer list with VINs


def test_customer_list_with_vin_columns_feeds_vehicles(con, tmp_path):
    res = ingest.load(con, [ve.customer_list(tmp_path)], Config())
    (s,) = res.sheets
    assert counts(s) == ("customers", 4, 4, 0, 0)
    assert s.fed == {"vehicles": 3}
    assert s.detection.runner_up == "vehicles"
    assert rows(con, "SELECT customer_id, name, gender FROM customers ORDER BY 1") == [
        ("C101", "周一", "male"),
        ("C102", "周二", "female"),
        ("C103", "周三", "male"),
        ("C104", "周四", "female"),
    ]
    assert rows(
        con,
        "SELECT vin, customer_id, model, sale_channel, usage, warranty_end "
        "FROM vehicles ORDER BY customer_id",
    ) == [
        (V[18], "C101", "帕萨特", "own", "private", D(2030, 6, 30)),
        (V[19], "C102", "途观", "other", "commercial", D(2029, 1, 31)),
        (V[20], "C103", "朗逸", "own", "official", None),
    ]
    # warranty ends lie in the future by nature: not future dates
    assert check(con)["future_dates"] == 0


# ---------------------------------------------------------------- callback export


def test_callback_export_results(con, tmp_path):
    (s,) = ingest.load(con, [ve.callback_export(tmp_path)], Config()).sheets
    assert counts(s) == ("contacts", 6, 6, 0, 0)
    assert rows(con, "SELECT result FROM contacts ORDER BY contact_date") == [
        ("reached",),
        ("no_answer",),
        ("wrong_number",),
        ("unreachable",),
        ("refused",),
        ("wrong_number",),
    ]


# ---------------------------------------------------------------- detection and mapping


def test_close_evidence_stops_with_one_line(tmp_path):
    f = write(tmp_path / "x.csv", ["VIN,出厂日期,行驶里程,车型", f"{V[1]},2020-01-01,100,朗逸"])
    db = tmp_path / "c.duckdb"
    r = runner.invoke(app, ["--db", str(db), "load", str(f)])
    assert r.exit_code == 1
    assert r.stderr == (
        f"crmtool: error: {f}: cannot tell whether this file holds repair_orders or vehicles "
        "(repair_orders: 1 field, vehicles: 1 field); pass --kind repair_orders or "
        f"--kind vehicles; run `crmtool inspect {f}` to see why\n"
    )
    ok = runner.invoke(app, ["--db", str(db), "load", "--kind", "vehicles", str(f)])
    assert ok.exit_code == 0, ok.output
    assert ok.stderr.splitlines()[0] == (
        f"{f}: read 1 = loaded 1 + duplicates 0 + rejected 0 (vehicles)"
    )


def test_manufacture_date_in_a_vehicles_file_is_not_a_visit():
    d = detect_kind(["VIN", "车牌号", "出厂日期", "行驶里程", "品牌", "车系"], None)
    # repair orders: mileage only (出厂日期 is weak); vehicles: plate, brand, series
    assert (d.kind, d.score, d.runner_up, d.runner_up_score, d.ambiguous) == (
        "vehicles",
        3,
        "repair_orders",
        1,
        False,
    )


def test_user_mapping_wins_over_a_builtin_alias(con, tmp_path):
    cfg = config_from_dict(
        {"columns": {"repair_orders": {"settle_date": ["开工单时间"], "payer": ["工单类型"]}}}
    )
    headers = ["工单号", "VIN", "开工单时间", "工单类型"]
    cols = map_columns(headers, "repair_orders", cfg)
    assert [(c.header, c.field, c.source, c.overrides) for c in cols] == [
        ("工单号", "ro_id", "built-in", None),
        ("VIN", "vin", "built-in", None),
        ("开工单时间", "settle_date", "config", "open_date"),
        ("工单类型", "payer", "config", "ro_type"),
    ]
    f = write(tmp_path / "ro.csv", [",".join(headers), f"R1,{V[1]},2021-02-03 09:00,自费"])
    (s,) = ingest.load(con, [f], cfg).sheets
    assert counts(s) == ("repair_orders", 1, 1, 0, 0)
    assert rows(con, "SELECT open_date, settle_date, ro_type, payer FROM repair_orders") == [
        (None, D(2021, 2, 3), None, "customer")
    ]


def test_blank_payer_cell_is_inferred_and_warned(con, tmp_path):
    f = write(
        tmp_path / "ro.csv",
        [
            "工单号,VIN,结算日期,维修类型,付费方式",
            f"R1,{V[1]},2021-01-01,首保,",
            f"R2,{V[1]},2021-02-01,维修,自费",
            f"R3,{V[1]},2021-03-01,PDI,",
        ],
    )
    res = ingest.load(con, [f], Config())
    assert rows(con, "SELECT ro_id, payer FROM repair_orders ORDER BY 1") == [
        ("R1", "warranty"),
        ("R2", "customer"),
        ("R3", "internal"),
    ]
    assert res.warnings == [
        f"{f}: payer missing on 2 of 3 rows (blank payer): inferred from "
        "the order type ([defaults.payer_by_ro_type])"
    ]


def test_payer_defaults_are_config(con, tmp_path):
    cfg = config_from_dict({"defaults": {"payer_by_ro_type": {"first_service": "customer"}}})
    f = write(
        tmp_path / "ro.csv",
        [
            "工单号,VIN,结算日期,维修类型",
            f"R1,{V[1]},2021-01-01,首保",
            f"R2,{V[1]},2021-02-01,三包",
        ],
    )
    ingest.load(con, [f], cfg)
    # the table replaces the default one: warranty is no longer listed -> customer
    assert rows(con, "SELECT payer FROM repair_orders ORDER BY ro_id") == [
        ("customer",),
        ("customer",),
    ]
    with pytest.raises(CrmError, match="defaults.payer_by_ro_type.first_service' must be"):
        config_from_dict({"defaults": {"payer_by_ro_type": {"first_service": "boss"}}})


def test_absurd_mileage_and_amounts_are_dropped_and_flagged(con, tmp_path):
    big = "1" + "0" * 22  # 1e22 km
    huge = "1" + "0" * 26  # 1e26 yuan
    f = write(
        tmp_path / "ro.csv",
        [
            "工单号,VIN,结算日期,进厂里程,结算金额,付费方式",
            f"R1,{V[1]},2021-01-01,{big},{huge},自费",
            f"R2,{V[1]},2021-02-01,2000000,10000000,自费",
        ],
    )
    ingest.load(con, [f], Config())
    # bounds: 2,000,000 km and 10,000,000 yuan ([defaults]); the bound itself is kept
    assert rows(con, "SELECT ro_id, mileage_km, total_amount FROM repair_orders ORDER BY 1") == [
        ("R1", None, None),
        ("R2", 2e6, 1e7),
    ]
    assert rows(con, "SELECT field, flag, raw FROM flags ORDER BY field") == [
        ("mileage_km", "out_of_range", big),
        ("total_amount", "out_of_range", huge),
    ]
    assert check(con)["out_of_range"] == 2


def test_every_date_after_as_of_warns(tmp_path):
    f = ve.history_without_ro(tmp_path)
    r = runner.invoke(
        app, ["--db", str(tmp_path / "c.duckdb"), "--as-of", "2020-12-31", "load", str(f)]
    )
    assert r.exit_code == 0, r.output
    assert (
        f"crmtool: warning: {f}: every settle date is after as_of (2020-12-31): check the "
        "date column or --as-of" in r.stderr.splitlines()
    )


@pytest.mark.parametrize(
    ("header", "table", "field"),
    [
        ("进厂行驶里程", "repair_orders", "mileage_km"),
        ("维修金额", "repair_orders", "total_amount"),
        ("修理费用", "repair_orders", "labor_amount"),
        ("材料费用", "repair_orders", "parts_amount"),
        ("提交结算时间", "repair_orders", "settle_date"),
        ("工单开单日期", "repair_orders", "open_date"),
        ("工单开据日期", "repair_orders", "open_date"),
        ("工单结算日期", "repair_orders", "settle_date"),
        ("客户经理", "repair_orders", "advisor"),
        ("接待顾问", "repair_orders", "advisor"),
        ("联系人手机", "customers", "phone"),
        ("车主编号", "customers", "customer_id"),
        ("联系人姓名", "customers", "name"),
        ("保修结束日期", "vehicles", "warranty_end"),
        ("经销商编号", "repair_orders", "dealer_code"),
        ("是否本公司购车", "vehicles", "sale_channel"),
        ("单据保养次数", "repair_orders", "maintenance_count"),
        ("服务商代码", "repair_orders", "dealer_code"),
    ],
)
def test_real_system_headers_map_unaided(header, table, field):
    (c,) = map_columns([header], table, None)
    assert (c.field, c.source, c.used) == (field, "built-in", True)


def test_the_person_who_brought_the_car_is_not_the_owner():
    both = map_columns(["客户编号", "车主电话", "送修人手机"], "customers", None)
    assert [(c.field, c.used) for c in both] == [
        ("customer_id", True),
        ("phone", True),
        ("phone", False),
    ]
    only = map_columns(["客户编号", "送修人手机"], "customers", None)
    assert [(c.field, c.used) for c in only] == [("customer_id", True), ("phone", True)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"columns": {"repair_orders": {"settle": ["x"]}}},
            "config key 'columns.repair_orders.settle': no such field of repair_orders; one of: ",
        ),
        ({"columns": {"ro": {}}}, "config key 'columns.ro': no such table; one of: customers, "),
        ({"values": {"rotype": {}}}, "config key 'values.rotype': no such code kind; one of: "),
        ({"profile": "sap"}, "config key 'profile' must be one of: yonyou, infodms; got 'sap'"),
    ],
)
def test_a_mapping_that_would_be_ignored_is_an_error(data, message):
    with pytest.raises(CrmError) as e:
        config_from_dict(data)
    assert str(e.value).startswith(message)
