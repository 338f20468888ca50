"""The load: hand-built exports with hand-worked counts, rejects, flags and upserts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from crmtool import db
from crmtool.config import Config, config_from_dict
from crmtool.db import connect
from crmtool.errors import CrmError
from crmtool.load import ingest
from crmtool.load.validate import validate

D = dt.date
# VINs with a correct check digit (position 9)
V1, V2, V3, V4, V5 = (
    "LSVAA4183E2000001",
    "LSVAA4185E2000002",
    "LSVAA4187E2000003",
    "LSVAA4189E2000004",
    "LSVAA4180E2000005",
)


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def counts(r: ingest.SheetResult) -> tuple:
    return (r.kind, r.read, r.loaded, r.duplicates, r.rejected)


RO_ZH = [
    "工单号,经销商代码,VIN,结算日期,进厂里程,维修类型,付费方式,工时费,材料费,结算金额",
    f'RO1,,{V1},2021-03-05,3.2万,首保,自费,"￥1,234.50",100,',  # 2
    f"RO2,D002,{V2},2021/3/6,12000km,洗车,奇怪,10,20,99",  # 3 unknown codes
    f"RO3,,{V3},2021.3.7,,保养,保险,,,",  # 4
    f"RO4,,{V4},20210308,abc,定保,客付,5,,",  # 5 bad mileage
    f"RO5,,{V5},2021年3月9日,,钣喷,保险理赔,,,-50",  # 6 negative
    f"RO6,,{V1},2021-03-10 10:20:00,,维修,自费,,,100",  # 7
    f"RO7,,{V1},44265,,内部,内结,,,0",  # 8 Excel serial
    f"RO8,,{V1},2021-02-30,,维修,自费,,,1",  # 9 impossible date
    f",,{V1},2021-03-05,,维修,自费,,,1",  # 10 no ro_id
    "RO9,,  ,2021-03-05,,维修,自费,,,1",  # 11 blank VIN
    f"RO10,,{V1},,,维修,自费,,,1",  # 12 no date
    "合计,,,,,,,1249.5,120,",  # 13 totals
]


def test_repair_orders_chinese_headers(con, tmp_path):
    res = ingest.load(con, [write(tmp_path / "ro.csv", RO_ZH)], Config())
    assert [counts(s) for s in res.sheets] == [("repair_orders", 12, 7, 0, 5)]
    got = rows(
        con,
        "SELECT ro_id, dealer_code, vin, settle_date, mileage_km, ro_type, payer, "
        "labor_amount, parts_amount, total_amount, _line FROM repair_orders "
        "ORDER BY _line",
    )
    assert got == [
        (
            "RO1",
            "D001",
            V1,
            D(2021, 3, 5),
            32000.0,
            "first_service",
            "customer",
            1234.5,
            100.0,
            1334.5,
            2,
        ),
        ("RO2", "D002", V2, D(2021, 3, 6), 12000.0, "other", "other", 10.0, 20.0, 99.0, 3),
        ("RO3", "D001", V3, D(2021, 3, 7), None, "maintenance", "insurance", None, None, None, 4),
        ("RO4", "D001", V4, D(2021, 3, 8), None, "maintenance", "customer", 5.0, None, 5.0, 5),
        ("RO5", "D001", V5, D(2021, 3, 9), None, "body_paint", "insurance", None, None, -50.0, 6),
        ("RO6", "D001", V1, D(2021, 3, 10), None, "repair", "customer", None, None, 100.0, 7),
        ("RO7", "D001", V1, D(2021, 3, 10), None, "internal", "internal", None, None, 0.0, 8),
    ]
    assert rows(con, "SELECT line, kind, reason, raw FROM rejects ORDER BY line") == [
        (9, "repair_orders", "settle_date is not a date: '2021-02-30'", RO_ZH[8]),
        (10, "repair_orders", "missing ro_id", RO_ZH[9]),
        (11, "repair_orders", "missing vin", RO_ZH[10]),
        (12, "repair_orders", "missing settle_date", RO_ZH[11]),
        (13, "repair_orders", "totals row", RO_ZH[12]),
    ]
    assert rows(con, "SELECT line, key, field, flag, raw FROM flags ORDER BY line, field") == [
        (3, "D002/RO2", "payer", "unknown_code", "奇怪"),
        (3, "D002/RO2", "ro_type", "unknown_code", "洗车"),
        (5, "D001/RO4", "mileage_km", "bad_mileage", "abc"),
        (6, "D001/RO5", "total_amount", "negative_total", "-50.0"),
    ]
    assert rows(con, "SELECT read, loaded, duplicates, rejected, totals_rows, kind FROM loads") == [
        (12, 7, 0, 5, 1, "repair_orders")
    ]
    assert db.data_quality(con) == {"read": 12, "loaded": 7, "duplicates": 0, "rejected": 5}


def test_repair_orders_english_and_alias_headers(con, tmp_path):
    en = write(
        tmp_path / "a.csv",
        [
            "ro_no,dealer_code,vin,settle_date,mileage,ro_type,payer,labor_amount,parts_amount",
            f"E1,D001,{V1},2021-05-01,1000,PDI,OEM收费,1,2",
        ],
    )
    alias = write(
        tmp_path / "b.csv",
        [
            "委托书号,服务站代码,车架号,出厂日期,行驶里程,维修类别,结算方式,人工费,配件费,实收金额,"
            "结算金额,服务顾问",
            f"Z1,,{V2},2021-05-02,2000,5K,会员卡,3,4,50,60,小王",
        ],
    )
    res = ingest.load(con, [en, alias], Config())
    assert [counts(s) for s in res.sheets] == [("repair_orders", 1, 1, 0, 0)] * 2
    assert rows(
        con,
        "SELECT ro_id, dealer_code, vin, settle_date, mileage_km, ro_type, payer, "
        "total_amount, advisor FROM repair_orders ORDER BY ro_id",
    ) == [
        ("E1", "D001", V1, D(2021, 5, 1), 1000.0, "pds", "warranty", 3.0, None),
        # 结算金额 comes before 实收金额 in the field's list: it wins
        ("Z1", "D001", V2, D(2021, 5, 2), 2000.0, "first_service", "customer", 60.0, "小王"),
    ]


def test_config_adds_headers_and_values(con, tmp_path):
    cfg = config_from_dict(
        {
            "columns": {"repair_orders": {"ro_id": ["单据编号"]}},
            "values": {"ro_type": {"maintenance": ["15K保养"], "other": ["洗车"]}},
        }
    )
    f = write(
        tmp_path / "ro.csv",
        [
            "单据编号,VIN,结算日期,维修类型",
            f"X1,{V1},2021-01-01,15K保养",
            f"X2,{V1},2021-01-02,洗车",
            f"X3,{V1},2021-01-03,5K保养",
        ],
    )
    ingest.load(con, [f], cfg)
    assert rows(con, "SELECT ro_id, ro_type FROM repair_orders ORDER BY ro_id") == [
        ("X1", "maintenance"),
        ("X2", "other"),
        ("X3", "other"),
    ]
    # 洗车 is configured as other: only the unknown 5K保养 is flagged (never a substring match)
    # (no payer column: the payers are inferred, flagged payer_inferred; docs/rules.md §1 "Payer missing")
    assert rows(con, "SELECT key, raw FROM flags WHERE flag <> 'payer_inferred'") == [
        ("D001/X3", "5K保养")
    ]


CUSTOMERS_ZH = [
    "客户编号,客户姓名,手机,联系电话,性别,出生日期,区域类型,职业",
    "C1,张三,13800138000,,男,1980-01-02,市区,教师",  # 2
    "C2,李四,138-0013-8001,,女,,县城,",  # 3
    ",王五,+86 138 0013 8002,,,,乡镇,",  # 4 id from phone
    ",赵六,11111111111,,,,,",  # 5 placeholder: no phone, no id
    "C3,钱七,13800138000,,,,,",  # 6 merges into C1
    "C4,孙八,,0571-8888123,,,,",  # 7 odd phone (from 联系电话)
]


def test_customers_gbk_merge_by_phone(con, tmp_path):
    f = write(tmp_path / "客户.csv", CUSTOMERS_ZH, encoding="gbk")
    res = ingest.load(con, [f], Config())
    assert [counts(s) for s in res.sheets] == [("customers", 6, 4, 1, 1)]
    assert rows(
        con,
        "SELECT customer_id, name, phone, gender, birth_date, area_type, "
        "occupation FROM customers ORDER BY customer_id",
    ) == [
        ("C1", "钱七", "13800138000", "male", D(1980, 1, 2), "city", "教师"),
        ("C2", "李四", "13800138001", "female", None, "county", None),
        ("C4", "孙八", "05718888123", None, None, None, None),
        ("P13800138002", "王五", "13800138002", None, None, "township", None),
    ]
    assert rows(con, "SELECT line, reason FROM rejects") == [(5, "missing customer_id and phone")]
    assert rows(con, "SELECT line, key, field, flag FROM flags") == [
        (7, "C4", "phone", "phone_odd")
    ]


def test_customers_english_and_merge_against_table(con, tmp_path):
    ingest.load(
        con,
        [write(tmp_path / "a.csv", ["customer_id,name,mobile,gender", "K1,Ann,13900000001,F"])],
        Config(),
    )
    res = ingest.load(
        con,
        [write(tmp_path / "b.csv", ["customer_id,name,mobile,gender", "K9,,13900000001,"])],
        Config(),
    )
    assert [counts(s) for s in res.sheets] == [("customers", 1, 0, 1, 0)]
    assert rows(con, "SELECT customer_id, name, phone, gender FROM customers") == [
        ("K1", "Ann", "13900000001", "female")
    ]


def test_shared_phone_not_merged(con, tmp_path):
    lines = ["客户编号,客户姓名,手机"]
    lines += [f"S{i},顾客{i},13900000000" for i in range(1, 5)]  # a consultant's phone
    lines += [f"T{i},客户{i},13900000009" for i in range(1, 4)]  # 3 ids: merge
    res = ingest.load(con, [write(tmp_path / "c.csv", lines)], Config())
    assert [counts(s) for s in res.sheets] == [("customers", 7, 5, 2, 0)]
    assert rows(con, "SELECT customer_id, name FROM customers ORDER BY 1") == [
        ("S1", "顾客1"),
        ("S2", "顾客2"),
        ("S3", "顾客3"),
        ("S4", "顾客4"),
        ("T1", "客户3"),
    ]
    assert rows(con, "SELECT line, flag FROM flags ORDER BY line") == [
        (2, "phone_shared"),
        (3, "phone_shared"),
        (4, "phone_shared"),
        (5, "phone_shared"),
    ]


def test_merge_off_by_config(con, tmp_path):
    f = write(tmp_path / "c.csv", ["客户编号,手机", "A,13900000009", "B,13900000009"])
    res = ingest.load(con, [f], config_from_dict({"merge_customers_by_phone": False}))
    assert [counts(s) for s in res.sheets] == [("customers", 2, 2, 0, 0)]


VEHICLES_ZH = [
    "车辆识别代号,车牌号码,客户编号,车主电话,品牌,车系,车型名称,开票日期,销售渠道,使用性质",
    f"{V1},浙A·12345,C1,,大众,朗逸,1.5L,2020-01-02,自店,私家车",
    f"{V2.lower()},无牌照,,13800138001,大众,迈腾,2.0T,2020/2/3,二网,营运车",
    ",浙B1,C9,,,,,2020-01-01,,",
    "LSVAA4187E200000,,C1,,,,,,外星,",
]


def test_vehicles_link_by_phone_and_flags(con, tmp_path):
    cust = write(tmp_path / "1_customers.csv", CUSTOMERS_ZH[:4])
    veh = write(tmp_path / "2_vehicles.csv", VEHICLES_ZH)
    res = ingest.load(con, [tmp_path], Config())
    assert [counts(s) for s in res.sheets] == [("customers", 3, 3, 0, 0), ("vehicles", 4, 3, 0, 1)]
    assert [s.file for s in res.sheets] == [str(cust), str(veh)]
    assert rows(
        con,
        "SELECT vin, plate, customer_id, phone, series, sale_date, sale_channel, "
        "usage FROM vehicles ORDER BY _line",
    ) == [
        (V1, "浙A12345", "C1", None, "朗逸", D(2020, 1, 2), "own", "private"),
        (V2, None, "C2", "13800138001", "迈腾", D(2020, 2, 3), "secondary", "commercial"),
        ("LSVAA4187E200000", None, "C1", None, None, None, None, None),
    ]
    assert rows(con, "SELECT line, reason FROM rejects") == [(4, "missing vin")]
    assert rows(con, "SELECT line, field, flag, raw FROM flags ORDER BY line, field") == [
        (5, "sale_channel", "unknown_code", "外星"),
        (5, "vin", "vin_length", "LSVAA4187E200000"),
    ]


def test_vehicles_english(con, tmp_path):
    f = write(
        tmp_path / "v.csv",
        [
            "vin,plate,customer_id,series,sale_date,channel,usage",
            f"{V3},A1,X,Polo,2019-12-31,own,private",
        ],
    )
    ingest.load(con, [f], Config())
    assert rows(
        con, "SELECT vin, plate, customer_id, series, sale_date, sale_channel, usage FROM vehicles"
    ) == [(V3, "A1", "X", "Polo", D(2019, 12, 31), "own", "private")]


def test_leads_and_dealers(con, tmp_path):
    leads = write(
        tmp_path / "leads.csv",
        [
            "线索编号,建档日期,信息来源,意向级别,销售顾问,状态,最近跟进日期,是否到店,电话,战败原因",
            "L1,2021-01-01,汽车之家,H,小李,跟进中,2021-01-05,是,13800138000,",
            "L2,2021-01-02,展厅,A,小李,成交,,否,,",
            "L3,2021/1/3,展厅,B,小张,战败,,,,价格",
            ",2021-01-04,展厅,B,小张,战败,,,,",
        ],
    )
    dealers = write(
        tmp_path / "dealers.csv",
        ["经销商代码,经销商名称,区域", "D001,本店,杭州", "D002,他店,宁波", ",无,x"],
    )
    res = ingest.load(con, [leads, dealers], Config())
    assert [counts(s) for s in res.sheets] == [("leads", 4, 3, 0, 1), ("dealers", 3, 2, 0, 1)]
    assert rows(
        con,
        "SELECT lead_id, created_at, source, status, visited, phone, "
        "defeat_reason FROM leads ORDER BY lead_id",
    ) == [
        ("L1", D(2021, 1, 1), "汽车之家", "open", True, "13800138000", None),
        ("L2", D(2021, 1, 2), "展厅", "won", False, None, None),
        ("L3", D(2021, 1, 3), "展厅", "lost", None, None, "价格"),
    ]
    assert rows(con, "SELECT dealer_code, name, region FROM dealers ORDER BY 1") == [
        ("D001", "本店", "杭州"),
        ("D002", "他店", "宁波"),
    ]
    assert rows(con, "SELECT line, kind, reason FROM rejects ORDER BY kind") == [
        (4, "dealers", "missing dealer_code"),
        (5, "leads", "missing lead_id"),
    ]


def test_xlsx_two_sheets(con, tmp_path):
    path = tmp_path / "export.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("工单")
    ws.write_row(0, 0, ["工单号", "VIN", "结算日期", "工时费", "材料费"])
    ws.write_row(1, 0, ["R1", V1])
    ws.write_datetime(1, 2, dt.datetime(2021, 3, 5), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_number(1, 3, 100.5)
    ws.write_number(1, 4, 20)
    ws.write_row(2, 0, ["R2", V2, 44265, "1,000"])
    cs = wb.add_worksheet("客户")
    cs.write_row(0, 0, ["客户编号", "客户姓名", "手机"])
    cs.write_row(1, 0, ["C1", "张三", "13800138000"])
    wb.add_worksheet("说明").write(0, 0, "导出说明")
    wb.close()
    with pytest.raises(CrmError, match="sheet '说明' has 1 rows and no recognisable header"):
        ingest.load(con, [path], Config())  # named explicitly: exit 1 (docs/rules.md §17 "Loading")
    res = ingest.load(con, [tmp_path], Config())  # in a folder: its own line, the rest loads
    assert [(s.sheet, *counts(s)) for s in res.sheets] == [
        ("工单", "repair_orders", 2, 2, 0, 0),
        ("客户", "customers", 1, 1, 0, 0),
        ("说明", None, 1, 0, 0, 1),
    ]
    assert rows(con, "SELECT ro_id, settle_date, total_amount FROM repair_orders ORDER BY 1") == [
        ("R1", D(2021, 3, 5), 120.5),
        ("R2", D(2021, 3, 10), 1000.0),
    ]


def test_idempotent_and_newer_export_wins(con, tmp_path):
    jan = write(
        tmp_path / "2021-01.csv",
        ["工单号,VIN,结算日期,结算金额", f"R1,{V1},2021-01-05,100", f"R2,{V2},2021-01-20,200"],
    )
    ingest.load(con, [jan], Config())
    again = ingest.load(con, [jan], Config())
    assert [(s.skipped, s.read) for s in again.sheets] == [("already loaded", 0)]
    assert db.data_quality(con) == {"read": 2, "loaded": 2, "duplicates": 0, "rejected": 0}
    # February's export repeats R2 (settled late, amount corrected) and adds R3
    feb = write(
        tmp_path / "2021-02.csv",
        ["工单号,VIN,结算日期,结算金额", f"R2,{V2},2021-01-20,250", f"R3,{V3},2021-02-01,300"],
    )
    res = ingest.load(con, [feb], Config())
    assert [counts(s) for s in res.sheets] == [("repair_orders", 2, 1, 1, 0)]
    assert rows(con, "SELECT ro_id, total_amount, _file FROM repair_orders ORDER BY 1") == [
        ("R1", 100.0, str(jan)),
        ("R2", 250.0, str(feb)),
        ("R3", 300.0, str(feb)),
    ]
    assert db.data_quality(con) == {"read": 4, "loaded": 3, "duplicates": 1, "rejected": 0}


def test_last_line_wins_within_file_and_dms_meets_icrop(con, tmp_path):
    dms = write(
        tmp_path / "a_dms.csv",
        ["工单号,VIN,结算日期,结算金额", f"R1,{V1},2021-01-05,100", f"R1,{V1},2021-01-05,110"],
    )
    icrop = write(
        tmp_path / "b_icrop.csv",
        ["经销商代码,委托书号,VIN,结算日期,结算金额", f"D001,R1,{V1},2021-01-05,120"],
    )
    res = ingest.load(con, [tmp_path], Config())
    assert [counts(s) for s in res.sheets] == [
        ("repair_orders", 2, 1, 1, 0),
        ("repair_orders", 1, 0, 1, 0),
    ]
    assert rows(
        con, "SELECT dealer_code, ro_id, total_amount, _file, _line FROM repair_orders"
    ) == [("D001", "R1", 120.0, str(icrop), 2)]
    assert dms.exists()


def test_second_file_fails_nothing_loaded(tmp_path):
    db = tmp_path / "crm.duckdb"
    con = connect(db)
    ingest.load(con, [write(tmp_path / "first.csv", ["dealer_code,name", "D9,老店"])], Config())
    before = rows(con, "SELECT * FROM loads")
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.csv", ["工单号,VIN,结算日期", f"R1,{V1},2021-01-05"])
    write(folder / "b.csv", ["工单号,VIN,维修类型", f"R2,{V1},保养"])
    with pytest.raises(CrmError) as e:
        ingest.load(con, [folder], Config())
    assert str(e.value).startswith(
        f"{folder / 'b.csv'}: no column for repair_orders."
        "settle_date; accepted headers: 结算日期, 结算时间"
    )
    con.close()
    con = connect(db)
    assert rows(con, "SELECT * FROM loads") == before
    assert rows(con, "SELECT count(*) FROM repair_orders") == [(0,)]
    assert rows(con, "SELECT count(*) FROM rejects") + rows(con, "SELECT count(*) FROM flags") == [
        (0,),
        (0,),
    ]
    con.close()


def test_kind_forces_table_and_unknown_file_fails(con, tmp_path):
    f = write(tmp_path / "x.csv", ["编号,名称", "1,a"])
    with pytest.raises(CrmError, match="no recognisable header"):
        ingest.load(con, [f], Config())
    g = write(tmp_path / "d.csv", ["经销商代码,客户编号", "D5,C5"])
    res = ingest.load(con, [g], Config(), kind="dealers")
    assert [counts(s) for s in res.sheets] == [("dealers", 1, 1, 0, 0)]


def test_malformed_row_is_a_reject(con, tmp_path):
    f = write(
        tmp_path / "ro.csv", ["工单号,VIN,结算日期", f"R1,{V1},2021-01-05", f"R2,{V1},2021-01-06,x"]
    )
    res = ingest.load(con, [f], Config())
    assert [counts(s) for s in res.sheets] == [("repair_orders", 2, 1, 0, 1)]
    ((line, reason),) = rows(con, "SELECT line, reason FROM rejects")
    assert line == 3 and reason.startswith("wrong number of fields")


def test_validate_checks(con, tmp_path):
    write(tmp_path / "1c.csv", ["客户编号,手机", "C1,13800138000", "C2,0571-8888123"])
    write(
        tmp_path / "2v.csv",
        [
            "VIN,客户编号,购车日期",
            f"{V1},C1,2020-01-01",
            "LSVAA4180E2000001,C7,2020-01-01",
            f"{V2},,2099-01-01",
        ],
    )
    write(
        tmp_path / "3r.csv",
        [
            "工单号,VIN,结算日期,进厂里程,维修类型,付费方式,结算金额",
            f"R1,{V1},2021-01-01,5000,洗车,自费,100",
            f"R2,{V1},2021-03-01,4000,洗车,奇怪,-10",
            f"R3,{V1},2021-05-01,9000,打蜡,自费,10",
            f"R4,{V3},2021-05-01,9000,保养,自费,10",
        ],
    )
    ingest.load(con, [tmp_path], Config())
    checks = {c.name: (c.count, c.examples) for c in validate(con, Config(), D(2022, 1, 1))}
    assert checks == {
        "vin_check_digit": (1, ["LSVAA4180E2000001"]),
        "vin_format": (0, []),
        "odd_phones": (1, ["05718888123"]),
        "future_dates": (1, [f"vehicles {V2} sale_date: 2099-01-01"]),
        "negative_totals": (1, ["D001/R2 -10.0"]),
        "unknown_ro_type": (3, ["洗车: 2", "打蜡: 1"]),
        "unknown_payer": (1, ["奇怪: 1"]),
        # checks of issue 13 (nothing of the kind here)
        "payer_inferred": (0, []),
        "vin_from_plate": (0, []),
        "out_of_range": (0, []),
        "vehicles_without_owner": (2, ["LSVAA4180E2000001", V2]),
        "ro_vin_without_vehicle": (1, [V3]),
        "mileage_backwards": (1, [f"{V1} 2021-03-01: 4000.0 km < 5000.0 km"]),
    }
