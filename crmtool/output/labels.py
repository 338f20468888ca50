"""THE label table: every word a person reads, in Chinese and English (docs/rules.md, Labels).

One place for the headers of list columns, the labels of code values (ro_type, payer, status,
tier, leakage class, reasons, regions, booleans 是/否, reject and flag reasons), the summary's
keys and the report's own words. Terminal tables, Excel sheets and the HTML report read their
labels here; CSV, JSON and Parquet never do (they keep snake_case names and canonical codes,
docs/rules.md §11). A column or code without a label falls back to itself, and
tests/test_labels_everywhere.py fails on any that shows up in a Chinese output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

LANGS = ("zh", "en")
Label = tuple[str, str]  # (zh, en)

# --- columns -------------------------------------------------------------------------------

COLUMNS: dict[str, Label] = {
    # people and vehicles
    "vin": ("车架号(VIN)", "VIN"),
    "customer_id": ("客户编号", "Customer ID"),
    "name": ("客户姓名", "Name"),
    "phone": ("联系电话", "Phone"),
    "plate": ("车牌号", "Plate"),
    "brand": ("品牌", "Brand"),
    "series": ("车系", "Series"),
    "model": ("车型", "Model"),
    "sale_date": ("购车日期", "Sale date"),
    "sale_channel": ("销售渠道", "Sale channel"),
    "outlet": ("二级网点", "Outlet"),
    "usage": ("使用性质", "Usage"),
    "area_type": ("区域类型", "Area type"),
    "birth_decade": ("年龄段", "Birth decade"),
    "birth_date": ("出生日期", "Birth date"),
    "birth_year": ("出生年份", "Birth year"),
    "birthday": ("生日", "Birthday"),
    "age": ("年龄", "Age"),
    "occupation": ("职业", "Occupation"),
    "gender": ("性别", "Gender"),
    "address": ("地址", "Address"),
    "city": ("城市", "City"),
    "color": ("颜色", "Colour"),
    "engine_no": ("发动机号", "Engine no."),
    "vehicle_status": ("车辆状态", "Vehicle status"),
    "vehicles": ("车辆数", "Vehicles"),
    "dealer_code": ("经销商代码", "Dealer code"),
    "dealer": ("经销商", "Dealer"),
    "dealer_name": ("经销商名称", "Dealer name"),
    "region": ("区域", "Region"),
    # value tier and segments
    "tier": ("价值等级", "Tier"),
    "tier_group": ("阈值组", "Threshold group"),
    "ticket": ("客单价", "Ticket"),
    "ticket_a": ("客单价A线", "Ticket A from"),
    "ticket_b": ("客单价B线", "Ticket B from"),
    "ticket_c": ("客单价C线", "Ticket C from"),
    "ticket_grade": ("客单价等级", "Ticket grade"),
    "visits_grade": ("回站次数等级", "Visits grade"),
    "cycle_grade": ("回站周期等级", "Cycle grade"),
    "share_a": ("A级占比", "Share A"),
    "share_b": ("B级占比", "Share B"),
    "share_c": ("C级占比", "Share C"),
    "share_d": ("D级占比", "Share D"),
    "visits_12m": ("近12月回站次数", "Visits (12 months)"),
    "cycle_days": ("回站周期(天)", "Cycle (days)"),
    "paid_amount_12m": ("近12月自付金额", "Paid (12 months)"),
    "lifetime_paid": ("累计自付金额", "Lifetime paid"),
    "age_stage": ("车龄阶段", "Age stage"),
    "est_mileage": ("估算里程(km)", "Est. mileage (km)"),
    "mileage_band": ("里程段", "Mileage band"),
    "frequency_band": ("入库频次", "Frequency band"),
    "daily_km": ("日均里程(km)", "km per day"),
    # visits and status
    "status": ("忠诚状态", "Status"),
    "days_since": ("未回厂天数", "Days since"),
    "last_visit": ("最近回厂日期", "Last visit"),
    "first_visit": ("首次回厂日期", "First visit"),
    "last_own_visit": ("最近本店回厂日期", "Last own visit"),
    "last_other_visit": ("最近他店回厂日期", "Last visit elsewhere"),
    "visits": ("回厂次数", "Visits"),
    "own_visits": ("本店回厂次数", "Own visits"),
    "own_visits_12m": ("近12月本店回厂次数", "Own visits (12 months)"),
    "other_visits": ("他店回厂次数", "Visits elsewhere"),
    "paid_visits": ("自付回厂次数", "Paid visits"),
    "paid_amount": ("自付金额", "Paid amount"),
    "risk_ratio": ("流失风险系数", "Risk ratio"),
    "warn": ("流失预警", "Churn warning"),
    "reason": ("流失原因", "Reason"),
    "other_dealer": ("去向经销商代码", "Other dealer"),
    "other_dealer_name": ("去向经销商", "Other dealer name"),
    "leakage": ("客户去向", "Where they went"),
    "other_visit_days": ("他店回厂天数", "Days at other dealers"),
    "last_advisor": ("最近服务顾问", "Last advisor"),
    "advisor": ("服务顾问", "Advisor"),
    # repair orders
    "ro_id": ("工单号", "RO number"),
    "ro_type": ("维修类型", "RO type"),
    "payer": ("付费方式", "Payer"),
    "open_date": ("进厂日期", "Open date"),
    "settle_date": ("结算日期", "Settle date"),
    "total_amount": ("结算金额", "Total amount"),
    "labor_amount": ("工时费", "Labour"),
    "parts_amount": ("材料费", "Parts"),
    "mileage": ("里程(km)", "Mileage (km)"),
    "mileage_km": ("里程(km)", "Mileage (km)"),
    # call lists
    "due_service": ("保养类型", "Due service"),
    "due_date": ("应保养日期", "Due date"),
    "due_by": ("到期依据", "Due by"),
    "overdue": ("已超期", "Overdue"),
    "days_overdue": ("超期天数", "Days overdue"),
    "last_service_date": ("上次保养日期", "Last service"),
    "last_service_km": ("上次保养里程(km)", "Last service km"),
    "service_type": ("保养类型", "Service type"),
    "due_mileage": ("到期里程(km)", "Due km"),
    "last_service": ("最近保养日期", "Last service"),
    "warranty_end": ("保修截止日期", "Warranty end"),
    "ends_by": ("脱保依据", "Ends by"),
    "end_reason": ("截止依据", "End reason"),
    "warranty_due": ("脱保日期", "Warranty due"),
    "days_left": ("剩余天数", "Days left"),
    "insurance_end": ("保险到期日", "Insurance end"),
    "band": ("金额档", "Band"),
    "band_label": ("金额档区间", "Band range"),
    "gift": ("礼包", "Gift"),
    # care and contacts
    "callback": ("回访类型", "Callback"),
    "event_date": ("事件日期", "Event date"),
    "holiday": ("节日", "Holiday"),
    "holiday_date": ("节日日期", "Holiday date"),
    "complaint_date": ("投诉日期", "Complaint date"),
    "days_open": ("未结天数", "Days open"),
    "open_complaints": ("未结投诉数", "Open complaints"),
    "contact_id": ("联系编号", "Contact ID"),
    "contact_date": ("联系日期", "Contact date"),
    "channel": ("联系方式", "Channel"),
    "purpose": ("联系类型", "Purpose"),
    "result": ("联系结果", "Result"),
    "do_not_contact": ("勿扰", "Do not contact"),
    "note": ("备注", "Note"),
    "last_contact": ("最近联系日期", "Last contact"),
    "last_result": ("最近联系结果", "Last result"),
    # leads
    "lead_id": ("线索编号", "Lead ID"),
    "created_at": ("创建日期", "Created"),
    "created": ("创建日期", "Created"),
    "source": ("线索来源", "Source"),
    "level": ("意向级别", "Level"),
    "consultant": ("销售顾问", "Consultant"),
    "last_follow_up": ("最近跟进日期", "Last follow-up"),
    "days_since_follow_up": ("未跟进天数", "Days since follow-up"),
    "defeat_reason": ("战败原因", "Defeat reason"),
    "leads": ("线索数", "Leads"),
    "visited": ("到店数", "Visited"),
    "won": ("成交数", "Won"),
    "lost": ("战败数", "Lost"),
    "conversion": ("成交率", "Conversion"),
    # figures
    "period": ("期间", "Period"),
    "month": ("月份", "Month"),
    "rank": ("排名", "Rank"),
    "score": ("得分", "Score"),
    "grade": ("等级", "Grade"),
    "group": ("阈值组", "Group"),
    "count": ("数量", "Count"),
    "share": ("占比", "Share"),
    "revenue": ("产值", "Revenue"),
    "rate": ("比率", "Rate"),
    "amount": ("金额", "Amount"),
    "date": ("日期", "Date"),
    "sold": ("销售台数", "Sold"),
    "returned_paid": ("回厂有自付费用", "Returned paid"),
    "defected": ("流失至他店", "Defected"),
    "cross_shop": ("交叉报修", "Cross-shopping"),
    "item": ("指标", "Figure"),
    "value": ("数值", "Value"),
    # loads, rejects, flags, validate
    "load_id": ("导入批次", "Load"),
    "file": ("文件", "File"),
    "line": ("行号", "Line"),
    "kind": ("数据表", "Table"),
    "raw": ("原始内容", "Raw text"),
    "flag": ("提示类型", "Flag"),
    "field": ("字段", "Field"),
    "table": ("数据表", "Table"),
    "read": ("读取", "Read"),
    "loaded": ("入库", "Loaded"),
    "duplicates": ("重复", "Duplicates"),
    "rejected": ("拒收", "Rejected"),
    "check": ("检查项", "Check"),
    "description": ("说明", "Description"),
    "examples": ("示例", "Examples"),
    "loaded_at": ("导入时间", "Loaded at"),
    "files": ("文件", "Files"),
    "kinds": ("数据表", "Tables"),
    "sheet": ("工作表", "Sheet"),
}

# retention KPIs (docs/rules.md §19)
COLUMNS.update(
    {
        "kpi": ("指标", "KPI"),
        "step": ("口径", "Step"),
        "base": ("基数", "Base"),
        "as_of": ("统计日期", "As of"),
        "sale_year": ("销售年份", "Sale year"),
        "returned": ("已回厂", "Returned"),
        **{f"year_{k}": (f"第{k}年", f"Year {k}") for k in range(1, 11)},
        "milestone": ("保养里程碑", "Milestone"),
        "milestone_date": ("里程碑日期", "Milestone date"),
        "window_end": ("窗口截止日", "Window ends"),
        "first_service_sold": ("首保基数(销售台数)", "First service: sold"),
        "first_service_rate": ("首保率", "First-service rate"),
        **{
            f"milestone_{k}_rate": (f"{k}保→{k + 1}保", f"Milestone {k}→{k + 1}")
            for k in range(1, 11)
        },
        "retention_12_24_base": ("12/24月保持基数", "12/24 retention base"),
        "retention_12_24_rate": ("12/24月保持率", "12/24 retention"),
        **{
            f"return_{n}m_vehicles": (f"{n}个月回厂基数", f"Return after {n} m: base")
            for n in range(1, 37)
        },
        **{f"return_{n}m_rate": (f"{n}个月回厂率", f"Return after {n} m") for n in range(1, 37)},
        "median_days_to_return": ("回厂间隔中位数(天)", "Median days to return"),
    }
)

# forecast (docs/rules.md §20)
COLUMNS.update(
    {
        "p_alive": ("仍在本店概率", "P(alive)"),
        "expected_visits_12m": ("预计12个月有偿回站次数", "Expected paid visits, 12 months"),
        "expected_ticket": ("预计客单价", "Expected ticket"),
        "value_12m": ("预计12个月价值", "Value, 12 months"),
        "x": ("重复有偿回站次数", "Repeat paid visits"),
        "t_x": ("首末有偿回站间隔(天)", "Days first to last paid visit"),
        "T": ("首次有偿回站至今(天)", "Days since first paid visit"),
        "mean_paid": ("重复回站平均有偿金额", "Mean repeat paid amount"),
        "first_paid": ("首次有偿回站日期", "First paid visit"),
        "last_paid": ("最近有偿回站日期", "Last paid visit"),
        "fit": ("模型", "Model"),
        "parameter": ("参数", "Parameter"),
        "std_error": ("标准误", "Standard error"),
        "converged": ("已收敛", "Converged"),
        "predicted": ("预测", "Predicted"),
        "actual": ("实际", "Actual"),
        "mae": ("平均绝对误差", "Mean absolute error"),
    }
)

# Where one list gives a column another meaning (the key is the list's sheet name).
CONTEXT_COLUMNS: dict[str, dict[str, Label]] = {
    "find": {
        "is_own": ("本店/他店", "Own"),
        "tier": ("等级", "Tier"),
        "status": ("状态", "Status"),
        "vehicle_status": ("车况", "Vehicle status"),
    },
    "leads": {"overdue": ("超期未跟进", "Overdue follow-ups"), "status": ("线索状态", "Status")},
    "rejects": {"reason": ("拒收原因", "Reason"), "kind": ("数据表", "Table")},
    "complaints": {"status": ("处理状态", "Status")},
    "retention": {
        "count": ("达成数", "Count"),
        "rate": ("比率", "Rate"),
        "group": ("分组", "Group"),
    },
}

# --- code values ---------------------------------------------------------------------------

_YES_NO: dict[str, Label] = {"true": ("是", "yes"), "false": ("否", "no")}
_RO_TYPE: dict[str, Label] = {
    "first_service": ("首保", "First service"),
    "maintenance": ("定期保养", "Maintenance"),
    "repair": ("一般维修", "Repair"),
    "body_paint": ("钣金喷漆", "Body & paint"),
    "warranty": ("保修索赔", "Warranty"),
    "pds": ("PDS售前检查", "PDS"),
    "internal": ("内部结算", "Internal"),
    "other": ("其他", "Other"),
}
_TABLES: dict[str, Label] = {
    "customers": ("客户", "customers"),
    "vehicles": ("车辆", "vehicles"),
    "repair_orders": ("维修工单", "repair orders"),
    "leads": ("线索", "leads"),
    "dealers": ("经销商", "dealers"),
    "contacts": ("联系记录", "contacts"),
}

VALUES: dict[str, dict[str, Label]] = {
    "bool": _YES_NO,
    "ro_type": _RO_TYPE,
    "payer": {
        "customer": ("自费", "Customer"),
        "warranty": ("厂家索赔", "Warranty"),
        "insurance": ("保险", "Insurance"),
        "internal": ("内部", "Internal"),
        "other": ("其他", "Other"),
    },
    "sale_channel": {
        "own": ("自店", "Own"),
        "secondary": ("二级网点", "Secondary"),
        "other": ("他店", "Other"),
    },
    "usage": {
        "private": ("私家车", "Private"),
        "official": ("公务车", "Official"),
        "commercial": ("营运车", "Commercial"),
    },
    "area_type": {
        "city": ("市区", "City"),
        "county": ("县城", "County"),
        "township": ("乡镇", "Township"),
    },
    "gender": {"male": ("男", "Male"), "female": ("女", "Female")},
    "vehicle_status": {
        "active": ("正常", "Active"),
        "scrapped": ("报废", "Scrapped"),
        "transferred": ("过户", "Transferred"),
    },
    "lead_status": {"open": ("跟进中", "Open"), "won": ("成交", "Won"), "lost": ("战败", "Lost")},
    "channel": {"phone": ("电话", "Phone"), "sms": ("短信", "SMS"), "wechat": ("微信", "WeChat")},
    "purpose": {
        "callback": ("回访", "Callback"),
        "campaign": ("招揽", "Campaign"),
        "care": ("关怀", "Care"),
        "complaint": ("投诉", "Complaint"),
    },
    "result": {
        "satisfied": ("满意", "Satisfied"),
        "neutral": ("一般", "Neutral"),
        "dissatisfied": ("不满意", "Dissatisfied"),
        "no_answer": ("未接通", "No answer"),
        "refused": ("拒访", "Refused"),
        "wrong_number": ("空号", "Wrong number"),
        "reached": ("已联系上", "Reached"),
        "unreachable": ("无法联系", "Unreachable"),
    },
    # loyalty status (rules §5), churn reason, leakage class (§6), regions
    "status": {
        "new": ("新车客户", "New"),
        "loyal": ("忠诚客户", "Loyal"),
        "general": ("一般客户", "General"),
        "at_risk": ("准流失客户", "At risk"),
        "lost": ("流失客户", "Lost"),
    },
    "reason": {
        "never_returned": ("销售后无回厂", "Never returned"),
        "defected": ("流失至他店", "Defected"),
        "out_of_channel": ("流失至渠道外", "Out of channel"),
    },
    "leakage": {
        "retained": ("仅回自店", "Own dealer only"),
        "cross_shop": ("交叉报修（自店与他店）", "Cross-shopping (own and other)"),
        "defected": ("流失至他店", "Defected to other dealers"),
        "out_of_channel": ("流失至渠道外（无任何报修）", "Out of channel (no visit anywhere)"),
    },
    "region": {
        "same": ("区域内", "Same region"),
        "other": ("区域外", "Other region"),
        "unknown": ("区域未知", "Unknown region"),
    },
    "age_stage": {
        "new": ("新车(3年内)", "New"),
        "mid": ("中年车(3-6年)", "Mid"),
        "old": ("老旧车(6年以上)", "Old"),
    },
    "due_by": {"km": ("按里程", "by km"), "time": ("按时间", "by time")},
    "ends_by": {"date": ("按年限", "by date"), "km": ("按里程", "by km")},
    "callback": {
        "3DC": ("维修后3日回访", "3-day callback"),
        "7DC": ("交车后7日回访", "7-day delivery callback"),
    },
    "kind": _TABLES,
    "kpi": {
        "first_service": ("首保率", "First-service rate"),
        "milestone": ("保养里程碑", "Service milestone"),
        "retention_12_24": ("12/24月保持率", "12/24-month retention"),
        "return_after": ("N个月回厂率", "Return after N months"),
        "still_away": ("未回厂比例 S(t)", "Still away S(t)"),
        "median_days_to_return": ("回厂间隔中位数(天)", "Median days to return"),
    },
    "is_own": {"true": ("本店", "own"), "false": ("他店", "other")},
    "reminder": {
        "maintenance": ("保养提醒", "maintenance"),
        "warranty": ("脱保", "warranty"),
        "winback": ("流失招揽", "win-back"),
    },
    "mileage_band": {"unknown": ("未知", "unknown")},
    "series": {"(all)": ("（全部）", "(all)")},
    # data-quality flags (flags table, validate, the report)
    "flag": {
        "vin_check_digit": ("VIN校验位错误", "VIN check digit"),
        "vin_length": ("VIN长度不是17位", "VIN not 17 characters"),
        "vin_chars": ("VIN含I/O/Q", "VIN contains I/O/Q"),
        "vin_format": ("VIN格式错误", "VIN format"),
        "vin_from_plate": ("VIN由车牌补全", "VIN from plate"),
        "phone_odd": ("电话号码异常", "Odd phone"),
        "phone_placeholder": ("占位电话号码", "Placeholder phone"),
        "phone_shared": ("多客户共用电话", "Shared phone"),
        "unknown_code": ("未识别的代码值", "Unknown code"),
        "payer_inferred": ("付费方式由维修类型推定", "Payer inferred"),
        "mileage_dropped": ("里程读数被舍弃", "Mileage reading dropped"),
        "out_of_range": ("数值超出合理范围(已舍弃)", "Out of range (dropped)"),
        "mileage_backwards": ("里程倒退", "Mileage backwards"),
        "future_date": ("日期晚于统计日期", "Future date"),
        "bad_value": ("无法识别的值", "Unreadable value"),
        "odd_phones": ("电话号码异常", "Odd phones"),
        "future_dates": ("日期晚于统计日期", "Dates after as-of"),
        "negative_totals": ("结算金额为负", "Negative totals"),
        "unknown_ro_type": ("未识别的维修类型", "Unknown RO types"),
        "unknown_payer": ("未识别的付费方式", "Unknown payers"),
        "vehicles_without_owner": ("车辆无对应客户", "Vehicles without owner"),
        "ro_vin_without_vehicle": ("工单VIN无车辆档案", "RO VINs without vehicle"),
        "own_dealers_unmatched": ("本店代码在数据中不存在", "Own dealers not in the data"),
    },
    # keys of the summary's care block (the report shows them flattened)
    "summary": {
        "callbacks_due": ("待回访", "Callbacks due"),
        "birthdays": ("本月生日", "Birthdays"),
        "open_complaints": ("未结投诉", "Open complaints"),
        "suppressed": ("免打扰剔除", "Left off lists"),
        "suppressed.do_not_contact": ("免打扰剔除：勿扰", "Left off: do not contact"),
        "suppressed.wrong_number": ("免打扰剔除：空号", "Left off: wrong number"),
        "suppressed.recent": ("免打扰剔除：近期已联系", "Left off: contacted recently"),
        "greetings": ("节日问候", "Greetings"),
    },
    # forecast --params: the two models; --calibrate-until: the total row
    "fit": {
        "bgnbd": ("BG/NBD回站模型", "BG/NBD"),
        "gamma_gamma": ("Gamma-Gamma金额模型", "Gamma-Gamma"),
    },
    "x_bucket": {"total": ("合计", "Total")},
    # sheet names of the Excel call lists
    "sheet": {
        "list": ("名单", "List"),
        "segment": ("客户分类", "Segment"),
        "tiers": ("价值等级", "Tiers"),
        "churn": ("流失客户", "Churn"),
        "due": ("保养提醒", "Maintenance due"),
        "warranty": ("脱保延保", "Warranty expiring"),
        "insurance": ("续保前移", "Insurance renewal"),
        "loyal": ("忠诚客户回馈", "Loyal reward"),
        "winback": ("流失客户招揽", "Win-back"),
        "leads": ("线索", "Leads"),
        "rejects": ("拒收记录", "Rejects"),
        "callbacks": ("回访", "Callbacks"),
        "birthdays": ("生日关怀", "Birthdays"),
        "greetings": ("节日问候", "Greetings"),
        "complaints": ("投诉跟进", "Open complaints"),
        "contacts": ("联系名单", "Contacts"),
        "forecast": ("价值预测", "Forecast"),
        "parameters": ("模型参数", "Parameters"),
        "calibration": ("预测校验", "Calibration"),
        "retention": ("售后保持", "Retention"),
        "retention_trend": ("保持率趋势", "Trend"),
        "retention_cohort": ("车龄保持率", "Cohorts"),
        "first_service_missing": ("首保未回厂", "First service missing"),
        "milestone_stalled": ("保养中断", "Milestone stalled"),
    },
}
VALUES["due_service"] = _RO_TYPE
# retention's --by groups: tiers, series, dealers and advisors as they are; these two words
VALUES["retention_group"] = {"all": ("全部", "All"), "unknown": ("未知", "Unknown")}
VALUES["flag"].update(
    {
        "bad_date": ("日期无法识别", "Unreadable date"),
        "bad_amount": ("金额无法识别", "Unreadable amount"),
        "bad_mileage": ("里程无法识别", "Unreadable mileage"),
        "bad_year": ("年份无法识别", "Unreadable year"),
        "bad_bool": ("是/否无法识别", "Unreadable yes/no"),
    }
)
# `crmtool inspect`: where a header's mapping comes from, and the report's own words
VALUES["mapping_source"] = {
    "built-in": ("内置", "built-in"),
    "config": ("配置", "config"),
    "profile": ("厂家预设", "profile"),
    "none": ("未使用", "not used"),
}
VALUES["inspect"] = {
    "header": ("表头行: 第{line}行", "header row: line {line}"),
    "table": ("识别为: {kind}", "table: {kind}"),
    "no_table": ("识别为: 无法识别 (请用 --kind 指定)", "table: not recognised (pass --kind)"),
    "evidence": ("依据", "evidence"),
    "runner_up": ("次选", "runner-up"),
    "ambiguous": (
        "两者证据相当, 导入会停止: 请指定 {choices}",
        "too close to choose, a load stops: pass {choices}",
    ),
    "feeds": ("同时补充: {tables}", "also feeds: {tables}"),
    "overrides": ("取代内置的 {field}", "takes it from built-in {field}"),
    "warning": ("警告: {text}", "warning: {text}"),
    "alone": (
        "(全部文件一起导入会失败: 以上为该文件单独导入的结果)",
        "(the load of all the files fails: these are this file's counts loaded alone)",
    ),
    "all_fail": (
        "这些文件一起导入将失败, 不会写入任何内容: {error}",
        "a load of these files would fail and write nothing: {error}",
    ),
    "columns": ("列映射:", "columns:"),
    "unused": ("未使用: 该字段已由另一列提供", "not used: another column of this field wins"),
    "missing": ("缺少必需字段 {field}", "missing required field {field}"),
    "could_fill": ("可由这些列提供", "could come from"),
    "no_candidate": ("本文件没有可提供该字段的列", "no column of this file could fill it"),
    "parse": ("{cells}个值中{parsed}个可解析", "{parsed} of {cells} cells parse"),
    "now": ("现映射为 {field}", "now {field}"),
    "values": ("{field} 的取值:", "values of {field}:"),
    "unknown": ("未知", "unknown"),
    "empty": ("空", "empty"),
    "more": ("… 另有{n}个取值", "… {n} more values"),
    "flags": (
        "标记 (无法解析的值、异常VIN和电话):",
        "flags (values that did not parse, odd VINs and phones):",
    ),
    "rejects": ("拒收:", "rejects:"),
    "line": ("第{line}行", "line {line}"),
    "counts": (
        "导入预计: 读取 {read} = 入库 {loaded} + 重复 {duplicates} + 拒收 {rejected}",
        "a load would give: read {read} = loaded {loaded} + duplicates {duplicates} + "
        "rejected {rejected}",
    ),
    "fed": ("另补充", "also fed"),
    "skipped": ("导入时将跳过: {why}", "a load would skip it: {why}"),
    "already loaded": ("已导入过 (内容相同)", "already loaded"),
    "earlier": (
        "此前已导入 (第{load_id}次导入, 文件 {file}); 以上标记和拒收为该次导入的记录",
        "loaded before (load {load_id}, as {file}); the flags and rejects above are that load's",
    ),
    "earlier_counts": (
        "当时导入: 读取 {read} = 入库 {loaded} + 重复 {duplicates} + 拒收 {rejected}",
        "when it was loaded: read {read} = loaded {loaded} + duplicates "
        "{duplicates} + rejected {rejected}",
    ),
    "fails": ("导入将失败: {error}", "a load would fail: {error}"),
    "unreadable": ("无法读取: {error}", "cannot be read: {error}"),
    "total": (
        "合计: 读取 {read} = 入库 {loaded} + 重复 {duplicates} + 拒收 {rejected}",
        "total: read {read} = loaded {loaded} + duplicates {duplicates} + rejected {rejected}",
    ),
    "no_own": (
        "没有工单属于本店 own_dealers ({own}): 所有指标将为0; 见 --suggest-config",
        "no repair order belongs to own_dealers ({own}): every figure would be 0; "
        "see --suggest-config",
    ),
    "dry": ("未写入 {db}", "nothing was written to {db}"),
    "no_db": (
        "数据库 {db} 尚不存在: 按空库计算",
        "database {db} does not exist yet: counts are for an empty one",
    ),
}

# Which value labels a column takes (a column not here shows its values as they are).
VALUE_COLUMNS: dict[str, str] = {
    "ro_type": "ro_type",
    "last_ro_type": "ro_type",
    "due_service": "due_service",
    "service_type": "ro_type",
    "payer": "payer",
    "sale_channel": "sale_channel",
    "usage": "usage",
    "area_type": "area_type",
    "gender": "gender",
    "vehicle_status": "vehicle_status",
    "channel": "channel",
    "purpose": "purpose",
    "result": "result",
    "last_result": "result",
    "status": "status",
    "reason": "reason",
    "leakage": "leakage",
    "region": "region",
    "age_stage": "age_stage",
    "due_by": "due_by",
    "ends_by": "ends_by",
    "callback": "callback",
    "kind": "kind",
    "table": "kind",
    "flag": "flag",
    "check": "flag",
    "mileage_band": "mileage_band",
    "kpi": "kpi",
    "fit": "fit",
    "series": "series",
}
CONTEXT_VALUES: dict[str, dict[str, str]] = {
    "leads": {"status": "lead_status"},
    "retention": {"group": "retention_group"},
    "retention_trend": {"group": "retention_group"},
    "retention_cohort": {"group": "retention_group"},
    "rejects": {"reason": "reject"},
    "calibration": {"x": "x_bucket"},
}

# --- reject reasons (text built by the loader: 'missing vin', "x is not a date: '…'") -------

_REJECTS: list[tuple[re.Pattern[str], Label]] = [
    (re.compile(r"^missing (\w+) and (\w+)$"), ("缺少{0}和{1}", "missing {0} and {1}")),
    (re.compile(r"^missing (\w+)$"), ("缺少{0}", "missing {0}")),
    (
        re.compile(r"^(\w+) is not a date: (.*)$"),
        ("{0}不是有效日期：{1}", "{0} is not a date: {1}"),
    ),
    (re.compile(r"^(\w+) is not a date$"), ("{0}不是有效日期", "{0} is not a date")),
    (
        re.compile(r"^(\w+) is not a number: (.*)$"),
        ("{0}不是数字：{1}", "{0} is not a number: {1}"),
    ),
    (
        re.compile(r"^wrong number of fields: expected (\d+), found (\d+)$"),
        ("字段数不符：应为{0}个，实为{1}个", "wrong number of fields: expected {0}, found {1}"),
    ),
    (
        re.compile(r"^wrong number of fields: expected (\d+)(.*)$"),
        ("字段数不符：应为{0}个{1}", "wrong number of fields: expected {0}{1}"),
    ),
    (
        re.compile(r"^unbalanced quote \(the quoted field runs to the end of the file\)$"),
        (
            "引号不成对（引号内的字段一直延续到文件末尾）",
            "unbalanced quote (the quoted field runs to the end of the file)",
        ),
    ),
    (re.compile(r"^unbalanced quote$"), ("引号不成对", "unbalanced quote")),
    (re.compile(r"^totals row$"), ("合计行", "totals row")),
    (
        re.compile(r"^forgotten person \(PIPL\)$"),
        ("已按要求删除的个人（个人信息保护法）", "forgotten person (PIPL)"),
    ),
    (re.compile(r"^no header$"), ("未找到表头", "no header")),
    (re.compile(r"^voided( order)?$"), ("作废工单", "voided order")),
]


# --- look-ups ------------------------------------------------------------------------------


def check_lang(lang: str | None, default: str = "zh") -> str:
    """'zh' or 'en' (None gives the default); anything else is a usage error."""
    if lang is None:
        return default
    if lang not in LANGS:
        from ..errors import UsageError

        raise UsageError(f"--lang: unknown language {lang!r}; use zh or en")
    return lang


def _pick(label: Label, lang: str) -> str:
    return label[0] if lang == "zh" else label[1]


def _humane(column: str) -> str:
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def column_label(column: str, lang: str, context: str | None = None) -> str:
    """The header of a column for people; a column without a label keeps its name (zh) or
    reads as words (en)."""
    label = CONTEXT_COLUMNS.get(context or "", {}).get(column) or COLUMNS.get(column)
    if label:
        return _pick(label, lang)
    return column if lang == "zh" else _humane(column)


def headers(columns: Iterable[str], lang: str, context: str | None = None) -> list[str]:
    """Column labels, kept apart when two columns would read the same."""
    out: list[str] = []
    for col in columns:
        label, n = column_label(col, lang, context), 1
        while label in out:
            n += 1
            label = f"{column_label(col, lang, context)} {n}"
        out.append(label)
    return out


def reason_label(text: str, lang: str) -> str:
    """A reject reason as the loader wrote it ('missing vin; totals row') in words."""
    parts = []
    for part in text.split("; "):
        for pattern, label in _REJECTS:
            m = pattern.match(part)
            if m:
                args = [
                    column_label(g, lang) if re.fullmatch(r"[a-z_]+", g or "") else g
                    for g in m.groups()
                ]
                parts.append(_pick(label, lang).format(*args))
                break
        else:
            parts.append(part)
    return "; ".join(parts)


def value_label(domain: str, code: object, lang: str) -> str:
    """The label of one code value of a domain ('status', 'ro_type', 'flag', 'summary' …)."""
    if isinstance(code, bool):
        code = "true" if code else "false"
    text = "" if code is None else str(code)
    if domain == "reject":
        return reason_label(text, lang)
    label = VALUES.get(domain, {}).get(text)
    return _pick(label, lang) if label else text


def value_domain(column: str, context: str | None = None) -> str | None:
    """Which value labels a column's values take, if any."""
    return CONTEXT_VALUES.get(context or "", {}).get(column) or VALUE_COLUMNS.get(column)


def translate_values(frame: pl.DataFrame, lang: str, context: str | None = None) -> pl.DataFrame:
    """Code values as words (status at_risk -> 准流失客户) and booleans as 是/否 (yes/no)."""
    import polars as pl

    exprs = []
    for col, dtype in frame.schema.items():
        if dtype == pl.Boolean:
            yes, no = value_label("bool", True, lang), value_label("bool", False, lang)
            exprs.append(
                pl.when(pl.col(col))
                .then(pl.lit(yes))
                .when(pl.col(col).is_not_null())
                .then(pl.lit(no))
                .otherwise(pl.lit(None, pl.String))
                .alias(col)
            )
            continue
        domain = value_domain(col, context)
        if domain is None or dtype != pl.String:
            continue
        codes = frame.get_column(col).drop_nulls().unique().to_list()
        mapping = {c: value_label(domain, c, lang) for c in codes}
        mapping = {k: v for k, v in mapping.items() if k != v}
        if mapping:
            exprs.append(pl.col(col).replace(mapping).alias(col))
    return frame.with_columns(exprs) if exprs else frame


def for_people(frame: pl.DataFrame, lang: str, context: str | None = None) -> pl.DataFrame:
    """The frame as people read it: values and headers labelled (never for CSV/JSON/Parquet)."""
    frame = translate_values(frame, lang, context)
    return frame.rename(
        dict(zip(frame.columns, headers(frame.columns, lang, context), strict=True))
    )


def sheet_label(key: str, lang: str) -> str:
    """The name of a list's Excel sheet ('due' -> 保养提醒)."""
    return value_label("sheet", key, lang)


def column_from_label(label: str) -> str | None:
    """The column a header names: its snake_case name or one of its labels (a call list
    written in Chinese comes back for `contacts mark`)."""
    if label in COLUMNS:
        return label
    for col, pair in COLUMNS.items():
        if label in pair:
            return col
    for ctx in CONTEXT_COLUMNS.values():
        for col, pair in ctx.items():
            if label in pair:
                return col
    return None


def flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """A nested summary block as dotted keys ('suppressed.recent'), the keys of 'summary'."""
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, Mapping):
            out += flatten(v, f"{prefix}{k}.")
        elif not isinstance(v, list):
            out.append((f"{prefix}{k}", v))
    return out


def words(lang: str) -> dict[str, str]:
    """The report's words of one language."""
    return WORDS_ZH if check_lang(lang) == "zh" else WORDS_EN


# the report's section 售后保持 (docs/rules.md §19), zh and en
_RETENTION_WORDS: dict[str, Label] = {
    "retention": ("售后保持", "Retention"),
    "retention_note": (
        "首保率、保养里程碑、12/24月保持率、6/13个月回厂率、车龄保持率与回厂间隔；"
        "只计本店回厂，销售当天不计。",
        "First-service rate, milestones, 12/24-month retention, return after "
        "6/13 months, ownership-year cohorts and time to return; own visits "
        "only, the sale day never counts.",
    ),
    "ret_first_service_rate": ("首保率", "First-service rate"),
    "ret_retention_12_24_rate": ("12/24月保持率", "12/24-month retention"),
    "ret_return_6m_rate": ("6个月回厂率", "Return after 6 months"),
    "ret_return_13m_rate": ("13个月回厂率", "Return after 13 months"),
    "ret_median_days": ("回厂间隔中位数", "Median days to return"),
    "days": ("天", "days"),
    "ret_trend": ("近24个月趋势", "Last 24 months"),
    "ret_funnel": ("保养里程碑漏斗", "Service milestones"),
    "ret_k": ("保", ""),
    "ret_milestone": ("里程碑", "Milestone"),
    "ret_reached": ("已达成", "Reached"),
    "ret_eligible": ("窗口已满", "Window closed"),
    "ret_next": ("12个月内续保养", "Next within 12 months"),
    "ret_cohort": ("车龄保持率（按销售年份）", "Ownership-year retention by sale year"),
    "ret_year": ("第{}年", "Year {}"),
    "ret_sale_year": ("销售年份", "Sale year"),
    "ret_sold": ("销售台数", "Sold"),
    "ret_curve": ("回厂间隔（Kaplan–Meier）", "Time to return (Kaplan–Meier)"),
    "ret_curve_note": (
        "纵轴：上次回厂后 t 天仍未回厂的比例",
        "Share still away t days after a visit",
    ),
    "ret_still_away": ("仍未回厂", "Still away"),
}


# the report's section 预测 (docs/rules.md §20), zh and en
_FORECAST_WORDS: dict[str, Label] = {
    "forecast": ("价值预测", "Forecast"),
    "forecast_note": (
        "BG/NBD + Gamma-Gamma 模型：每辆有偿回站过的在册车辆仍在本店的概率与未来"
        "12个月的预计价值；只回站过一次的车（x = 0）模型无法判断，单列。",
        "BG/NBD + Gamma-Gamma: for every car ours with a paid visit, the chance "
        "it still comes to us and its expected value over the next 12 months; "
        "cars with one paid visit (x = 0) cannot be judged and stand apart.",
    ),
    "fc_value": ("预计12个月价值", "Expected value, 12 months"),
    "fc_at_risk": ("准流失及流失客户的预计价值", "Value at risk (at-risk and lost cars)"),
    "fc_bands": ("仍在本店概率分布（按价值等级）", "P(alive) by value tier"),
    "fc_x0": ("仅一次有偿回站", "One paid visit (x = 0)"),
    "fc_by_status": ("各忠诚状态的预计12个月价值", "Expected value, 12 months, by status"),
    # the fit's warnings (forecast.note_codes; {value} is the code's value)
    "fc_note_no_dropout": (
        "提示：模型几乎看不到流失（每次回站后流失的平均概率 a/(a+b) = {value}），"
        "所有车辆的仍在本店概率都接近1；请以忠诚状态（距上次回站天数）为准。",
        "the fit finds almost no drop-out (mean chance per visit a/(a+b) = {value}): "
        "p_alive is near 1 for every car here; the loyalty status (days since the last "
        "visit) is the better guide",
    ),
    "fc_note_edge": (
        "提示：参数 {value} 到达模型边界（车辆之间在这方面差异很小）；预测仍可用，"
        "但其标准误没有意义。",
        "{value} ran to the edge of the model (the data show little spread between cars "
        "there); the forecasts hold, but their standard errors mean nothing",
    ),
}


# --- the report's own words ----------------------------------------------------------------

WORDS_ZH: dict[str, str] = {
    "title": "售后客户运营月报",
    "summary_title": "crmtool 汇总",
    "rows_n": "共 {n} 行",
    "rows_first": "，显示前 {n} 行",
    "more_columns": "；另有 {n} 列未显示：--columns 或 --wide",
    "more_columns_find": "（另有 {n} 列未显示：--wide 或 --format json）",
    "card_born": "出生",
    "card_no_owner": "车主未知的车辆",
    "card_vehicles": "车辆",
    "card_visits": "回厂记录（共 {total} 次，显示最近 {shown} 次）",
    "card_reminders": "待办提醒",
    "card_none": "无",
    "card_last_contact": "最近联系",
    "dq_all": "数据质量（全部导入）",
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
    "list_capped": "完整清单共 {total} 行，本表按清单优先顺序列出前 {n} 行。",
    "list_capped_per_store": (
        "完整清单共 {total} 行，本表按清单优先顺序列出每家经销商的前 {n} 行（共 {shown} 行）。"
    ),
    "list_export": "导出完整清单：{command}",
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
    # leakage
    "leakage": "客户去向（流失客户分析）",
    "leakage_note": "期初保有车辆在本期的回厂去向。",
    "base": "期初保有",
    "cross_by_visits": "交叉报修客户按自店报修次数",
    "own_visits": "自店报修次数",
    "visits_n": "{n}次",
    "visits_5": "5次及以上",
    "cross_region": "交叉报修客户按他店区域",
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

WORDS_EN: dict[str, str] = {
    "title": "After-sales customer report",
    "summary_title": "crmtool summary",
    "rows_n": "{n} rows",
    "rows_first": ", first {n} shown",
    "more_columns": "; +{n} columns: --columns or --wide",
    "more_columns_find": " (+{n} columns: --wide or --format json)",
    "card_born": "born",
    "card_no_owner": "vehicle without a known owner",
    "card_vehicles": "vehicles",
    "card_visits": "visits ({shown} of {total}, newest first)",
    "card_reminders": "reminders",
    "card_none": "none",
    "card_last_contact": "last contact",
    "dq_all": "Data quality (all loads)",
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
    "list_capped": "The full list has {total} rows; this sheet holds the first {n} in the "
    "list's order.",
    "list_capped_per_store": "The full list has {total} rows; this sheet holds the first {n} "
    "of each dealer in the list's order ({shown} rows).",
    "list_export": " Export the whole list: {command}",
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
    "leakage": "Where customers go",
    "leakage_note": "Where the vehicles ours at the period start were serviced in the period.",
    "base": "Base",
    "cross_by_visits": "Cross-shoppers by own visits",
    "own_visits": "Own visits",
    "visits_n": "{n}",
    "visits_5": "5+",
    "cross_region": "Cross-shoppers by region of the other dealer",
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

WORDS_ZH.update({k: zh for k, (zh, _en) in _RETENTION_WORDS.items()})
WORDS_EN.update({k: en for k, (_zh, en) in _RETENTION_WORDS.items()})

# The report's names for code values come from VALUES (one label each): st_<status>,
# lk_<leakage class>, rg_<region>, rt_<ro_type>, ls_<list> (the list's sheet name).
for _prefix, _domain in (
    ("st", "status"),
    ("lk", "leakage"),
    ("rg", "region"),
    ("rt", "ro_type"),
    ("ls", "sheet"),
):
    for _code, (_zh, _en) in VALUES[_domain].items():
        WORDS_ZH[f"{_prefix}_{_code}"] = _zh
        WORDS_EN[f"{_prefix}_{_code}"] = _en
WORDS_ZH["lang"], WORDS_EN["lang"] = "zh", "en"
# the report's title and list heading of a period that is not a month (issue 15: a quarter's
# report is not a 月报 with 本月 lists); report_common.labels picks them by the period's kind
_PERIOD_WORDS: dict[str, Label] = {
    "title_quarter": ("售后客户运营季报", "Quarterly after-sales customer report"),
    "title_half": ("售后客户运营半年报", "Half-year after-sales customer report"),
    "title_year": ("售后客户运营年报", "Annual after-sales customer report"),
    "title_other": ("售后客户运营报告", "After-sales customer report"),
    "lists_quarter": ("招揽名单（截至统计日期）", "Call lists at the report's as_of"),
    "lists_half": ("招揽名单（截至统计日期）", "Call lists at the report's as_of"),
    "lists_year": ("招揽名单（截至统计日期）", "Call lists at the report's as_of"),
    "lists_other": ("招揽名单（截至统计日期）", "Call lists at the report's as_of"),
}
WORDS_ZH.update({k: zh for k, (zh, _en) in _PERIOD_WORDS.items()})
WORDS_EN.update({k: en for k, (_zh, en) in _PERIOD_WORDS.items()})
WORDS_ZH.update({k: zh for k, (zh, _en) in _FORECAST_WORDS.items()})
WORDS_EN.update({k: en for k, (_zh, en) in _FORECAST_WORDS.items()})
