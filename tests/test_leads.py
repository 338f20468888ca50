"""Lead figures (rules §10) on a hand-built set of leads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crmtool import db, leads
from crmtool.config import Config
from crmtool.period import parse_period

AS_OF = date(2022, 6, 30)
JUNE = parse_period("2022-06")
CFG = Config()


@pytest.fixture
def con():
    c = db.connect(":memory:")
    rows = [
        # lead_id, created_at, source, consultant, status, last_follow_up, visited
        ("L1", date(2022, 6, 1), "汽车之家", "张三", "won", None, True),
        ("L2", date(2022, 6, 2), "汽车之家", "张三", "lost", None, True),
        ("L3", date(2022, 6, 3), "汽车之家", "李四", "open", AS_OF - timedelta(days=30), False),
        ("L4", date(2022, 6, 4), "展厅", "李四", "open", AS_OF - timedelta(days=31), True),
        ("L5", date(2022, 5, 30), "展厅", "李四", "open", None, False),  # May: 31 days old
        ("L6", date(2022, 5, 31), "展厅", "张三", "open", None, False),  # 30 days: not overdue
    ]
    for r in rows:
        c.execute(
            "INSERT INTO leads (lead_id, created_at, source, consultant, status,"
            " last_follow_up, visited) VALUES (?, ?, ?, ?, ?, ?, ?)",
            list(r),
        )
    yield c
    c.close()


def test_summary_conversion_and_overdue(con):
    # June: L1–L4 = 4 leads, visited L1 L2 L4 = 3, won 1, lost 1, conversion 1/4;
    # overdue: L4 (last follow-up 31 days before as_of); L3 at 30 days is not
    assert leads.lead_summary(con, CFG, JUNE, AS_OF) == {
        "leads": 4,
        "visited": 3,
        "won": 1,
        "lost": 1,
        "conversion": 0.25,
        "overdue": 1,
    }


def test_by_source_and_consultant(con):
    assert leads.by_source(con, CFG, JUNE, AS_OF).rows() == [
        ("汽车之家", 3, 2, 1, 1, 0.3333, 0),
        ("展厅", 1, 1, 0, 0, 0.0, 1),
    ]
    assert leads.by_consultant(con, CFG, JUNE, AS_OF).rows() == [
        ("张三", 2, 2, 1, 1, 0.5, 0),
        ("李四", 2, 1, 0, 0, 0.0, 1),
    ]


def test_overdue_list_30_31_days(con):
    # any creation date: L5 created 31 days ago (no follow-up), L4 followed up 31 days ago;
    # L3 (30 days) and L6 (created 30 days ago) are not overdue
    assert leads.overdue(con, CFG, AS_OF).select("lead_id", "days_since_follow_up").rows() == [
        ("L4", 31),
        ("L5", 31),
    ]


def test_empty_period():
    c = db.connect(":memory:")
    assert leads.lead_summary(c, CFG, JUNE, AS_OF) == {
        "leads": 0,
        "visited": 0,
        "won": 0,
        "lost": 0,
        "conversion": 0.0,
        "overdue": 0,
    }
