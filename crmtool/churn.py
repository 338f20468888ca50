"""Loyalty status, churn warning, where customers go, sales follow-through (rules §5–§7).

Every rule is one SQL query over the facts of `facts.install`; the numbers come from the config.
Call lists (`churn_list`) carry the owner's contact and leave out scrapped/transferred vehicles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import duckdb

from . import facts
from .codes import GONE, LEAKAGE, REGIONS, STATUSES
from .config import Config
from .lazy import lazy
from .period import Period
from .sqltext import in_list

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")


@dataclass
class ListResult:
    """A call list and how many vehicles were left out of it (scrapped / transferred)."""

    frame: pl.DataFrame
    left_out: int = 0


# -- call lists: the owner's contact for every row -------------------------------------------


def _contacts_sql(up_to_as_of: bool) -> str:
    return f"""
        SELECT v.vin, v.customer_id, c.name, coalesce(c.phone, v.phone) AS phone, v.series,
               v.vehicle_status, a.last_advisor
        FROM vehicles v
        LEFT JOIN customers c USING (customer_id)
        LEFT JOIN ({facts.last_advisor_sql(up_to_as_of)}) a USING (vin)
    """


def call_list_sql(sql: str, params: dict[str, Any], order_by: str) -> str:
    """The call list of `sql` (which has a vin column): vin, customer_id, name, phone, series
    first, last_advisor last, _gone (scrapped / transferred) at the end, in list order."""
    return f"""
        WITH l AS ({sql}), c AS ({_contacts_sql("as_of" in params)})
        SELECT l.vin, c.customer_id, c.name, c.phone, c.series, l.* EXCLUDE (vin),
               c.last_advisor,
               coalesce(c.vehicle_status IN {in_list(GONE)}, false) AS _gone
        FROM l LEFT JOIN c USING (vin)
        ORDER BY {order_by}
    """


def call_list(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], order_by: str
) -> ListResult:
    """Rows of `sql` (which has a vin column) with vin, customer_id, name, phone, series first,
    last_advisor last; scrapped / transferred vehicles dropped and counted."""
    frame = con.sql(call_list_sql(sql, params, order_by), params=params).pl()
    left_out = int(frame["_gone"].sum())
    return ListResult(frame.filter(~pl.col("_gone")).drop("_gone"), left_out)


def call_list_rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], order_by: str
) -> list[dict[str, Any]]:
    """The rows `call_list` keeps, as dicts, without a data frame (the customer card)."""
    rel = con.sql(
        f"SELECT * EXCLUDE (_gone) FROM ({call_list_sql(sql, params, order_by)}) WHERE NOT _gone",
        params=params,
    )
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


# -- §5 loyalty status and churn warning -----------------------------------------------------


def status_case_sql(
    cfg: Config,
    last_own_visit: str = "last_own_visit",
    days_since: str = "days_since",
    own_visits_12m: str = "own_visits_12m",
) -> str:
    """The status rule as one SQL CASE over a vehicle's last own visit, days since it (or
    since the sale) and own visits in the window."""
    s = cfg.status
    return (
        f"CASE WHEN {last_own_visit} IS NULL AND {days_since} <= {int(s.new_days)} "
        f"THEN 'new' WHEN {days_since} > {int(s.lost_days)} THEN 'lost' "
        f"WHEN {days_since} > {int(s.at_risk_days)} THEN 'at_risk' "
        f"WHEN {own_visits_12m} >= {int(s.loyal_visits)} THEN 'loyal' ELSE 'general' END"
    )


def status_sql(cfg: Config) -> str:
    s = cfg.status
    return f"""
        WITH base AS (SELECT vin FROM ours($as_of)),
        own AS (
            SELECT vin, day, day - lag(day) OVER (PARTITION BY vin ORDER BY day) AS gap
            FROM visits WHERE is_own AND day <= $as_of AND vin IN (SELECT vin FROM base)),
        per AS (
            SELECT vin, max(day) AS last_own_visit, count(*) AS own_visits_total,
                   count(*) FILTER (WHERE day >= $as_of - {int(cfg.tiers.window_days) - 1})
                       AS own_visits_12m,
                   median(gap) AS median_gap
            FROM own GROUP BY vin),
        s AS (
            SELECT b.vin, p.last_own_visit,
                   $as_of - coalesce(p.last_own_visit, v.sale_date) AS days_since,
                   coalesce(p.own_visits_12m, 0) AS own_visits_12m,
                   coalesce(p.own_visits_total, 0) AS own_visits_total, p.median_gap
            FROM base b LEFT JOIN per p USING (vin) LEFT JOIN vehicles v USING (vin)),
        st AS (SELECT *, {status_case_sql(cfg)} AS status FROM s),
        r AS (
            SELECT *, CASE WHEN status IN ('loyal', 'general')
                                AND own_visits_total >= {int(s.warn_min_visits)}
                           THEN days_since / median_gap END AS risk_ratio
            FROM st)
        SELECT vin, status, days_since, last_own_visit, own_visits_12m, own_visits_total,
               median_gap, round(risk_ratio, 2) AS risk_ratio,
               coalesce(risk_ratio >= {float(s.warn_ratio)}
                        AND days_since >= {int(s.warn_min_days)}, false) AS warn
        FROM r
    """


def status_source(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date
) -> tuple[str, dict[str, Any]]:
    """The status at as_of as a FROM item (computed once per snapshot) and its parameters."""
    return facts.rule_source(con, status_sql(cfg), {"as_of": as_of})


def vehicle_status(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Per vehicle ours at as_of: status (new/loyal/general/at_risk/lost), days_since,
    last_own_visit, own_visits_12m, own_visits_total, median_gap, risk_ratio, warn."""
    src, params = status_source(con, cfg, as_of)
    return con.sql(f"SELECT * FROM {src} ORDER BY vin", params=params).pl()


def status_counts(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> dict[str, int]:
    """The summary's "status" block: the vehicles counted at as_of (facts.counted) per status."""
    src, params = status_source(con, cfg, as_of)
    rows = dict(
        con.execute(
            f"SELECT status, count(*) FROM {src} WHERE vin IN "
            "(SELECT vin FROM counted($as_of)) GROUP BY 1",
            {**params, "as_of": as_of},
        ).fetchall()
    )
    return {k: int(rows.get(k, 0)) for k in STATUSES}


def _went_to_sql() -> str:
    """Per vin, the other dealer visited on most days after `since` up to $as_of
    (ties: the one visited latest), with its name and the last visit there."""
    return """
        SELECT vin, dealer_code AS other_dealer, d.name AS other_dealer_name, region,
               last_day AS last_other_visit
        FROM (
            SELECT o.vin, o.dealer_code, count(*) AS days, max(o.day) AS last_day,
                   row_number() OVER (PARTITION BY o.vin
                                      ORDER BY count(*) DESC, max(o.day) DESC,
                                               o.dealer_code) AS rank
            FROM other_visits o JOIN since s ON o.vin = s.vin
            WHERE o.day > s.since AND o.day <= $as_of
            GROUP BY o.vin, o.dealer_code)
        LEFT JOIN dealers d USING (dealer_code)
        WHERE rank = 1
    """


def churn_list_query(
    cfg: Config, as_of: date, statuses: tuple[str, ...] = STATUSES
) -> tuple[str, dict[str, Any], str]:
    """`churn_list`'s query, parameters and order (for `call_list` / `call_list_rows`)."""
    sql = f"""
        WITH st AS ({status_sql(cfg)}),
        since AS (SELECT vin, coalesce(last_own_visit, DATE '1900-01-01') AS since FROM st),
        went AS ({_went_to_sql()})
        SELECT st.vin, status, days_since, last_own_visit, own_visits_12m, risk_ratio, warn,
               CASE WHEN status NOT IN ('lost', 'at_risk') THEN NULL
                    WHEN last_own_visit IS NULL THEN 'never_returned'
                    WHEN other_dealer IS NOT NULL THEN 'defected'
                    ELSE 'out_of_channel' END AS reason,
               other_dealer, other_dealer_name, last_other_visit,
               lp.lifetime_paid
        FROM st LEFT JOIN went USING (vin)
        LEFT JOIN (SELECT vin, CAST(sum(paid_amount) AS DOUBLE) AS lifetime_paid FROM visits
                   WHERE is_own AND day <= $as_of GROUP BY vin) lp USING (vin)
        WHERE list_contains($statuses, status)
    """
    # the recovery list: highest past value first (docs/rules.md §9 "Win-back")
    return (
        sql,
        {"as_of": as_of, "statuses": list(statuses)},
        "coalesce(l.lifetime_paid, 0) DESC, days_since DESC, l.vin",
    )


def churn_list(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date, statuses: tuple[str, ...] = STATUSES
) -> ListResult:
    """Status list with the reason for lost / at_risk vehicles (docs/rules.md §9 "Win-back", §17 "Churn and call lists"):
    never_returned (no own visit ever), defected (an other-dealer visit after the last own
    visit, with that dealer), else out_of_channel."""
    res = call_list(con, *churn_list_query(cfg, as_of, statuses))
    res.frame = res.frame.with_columns(pl.col("lifetime_paid").fill_null(0.0))
    return res


# -- §6 where customers go -------------------------------------------------------------------


def _own_region(con: duckdb.DuckDBPyConnection, cfg: Config) -> str | None:
    """cfg.own_region, else the region of the first own dealer in the dealers table."""
    if cfg.own_region:
        return cfg.own_region
    rows = con.execute(
        "SELECT region FROM dealers WHERE dealer_code = ?", [cfg.own_dealer]
    ).fetchall()
    return rows[0][0] if rows else None


def _leakage_sql() -> str:
    return """
        WITH base AS (SELECT vin FROM ours($base_day)),
        own AS (SELECT vin, count(*) AS own_visits FROM visits
                WHERE is_own AND day BETWEEN $start AND $end GROUP BY vin),
        oth AS (SELECT vin, count(DISTINCT day) AS other_visit_days FROM other_visits
                WHERE day BETWEEN $start AND $end GROUP BY vin),
        since AS (SELECT vin, $start - 1 AS since FROM base),
        went AS ({went})
        SELECT b.vin,
               CASE WHEN own_visits > 0 AND other_visit_days > 0 THEN 'cross_shop'
                    WHEN own_visits > 0 THEN 'retained'
                    WHEN other_visit_days > 0 THEN 'defected'
                    ELSE 'out_of_channel' END AS leakage,
               coalesce(own_visits, 0) AS own_visits,
               coalesce(other_visit_days, 0) AS other_visit_days,
               other_dealer, other_dealer_name,
               CASE WHEN other_dealer IS NULL THEN NULL
                    WHEN region IS NULL OR $own_region IS NULL THEN 'unknown'
                    WHEN region = $own_region THEN 'same' ELSE 'other' END AS region,
               last_other_visit
        FROM base b LEFT JOIN own USING (vin) LEFT JOIN oth USING (vin)
        LEFT JOIN went USING (vin)
    """.replace("{went}", _went_to_sql().replace("$as_of", "$end"))


def _leakage_params(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> dict[str, Any]:
    return {
        "base_day": period.start - timedelta(days=1),
        "start": period.start,
        "end": period.end,
        "own_region": _own_region(con, cfg),
    }


def leakage(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> pl.DataFrame:
    """Per base vehicle (ours the day before the period): leakage class, own_visits,
    other_visit_days, the other dealer (most visit days, ties latest), its region vs ours."""
    src, params = facts.rule_source(con, _leakage_sql(), _leakage_params(con, cfg, period))
    return con.sql(f"SELECT * FROM {src} ORDER BY vin", params=params).pl()


def leakage_list(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> ListResult:
    """The where-they-go table as a call list."""
    return call_list(con, _leakage_sql(), _leakage_params(con, cfg, period), "leakage, l.vin")


def leakage_summary(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> dict[str, Any]:
    """The summary's "leakage" block."""
    df = leakage(con, cfg, period)
    out: dict[str, Any] = {k: int((df["leakage"] == k).sum()) for k in LEAKAGE}
    cross = df.filter(pl.col("leakage") == "cross_shop")
    visits = cross["own_visits"].to_list()
    out["cross_shop_by_own_visits"] = {
        **{str(n): sum(1 for v in visits if v == n) for n in range(1, 5)},
        "5+": sum(1 for v in visits if v >= 5),
    }
    out["cross_shop_region"] = {k: int((cross["region"] == k).sum()) for k in REGIONS}
    return out


def defected_by_dealer(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period
) -> list[dict[str, Any]]:
    """Where defected and cross-shopping vehicles went: per other dealer, most first."""
    df = (
        leakage(con, cfg, period)
        .filter(pl.col("other_dealer").is_not_null())
        .group_by("other_dealer")
        .agg(
            name=pl.col("other_dealer_name").first(),
            region=pl.col("region").first(),
            defected=(pl.col("leakage") == "defected").sum(),
            cross_shop=(pl.col("leakage") == "cross_shop").sum(),
        )
        .rename({"other_dealer": "dealer_code"})
        .with_columns(total=pl.col("defected") + pl.col("cross_shop"))
        .sort(["total", "dealer_code"], descending=[True, False])
        .drop("total")
    )
    return df.to_dicts()


# -- §7 sales follow-through -----------------------------------------------------------------


def new_car_defection(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> dict[str, int]:
    """New cars sold by us in the period: sold, defected (an other-dealer visit on or after
    the sale up to as_of), direct (of those, no own visit before the first one)."""
    row = con.execute(
        """
        WITH sold AS (SELECT vin, sale_date FROM sold_by_us
                      WHERE sale_date BETWEEN $start AND $end),
        first_other AS (
            SELECT s.vin, min(o.day) AS first_day FROM sold s JOIN other_visits o USING (vin)
            WHERE o.day >= s.sale_date AND o.day <= $as_of GROUP BY s.vin),
        own_before AS (
            SELECT DISTINCT f.vin FROM first_other f JOIN sold s USING (vin)
            JOIN visits v ON v.vin = f.vin AND v.is_own
                         AND v.day >= s.sale_date AND v.day < f.first_day)
        SELECT (SELECT count(*) FROM sold), (SELECT count(*) FROM first_other),
               (SELECT count(*) FROM first_other WHERE vin NOT IN (SELECT vin FROM own_before))
    """,
        {"start": period.start, "end": period.end, "as_of": as_of},
    ).fetchall()[0]
    return {"sold": int(row[0]), "defected": int(row[1]), "direct": int(row[2])}


def secondary_network(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> dict[str, Any]:
    """Vehicles sold by secondary outlets in the period, total and per outlet: sold,
    returned_paid, revenue (paid amounts after the sale up to as_of), no_paid, no_ro
    (no own repair order of any type, PDS included, up to as_of)."""
    rows = con.execute(
        """
        WITH sold AS (SELECT vin, sale_date, coalesce(outlet, '') AS outlet FROM sold_by_us
                      WHERE sale_channel = 'secondary' AND sale_date BETWEEN $start AND $end),
        paid AS (SELECT s.vin, sum(v.paid_amount) AS revenue
                 FROM sold s JOIN visits v ON v.vin = s.vin AND v.is_paid
                      AND v.day >= s.sale_date AND v.day <= $as_of
                 GROUP BY s.vin),
        any_ro AS (SELECT DISTINCT vin FROM ro WHERE is_own AND settle_date <= $as_of)
        SELECT outlet, count(*) AS sold, count(p.vin) AS returned_paid,
               CAST(coalesce(sum(p.revenue), 0) AS DOUBLE) AS revenue,
               count(*) FILTER (WHERE s.vin NOT IN (SELECT vin FROM any_ro)) AS no_ro
        FROM sold s LEFT JOIN paid p USING (vin)
        GROUP BY outlet ORDER BY sold DESC, outlet
    """,
        {"start": period.start, "end": period.end, "as_of": as_of},
    ).fetchall()
    by_outlet = [
        {
            "outlet": o,
            "sold": int(n),
            "returned_paid": int(r),
            "revenue": round(rev, 2),
            "no_paid": int(n - r),
            "no_ro": int(nr),
        }
        for o, n, r, rev, nr in rows
    ]
    total = {k: sum(b[k] for b in by_outlet) for k in ("sold", "returned_paid", "no_paid", "no_ro")}
    total["revenue"] = round(sum(b["revenue"] for b in by_outlet), 2)
    return {
        "sold": total["sold"],
        "returned_paid": total["returned_paid"],
        "revenue": total["revenue"],
        "no_paid": total["no_paid"],
        "no_ro": total["no_ro"],
        "by_outlet": by_outlet,
    }


def _never_returned_sql(cfg: Config) -> str:
    return f"""
        SELECT s.vin, s.sale_date, s.sale_channel, s.outlet,
               $as_of - s.sale_date AS days_since_sale
        FROM sold_by_us s JOIN ours($as_of) USING (vin)
        WHERE $as_of - s.sale_date > {int(cfg.never_returned_days)}
          AND s.vin NOT IN (SELECT vin FROM visits WHERE is_own AND day <= $as_of)
    """


def never_returned(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> ListResult:
    """Vehicles ours at as_of, sold by us more than never_returned_days ago, never back."""
    return call_list(con, _never_returned_sql(cfg), {"as_of": as_of}, "days_since_sale DESC, l.vin")


def never_returned_count(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> int:
    """The summary's "never_returned" figure (scrapped / transferred vehicles included)."""
    row = con.execute(
        f"SELECT count(*) FROM ({_never_returned_sql(cfg)})", {"as_of": as_of}
    ).fetchall()[0]
    return int(row[0])
