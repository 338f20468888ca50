"""Shared by the HTML and Excel report: words (one dict per language), list headers, values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from .churn import STATUSES
from .output import LABELS_ZH, mask_pii

ZH: dict[str, str] = {
    "title": "售后客户运营月报",
    "period": "统计期间",
    "as_of": "统计日期",
    "toc": "目录",
    "change": "较上期",
    "no_previous": "无上期数据",
    "none": "无数据",
    "total": "合计",
    "share": "占比",
    "count": "数量",
    "vehicles": "车辆数",
    "rows_shown": "显示前 {shown} 行，共 {total} 行",
    "pp": "个百分点",
    # KPIs
    "kpi": "核心指标",
    "kpi_ours": "保有车辆",
    "kpi_tier_a": "A级客户占比",
    "kpi_lost": "流失车辆",
    "kpi_at_risk": "准流失车辆",
    "kpi_cross_shop": "交叉报修",
    "kpi_never_returned": "销售后无回厂",
    "kpi_revenue": "售后产值（元）",
    "kpi_conversion": "线索成交率",
    # tiers
    "tiers": "客户价值等级",
    "tiers_note": "按统计日期的保有车辆计；等级取客单价、回站次数、回站周期三项中最低者。",
    "tier": "等级",
    "tiers_by_series": "分车系等级分布",
    "series": "车系",
    "tier_a_share": "A级占比",
    # status
    "status": "客户忠诚状态",
    "status_note": "按最近一次自店回厂距统计日期的天数划分。",
    "st_new": "新车客户",
    "st_loyal": "忠诚客户",
    "st_general": "一般客户",
    "st_at_risk": "准流失客户",
    "st_lost": "流失客户",
    # leakage
    "leakage": "客户去向（流失客户分析）",
    "leakage_note": "期初保有车辆在本期的回厂去向。",
    "lk_retained": "仅回自店",
    "lk_cross_shop": "交叉报修（自店与他店）",
    "lk_defected": "流失至他店",
    "lk_out_of_channel": "流失至渠道外（无任何报修）",
    "base": "期初保有",
    "cross_by_visits": "交叉报修客户按自店报修次数",
    "own_visits": "自店报修次数",
    "visits_n": "{n}次",
    "visits_5": "5次及以上",
    "cross_region": "交叉报修客户按他店区域",
    "rg_same": "区域内往返",
    "rg_other": "区域外往返",
    "rg_unknown": "区域未知",
    "defected_by_dealer": "流失去向经销商",
    "dealer": "经销商代码",
    "dealer_name": "经销商名称",
    "region": "区域",
    # sales follow-through
    "follow": "新车销售与二级网点跟踪",
    "new_car": "本期新车销售客户流失",
    "nc_sold": "新车销售",
    "nc_defected": "流失去他店报修",
    "nc_direct": "其中销售后直接流失",
    "nc_of_sold": "占销售",
    "nc_of_defected": "占流失",
    "secondary": "二级网点成交车辆回厂情况",
    "outlet": "二级网点",
    "sn_sold": "销售台数",
    "sn_returned_paid": "回厂有自付费用",
    "sn_rate": "回厂率",
    "sn_revenue": "售后创收（元）",
    "sn_no_paid": "无自付费用报修",
    "sn_no_ro": "无任何报修记录（含PDS）",
    "never_returned": "销售后无回厂（超过180天）",
    # service mix
    "service": "业务构成",
    "service_note": "本期自店工单按维修类型统计；产值不分付费方式。",
    "ro_type": "维修类型",
    "ro_count": "台次",
    "revenue": "产值（元）",
    "rt_first_service": "首保",
    "rt_maintenance": "定期保养",
    "rt_repair": "一般维修",
    "rt_body_paint": "钣金喷漆",
    "rt_warranty": "保修索赔",
    "rt_pds": "PDS售前检查",
    "rt_internal": "内部结算",
    "rt_other": "其他",
    "maintenance_due": "定期保养入库率",
    "md_due": "应保养车辆",
    "md_returned": "按期回厂",
    "md_rate": "入库率",
    "care": "客户关怀",
    # dealer group: one column per own dealer (summary by_dealer)
    "by_dealer": "按经销商",
    "by_dealer_note": "各店单独计算（同 --dealer）：工单台次与产值相加等于集团合计；等级、忠诚状态"
                      "与销售后无回厂不一定相加（同一车辆在两家店回厂，两家都计入）。",
    "group": "集团合计",
    "bd_orders": "自店工单台次",
    # lists
    "lists": "本月招揽名单",
    "lists_note": "完整名单见 Excel 工作簿。",
    "list_count": "名单人数",
    "ls_due": "保养提醒",
    "ls_warranty": "脱保延保",
    "ls_insurance": "续保前移",
    "ls_loyal": "忠诚客户回馈",
    "ls_winback": "流失客户招揽",
    # leads
    "leads": "潜在客户（线索）",
    "ld_leads": "线索数",
    "ld_visited": "到店",
    "ld_won": "成交",
    "ld_lost": "战败",
    "ld_conversion": "成交率",
    "ld_overdue": "超期未跟进",
    "leads_by_source": "按来源",
    "leads_by_consultant": "按销售顾问",
    "source": "来源",
    "consultant": "销售顾问",
    # data quality
    "dq": "数据质量",
    "dq_read": "读取行数",
    "dq_loaded": "入库",
    "dq_duplicates": "重复合并",
    "dq_rejected": "拒收",
    "dq_check": "读取 = 入库 + 重复 + 拒收",
    "dq_ok": "核对一致",
    "dq_bad": "核对不一致",
    "rejects_by_reason": "拒收原因",
    "flags_by_kind": "数据提示",
    "reason": "原因",
    "flag": "提示类型",
    "yes": "是",
    "no": "否",
    "sheet_summary": "概览",
    "item": "指标",
    "value": "数值",
}

EN: dict[str, str] = {
    "title": "After-sales customer report",
    "period": "Period",
    "as_of": "As of",
    "toc": "Contents",
    "change": "vs previous",
    "no_previous": "no previous period",
    "none": "no data",
    "total": "Total",
    "share": "Share",
    "count": "Count",
    "vehicles": "Vehicles",
    "rows_shown": "first {shown} of {total} rows",
    "pp": "pp",
    "kpi": "Headline figures",
    "kpi_ours": "Vehicles ours",
    "kpi_tier_a": "Tier A share",
    "kpi_lost": "Lost",
    "kpi_at_risk": "At risk",
    "kpi_cross_shop": "Cross-shopping",
    "kpi_never_returned": "Never returned",
    "kpi_revenue": "Service revenue",
    "kpi_conversion": "Lead conversion",
    "tiers": "Value tiers",
    "tiers_note": "Vehicles ours at the as-of day; tier = lowest of ticket, visits and cycle.",
    "tier": "Tier",
    "tiers_by_series": "Tiers by series",
    "series": "Series",
    "tier_a_share": "Tier A share",
    "status": "Loyalty status",
    "status_note": "By days since the last own visit.",
    "st_new": "New",
    "st_loyal": "Loyal",
    "st_general": "General",
    "st_at_risk": "At risk",
    "st_lost": "Lost",
    "leakage": "Where customers go",
    "leakage_note": "Where the vehicles ours at the period start were serviced in the period.",
    "lk_retained": "Own dealer only",
    "lk_cross_shop": "Cross-shopping (own and other)",
    "lk_defected": "Defected to other dealers",
    "lk_out_of_channel": "Out of channel (no visit anywhere)",
    "base": "Base",
    "cross_by_visits": "Cross-shoppers by own visits",
    "own_visits": "Own visits",
    "visits_n": "{n}",
    "visits_5": "5+",
    "cross_region": "Cross-shoppers by region of the other dealer",
    "rg_same": "Same region",
    "rg_other": "Other region",
    "rg_unknown": "Unknown region",
    "defected_by_dealer": "Dealers they went to",
    "dealer": "Dealer code",
    "dealer_name": "Dealer name",
    "region": "Region",
    "follow": "New-car and secondary-network follow-through",
    "new_car": "New cars sold in the period",
    "nc_sold": "Sold",
    "nc_defected": "Serviced at other dealers",
    "nc_direct": "of which directly after the sale",
    "nc_of_sold": "of sold",
    "nc_of_defected": "of defected",
    "secondary": "Secondary-network sales",
    "outlet": "Outlet",
    "sn_sold": "Sold",
    "sn_returned_paid": "Returned paid",
    "sn_rate": "Return rate",
    "sn_revenue": "Revenue",
    "sn_no_paid": "No paid visit",
    "sn_no_ro": "No repair order (PDS included)",
    "never_returned": "Never returned (sold > 180 days ago)",
    "service": "Service mix",
    "service_note": "Own repair orders in the period by type; revenue whatever the payer.",
    "ro_type": "Type",
    "ro_count": "Orders",
    "revenue": "Revenue",
    "rt_first_service": "First service",
    "rt_maintenance": "Maintenance",
    "rt_repair": "Repair",
    "rt_body_paint": "Body & paint",
    "rt_warranty": "Warranty",
    "rt_pds": "PDS",
    "rt_internal": "Internal",
    "rt_other": "Other",
    "maintenance_due": "Maintenance return rate",
    "md_due": "Due",
    "md_returned": "Returned",
    "md_rate": "Rate",
    "care": "Customer care",
    "by_dealer": "By dealer",
    "by_dealer_note": "Each store computed on its own (as --dealer does): repair orders and "
                      "revenue add up to the group's; tiers, status and never returned need not "
                      "(a vehicle serviced at two stores counts for both).",
    "group": "Group",
    "bd_orders": "Own repair orders",
    "lists": "Call lists of the month",
    "lists_note": "Full lists are in the Excel workbook.",
    "list_count": "Rows",
    "ls_due": "Maintenance due",
    "ls_warranty": "Warranty expiring",
    "ls_insurance": "Insurance renewal",
    "ls_loyal": "Loyal reward",
    "ls_winback": "Win-back",
    "leads": "Leads",
    "ld_leads": "Leads",
    "ld_visited": "Visited",
    "ld_won": "Won",
    "ld_lost": "Lost",
    "ld_conversion": "Conversion",
    "ld_overdue": "Overdue",
    "leads_by_source": "By source",
    "leads_by_consultant": "By consultant",
    "source": "Source",
    "consultant": "Consultant",
    "dq": "Data quality",
    "dq_read": "Rows read",
    "dq_loaded": "Loaded",
    "dq_duplicates": "Duplicates",
    "dq_rejected": "Rejected",
    "dq_check": "read = loaded + duplicates + rejected",
    "dq_ok": "adds up",
    "dq_bad": "does not add up",
    "rejects_by_reason": "Rejects by reason",
    "flags_by_kind": "Flags by kind",
    "reason": "Reason",
    "flag": "Flag",
    "yes": "yes",
    "no": "no",
    "sheet_summary": "Summary",
    "item": "Figure",
    "value": "Value",
}

# Column headers of call lists (snake_case frame columns -> Chinese).
COLUMNS_ZH: dict[str, str] = {
    "vin": "VIN", "customer_id": "客户编号", "name": "客户姓名", "phone": "联系电话",
    "plate": "车牌号", "brand": "品牌", "series": "车系", "model": "车型",
    "sale_date": "购车日期", "due_date": "应保养日期", "overdue": "已超期",
    "due_by": "到期依据", "last_service_date": "上次保养日期", "est_mileage": "估算里程",
    "warranty_end": "保修截止日期", "end_reason": "截止依据", "settle_date": "结算日期",
    "ro_id": "工单号", "total_amount": "结算金额", "band": "金额档", "gift": "礼包",
    "visits": "入库次数", "visits_12m": "近12月回站次数", "tier": "价值等级",
    "status": "忠诚状态", "days_since": "未回厂天数", "reason": "流失原因",
    "other_dealer": "去向经销商代码", "other_dealer_name": "去向经销商",
    "lifetime_paid": "累计自付金额", "last_visit": "最近回厂日期", "advisor": "服务顾问",
    "ticket": "客单价", "cycle_days": "回站周期", "usage": "使用性质", "area_type": "区域类型",
    "dealer_code": "经销商代码", "due_service": "保养类型", "days_overdue": "逾期天数",
    "ends_by": "脱保依据", "days_left": "剩余天数", "band_label": "金额档",
    "last_own_visit": "最近本店回站日期", "own_visits": "本店回站次数",
}
NOT_PEOPLE = ("other_dealer_name", "dealer_name")  # *_name columns that name no person

# Code values shown to people (reason, status) -> Chinese.
VALUES_ZH: dict[str, str] = {
    "never_returned": "销售后无回厂", "defected": "流失至他店", "out_of_channel": "流失至渠道外",
    "new": "新车客户", "loyal": "忠诚客户", "general": "一般客户", "at_risk": "准流失",
    "lost": "流失",
}
VALUE_COLUMNS = ("reason", "status")

LABELS = {"zh": ZH, "en": EN}
LIST_KEYS = ("due", "warranty", "insurance", "loyal", "winback")


def by_dealer_rows(summary: Mapping[str, Any], t: Mapping[str, str]
                   ) -> tuple[list[str], list[tuple[str, str, list[float | None]]]] | None:
    """The "by dealer" table of a dealer group's report, from the summary's `by_dealer`:
    (column headers, rows of (label, kind int|money, one value per dealer then the group's)).
    None when the summary has no by_dealer (a single own dealer, or --dealer)."""
    by = summary.get("by_dealer")
    if not isinstance(by, Mapping) or not by:
        return None
    blocks = [b if isinstance(b, Mapping) else {} for b in by.values()] + [summary]

    def get(block: Mapping[str, Any], key: str, sub: str | None = None) -> float | None:
        v = block.get(key)
        if sub is not None:
            v = v.get(sub) if isinstance(v, Mapping) else None
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    def mix_total(block: Mapping[str, Any], what: str) -> float | None:
        mix = block.get("service_mix")
        if not isinstance(mix, Mapping):
            return None
        return sum(float(r.get(what) or 0) for r in mix.values() if isinstance(r, Mapping))

    rows: list[tuple[str, str, list[float | None]]] = []
    rows += [(f"{t['tier']} {k}", "int", [get(b, "tiers", k) for b in blocks]) for k in "ABCD"]
    rows += [(t[f"st_{k}"], "int", [get(b, "status", k) for b in blocks]) for k in STATUSES]
    rows.append((t["bd_orders"], "int", [mix_total(b, "count") for b in blocks]))
    rows.append((t["kpi_revenue"], "money", [mix_total(b, "revenue") for b in blocks]))
    rows.append((t["never_returned"], "int", [get(b, "never_returned") for b in blocks]))
    return [t["item"], *map(str, by), t["group"]], rows


def labels(lang: str) -> dict[str, str]:
    """The words of one language ('zh' or 'en')."""
    if lang not in LABELS:
        from .errors import UsageError
        raise UsageError(f"--lang must be zh or en, got {lang!r}")
    return LABELS[lang]


def column_label(column: str, lang: str) -> str:
    """Header of a list column: Chinese from output.LABELS_ZH, then the report's own words."""
    if lang == "zh":
        return LABELS_ZH.get(column) or COLUMNS_ZH.get(column) or column
    text = column.replace("_", " ").strip()
    return (text[:1].upper() + text[1:]) if text != "vin" else "VIN"


def translate_values(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Chinese words for the code values of reason/status columns (lang 'zh')."""
    if lang != "zh":
        return frame
    return frame.with_columns(
        pl.col(c).cast(pl.String).replace(VALUES_ZH) for c in VALUE_COLUMNS
        if c in frame.columns and frame.schema[c] == pl.String)


def mask_people(frame: pl.DataFrame) -> pl.DataFrame:
    """output.mask_pii, but dealer names (not people) stay readable."""
    keep = [c for c in NOT_PEOPLE if c in frame.columns]
    return mask_pii(frame).with_columns(frame.select(keep)) if keep else mask_pii(frame)
