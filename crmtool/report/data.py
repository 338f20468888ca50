"""The data of the monthly report: the period's summary, the previous period's, and the
month's call lists."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from .. import call_lists, facts, retention
from ..config import Config
from ..period import Period
from ..summary import build_summary, kpi_summary
from ..summary_types import KpiSummary, Summary


def collect_report_data(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date | None = None
) -> tuple[Summary, KpiSummary | None, dict[str, pl.DataFrame]]:
    """(summary, previous summary, call lists) for `period`; as_of defaults to its end.

    Lists: every call list with a `report` builder in the registry (crmtool/call_lists.py):
    maintenance due in the month after as_of, warranties ending in the next days, insurance
    repairs of the last days, loyal vehicles of the half-year ending on as_of, win-back as of
    as_of; and the care lists the summary's care block counts: callbacks due on as_of and
    birthdays in the month after (suppressed, one row per customer), open complaints (oldest
    per customer).
    """
    as_of = as_of or period.end
    # one snapshot of the facts for the summary, the retention section, the previous
    # period's figures and the lists: the visits are computed once, and so is each rule's
    # result that several of them read (facts.rule_source)
    facts.install(con, cfg, snapshot=True)
    try:
        return _collect(con, cfg, period, as_of)
    finally:
        facts.install(con, cfg)


def _collect(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> tuple[Summary, KpiSummary | None, dict[str, pl.DataFrame]]:
    from . import retention as section

    # the retention section's month ends end on as_of's month end: the summary's retention
    # block is that run's last day when it is as_of (a month's report), not a second run
    days = retention.trend_days(as_of, int(cfg.retention.trend_months))
    trend = section.trend(con, cfg, as_of)
    summary = build_summary(con, cfg, period, as_of, trend if days[-1] == as_of else None)
    summary["retention_detail"] = section.collect(con, cfg, as_of, trend)
    prev = period.previous()
    # the previous period feeds the KPI tiles' changes only (render_html._kpis)
    previous = kpi_summary(con, cfg, prev, min(as_of, prev.end))
    return summary, previous, call_lists.report_lists(con, cfg, as_of)
