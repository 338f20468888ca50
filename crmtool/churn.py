"""Loyalty status, churn warning, where customers go, sales follow-through (rules §5–§7).

Every rule is one SQL query over the facts of `facts.install`; the numbers come from the config.
Call lists (`churn_list`) carry the owner's contact and leave out scrapped/transferred vehicles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import duckdb

from . import engine, facts
from .codes import GONE, LEAKAGE, REGIONS, STATUSES
from .config import Config
from .lazy import lazy
from .period import Period
from .sqltext import in_list
from .summary_types import Leakage, NewCarDefection, Outlet, SecondaryNetwork

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")


@dataclass
class ListResult:
    """A call list and how many vehicles were left out of it (scrapped / transferred)."""

    frame: pl.DataFrame
    left_out: int = 0
    # with an engine that writes lists itself (engine.defers_lists): the list's query, and
    # frame is empty (docs/rules.md §22 "Spark lists")
    query: engine.ListQuery | None = None


# -- call lists: the owner's contact for every row -------------------------------------------


def _contacts_sql(advisor_until: str | None, last_advisor: bool = True) -> str:
    """Per vehicle the owner's contact and the vehicle's status; with `last_advisor` the
    advisor of its latest own order (a scan of every order: figures that only count the
    list leave it out)."""
    advisor, join = "", ""
    if last_advisor:
        advisor = ", a.last_advisor"
        join = f"LEFT JOIN ({facts.last_advisor_sql(advisor_until)}) a USING (vin)"
    return f"""
        SELECT v.vin, v.customer_id, c.name, coalesce(c.phone, v.phone) AS phone, v.series,
               v.vehicle_status{advisor}
        FROM vehicles v
        LEFT JOIN customers c USING (customer_id)
        {join}
    """


def call_list_sql(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any],
    order_by: str,
    last_advisor: bool = True,
    advisor_until: str | None = "as_of",
    gone: bool = False,
    ordered: bool = True,
) -> str:
    """The query of a call list: rows of `sql` (which has a vin column) with vin, customer_id,
    name, phone, series first, last_advisor last; scrapped / transferred vehicles left out
    (with `gone`: kept, marked in a last column _gone). The last advisor is taken from the
    orders settled up to the bind parameter `advisor_until` ($as_of; None: every order, for
    a list without an as_of)."""
    rest = "".join(f", l.{c}" for c in engine.of(con).columns(sql, params) if c != "vin")
    contacts = _contacts_sql(advisor_until, last_advisor)
    if facts.is_snapshot(con):  # a run of several lists (the report): the contacts once
        day = {advisor_until: params[advisor_until]} if advisor_until and last_advisor else {}
        contacts = f"SELECT * FROM {facts.rule_source(con, contacts, day)[0]}"
    flag = f"coalesce(c.vehicle_status IN {in_list(GONE)}, false)"
    return f"""
        WITH l AS ({sql}), c AS ({contacts})
        SELECT l.vin, c.customer_id, c.name, c.phone, c.series{rest}
               {", c.last_advisor" if last_advisor else ""}{f", {flag} AS _gone" if gone else ""}
        FROM l LEFT JOIN c USING (vin)
        {"" if gone else f"WHERE NOT {flag}"}
        {f"ORDER BY {'_gone, ' if gone else ''}{order_by}" if ordered else ""}
    """


def call_list(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any],
    order_by: str,
    last_advisor: bool = True,
    advisor_until: str | None = "as_of",
) -> ListResult:
    """The call list of `sql` (call_list_sql) and how many scrapped / transferred vehicles
    were left out of it."""
    if engine.defers_lists(con):  # the engine writes the list itself: no frame in Python
        sql = call_list_sql(
            con, sql, params, order_by, last_advisor, advisor_until, gone=True, ordered=False
        )
        return ListResult(pl.DataFrame(), 0, engine.ListQuery(sql, params, order_by))
    # one pass: the scrapped / transferred rows come marked and last, are counted and cut
    # off here (the list's query is not run a second time to count them, and the kept rows
    # are a slice of the frame, not a copy)
    query = call_list_sql(con, sql, params, order_by, last_advisor, advisor_until, gone=True)
    frame = engine.of(con).frame(query, params)
    left_out = int(frame.get_column("_gone").sum())
    return ListResult(frame.head(frame.height - left_out).drop("_gone"), left_out)


def call_list_rows(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any],
    order_by: str,
    advisor_until: str | None = "as_of",
) -> list[dict[str, Any]]:
    """The rows `call_list` keeps, as dicts, without a data frame (the customer card)."""
    query = call_list_sql(con, sql, params, order_by, advisor_until=advisor_until)
    return engine.of(con).records(query, params)


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


def _status_ctes(cfg: Config, gaps: bool) -> str:
    """The CTEs of the §5 status, ending in s_st (vin, last_own_visit, days_since,
    own_visits_12m, own_visits_total, status); with `gaps` also median_gap, the median of the
    days between own visits, which only the churn warning needs (and which costs the most)."""
    gap = (
        ", date_diff('day', lag(day) OVER (PARTITION BY vin ORDER BY day), day) AS gap"
        if gaps
        else ""
    )
    return f"""
        s_base AS ({facts.ours_sql(cfg, "$as_of")}),
        s_own AS (
            SELECT vin, day{gap}
            FROM visits WHERE is_own AND day <= $as_of AND vin IN (SELECT vin FROM s_base)),
        s_per AS (
            SELECT vin, max(day) AS last_own_visit, count(*) AS own_visits_total,
                   count(*) FILTER (WHERE day >= $as_of - {int(cfg.tiers.window_days) - 1})
                       AS own_visits_12m{", median(gap) AS median_gap" if gaps else ""}
            FROM s_own GROUP BY vin),
        s_days AS (
            SELECT b.vin, p.last_own_visit,
                   date_diff('day', coalesce(p.last_own_visit, v.sale_date), $as_of)
                       AS days_since,
                   coalesce(p.own_visits_12m, 0) AS own_visits_12m,
                   coalesce(p.own_visits_total, 0) AS own_visits_total{", p.median_gap" if gaps else ""}
            FROM s_base b LEFT JOIN s_per p USING (vin) LEFT JOIN vehicles v USING (vin)),
        s_st AS (SELECT *, {status_case_sql(cfg)} AS status FROM s_days)"""


def status_core_sql(cfg: Config) -> str:
    """Per vehicle ours at $as_of: the §5 status with its inputs (last_own_visit, days_since,
    own_visits_12m, own_visits_total), without the churn warning: no visit gaps and no
    median, so a list that shows only the status (forecast) does not pay for them."""
    return f"""
        WITH {_status_ctes(cfg, gaps=False)}
        SELECT vin, status, days_since, last_own_visit, own_visits_12m, own_visits_total
        FROM s_st
    """


def status_sql(cfg: Config) -> str:
    """The §5 status with the churn warning: median_gap, risk_ratio = days_since / median
    gap, warn."""
    s = cfg.status
    return f"""
        WITH {_status_ctes(cfg, gaps=True)},
        s_r AS (
            SELECT *, CASE WHEN status IN ('loyal', 'general')
                                AND own_visits_total >= {int(s.warn_min_visits)}
                           THEN days_since / median_gap END AS risk_ratio
            FROM s_st)
        SELECT vin, status, days_since, last_own_visit, own_visits_12m, own_visits_total,
               median_gap, {facts.round_exact("risk_ratio")} AS risk_ratio,
               coalesce(risk_ratio >= {float(s.warn_ratio)}
                        AND days_since >= {int(s.warn_min_days)}, false) AS warn
        FROM s_r
    """


def status_source(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date
) -> tuple[str, dict[str, Any]]:
    """The status at as_of as a FROM item (computed once per snapshot) and its parameters."""
    return facts.rule_source(con, status_sql(cfg), {"as_of": as_of})


def status_core_source(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date
) -> tuple[str, dict[str, Any]]:
    """The status at as_of without the churn warning (`status_core_sql`), for figures and lists
    that show only the status: a FROM item computed once per snapshot, and its parameters."""
    return facts.rule_source(con, status_core_sql(cfg), {"as_of": as_of})


def vehicle_status(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Per vehicle ours at as_of: status (new/loyal/general/at_risk/lost), days_since,
    last_own_visit, own_visits_12m, own_visits_total, median_gap, risk_ratio, warn."""
    src, params = status_source(con, cfg, as_of)
    return engine.of(con).frame(f"SELECT * FROM {src} st ORDER BY vin", params)


def status_counts(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> dict[str, int]:
    """The summary's "status" block: the vehicles counted at as_of (facts.counted) per status."""
    src, params = status_core_source(con, cfg, as_of)
    rows = dict(
        engine.of(con).rows(
            f"SELECT status, count(*) AS n FROM {src} st WHERE {facts.NOT_GONE} GROUP BY status",
            params,
        )
    )
    return {k: int(rows.get(k, 0)) for k in STATUSES}


def _went_to_sql(until: str = "as_of") -> str:
    """Per vin, the other dealer visited on most days after `since` up to the bind parameter
    named `until` ($as_of; the leakage table's $end) (ties: the one visited latest), with its
    name and the last visit there."""
    return f"""
        SELECT vin, dealer_code AS other_dealer, d.name AS other_dealer_name, region,
               last_day AS last_other_visit
        FROM (
            SELECT o.vin, o.dealer_code, count(*) AS days, max(o.day) AS last_day,
                   row_number() OVER (PARTITION BY o.vin
                                      ORDER BY count(*) DESC, max(o.day) DESC,
                                               o.dealer_code) AS went_rank
            FROM other_visits o JOIN since s ON o.vin = s.vin
            WHERE o.day > s.since AND o.day <= ${until}
            GROUP BY o.vin, o.dealer_code) went_ranked
        LEFT JOIN dealers d USING (dealer_code)
        WHERE went_rank = 1
    """


def churn_list(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date, statuses: tuple[str, ...] = STATUSES
) -> ListResult:
    """Status list with the reason for lost / at_risk vehicles (docs/rules.md §9 "Win-back",
    §17 "Churn and call lists"):
    never_returned (no own visit ever), defected (an other-dealer visit after the last own
    visit, with that dealer), else out_of_channel."""
    return call_list(con, *churn_list_query(cfg, as_of, statuses))


def _churn_sql(cfg: Config) -> str:
    return f"""
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


def churn_list_query(
    cfg: Config, as_of: date, statuses: tuple[str, ...] = STATUSES
) -> tuple[str, dict[str, Any], str]:
    """`churn_list`'s query (lifetime_paid 0 without a paid visit), parameters and order (for
    `call_list` / `call_list_rows`): the recovery list, highest past value first
    (docs/rules.md §9 "Win-back")."""
    sql = _churn_sql(cfg)
    cols = (
        "vin, status, days_since, last_own_visit, own_visits_12m, risk_ratio, warn, reason, "
        "other_dealer, other_dealer_name, last_other_visit, "
        "coalesce(lifetime_paid, CAST(0 AS DOUBLE)) AS lifetime_paid"
    )
    return (
        f"SELECT {cols} FROM ({sql}) churn_rows",
        {"as_of": as_of, "statuses": list(statuses)},
        "l.lifetime_paid DESC, days_since DESC, l.vin",
    )


# -- §6 where customers go -------------------------------------------------------------------


def _own_region(con: duckdb.DuckDBPyConnection, cfg: Config) -> str | None:
    """cfg.own_region, else the region of the first own dealer in the dealers table."""
    if cfg.own_region:
        return cfg.own_region
    rows = engine.of(con).rows(
        "SELECT region FROM dealers WHERE dealer_code = $code", {"code": cfg.own_dealer}
    )
    return rows[0][0] if rows else None


def _leakage_sql(cfg: Config) -> str:
    return f"""
        WITH lk_base AS ({facts.ours_sql(cfg, "$base_day")}),
        lk_own AS (SELECT vin, count(*) AS own_visits FROM visits
                WHERE is_own AND day BETWEEN $start AND $end GROUP BY vin),
        lk_oth AS (SELECT vin, count(DISTINCT day) AS other_visit_days FROM other_visits
                WHERE day BETWEEN $start AND $end GROUP BY vin),
        since AS (SELECT vin, $start - 1 AS since FROM lk_base),
        went AS ({_went_to_sql("end")})
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
        FROM lk_base b LEFT JOIN lk_own USING (vin) LEFT JOIN lk_oth USING (vin)
        LEFT JOIN went USING (vin)
    """


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
    src, params = _leakage_source(con, cfg, period)
    return engine.of(con).frame(f"SELECT * FROM {src} lk ORDER BY vin", params)


def _leakage_source(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period
) -> tuple[str, dict[str, Any]]:
    return facts.rule_source(con, _leakage_sql(cfg), _leakage_params(con, cfg, period))


def leakage_list(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> ListResult:
    """The where-they-go table as a call list."""
    return call_list(
        con,
        _leakage_sql(cfg),
        _leakage_params(con, cfg, period),
        "leakage, l.vin",
        advisor_until=None,
    )


def leakage_summary(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> Leakage:
    """The summary's "leakage" block: vehicles per class (codes.LEAKAGE), cross-shoppers by
    own visits and by the other dealer's region (counted by the engine: one row per class,
    visits and region come back, not one per vehicle)."""
    src, params = _leakage_source(con, cfg, period)
    rows = engine.of(con).rows(
        f"""SELECT leakage, least(own_visits, 5) AS visits, region, count(*) AS n
            FROM {src} lk GROUP BY leakage, least(own_visits, 5), region""",
        params,
    )
    n = {k: sum(int(m) for c, _, _, m in rows if c == k) for k in LEAKAGE}
    cross = [(int(v), r, int(m)) for c, v, r, m in rows if c == "cross_shop"]
    return {
        "retained": n["retained"],
        "cross_shop": n["cross_shop"],
        "defected": n["defected"],
        "out_of_channel": n["out_of_channel"],
        "cross_shop_by_own_visits": {
            **{str(k): sum(m for v, _, m in cross if v == k) for k in range(1, 5)},
            "5+": sum(m for v, _, m in cross if v >= 5),
        },
        "cross_shop_region": {k: sum(m for _, r, m in cross if r == k) for k in REGIONS},
    }


def defected_by_dealer(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period
) -> list[dict[str, Any]]:
    """Where defected and cross-shopping vehicles went: per other dealer, most first (name
    and region are the dealer's, the same on each of its rows)."""
    src, params = _leakage_source(con, cfg, period)
    cols = ("dealer_code", "name", "region", "defected", "cross_shop")
    rows = engine.of(con).rows(
        f"""SELECT other_dealer AS dealer_code, min(other_dealer_name) AS name,
                   min(region) AS region,
                   count(*) FILTER (WHERE leakage = 'defected') AS defected,
                   count(*) FILTER (WHERE leakage = 'cross_shop') AS cross_shop
            FROM {src} lk WHERE other_dealer IS NOT NULL GROUP BY other_dealer
            ORDER BY count(*) FILTER (WHERE leakage IN ('defected', 'cross_shop')) DESC,
                     other_dealer""",
        params,
    )
    return [
        {
            k: (int(v) if k in ("defected", "cross_shop") else v)
            for k, v in zip(cols, r, strict=True)
        }
        for r in rows
    ]


# -- §7 sales follow-through -----------------------------------------------------------------


def new_car_defection(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> NewCarDefection:
    """New cars sold by us in the period: sold, defected (an other-dealer visit on or after
    the sale up to as_of), direct (of those, no own visit before the first one)."""
    row = engine.of(con).rows(
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
        SELECT (SELECT count(*) FROM sold) AS sold,
               (SELECT count(*) FROM first_other) AS defected,
               (SELECT count(*) FROM first_other
                WHERE vin NOT IN (SELECT vin FROM own_before)) AS direct
    """,
        {"start": period.start, "end": period.end, "as_of": as_of},
    )[0]
    return {"sold": int(row[0]), "defected": int(row[1]), "direct": int(row[2])}


def secondary_network(
    con: duckdb.DuckDBPyConnection, cfg: Config, period: Period, as_of: date
) -> SecondaryNetwork:
    """Vehicles sold by secondary outlets in the period, total and per outlet: sold,
    returned_paid, revenue (paid amounts after the sale up to as_of), no_paid, no_ro
    (no own repair order of any type, PDS included, up to as_of)."""
    rows = engine.of(con).rows(
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
               count(*) FILTER (WHERE a.vin IS NULL) AS no_ro
        FROM sold s LEFT JOIN paid p USING (vin) LEFT JOIN any_ro a ON a.vin = s.vin
        GROUP BY outlet ORDER BY sold DESC, outlet
    """,
        {"start": period.start, "end": period.end, "as_of": as_of},
    )
    by_outlet: list[Outlet] = [
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
    return {
        "sold": sum(b["sold"] for b in by_outlet),
        "returned_paid": sum(b["returned_paid"] for b in by_outlet),
        "revenue": round(sum(b["revenue"] for b in by_outlet), 2),
        "no_paid": sum(b["no_paid"] for b in by_outlet),
        "no_ro": sum(b["no_ro"] for b in by_outlet),
        "by_outlet": by_outlet,
    }


def _never_returned_sql(cfg: Config) -> str:
    return f"""
        SELECT s.vin, s.sale_date, s.sale_channel, s.outlet,
               date_diff('day', s.sale_date, $as_of) AS days_since_sale
        FROM sold_by_us s JOIN ({facts.ours_sql(cfg, "$as_of")}) o USING (vin)
        WHERE date_diff('day', s.sale_date, $as_of) > {int(cfg.never_returned_days)}
          AND s.vin NOT IN (SELECT vin FROM visits WHERE is_own AND day <= $as_of)
    """


def never_returned(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> ListResult:
    """Vehicles ours at as_of, sold by us more than never_returned_days ago, never back."""
    return call_list(con, _never_returned_sql(cfg), {"as_of": as_of}, "days_since_sale DESC, l.vin")


def never_returned_count(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> int:
    """The summary's "never_returned" figure (scrapped / transferred vehicles included)."""
    row = engine.of(con).rows(
        f"SELECT count(*) AS n FROM ({_never_returned_sql(cfg)}) nr", {"as_of": as_of}
    )[0]
    return int(row[0])
