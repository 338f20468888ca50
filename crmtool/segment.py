"""Segments (rules §4, seed 003 客户分类) and the `segment` targeting list.

Each segment column is defined once, as SQL driven by cfg.segments:
age_stage 车龄, est_mileage / mileage_band 里程, frequency_band 入库频次, birth_decade 年代,
plus the plain attributes series, model, usage, area_type, occupation.

The mileage rate rule lives only here (`daily_rates`); the due and warranty lists call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import duckdb

from . import engine
from . import segment_registry as registry
from .codes import GONE
from .config import Config
from .facts import last_advisor_sql, ours_sql
from .lazy import lazy
from .segment_registry import frequency_labels, mileage_labels
from .sqltext import in_list
from .value_tiers import tiers_sql

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")


# -- segment columns as SQL expressions ------------------------------------------------------


def age_stage_sql(cfg: Config, sale_date: str = "sale_date") -> str:
    """new / mid / old by years = (as_of − sale_date) / 365.25; unknown without a sale date."""
    new_until, mid_until = (float(x) for x in cfg.segments.age_stage_years[:2])
    years = f"(date_diff('day', {sale_date}, $as_of) / 365.25)"
    return (
        f"CASE WHEN {sale_date} IS NULL THEN 'unknown' "
        f"WHEN {years} < {new_until} THEN 'new' "
        f"WHEN {years} < {mid_until} THEN 'mid' ELSE 'old' END"
    )


def mileage_band_sql(cfg: Config, km: str = "est_mileage") -> str:
    cuts = cfg.segments.mileage_bands_km
    labels = mileage_labels(cfg)
    whens = " ".join(
        f"WHEN {km} < {float(c)} THEN '{lab}'" for c, lab in zip(cuts, labels, strict=False)
    )
    return f"CASE WHEN {km} IS NULL THEN 'unknown' {whens} ELSE '{labels[-1]}' END"


def frequency_band_sql(cfg: Config, visits: str = "own_visits_12m") -> str:
    lows = [int(x) for x in cfg.segments.frequency_bands]
    labels = frequency_labels(cfg)
    whens = " ".join(
        f"WHEN {visits} >= {lo} THEN '{lab}'"
        for lo, lab in reversed(list(zip(lows, labels, strict=True)))
    )
    return f"CASE {whens} END"


def birth_decade_sql(birth_date: str = "birth_date", birth_year: str = "birth_year") -> str:
    """'80后' from the birth date or birth year (1950s → '50后', 2000s → '00后')."""
    year = f"coalesce(year({birth_date}), {birth_year})"
    return (
        f"CASE WHEN {year} IS NOT NULL THEN "
        f"lpad(CAST(({year} // 10 * 10) % 100 AS VARCHAR), 2, '0') || '后' END"
    )


# -- mileage: readings, rollbacks, daily rate ------------------------------------------------


def rates_sql(cfg: Config, day: str = "$as_of", vins: str | None = None) -> str:
    """Per vehicle (every vin of vehicles or with a reading): last_reading, last_reading_date,
    daily_km, est_mileage, mileage_rollbacks at `day` (docs/rules.md §4, §17 "Tiers and
    segments"). `vins`: a query of vins; only those vehicles (each one's rate reads its own
    readings alone).

    Readings: mileage_km > 0 of repair orders at any dealer settled up to $as_of, in
    settle_date order (same day: lower reading first). A reading is dropped (and counted) when
    it is below the previous kept reading or implies more than max_daily_km per day since it
    (same-day readings count as 1 day apart). The first reading is always kept.

    The rule is sequential: each vehicle's readings, sorted, are folded with list_reduce,
    carrying the last kept reading and the count of dropped ones (the fold starts from the
    first reading, which then keeps itself).
    """
    s = cfg.segments
    max_km, min_days = float(s.max_daily_km), int(s.min_rate_days)
    only = f"AND vin IN ({vins})" if vins else ""
    return f"""
        WITH m_readings AS (
            SELECT vin, list_sort(list({{'day': settle_date, 'km': mileage_km}})) AS r
            FROM ro
            WHERE mileage_km > 0 AND settle_date <= {day} AND vin IS NOT NULL {only}
            GROUP BY vin),
        m_walked AS (
            SELECT vin, r[1].km AS first_km, r[1].day AS first_day,
                   list_reduce(r, lambda k, x: CASE
                       WHEN x.km >= k.km AND (x.km - k.km)
                            / greatest(date_diff('day', k.day, x.day), 1) <= {max_km}
                       THEN {{'km': x.km, 'day': x.day, 'dropped': k.dropped}}
                       ELSE {{'km': k.km, 'day': k.day, 'dropped': k.dropped + 1}} END,
                       {{'km': r[1].km, 'day': r[1].day, 'dropped': 0}}) AS last_kept
            FROM m_readings),
        m_kept AS (
            SELECT vin, last_kept.km AS last_km, last_kept.day AS last_day,
                   last_kept.dropped AS rollbacks, first_km, first_day
            FROM m_walked),
        m_cars AS (
            SELECT vin, sale_date FROM vehicles WHERE vin IS NOT NULL {only}
            UNION ALL
            SELECT vin, CAST(NULL AS DATE) AS sale_date FROM m_kept
            WHERE vin NOT IN (SELECT vin FROM vehicles WHERE vin IS NOT NULL)),
        m_rated AS (
            SELECT c.vin, c.sale_date, k.last_km, k.last_day, coalesce(k.rollbacks, 0) AS rb,
                   least(CASE
                       WHEN date_diff('day', k.first_day, k.last_day) >= {min_days}
                           THEN (k.last_km - k.first_km)
                                / date_diff('day', k.first_day, k.last_day)
                       WHEN date_diff('day', c.sale_date, k.last_day) >= {min_days}
                           THEN k.last_km / date_diff('day', c.sale_date, k.last_day)
                       ELSE {float(s.default_daily_km)} END, {max_km}) AS daily_km
            FROM m_cars c LEFT JOIN m_kept k USING (vin))
        SELECT vin, last_km AS last_reading, last_day AS last_reading_date, daily_km,
               CAST(round(CASE
                   WHEN last_km IS NOT NULL
                       THEN last_km + daily_km * greatest(date_diff('day', last_day, {day}), 0)
                   WHEN sale_date IS NOT NULL
                       THEN daily_km * greatest(date_diff('day', sale_date, {day}), 0) END)
                   AS BIGINT) AS est_mileage,
               CAST(rb AS INTEGER) AS mileage_rollbacks
        FROM m_rated
    """


def daily_rates(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Per vehicle: vin, last_reading, last_reading_date, daily_km, est_mileage (whole km),
    mileage_rollbacks (readings dropped). Needs facts.install."""
    return engine.of(con).frame(rates_sql(cfg) + " ORDER BY vin", {"as_of": as_of})


# -- the segment list ------------------------------------------------------------------------


@dataclass
class SegmentResult:
    """The segment list and the vehicles left out of it per reason (scrapped, transferred)."""

    frame: pl.DataFrame
    left_out: dict[str, int] = field(default_factory=dict)
    query: engine.ListQuery | None = None  # as in churn.ListResult


# the columns of the `seg` step besides the segments' needs
_SEG_BASE = (
    "vin",
    "plate",
    "customer_id",
    "name",
    "phone",
    "tier",
    "ticket",
    "visits_12m",
    "cycle_days",
    "est_mileage",
    "own_visits_12m",
    "last_visit",
    "last_advisor",
    "days_since",
)


def segments_sql(cfg: Config) -> str:
    """One row per vehicle ours at $as_of with its tier, segments and the owner's contact;
    _gone holds vehicle_status when it is scrapped / transferred. The segment columns come
    from the registry (crmtool/segment_registry.py), over the columns of `seg`."""
    window = int(cfg.tiers.window_days)
    sources = "".join(
        f"{src} AS {col}, " for col, src in registry.needs().items() if col not in _SEG_BASE
    )
    columns = ", ".join(
        f"{registry.SEGMENTS[c].sql(cfg)} AS {c}" if c in registry.SEGMENTS else c
        for c in registry.list_columns()
    )
    return f"""
        WITH seg_t AS ({tiers_sql(cfg)}),
        seg_r AS ({rates_sql(cfg)}),
        seg_own AS (
            SELECT vin, max(day) AS last_visit,
                   count(*) FILTER (WHERE day >= $as_of - {window - 1}) AS own_visits_12m
            FROM visits WHERE is_own AND day <= $as_of GROUP BY vin),
        seg_adv AS ({last_advisor_sql()}),
        seg AS (
            SELECT t.vin, v.plate, v.customer_id, c.name, coalesce(c.phone, v.phone) AS phone,
                   t.tier, t.ticket, t.visits_12m, t.cycle_days, r.est_mileage,
                   coalesce(own.own_visits_12m, 0) AS own_visits_12m,
                   own.last_visit, adv.last_advisor,
                   date_diff('day', coalesce(own.last_visit, v.sale_date), $as_of) AS days_since,
                   {sources}
                   CASE WHEN v.vehicle_status IN {in_list(GONE)} THEN v.vehicle_status END AS _gone
            FROM seg_t t
            LEFT JOIN vehicles v USING (vin)
            LEFT JOIN customers c ON c.customer_id = v.customer_id
            LEFT JOIN seg_r r USING (vin)
            LEFT JOIN seg_own own USING (vin)
            LEFT JOIN seg_adv adv USING (vin))
        SELECT {columns}, _gone
        FROM seg
    """


def segment_list(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> SegmentResult:
    """The segment list: one row per vehicle ours at as_of (tier first, then vin), scrapped and
    transferred vehicles left out and counted. Needs facts.install."""
    eng, params = engine.of(con), {"as_of": as_of}
    sql = segments_sql(cfg)
    cols = ", ".join(c for c in eng.columns(sql, params) if c != "_gone")
    query = None
    if engine.defers_lists(con):  # the engine writes the list itself: no frame in Python
        frame = pl.DataFrame()
        list_sql = f"SELECT {cols}, _gone IS NOT NULL AS _gone FROM ({sql}) seg_list"
        query = engine.ListQuery(list_sql, params, "tier, vin")
    else:
        frame = eng.frame(
            f"SELECT {cols} FROM ({sql}) seg_list WHERE _gone IS NULL ORDER BY tier, vin", params
        )
    left_out = {g: 0 for g in GONE}
    # the list's vehicles are those ours at as_of (tiers_sql): count the gone ones there
    for g, n in eng.rows(
        f"""SELECT v.vehicle_status, count(*) AS n
            FROM ({ours_sql(cfg, "$as_of")}) o JOIN vehicles v USING (vin)
            WHERE v.vehicle_status IN {in_list(GONE)} GROUP BY v.vehicle_status""",
        params,
    ):
        left_out[g] = int(n)
    return SegmentResult(frame, left_out, query)
