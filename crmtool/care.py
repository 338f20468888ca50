"""Customer care lists of the service desk (issue 8, seeds 001/002): the 3DC/7DC callbacks,
birthdays, holiday greetings and open complaints. SQL over the facts of `facts.install` and
the contacts table; the day counts come from `[care]`. Lists here are per vehicle or per
complaint; the CLI shows one row per customer (`suppression.one_per_customer`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from . import churn, facts
from .churn import ListResult
from .codes import GONE
from .config import Config
from .period import Period
from .sqltext import in_list

CONTACT_COLUMNS = ", ".join(
    [
        "contact_id VARCHAR",
        "contact_date DATE",
        "phone VARCHAR",
        "vin VARCHAR",
        "customer_id VARCHAR",
        "ro_id VARCHAR",
        "channel VARCHAR",
        "purpose VARCHAR",
        "result VARCHAR",
        "do_not_contact BOOLEAN",
        "note VARCHAR",
    ]
)


def ensure_contacts(con: duckdb.DuckDBPyConnection) -> None:
    """An empty temp `contacts` table where the store has none (made before issue 8)."""
    from .suppression import has_contacts

    if not has_contacts(con):
        con.execute(f"CREATE TEMP TABLE contacts ({CONTACT_COLUMNS})")


# -- 3DC / 7DC callbacks ----------------------------------------------------------------------


def callbacks(
    con: duckdb.DuckDBPyConnection, cfg: Config, day: date, last_advisor: bool = True
) -> ListResult:
    """Callbacks due on `day`: own visits settled `care.callback_days` before (3DC, one row per
    visit) and vehicles sold by us `care.delivery_days` before (7DC), unless already called
    back: a callback contact for one of the visit's repair orders, or for the vehicle dated on
    or after the settle / sale date."""
    ensure_contacts(con)
    sql = """
        WITH cb AS (SELECT * FROM contacts WHERE purpose = 'callback'),
        r AS (
            SELECT r.vin, r.settle_date, r.ro_id, r.ro_type, r.advisor,
                   -- two EXISTS, not one with OR: each is a hash join, not a loop over every
                   -- (order, contact) pair
                   EXISTS (SELECT 1 FROM cb WHERE cb.ro_id = r.ro_id)
                   OR EXISTS (SELECT 1 FROM cb WHERE cb.vin = r.vin
                                                 AND cb.contact_date >= r.settle_date) AS done
            FROM ro r
            WHERE r.is_own AND r.is_visit_type AND r.settle_date = $visit_day),
        visits3 AS (
            SELECT '3DC' AS callback, vin, settle_date AS event_date, min(ro_id) AS ro_id,
                   string_agg(DISTINCT ro_type, ',' ORDER BY ro_type) AS ro_type,
                   min(advisor) AS advisor
            FROM r GROUP BY vin, settle_date HAVING NOT bool_or(done)),
        sales7 AS (
            SELECT '7DC' AS callback, s.vin, s.sale_date AS event_date,
                   CAST(NULL AS VARCHAR) AS ro_id, CAST(NULL AS VARCHAR) AS ro_type,
                   CAST(NULL AS VARCHAR) AS advisor
            FROM sold_by_us s
            WHERE s.sale_date = $sale_day AND NOT EXISTS (
                SELECT 1 FROM cb WHERE cb.vin = s.vin AND cb.contact_date >= s.sale_date))
        SELECT * FROM visits3 UNION ALL SELECT * FROM sales7
    """
    params = {
        "visit_day": day - _days(cfg.care.callback_days),
        "sale_day": day - _days(cfg.care.delivery_days),
    }
    order = "l.callback, l.event_date, c.customer_id, l.vin"
    return churn.call_list(con, sql, params, order, last_advisor, advisor_until=None)


def _days(n: int) -> timedelta:
    return timedelta(days=int(n))


# -- birthdays and greetings ------------------------------------------------------------------


def _people(
    con: duckdb.DuckDBPyConnection, vins: str, as_of: date, last_advisor: bool = True
) -> tuple[str, dict]:
    """Per customer of the vehicles `vins`: vehicles, series, last advisor (null without
    `last_advisor`: a scan of every order that a count does not need); the parameters."""
    advisor, join = "CAST(NULL AS VARCHAR)", ""
    params: dict[str, Any] = {}
    if last_advisor:
        advisors, params = facts.rule_source(con, facts.last_advisor_sql(), {"as_of": as_of})
        advisor, join = "arg_max(a.last_advisor, a.latest)", f"LEFT JOIN {advisors} a USING (vin)"
    return (
        f"""
        SELECT v.customer_id, count(DISTINCT v.vin) AS vehicles, min(v.series) AS series,
               {advisor} AS last_advisor
        FROM ({vins}) o JOIN vehicles v USING (vin) {join}
        WHERE v.customer_id IS NOT NULL AND coalesce(v.vehicle_status NOT IN {in_list(GONE)}, true)
        GROUP BY v.customer_id
    """,
        params,
    )


def birthdays(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    month: Period,
    as_of: date,
    last_advisor: bool = True,
) -> pl.DataFrame:
    """Customers with a vehicle ours at as_of (not scrapped/transferred) whose birthday falls
    in `month`, one row each, by day. Born on 29 February: in a non-leap year the birthday is
    listed on 28 February."""
    y = month.start.year
    people, params = _people(con, "SELECT vin FROM ours($as_of)", as_of, last_advisor)
    return con.sql(
        f"""
        WITH p AS ({people})
        SELECT c.customer_id, c.name, c.phone, c.birth_date,
               CASE WHEN month(c.birth_date) = 2 AND day(c.birth_date) = 29
                         AND NOT ({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))
                    THEN make_date({y}, 2, 28)
                    ELSE make_date({y}, month(c.birth_date), day(c.birth_date)) END AS birthday,
               {y} - year(c.birth_date) AS age, p.vehicles, p.series, p.last_advisor
        FROM customers c JOIN p USING (customer_id)
        WHERE month(c.birth_date) = {month.start.month}
        ORDER BY birthday, c.customer_id
    """,
        params={**params, "as_of": as_of},
    ).pl()


def greetings(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    holiday: str,
    day: date,
    as_of: date,
    last_advisor: bool = True,
) -> pl.DataFrame:
    """Active customers for a holiday greeting: one row per customer with a vehicle ours at
    as_of whose status (rules §5) is not lost and that is not scrapped/transferred."""
    status, params = churn.status_core_source(con, cfg, as_of)
    vins = f"SELECT vin FROM {status} WHERE status <> 'lost'"
    people, more = _people(con, vins, as_of, last_advisor)
    return con.sql(
        f"""
        WITH p AS ({people})
        SELECT $holiday AS holiday, $day AS holiday_date, p.customer_id, c.name,
               c.phone, p.vehicles, p.series, p.last_advisor
        FROM p LEFT JOIN customers c USING (customer_id)
        ORDER BY p.customer_id
    """,
        params={**params, **more, "holiday": holiday, "day": day},
    ).pl()


# -- complaints -------------------------------------------------------------------------------


def complaints(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Open complaints at as_of, oldest first: contacts with result dissatisfied (or purpose
    complaint and not satisfied) with no later (strictly later day) satisfied contact of the
    same customer, phone or vehicle; with the visit they concern. One row per complaint."""
    ensure_contacts(con)
    return con.sql(
        """
        WITH k AS (SELECT * FROM contacts WHERE contact_date <= $as_of),
        open AS (
            SELECT o.* FROM k o
            WHERE (o.result = 'dissatisfied'
                   OR (o.purpose = 'complaint' AND coalesce(o.result, '') <> 'satisfied'))
              -- one NOT EXISTS per key, not one with OR: each is a hash join, not a loop over
              -- every (complaint, contact) pair
              AND NOT EXISTS (
                SELECT 1 FROM k s WHERE s.result = 'satisfied'
                  AND s.contact_date > o.contact_date AND s.customer_id = o.customer_id)
              AND NOT EXISTS (
                SELECT 1 FROM k s WHERE s.result = 'satisfied'
                  AND s.contact_date > o.contact_date AND s.phone = o.phone)
              AND NOT EXISTS (
                SELECT 1 FROM k s WHERE s.result = 'satisfied'
                  AND s.contact_date > o.contact_date AND s.vin = o.vin)),
        visit AS (SELECT ro_id, min(settle_date) AS settle_date, min(advisor) AS advisor
                  FROM ro WHERE ro_id IN (SELECT ro_id FROM open) GROUP BY ro_id)
        SELECT o.contact_date AS complaint_date,
               date_diff('day', o.contact_date, $as_of) AS days_open,
               coalesce(o.customer_id, v.customer_id) AS customer_id, cu.name,
               coalesce(o.phone, cu.phone, v.phone) AS phone, o.vin, o.purpose, o.result,
               o.note, o.ro_id, r.settle_date, r.advisor, o.contact_id
        FROM open o
        LEFT JOIN vehicles v ON v.vin = o.vin
        LEFT JOIN customers cu ON cu.customer_id = coalesce(o.customer_id, v.customer_id)
        LEFT JOIN visit r ON r.ro_id = o.ro_id
        ORDER BY o.contact_date, o.contact_id
    """,
        params={"as_of": as_of},
    ).pl()


def complaints_per_customer(frame: pl.DataFrame) -> pl.DataFrame:
    """The oldest open complaint of each customer, with how many are open."""
    from .suppression import one_per_customer

    who = pl.coalesce(pl.col("customer_id"), pl.col("phone"), pl.col("vin"), pl.col("contact_id"))
    counted = frame.with_columns(open_complaints=pl.len().over(who).cast(pl.Int64))
    return one_per_customer(counted)


# -- the summary's care block -----------------------------------------------------------------


def care_summary(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> dict:
    """callbacks_due (customers to call back on as_of), birthdays (customers with a birthday
    in the month after as_of), open_complaints (complaints open at as_of), suppressed (active
    customers left off lists at as_of, per reason), all after suppression."""
    from .period import month_of
    from .suppression import apply_suppression, one_per_customer

    ensure_contacts(con)
    # counts: the lists without their last advisor (a scan of every order each)
    due = apply_suppression(con, cfg, callbacks(con, cfg, as_of, False).frame, as_of)[0]
    born = birthdays(con, cfg, month_of(as_of, 1), as_of, last_advisor=False)
    active = greetings(con, cfg, "", as_of, as_of, last_advisor=False)
    return {
        "callbacks_due": one_per_customer(due).height,
        "birthdays": apply_suppression(con, cfg, born, as_of)[0].height,
        "open_complaints": complaints(con, cfg, as_of).height,
        "suppressed": apply_suppression(con, cfg, active, as_of)[1],
    }


# -- marking a list contacted -------------------------------------------------------------------


def mark_contacted(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, as_of: date, note: str
) -> int:
    """One contact row (purpose campaign, channel phone, result empty) per row of `frame`, in
    one transaction; marking the same customer twice on one day keeps one row. Returns the
    number of contacts written (`contacts export --mark`)."""

    def col(name: str) -> pl.Expr:
        return (
            pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, dtype=pl.String)
        )

    rows = frame.select(customer_id=col("customer_id"), phone=col("phone"), vin=col("vin"))
    rows = rows.with_columns(
        contact_id=pl.lit(f"mark/{as_of.isoformat()}/") + pl.coalesce("customer_id", "phone", "vin")
    )
    rows = rows.filter(pl.col("contact_id").is_not_null()).unique(
        "contact_id", keep="first", maintain_order=True
    )
    con.register("_crm_mark", rows)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM _crm_mark)")
        con.execute(
            """
            INSERT INTO contacts (contact_id, contact_date, phone, vin, customer_id, channel,
                                  purpose, note, _file, _line)
            SELECT contact_id, $as_of, phone, vin, customer_id, 'phone', 'campaign', $note,
                   'crmtool contacts export', row_number() OVER ()
            FROM _crm_mark""",
            {"as_of": as_of, "note": note},
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_crm_mark")
    return rows.height
