"""The canonical tables: their fields, the header names that map to them (rules §1), the
code values (ro_type, payer, ...) and the DuckDB tables they load into.

Header matching: case- and space-insensitive, full-width brackets read as ASCII ones. When two
headers of one file map to the same field, the one earlier in the field's list wins.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .config import Config
from .sqltext import ident


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # DuckDB type of the canonical column
    headers: tuple[str, ...]  # recognised header names, in precedence order
    parser: str | None = None  # how the raw text is parsed: date, amount, mileage, vin, phone ...
    stored: bool = True  # False: read at load (it keys other fields) but not a table column


def _f(
    name: str, type_: str, headers: str, parser: str | None = None, *, stored: bool = True
) -> Field:
    return Field(name, type_, tuple(headers.split()), parser, stored)


_CUSTOMER_ID = "客户编号 客户代码 客户ID 客户号 车主编号 customer_id"
_PHONE = (
    "联系电话 手机 手机号 手机号码 移动电话 电话 车主电话 客户电话 主要联系电话 车主手机 联系人手机 "
    "phone mobile 送修人手机 送修人电话"
)
_VIN = "VIN VIN码 VIN号 车辆VIN号 车辆识别码(VIN) 车架号 底盘号 车辆识别代号 vin"
_DEALER = "经销商代码 服务站代码 网点代码 经销商编号 服务商代码 dealer_code"

TABLES: dict[str, tuple[Field, ...]] = {
    "customers": (
        _f("customer_id", "VARCHAR", _CUSTOMER_ID),
        _f("name", "VARCHAR", "客户姓名 客户名称 车主姓名 车主 姓名 联系人姓名 name"),
        _f("phone", "VARCHAR", _PHONE, "phone"),
        _f("gender", "VARCHAR", "性别 gender", "code"),
        _f("birth_date", "DATE", "出生日期 生日 birth_date", "date"),
        _f("birth_year", "INTEGER", "出生年份 birth_year", "year"),
        _f("area_type", "VARCHAR", "区域类型 区域 area_type", "code"),
        _f("occupation", "VARCHAR", "职业 occupation"),
        # the store the customer belongs to (a dealer group keys customer_id with it)
        _f("dealer_code", "VARCHAR", _DEALER),
    ),
    "vehicles": (
        _f("vin", "VARCHAR", _VIN, "vin"),
        _f("plate", "VARCHAR", "车牌号 车牌号码 牌照号 牌照 plate", "plate"),
        _f("customer_id", "VARCHAR", _CUSTOMER_ID),
        _f("phone", "VARCHAR", _PHONE, "phone"),
        _f("brand", "VARCHAR", "品牌 brand"),
        _f("series", "VARCHAR", "车系 series"),
        _f("model", "VARCHAR", "车型 车型名称 model"),
        _f(
            "sale_date",
            "DATE",
            "购车日期 销售日期 开票日期 交车日期 实销日期 实销时间 购车时间 新车销售日期 sale_date",
            "date",
        ),
        _f(
            "sale_channel",
            "VARCHAR",
            "销售渠道 销售类型 是否本公司购车 channel sale_channel",
            "code",
        ),
        _f("outlet", "VARCHAR", "二级网点 销售网点 网点名称 outlet"),
        _f("usage", "VARCHAR", "使用性质 车辆用途 usage", "code"),
        _f("warranty_end", "DATE", "保修截止日期 质保到期日 保修结束日期 warranty_end", "date"),
        _f("vehicle_status", "VARCHAR", "车辆状态 vehicle_status", "code"),
        # keys the owner's customer_id in a dealer group; vehicles carry no dealer (§14)
        _f("dealer_code", "VARCHAR", _DEALER, stored=False),
    ),
    "repair_orders": (
        _f(
            "ro_id",
            "VARCHAR",
            "工单号 工单编号 维修单号 委托书号 委托单号 接车单号 结算单号 结算编号 ro_id ro_no",
        ),
        _f("dealer_code", "VARCHAR", _DEALER),
        _f("vin", "VARCHAR", _VIN, "vin"),
        _f(
            "open_date",
            "DATE",
            "进厂日期 进厂时间 开单日期 开单时间 接车日期 开工单时间 工单开单日期 工单开据日期 open_date",
            "date",
        ),
        _f(
            "settle_date",
            "DATE",
            "结算日期 结算时间 出厂日期 完工日期 工单结算日期 提交结算时间 settle_date",
            "date",
        ),
        _f(
            "mileage_km",
            "DOUBLE",
            "进厂里程 进厂里程数 进站里程 进厂行驶里程 行驶里程 公里数 里程 里程数 mileage mileage_km",
            "mileage",
        ),
        _f("ro_type", "VARCHAR", "维修类型 工单类型 维修类别 业务类型 ro_type", "code"),
        _f("payer", "VARCHAR", "付费方式 结算方式 付款类型 收费区分 payer", "code"),
        _f("labor_amount", "DOUBLE", "工时费 维修工时费 人工费 修理费用 labor_amount", "amount"),
        _f("parts_amount", "DOUBLE", "材料费 维修材料费 配件费 材料费用 parts_amount", "amount"),
        _f(
            "total_amount",
            "DOUBLE",
            "结算金额 总金额 总金额(元) 合计金额 应收金额 应结金额 实收金额 维修金额 total_amount",
            "amount",
        ),
        _f("advisor", "VARCHAR", "服务顾问 接待员 业务接待 接待顾问 客户经理 advisor"),
        # read at load, not kept: the plate recovers a blank VIN (docs/rules.md §1 "VIN by plate"), the status drops
        # voided orders, the maintenance count marks a first service
        _f("plate", "VARCHAR", "车牌号 车牌号码 牌照号 牌照 plate", "plate", stored=False),
        _f("ro_status", "VARCHAR", "工单状态 单据状态 结算状态 状态 ro_status", stored=False),
        _f("maintenance_count", "VARCHAR", "单据保养次数 保养次数 maintenance_count", stored=False),
    ),
    "leads": (
        _f("lead_id", "VARCHAR", "线索编号 线索ID lead_id"),
        _f("created_at", "DATE", "建档日期 登记日期 创建日期 created_at", "date"),
        _f("source", "VARCHAR", "来源 信息来源 线索来源 source"),
        _f("level", "VARCHAR", "意向级别 level"),
        _f("consultant", "VARCHAR", "销售顾问 consultant"),
        _f("status", "VARCHAR", "状态 线索状态 status", "code"),
        _f("last_follow_up", "DATE", "最近跟进日期 last_follow_up", "date"),
        _f("visited", "BOOLEAN", "是否到店 visited", "bool"),
        _f("phone", "VARCHAR", "电话 手机 手机号 联系电话 phone", "phone"),
        _f("defeat_reason", "VARCHAR", "战败原因 defeat_reason"),
        _f("dealer_code", "VARCHAR", _DEALER),  # the store of the lead (keys lead_id in a group)
    ),
    "dealers": (
        _f("dealer_code", "VARCHAR", _DEALER),
        _f("name", "VARCHAR", "经销商名称 服务站名称 dealer_name name"),
        _f("region", "VARCHAR", "区域 省份 城市 region"),
    ),
    # 回访记录 / 招揽记录: callbacks, campaign calls, care and complaints (issue 8)
    "contacts": (
        _f("contact_id", "VARCHAR", "回访编号 联系编号 记录编号 contact_id"),
        _f(
            "contact_date",
            "DATE",
            "回访日期 联系日期 招揽日期 回访时间 联系时间 contact_date",
            "date",
        ),
        _f("phone", "VARCHAR", _PHONE, "phone"),
        _f("vin", "VARCHAR", _VIN, "vin"),
        _f("customer_id", "VARCHAR", _CUSTOMER_ID),
        _f("ro_id", "VARCHAR", "工单号 工单编号 维修单号 委托书号 结算单号 ro_id"),
        _f("channel", "VARCHAR", "联系方式 回访方式 渠道 channel", "code"),
        _f("purpose", "VARCHAR", "回访类型 联系类型 目的 purpose", "code"),
        _f("result", "VARCHAR", "回访结果 联系结果 结果 result", "code"),
        _f("do_not_contact", "BOOLEAN", "勿扰 是否勿扰 是否拒绝联系 do_not_contact", "bool"),
        _f("note", "VARCHAR", "备注 回访内容 note"),
        _f("dealer_code", "VARCHAR", _DEALER, stored=False),  # keys customer_id in a group
    ),
}

# The natural key of each table (upsert: the row loaded last wins).
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "vehicles": ("vin",),
    "repair_orders": ("dealer_code", "ro_id"),
    "leads": ("lead_id",),
    "dealers": ("dealer_code",),
    "contacts": ("contact_id",),
}

# Fields without which a row is rejected (customers: customer_id OR phone, see ingest).
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": (),
    "vehicles": ("vin",),
    "repair_orders": ("ro_id", "vin", "settle_date"),
    "leads": ("lead_id",),
    "dealers": ("dealer_code",),
    "contacts": (),  # a missing contact_id is derived from date, phone (or vin) and purpose
}

# Code values: canonical code -> raw values (matched exactly after normalise_value).
CODES: dict[str, dict[str, tuple[str, ...]]] = {
    "ro_type": {
        "first_service": ("首保", "首次保养", "免费保养", "5K", "强保"),
        "maintenance": ("定期保养", "定保", "常规保养", "保养", "10K"),
        "repair": (
            "一般维修",
            "机修",
            "维修",
            "外出维修",
            "外出救援",
            "小修",
            "中修",
            "大修",
            "普通维修",
        ),
        "body_paint": ("钣喷", "钣金", "喷漆", "油漆", "钣金喷漆", "事故车"),
        "warranty": ("保修", "索赔", "三包", "配件索赔", "三包维修", "善意维修"),
        "pds": ("PDS", "PDI", "PDI检查", "售前检查", "售前维修"),
        "internal": ("内部", "内部结算", "自有车", "异型车", "内部修理"),
    },
    "payer": {
        "customer": (
            "自费",
            "客户付费",
            "客付",
            "预存",
            "套餐",
            "会员卡",
            "储值卡",
            "现金",
            "微信",
            "支付宝",
            "刷卡",
            "挂账",
            "customer",
        ),
        "warranty": ("保修", "索赔", "厂家", "OEM收费", "warranty"),
        "insurance": ("保险", "保险理赔", "保险公司", "insurance"),
        "internal": ("内部", "内结", "internal"),
    },
    "sale_channel": {
        "own": ("自店", "直营", "本店", "是", "own"),  # 是: 是否本公司购车
        "secondary": ("二级网点", "二网", "secondary"),
        "other": ("他店", "外店", "否", "other"),
    },
    "usage": {
        "private": ("私家车", "私用", "private"),
        "official": ("公务车", "公务", "警车", "商务车", "official"),
        "commercial": ("营运车", "营运", "出租车", "租赁公司", "commercial"),
    },
    "area_type": {
        "city": ("市区", "city"),
        "county": ("县城", "county"),
        "township": ("乡镇", "township"),
    },
    "gender": {"male": ("男", "M", "male"), "female": ("女", "F", "female")},
    "status": {"open": ("跟进中", "open"), "won": ("成交", "won"), "lost": ("战败", "lost")},
    "vehicle_status": {
        "active": ("正常", "在用", "active"),
        "scrapped": ("报废", "scrapped"),
        "transferred": ("过户", "transferred"),
    },
    # contacts (issue 8)
    "channel": {"phone": ("电话", "phone"), "sms": ("短信", "sms"), "wechat": ("微信", "wechat")},
    "purpose": {
        "callback": ("回访", "callback"),
        "campaign": ("招揽", "campaign"),
        "care": ("关怀", "care"),
        "complaint": ("投诉", "complaint"),
    },
    "result": {
        "satisfied": ("满意", "satisfied"),
        "neutral": ("一般", "neutral"),
        "dissatisfied": ("不满意", "dissatisfied"),
        "reached": ("成功回访", "reached"),
        "no_answer": ("未接通", "无人接听", "no_answer"),
        "unreachable": ("无法联系", "unreachable"),
        "refused": ("拒访", "refused"),
        "wrong_number": ("空号", "电话有误", "wrong_number"),
    },
}
# Dates that are in the future by nature (not flagged, not counted by validate as future).
FUTURE_OK = frozenset({("vehicles", "warranty_end")})

# Where a raw value matches no code: ro_type/payer fall to "other" (kept, counted);
# other kinds keep NULL and are flagged.
CODE_FALLBACK = {
    "ro_type": "other",
    "payer": "other",
    "sale_channel": None,
    "usage": None,
    "area_type": None,
    "gender": None,
    "status": None,
    "vehicle_status": None,
    "channel": None,
    "purpose": None,
    "result": None,
}


def normalise_header(text: str) -> str:
    """Header key: NFKC (full-width → ASCII, （） → ()), no spaces, lower case. Repeated until
    it no longer changes ('A´' → 'a' + combining acute, which NFKC composes to 'á')."""
    text = str(text)
    return _normalise_cached(text) if len(text) <= 256 else _normalise_header(text)


@functools.lru_cache(maxsize=8192)
def _normalise_cached(text: str) -> str:
    """Header detection asks for the same (short) names thousands of times per file: every
    candidate row, delimiter and table."""
    return _normalise_header(text)


def _normalise_header(out: str) -> str:
    for _ in range(4):
        key = "".join(unicodedata.normalize("NFKC", out).split()).lower()
        if key == out:
            break
        out = key
    return out


def normalise_value(text: str) -> str:
    """Code value key: NFKC, trimmed, inner spaces removed, upper case."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).upper()


# Headers used for a field only when no other header of the file maps to it (docs/rules.md §1 "customers": the
# person who brought the car in is not the owner).
FALLBACK_HEADERS = frozenset({"送修人手机", "送修人电话"})
# Headers that are weak evidence of their table when detecting a file's kind (docs/rules.md §1 "Which table":
# 出厂日期 alone in a vehicles file is a manufacture date).
WEAK_HEADERS = frozenset({"出厂日期"})

# Where a header's mapping comes from, strongest first: the user's [columns.<table>], the
# vendor profile, the built-in names (§1).
SOURCES = ("config", "profile", "built-in")


def header_sources(table: str, config: Config | None = None) -> dict[str, tuple[str, int, str]]:
    """normalised header -> (field, precedence, source) for a table. The user's
    [columns.<table>] names come first and win, also over a built-in name of another field
    (that name then no longer maps to the other field); then the profile's, then built-ins.
    Precedence orders the headers of one field: the user's, the profile's, then §1's order."""
    from .profiles import profile_of

    out: dict[str, tuple[str, int, str]] = {}
    user = config.columns.get(table, {}) if config else {}
    prof = profile_of(config.profile) if config else None
    layers = [
        ("config", user, -2000),
        ("profile", prof.columns.get(table, {}) if prof else {}, -1000),
    ]
    names = {f.name for f in TABLES[table]}
    for source, extra, base in layers:
        for fname, headers in extra.items():
            if fname not in names:
                continue
            for rank, h in enumerate(headers):
                out.setdefault(normalise_header(h), (fname, base + rank, source))
    for f in TABLES[table]:
        for rank, h in enumerate(f.headers):
            out.setdefault(normalise_header(h), (f.name, rank, "built-in"))
    return out


def header_map(table: str, config: Config | None = None) -> dict[str, tuple[str, int]]:
    """normalised header -> (field, precedence) for a table, including config extras."""
    return {k: (f, r) for k, (f, r, _) in header_sources(table, config).items()}


def code_sources(kind: str, config: Config | None = None) -> dict[str, tuple[str, str]]:
    """normalised raw value -> (canonical code, source) for a code kind: the user's
    [values.<kind>] first (they win over a built-in value), then the profile's, then §1's."""
    from .profiles import profile_of

    out: dict[str, tuple[str, str]] = {}
    prof = profile_of(config.profile) if config else None
    layers: list[tuple[str, Mapping[str, Sequence[str]]]] = [
        ("config", config.values.get(kind, {}) if config else {}),
        ("profile", prof.values.get(kind, {}) if prof else {}),
        ("built-in", CODES[kind]),
    ]
    for source, table in layers:
        for code, raws in table.items():
            for raw in raws:
                out.setdefault(normalise_value(raw), (code, source))
    return out


def code_map(kind: str, config: Config | None = None) -> dict[str, str]:
    """normalised raw value -> canonical code for a code kind, including config extras."""
    return {k: c for k, (c, _) in code_sources(kind, config).items()}


PROVENANCE = "_file VARCHAR, _line BIGINT, _load_id BIGINT"
# Columns added after the first release: ddl() adds them to older databases.
ADDED_COLUMNS = {("customers", "dealer_code"), ("leads", "dealer_code")}


def stored_fields(table: str) -> tuple[Field, ...]:
    """The fields of a table that are columns of it (not the load-only ones)."""
    return tuple(f for f in TABLES[table] if f.stored)


def ddl() -> list[str]:
    """CREATE TABLE statements for the canonical store (idempotent)."""
    stmts = []
    for table in TABLES:
        cols = ", ".join(f"{f.name} {f.type}" for f in stored_fields(table))
        # Keys (KEYS) are kept unique by ingest, not by an index: an ART index over ten
        # million repair orders costs more memory and load time than the anti-join does.
        stmts.append(f"CREATE TABLE IF NOT EXISTS {table} ({cols}, {PROVENANCE})")
        # databases created before a column was added (customers/leads.dealer_code, issue 9)
        stmts += [
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {f.name} {f.type}"
            for f in stored_fields(table)
            if (table, f.name) in ADDED_COLUMNS
        ]
    stmts += [
        """CREATE TABLE IF NOT EXISTS loads (
            load_id BIGINT, file VARCHAR, sha256 VARCHAR, kind VARCHAR, sheet VARCHAR,
            loaded_at TIMESTAMP, read BIGINT, loaded BIGINT, duplicates BIGINT,
            rejected BIGINT, totals_rows BIGINT)""",
        """CREATE TABLE IF NOT EXISTS rejects (
            load_id BIGINT, file VARCHAR, line BIGINT, kind VARCHAR, reason VARCHAR,
            raw VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS flags (
            load_id BIGINT, file VARCHAR, line BIGINT, kind VARCHAR, key VARCHAR,
            field VARCHAR, flag VARCHAR, raw VARCHAR)""",
        "CREATE SEQUENCE IF NOT EXISTS load_seq START 1",
        # people deleted on request (PIPL): SHA-256 of the normalised phone / customer_id only
        """CREATE TABLE IF NOT EXISTS forgotten (
            kind VARCHAR, hash VARCHAR, forgotten_on DATE)""",
    ]
    return stmts + _history_ddl() + _forget_ddl()


def _history_ddl() -> list[str]:
    """history_<table> for each canonical table (crmtool/load/history.py keeps the rows a load
    replaces there), and `undo_since`: the first load whose replaced rows are kept (loads
    made before crmtool kept history cannot be undone)."""
    stmts = []
    for t in TABLES:
        cols = ", ".join(f"{ident(f.name)} {f.type}" for f in stored_fields(t))
        stmts.append(
            f"CREATE TABLE IF NOT EXISTS history_{t} ({cols}, {PROVENANCE}, _replaced_by BIGINT)"
        )
        stmts += [
            f"ALTER TABLE history_{t} ADD COLUMN IF NOT EXISTS {ident(f.name)} {f.type}"
            for f in stored_fields(t)
            if (t, f.name) in ADDED_COLUMNS
        ]
    stmts.append(
        "CREATE TABLE IF NOT EXISTS undo_since AS "
        "SELECT coalesce(max(load_id), 0) + 1 AS load_id FROM loads"
    )
    return stmts


def _forget_ddl() -> list[str]:
    """The secret of forget's markers (crmtool/forget.py) and the scheme column of
    `forgotten` (old rows: NULL)."""
    return [
        "CREATE TABLE IF NOT EXISTS secret (name VARCHAR, value VARCHAR)",
        "ALTER TABLE forgotten ADD COLUMN IF NOT EXISTS scheme VARCHAR",
    ]
