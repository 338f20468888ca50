"""The summary of a period (docs/rules.md §11 "Summary"): every figure of §3–§10 in one JSON-ready dict.

The keys of the contract are fixed; extra keys (maintenance_due, tiers_by_series,
defected_by_dealer, rejects_by_reason, flags_by_kind) feed the report. On Spark (a maker's
repair_orders, vehicles, customers, dealers) the blocks whose inputs only the embedded store
has (leads, data_quality, rejects, flags, care, forecast) are null (docs/rules.md §22 "Spark").
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from . import churn, db, engine, facts, leads, retention, service_mix, value_tiers
from .config import Config, with_dealer
from .period import Period
from .summary_types import DealerFigures, KpiSummary, Summary


def build_summary(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    period: Period,
    as_of: date | None = None,
    retention_run: retention.Retention | None = None,
) -> Summary:
    """All figures for `period`; as_of defaults to the period's end. `retention_run`: the
    retention KPIs computed already for days that include as_of (the report's trend)."""
    as_of = as_of or period.end
    if facts.is_snapshot(con):  # the caller's snapshot (the report's), shared with its lists
        return _build(con, cfg, period, as_of, retention_run)
    # a dozen analyses over the same visits: compute them once (the data does not change here)
    facts.install(con, cfg, snapshot=True)
    try:
        return _build(con, cfg, period, as_of, retention_run)
    finally:
        facts.install(con, cfg)


def kpi_summary(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> KpiSummary:
    """The blocks of the summary the report's KPI tiles compare with the previous period
    (tiers, status, leakage, never_returned, service_mix, leads), computed as build_summary
    does; facts installed."""
    return {
        "as_of": as_of.isoformat(),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "tiers": value_tiers.tier_counts(con, cfg, as_of),
        "status": churn.status_counts(con, cfg, as_of),
        "leakage": churn.leakage_summary(con, cfg, period),
        "never_returned": churn.never_returned_count(con, cfg, as_of),
        "service_mix": service_mix.service_mix(con, cfg, period),
        "leads": leads.lead_summary(con, cfg, period, as_of),
    }


def _build(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    period: Period,
    as_of: date,
    retention_run: retention.Retention | None = None,
) -> Summary:
    local = not engine.is_spark(con)  # the store's own tables: leads, loads, rejects, flags
    out: Summary = {
        "as_of": as_of.isoformat(),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "tiers": value_tiers.tier_counts(con, cfg, as_of),
        "status": churn.status_counts(con, cfg, as_of),
        "leakage": churn.leakage_summary(con, cfg, period),
        "new_car_defection": churn.new_car_defection(con, cfg, period, as_of),
        "secondary_network": churn.secondary_network(con, cfg, period, as_of),
        "never_returned": churn.never_returned_count(con, cfg, as_of),
        "service_mix": service_mix.service_mix(con, cfg, period),
        "leads": leads.lead_summary(con, cfg, period, as_of) if local else None,
        "data_quality": db.data_quality(con) if local else None,
    }
    if retention_run is None:
        retention_run = retention.compute(con, cfg, [as_of], cohorts=False)
    out["retention"] = retention.block(retention_run, cfg, as_of)
    out.update(_extras(con, cfg, period, as_of))  # type: ignore[typeddict-item]  # report extras
    if len(cfg.own_dealers) > 1:
        out["by_dealer"] = by_dealer(con, cfg, period, as_of)
    return out


def by_dealer(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> dict[str, DealerFigures]:
    """Per own dealer of a group, the figures with only that dealer as own (as --dealer does):
    tiers, status, service_mix, never_returned. Service-mix counts add up to the group's;
    tiers and status need not (a vehicle serviced at two stores is ours for both)."""
    out: dict[str, DealerFigures] = {}
    try:
        for code in cfg.own_dealers:
            one = with_dealer(cfg, code)
            facts.install(con, one, snapshot=True)
            out[code] = {
                "tiers": value_tiers.tier_counts(con, one, as_of),
                "status": churn.status_counts(con, one, as_of),
                "service_mix": service_mix.service_mix(con, one, period),
                "never_returned": churn.never_returned_count(con, one, as_of),
            }
    finally:
        facts.install(con, cfg, snapshot=True)
    return out


def _extras(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> dict[str, Any]:
    """Figures beyond the contract that the report shows."""
    from . import campaigns

    extras: dict[str, Any] = {
        "maintenance_due": campaigns.maintenance_return_rate(con, cfg, period),
        "tiers_by_series": value_tiers.tier_counts_by_series(con, cfg, as_of),
        "defected_by_dealer": churn.defected_by_dealer(con, cfg, period),
    }
    if engine.is_spark(con):  # no loads, rejects, flags or contacts; the model fit is local
        nulls = ("rejects_by_reason", "flags_by_kind", "care", "forecast")
        return {**extras, **dict.fromkeys(nulls)}
    extras["rejects_by_reason"] = _rows(
        con,
        """
        SELECT regexp_replace(reason, ':.*$', '') AS reason, count(*) AS count
        FROM rejects GROUP BY 1 ORDER BY count DESC, reason""",
    )
    extras["flags_by_kind"] = _rows(con, FLAG_COUNTS_SQL)
    from . import care

    extras["care"] = care.care_summary(con, cfg, as_of)
    from . import forecast

    extras["forecast"] = forecast.summary_block(con, cfg, as_of)
    return extras


# One count per flag, the one `crmtool validate` gives (docs/rules.md §18): a VIN or phone
# flag counts the values flagged (a bad VIN on the vehicle and on its ten orders is one
# VIN); any other flag counts the rows flagged, each once however often it was loaded.
VALUE_FLAGS = (
    "vin_check_digit",
    "vin_length",
    "vin_chars",
    "phone_odd",
    "phone_placeholder",
    "phone_shared",
)
FLAG_COUNTS_SQL = f"""
    SELECT flag, CASE WHEN flag IN {VALUE_FLAGS} THEN count(DISTINCT raw)
                      ELSE count(DISTINCT (kind, key, field)) END AS count
    FROM flags GROUP BY 1 ORDER BY count DESC, flag"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    rel = con.sql(sql)
    cols = rel.columns
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]
