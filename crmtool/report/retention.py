"""The report's section "售后保持 / Retention" (docs/rules.md §19): the KPIs' 24-month trend, the
milestone funnel, the ownership-year cohort table and the time-to-return curve, for the HTML
page (SVG) and the workbook (native charts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import duckdb

from .. import retention
from ..config import Config

TREND = ("first_service_rate", "retention_12_24_rate", "return_6m_rate", "return_13m_rate")
COLOURS = ("#1f4e79", "#2e7d32", "#e69b00", "#c62828")


def collect(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    as_of: date,
    res: retention.Retention | None = None,
) -> dict[str, Any]:
    """The section's data (facts installed): trend rows of the last `trend_months` month
    ends, the cohort rows and the survival curve at the last of them; `res`: the KPIs at those
    days, computed already (`trend`)."""
    days = retention.trend_days(as_of, int(cfg.retention.trend_months))
    res = res if res is not None else trend(con, cfg, as_of)
    last = days[-1]
    curve = res.curve.filter(res.curve["as_of"] == last)
    return {
        "as_of": last.isoformat(),
        "trend": retention.trend_rows(res, cfg, days, None).to_dicts(),
        "cohort": retention.cohort_rows(res, None).to_dicts(),
        "curve": [(int(t), float(s)) for t, s in zip(curve["t"], curve["s"], strict=True)],
        "block": retention.block(res, cfg, last),
    }


def trend(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> retention.Retention:
    """The KPIs at each of the section's month ends (cohorts at the last)."""
    return retention.compute(con, cfg, retention.trend_days(as_of, int(cfg.retention.trend_months)))


def trend_series(
    detail: Mapping[str, Any], t: Mapping[str, str]
) -> tuple[list[str], list[tuple[str, list[float | None], str]]]:
    """x labels (YYYY-MM) and one (name, rates, colour) series per trend KPI."""
    rows = detail.get("trend") or []
    xs = [str(r["as_of"])[:7] for r in rows]
    series = [
        (t[f"ret_{k}"], [r.get(k) for r in rows], c)
        for k, c in zip(TREND, COLOURS, strict=True)
        if rows and k in rows[0]
    ]
    return xs, series


def survival_points(
    detail: Mapping[str, Any], horizon: int = 730
) -> tuple[list[str], list[float | None]]:
    """S(t) at every 30 days up to `horizon` (a step curve)."""
    curve = detail.get("curve") or []
    xs, ys = [], []
    for day in range(0, horizon + 1, 30):
        s = next((v for t, v in reversed(curve) if t <= day), 1.0)
        xs.append(str(day))
        ys.append(s)
    return xs, ys
