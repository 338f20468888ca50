"""The label table (crmtool/output/labels.py) and the breaks issue 15 names: two tables that
disagreed, leads' overdue read as 是否逾期, care callbacks with 服务顾问 twice, English
reject reasons, a config `lang` that accepts anything."""

from __future__ import annotations

import polars as pl
import pytest

from crmtool.config import config_from_dict
from crmtool.errors import ConfigError
from crmtool.output import labels
from crmtool.output.labels import (
    column_from_label,
    column_label,
    headers,
    reason_label,
    translate_values,
    value_label,
)


def test_leads_overdue_is_a_count_of_leads_not_a_yes_no() -> None:
    assert column_label("overdue", "zh", "leads") == "超期未跟进"
    assert column_label("overdue", "zh", "due") == "已超期"
    assert column_label("overdue", "en", "leads") == "Overdue follow-ups"


def test_callbacks_headers_are_all_different() -> None:
    cols = [
        "vin",
        "customer_id",
        "name",
        "phone",
        "series",
        "callback",
        "event_date",
        "ro_id",
        "ro_type",
        "advisor",
        "last_advisor",
    ]
    got = headers(cols, "zh", "callbacks")
    assert len(set(got)) == len(got)
    assert got[-2:] == ["服务顾问", "最近服务顾问"]
    assert not any(
        "(" in h and h.endswith(")") and h[h.index("(") + 1 : -1].isascii()
        for h in got
        if h != "车架号(VIN)"
    )  # no '服务顾问(last_advisor)'


def test_values_and_booleans_for_people() -> None:
    frame = pl.DataFrame(
        {
            "due_service": ["maintenance", "first_service"],
            "due_by": ["km", "time"],
            "overdue": [True, None],
            "status": ["at_risk", "lost"],
            "series": ["Polo", "迈腾"],
        }
    )
    zh = translate_values(frame, "zh")
    assert zh.to_dicts() == [
        {
            "due_service": "定期保养",
            "due_by": "按里程",
            "overdue": "是",
            "status": "准流失客户",
            "series": "Polo",
        },
        {
            "due_service": "首保",
            "due_by": "按时间",
            "overdue": None,
            "status": "流失客户",
            "series": "迈腾",
        },
    ]
    en = translate_values(frame, "en")
    assert en.row(0) == ("Maintenance", "by km", "yes", "At risk", "Polo")
    # leads' status is a lead's: lost = 战败, not 流失客户
    lead = translate_values(pl.DataFrame({"status": ["lost", "won"]}), "zh", "leads")
    assert lead["status"].to_list() == ["战败", "成交"]


def test_reject_reasons_in_words() -> None:
    assert reason_label("missing settle_date", "zh") == "缺少结算日期"
    assert (
        reason_label("settle_date is not a date: '2021-02-30'", "zh")
        == "结算日期不是有效日期：'2021-02-30'"
    )
    assert (
        reason_label("wrong number of fields: expected 12, found 11", "zh")
        == "字段数不符：应为12个，实为11个"
    )
    assert reason_label("missing vin; totals row", "zh") == "缺少车架号(VIN); 合计行"
    assert reason_label("something new", "zh") == "something new"  # kept, never lost
    assert value_label("flag", "vin_check_digit", "zh") == "VIN校验位错误"
    assert value_label("summary", "suppressed.do_not_contact", "zh") == "免打扰剔除：勿扰"
    assert value_label("region", "same", "zh") == "区域内"


def test_one_label_per_code_in_the_report_words() -> None:
    """The report's st_/lk_/rg_/rt_/ls_ words are the table's value labels, not a copy."""
    zh = labels.words("zh")
    assert zh["st_at_risk"] == value_label("status", "at_risk", "zh")
    assert zh["rt_body_paint"] == value_label("ro_type", "body_paint", "zh")
    assert zh["ls_due"] == labels.sheet_label("due", "zh") == "保养提醒"


def test_a_list_written_in_chinese_reads_back() -> None:
    for col in ("customer_id", "phone", "vin", "last_advisor", "overdue"):
        assert column_from_label(column_label(col, "zh")) == col
        assert column_from_label(col) == col


def test_config_lang() -> None:
    assert config_from_dict({}).lang == "zh"
    assert config_from_dict({"lang": "en"}).lang == "en"
    with pytest.raises(ConfigError, match="^config key 'lang' must be \"zh\" or \"en\", got 'fr'$"):
        config_from_dict({"lang": "fr"})
