"""The data of the monthly report: the period's summary, the previous period's, and the
month's call lists."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from .. import campaigns, facts
from ..config import Config
from ..period import Period, add_months, month_of
from ..summary import build_summary, kpi_summary


def collect_report_data(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date | None = None
) -> tuple[dict, dict | None, dict[str, pl.DataFrame]]:
    """(summary, previous summary, call lists) for `period`; as_of defaults to its end.

    Lists: maintenance due in the month after as_of, warranties ending in the next days,
    insurance repairs of the last days, loyal vehicles of the half-year ending on as_of,
    win-back as of as_of; and the care lists the summary's care block counts: callbacks due
    on as_of and birthdays in the month after (suppressed, one row per customer), open
    complaints (oldest per customer).
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
) -> tuple[dict, dict | None, dict[str, pl.DataFrame]]:
    summary = build_summary(con, cfg, period, as_of)
    summary["retention_detail"] = _retention_detail(con, cfg, as_of)
    prev = period.previous()
    # the previous period feeds the KPI tiles' changes only (render_html._kpis)
    previous = kpi_summary(con, cfg, prev, min(as_of, prev.end))
    next_month = month_of(as_of, 1)
    half = Period(add_months(as_of, -6) + timedelta(days=1), as_of, "half")
    lists = {
        "due": campaigns.maintenance_due(con, cfg, next_month, as_of),
        "warranty": campaigns.warranty_expiring(con, cfg, as_of),
        "insurance": campaigns.insurance_renewal(con, cfg, as_of),
        "loyal": campaigns.loyal_reward(con, cfg, half),
        "winback": campaigns.winback(con, cfg, as_of),
    }
    frames = {key: result.frame for key, result in lists.items()}
    return summary, previous, {**frames, **care_lists(con, cfg, as_of)}


def care_lists(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> dict[str, pl.DataFrame]:
    """The care lists of the report workbook, as `care callbacks|birthdays|complaints` give
    them on as_of (the figures of the summary's care block)."""
    from .. import care
    from ..suppression import apply_suppression, one_per_customer

    care.ensure_contacts(con)
    calls = apply_suppression(con, cfg, care.callbacks(con, cfg, as_of).frame, as_of)[0]
    born = apply_suppression(con, cfg, care.birthdays(con, cfg, month_of(as_of, 1), as_of), as_of)[
        0
    ]
    open_ = apply_suppression(
        con, cfg, care.complaints(con, cfg, as_of), as_of, include_recent=True
    )[0]
    return {
        "callbacks": one_per_customer(calls),
        "birthdays": born,
        "complaints": care.complaints_per_customer(open_),
    }


def _retention_detail(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> dict:
    """The report's retention section: trend, cohorts, survival curve (docs/rules.md §19);
    facts installed as a snapshot."""
    from .retention import collect

    return collect(con, cfg, as_of)
