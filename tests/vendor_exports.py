"""Hand-built exports in the shapes real dealer systems write (issue 13), for the load and
`inspect` tests. Each writer takes a folder and returns the path it wrote; the rows are fixed
so the tests can work out every count and figure by hand.

Shapes (header names and codes from the public sources listed in docs/rules.md, "Vendor
exports"):

- oem_repair_orders: an OEM dealer-portal repair-order export (InfoDMS-style) with owner and
  vehicle columns and no payer column, one voided order and a 单据保养次数 column.
- yonyou_workbook: a Yonyou-style SpreadsheetML ".xls" with two title rows above the header
  and coded 维修类型 (CGBY, SCBY, PTWX …).
- shop_csv: an independent shop's 接车明细 in GBK: blank VINs, payment methods as payer,
  line items (several rows per order) and a 作废 order.
- history_without_ro: a repair history without order numbers (VIN, 经销商编号, 工单开据日期,
  工单结算日期, 工单类型).
- customer_list: a customer list with VIN columns (a combined file).
- callback_export: a callback (回访) export with the results of real call centres.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from builders import write_export

_W = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _value(c: str) -> int:
    if c.isdigit():
        return int(c)
    a = ord(c)
    return (a - 65 + (a >= 83)) % 9 + 1


def vin(n: int, wmi: str = "LSVAA41") -> str:
    """A VIN with a correct check digit (position 9): WMI+VDS prefix, '?' then 'E' + serial."""
    body = f"{wmi}8?E{n:07d}"[:17]
    total = sum(w * _value(c) for w, c in zip(_W, body, strict=True) if c != "?")
    return body.replace("?", "0123456789X"[total % 11])


# VINs of the fixtures (all with correct check digits)
V = {i: vin(i) for i in range(1, 21)}


def _csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A CSV export as Windows DMSs write it: CRLF line ends."""
    return write_export(path, rows, encoding=encoding, newline="\r\n")


# ---------------------------------------------------------------- 1. OEM repair orders

OEM_HEADER = [
    "工单号",
    "经销商代码",
    "VIN",
    "车牌号",
    "品牌",
    "车系",
    "车型",
    "车主",
    "车主编号",
    "联系人手机",
    "工单开单日期",
    "提交结算时间",
    "进厂行驶里程",
    "工单类型",
    "单据保养次数",
    "修理费用",
    "材料费用",
    "维修金额",
    "接待顾问",
    "工单状态",
]
OEM_ROWS = [
    # ro     dealer  vin   plate     brand  series model  owner id     phone
    [
        "R2101",
        "D100",
        V[1],
        "渝A10001",
        "长安",
        "CS75",
        "1.5T",
        "张三",
        "K001",
        "13800000001",
        "2021-03-01",
        "2021-03-01 17:30",
        "5000",
        "保养",
        "1",
        "100",
        "200",
        "300",
        "王芳",
        "已结算",
    ],
    [
        "R2102",
        "D100",
        V[2],
        "渝A10002",
        "长安",
        "CS55",
        "1.5T",
        "李四",
        "K002",
        "13800000002",
        "2021-03-02",
        "2021-03-03 10:00",
        "12000",
        "保养",
        "2",
        "150",
        "250",
        "400",
        "王芳",
        "已结算",
    ],
    [
        "R2103",
        "D100",
        V[1],
        "渝A10001",
        "长安",
        "CS75",
        "1.5T",
        "张三",
        "K001",
        "13800000001",
        "2021-04-05",
        "2021-04-06 09:00",
        "9000",
        "一般维修",
        "",
        "500",
        "700",
        "1200",
        "赵强",
        "已结算",
    ],
    [
        "R2104",
        "D100",
        V[3],
        "渝A10003",
        "长安",
        "逸动",
        "1.6L",
        "王五",
        "K003",
        "13800000003",
        "2021-04-07",
        "2021-04-07 16:00",
        "30000",
        "钣金喷漆",
        "",
        "800",
        "1200",
        "2000",
        "赵强",
        "已结算",
    ],
    [
        "R2105",
        "D100",
        V[2],
        "渝A10002",
        "长安",
        "CS55",
        "1.5T",
        "李四",
        "K002",
        "13800000002",
        "2021-05-01",
        "2021-05-01 12:00",
        "15000",
        "索赔",
        "",
        "0",
        "600",
        "600",
        "王芳",
        "已结算",
    ],
    [
        "R2106",
        "D100",
        V[3],
        "渝A10003",
        "长安",
        "逸动",
        "1.6L",
        "王五",
        "K003",
        "13800000003",
        "2021-05-09",
        "2021-05-09 15:00",
        "31000",
        "一般维修",
        "",
        "50",
        "50",
        "100",
        "赵强",
        "已作废",
    ],
]


def oem_repair_orders(folder: Path) -> Path:
    """工单查询导出.csv (UTF-8 with BOM): 6 orders of dealer D100, one voided (R2106); no payer
    column; R2101 is a 保养 with 单据保养次数 = 1 (a first service)."""
    path = folder / "工单查询导出.csv"
    rows = [OEM_HEADER] + OEM_ROWS
    path.write_bytes(
        b"\xef\xbb\xbf" + ("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("utf-8")
    )
    return path


# ---------------------------------------------------------------- 2. Yonyou workbook

YONYOU_TITLE = ["维修工单明细表", "导出时间：2021-07-01 08:00:00  经销商：广菲克测试店"]
YONYOU_HEADER = [
    "工单号",
    "车牌号",
    "VIN",
    "车主",
    "手机",
    "维修类型",
    "开单时间",
    "结算时间",
    "进厂行驶里程",
    "工时费",
    "材料费",
    "结算金额",
    "服务顾问",
]
YONYOU_ROWS = [
    [
        "RO2106010001",
        "粤A20001",
        V[4],
        "陈一",
        "13900000001",
        "SCBY",
        "2021-06-01 09:00",
        "2021-06-01 11:00",
        "3000",
        "0",
        "0",
        "0",
        "刘洋",
    ],
    [
        "RO2106010002",
        "粤A20002",
        V[5],
        "陈二",
        "13900000002",
        "CGBY",
        "2021-06-01 10:00",
        "2021-06-01 15:00",
        "21000",
        "120",
        "380",
        "500",
        "刘洋",
    ],
    [
        "RO2106020001",
        "粤A20003",
        V[6],
        "陈三",
        "13900000003",
        "PTWX",
        "2021-06-02 09:30",
        "2021-06-03 17:00",
        "45000",
        "300",
        "900",
        "1200",
        "黄敏",
    ],
    [
        "RO2106020002",
        "粤A20004",
        V[7],
        "陈四",
        "13900000004",
        "BJPQ",
        "2021-06-02 13:00",
        "2021-06-05 16:00",
        "60000",
        "1500",
        "2500",
        "4000",
        "黄敏",
    ],
    [
        "RO2106030001",
        "粤A20002",
        V[5],
        "陈二",
        "13900000002",
        "BXIU",
        "2021-06-03 08:30",
        "2021-06-03 12:00",
        "21500",
        "0",
        "0",
        "0",
        "刘洋",
    ],
    [
        "RO2106030002",
        "粤A20005",
        V[8],
        "陈五",
        "13900000005",
        "SQWX",
        "2021-06-03 09:00",
        "2021-06-03 10:00",
        "10",
        "0",
        "0",
        "0",
        "黄敏",
    ],
    [
        "RO2106040001",
        "粤A20006",
        V[9],
        "陈六",
        "13900000006",
        "NBXL",
        "2021-06-04 09:00",
        "2021-06-04 18:00",
        "8000",
        "200",
        "0",
        "200",
        "黄敏",
    ],
    [
        "RO2106040002",
        "粤A20003",
        V[6],
        "陈三",
        "13900000003",
        "XCZH",
        "2021-06-04 10:00",
        "2021-06-04 11:00",
        "45200",
        "0",
        "880",
        "880",
        "刘洋",
    ],
    [
        "RO2106050001",
        "粤A20004",
        V[7],
        "陈四",
        "13900000004",
        "SHYX",
        "2021-06-05 09:00",
        "2021-06-05 12:00",
        "60100",
        "0",
        "300",
        "300",
        "黄敏",
    ],
    [
        "RO2106050002",
        "粤A20001",
        V[4],
        "陈一",
        "13900000001",
        "FUWU",
        "2021-06-05 14:00",
        "2021-06-05 15:00",
        "3100",
        "0",
        "0",
        "0",
        "刘洋",
    ],
    [
        "RO2106060001",
        "粤A20006",
        V[9],
        "陈六",
        "13900000006",
        "SBWS",
        "2021-06-06 09:00",
        "2021-06-06 17:00",
        "8500",
        "0",
        "1500",
        "1500",
        "黄敏",
    ],
]


def _spreadsheetml(rows: list[list[str]], sheet: str) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">',
        f'<Worksheet ss:Name="{escape(sheet)}"><Table>',
    ]
    for r in rows:
        cells = "".join(f'<Cell><Data ss:Type="String">{escape(c)}</Data></Cell>' for c in r)
        out.append(f"<Row>{cells}</Row>")
    out.append("</Table></Worksheet></Workbook>")
    return "\n".join(out) + "\n"


def yonyou_workbook(folder: Path) -> Path:
    """维修工单明细.xls: SpreadsheetML (as Yonyou's web DMS saves ".xls"), two title rows, then
    the header (row 3) and 11 orders with coded 维修类型; no payer column, no dealer column."""
    path = folder / "维修工单明细.xls"
    rows = [[YONYOU_TITLE[0]], [YONYOU_TITLE[1]], YONYOU_HEADER] + YONYOU_ROWS
    path.write_text(_spreadsheetml(rows, "维修工单"), encoding="utf-8")
    return path


# ---------------------------------------------------------------- 3. shop CSV (GBK)

SHOP_HEADER = [
    "接车单号",
    "车牌号",
    "VIN",
    "车主",
    "手机",
    "接车日期",
    "结算日期",
    "维修类型",
    "项目名称",
    "结算方式",
    "维修金额",
    "状态",
]
SHOP_ROWS = [
    [
        "J001",
        "浙B30001",
        V[10],
        "孙一",
        "13700000001",
        "2021-08-01",
        "2021-08-01",
        "保养",
        "机油机滤",
        "现金",
        "300",
        "已结算",
    ],
    [
        "J001",
        "浙B30001",
        V[10],
        "孙一",
        "13700000001",
        "2021-08-01",
        "2021-08-01",
        "保养",
        "空调滤芯",
        "现金",
        "80",
        "已结算",
    ],
    [
        "J002",
        "浙B30002",
        V[11],
        "孙二",
        "13700000002",
        "2021-08-02",
        "2021-08-02",
        "小修",
        "刹车片",
        "微信",
        "450",
        "已结算",
    ],
    [
        "J003",
        "浙B30001",
        "",
        "孙一",
        "13700000001",
        "2021-08-03",
        "2021-08-03",
        "中修",
        "火花塞",
        "支付宝",
        "260",
        "已结算",
    ],
    [
        "J004",
        "浙B30003",
        V[12],
        "孙三",
        "13700000003",
        "2021-08-04",
        "2021-08-04",
        "大修",
        "发动机大修",
        "刷卡",
        "8000",
        "已结算",
    ],
    [
        "J005",
        "浙B30003",
        "",
        "孙三",
        "13700000003",
        "2021-08-05",
        "2021-08-05",
        "保养",
        "机油机滤",
        "挂账",
        "300",
        "已结算",
    ],
    [
        "J006",
        "浙B30004",
        "",
        "孙四",
        "13700000004",
        "2021-08-06",
        "2021-08-06",
        "普通维修",
        "雨刮",
        "会员卡",
        "60",
        "已结算",
    ],
    [
        "J007",
        "浙B30005",
        V[13],
        "孙五",
        "13700000005",
        "2021-08-07",
        "2021-08-07",
        "钣喷",
        "前保险杠喷漆",
        "保险公司",
        "1500",
        "已结算",
    ],
    [
        "J008",
        "浙B30002",
        V[11],
        "孙二",
        "13700000002",
        "2021-08-08",
        "2021-08-08",
        "小修",
        "灯泡",
        "现金",
        "40",
        "作废",
    ],
    [
        "J009",
        "浙B39999",
        "",
        "孙九",
        "13700000009",
        "2021-08-09",
        "2021-08-09",
        "小修",
        "补胎",
        "现金",
        "30",
        "已结算",
    ],
]


def shop_csv(folder: Path) -> Path:
    """接车明细.csv in GBK: 10 rows; J001 has two item rows (机油机滤 300 + 空调滤芯 80);
    blank VINs on J003 (plate 浙B30001: V10 in this file), J005 (浙B30003: V12), J006
    (浙B30004: known only from the database) and J009 (浙B39999: unknown, rejected);
    J008 is voided (作废). 结算方式 holds the payment method."""
    return _csv(folder / "接车明细.csv", [SHOP_HEADER] + SHOP_ROWS, encoding="gbk")


def shop_vehicles(folder: Path) -> Path:
    """车辆档案.csv: the vehicle known before the shop export is loaded (plate 浙B30004)."""
    return _csv(folder / "车辆档案.csv", [["VIN", "车牌号", "车系"], [V[14], "浙B30004", "朗逸"]])


# ---------------------------------------------------------------- 4. history without ro_id

HISTORY_HEADER = ["VIN", "经销商编号", "工单开据日期", "工单结算日期", "工单类型"]
HISTORY_ROWS = [
    [V[15], "D100", "2021-01-10", "2021-01-10", "首次保养"],
    [V[15], "D100", "2021-07-12", "2021-07-13", "定期保养"],
    [V[16], "D100", "2021-02-01", "2021-02-02", "一般维修"],
    [V[16], "D100", "2021-02-01", "2021-02-02", "一般维修"],  # same key twice: occurrence 2
    [V[17], "D200", "2021-03-03", "2021-03-03", "三包维修"],
]


def history_without_ro(folder: Path) -> Path:
    """维修履历.csv: 5 visits without an order number; the 4th repeats the 3rd's key."""
    return _csv(folder / "维修履历.csv", [HISTORY_HEADER] + HISTORY_ROWS)


# ---------------------------------------------------------------- 5. customer list with VINs

CUSTOMER_HEADER = [
    "客户编号",
    "客户姓名",
    "手机",
    "性别",
    "VIN号",
    "车牌号",
    "车型",
    "是否本公司购车",
    "使用性质",
    "保修结束日期",
]
CUSTOMER_ROWS = [
    [
        "C101",
        "周一",
        "13600000001",
        "男",
        V[18],
        "沪C40001",
        "帕萨特",
        "是",
        "私家车",
        "2030-06-30",
    ],
    ["C102", "周二", "13600000002", "女", V[19], "沪C40002", "途观", "否", "出租车", "2029-01-31"],
    ["C103", "周三", "13600000003", "男", V[20], "沪C40003", "朗逸", "是", "警车", ""],
    ["C104", "周四", "13600000004", "女", "", "", "", "", "", ""],
]


def customer_list(folder: Path) -> Path:
    """客户档案.csv: 4 customers, 3 with a vehicle (VIN号, 车型 …): a combined file."""
    return _csv(folder / "客户档案.csv", [CUSTOMER_HEADER] + CUSTOMER_ROWS)


# ---------------------------------------------------------------- 6. callback export

CALLBACK_HEADER = [
    "回访日期",
    "工单号",
    "VIN",
    "客户姓名",
    "联系电话",
    "回访方式",
    "回访类型",
    "回访结果",
    "备注",
]
CALLBACK_ROWS = [
    ["2021-03-04", "R2101", V[1], "张三", "13800000001", "电话", "回访", "成功回访", ""],
    ["2021-03-06", "R2102", V[2], "李四", "13800000002", "电话", "回访", "无人接听", "下午再打"],
    ["2021-04-09", "R2103", V[1], "张三", "13800000001", "电话", "回访", "电话有误", ""],
    ["2021-04-10", "R2104", V[3], "王五", "13800000003", "电话", "回访", "无法联系", ""],
    ["2021-05-04", "R2105", V[2], "李四", "13800000002", "电话", "回访", "拒访", "不需要回访"],
    ["2021-05-05", "", V[3], "王五", "13800000009", "短信", "关怀", "空号", ""],
]


def callback_export(folder: Path) -> Path:
    """回访记录.csv: 6 callbacks with the six results of rulebook §16."""
    return _csv(folder / "回访记录.csv", [CALLBACK_HEADER] + CALLBACK_ROWS)


SHAPES = {
    "oem_repair_orders": oem_repair_orders,
    "yonyou_workbook": yonyou_workbook,
    "shop_csv": shop_csv,
    "history_without_ro": history_without_ro,
    "customer_list": customer_list,
    "callback_export": callback_export,
}


def write_all(folder: Path) -> dict[str, Path]:
    """Every shape into `folder` (shop_vehicles is written by the tests that need it)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: writer(folder) for name, writer in SHAPES.items()}
