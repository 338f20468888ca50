"""Sales leads (rules §10, seed 004): conversion per source and consultant, overdue follow-ups."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl

from .config import Config
from .period import Period

FIGURES = ("leads", "visited", "won", "lost", "conversion", "overdue")


def _overdue_sql(cfg: Config) -> str:
    """Still open, last follow-up (or creation, without one) more than N days before as_of."""
    return (
        f"(status = 'open' AND $as_of - coalesce(last_follow_up, created_at) "
        f"> {int(cfg.leads_overdue_days)})"
    )


def _figures_sql(cfg: Config, by: str | None) -> str:
    key = f"{by}, " if by else ""
    return f"""
        SELECT {key}count(*) AS leads,
               count(*) FILTER (WHERE visited) AS visited,
               count(*) FILTER (WHERE status = 'won') AS won,
               count(*) FILTER (WHERE status = 'lost') AS lost,
               coalesce(round(count(*) FILTER (WHERE status = 'won') / nullif(count(*), 0), 4), 0)
                   AS conversion,
               count(*) FILTER (WHERE {_overdue_sql(cfg)}) AS overdue
        FROM leads WHERE created_at BETWEEN $start AND $end
        {f"GROUP BY {by} ORDER BY leads DESC, {by}" if by else ""}
    """


def _params(period: Period, as_of: date) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "as_of": as_of}


def lead_summary(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> dict[str, Any]:
    """The summary's "leads" block: leads created in the period; conversion = won / leads."""
    row = con.execute(_figures_sql(cfg, None), _params(period, as_of)).fetchall()[0]
    out = dict(zip(FIGURES, row, strict=True))
    return {k: (float(out[k] or 0.0) if k == "conversion" else int(out[k])) for k in FIGURES}


def by_source(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> pl.DataFrame:
    """Lead figures per source (来源), most leads first."""
    return con.sql(_figures_sql(cfg, "source"), params=_params(period, as_of)).pl()


def by_consultant(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> pl.DataFrame:
    """Lead figures per sales consultant (销售顾问), most leads first."""
    return con.sql(_figures_sql(cfg, "consultant"), params=_params(period, as_of)).pl()


def overdue(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Open leads not followed up for more than leads_overdue_days, longest wait first."""
    return con.sql(
        f"""
        SELECT lead_id, created_at, source, level, consultant, phone, last_follow_up,
               $as_of - coalesce(last_follow_up, created_at) AS days_since_follow_up
        FROM leads WHERE created_at <= $as_of AND {_overdue_sql(cfg)}
        ORDER BY days_since_follow_up DESC, lead_id
    """,
        params={"as_of": as_of},
    ).pl()
