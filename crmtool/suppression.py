"""Who never goes on a call list (issue 8): do-not-contact customers, wrong numbers and the
recently contacted. One function, applied by every list command before it writes.

A list row matches a contact by customer_id, phone or vin. Reasons, first that applies:

- do_not_contact: the latest contact of the row's customer that says 勿扰 yes/no says yes;
- wrong_number:   the latest contact with a result for the row's phone was 空号 (wrong_number);
- recent:         a contact dated in the last `care.recent_days` days up to as_of (both ends
                  included: 7 days = as_of and the 6 days before it); `include_recent` keeps them.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from . import engine
from .config import Config

REASONS = ("do_not_contact", "wrong_number", "recent")


def has_contacts(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the store has a contacts table (databases made before issue 8 have none;
    a maker's tables on Spark have none either)."""
    if engine.is_spark(con):
        return False
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'contacts'"
    ).fetchall()
    return bool(rows[0][0])


def _reasons_sql(cols: set[str]) -> str:
    def col(name: str) -> str:
        return f"CAST({name} AS VARCHAR)" if name in cols else "CAST(NULL AS VARCHAR)"

    return f"""
        WITH l AS (SELECT _row, {col("customer_id")} AS customer_id, {col("phone")} AS phone,
                          {col("vin")} AS vin FROM _crm_list),
        c AS (SELECT *, coalesce(contact_date, DATE '1900-01-01') AS d FROM contacts
              WHERE contact_date IS NULL OR contact_date <= $as_of),
        m AS (SELECT l._row, c.contact_id, c.d, c.do_not_contact FROM l JOIN c USING (customer_id)
              UNION SELECT l._row, c.contact_id, c.d, c.do_not_contact FROM l JOIN c USING (phone)
              UNION SELECT l._row, c.contact_id, c.d, c.do_not_contact FROM l JOIN c USING (vin)),
        per AS (SELECT _row,
                       arg_max(do_not_contact, (d, contact_id))
                           FILTER (WHERE do_not_contact IS NOT NULL) AS dnc,
                       max(d) AS last_contact
                FROM m GROUP BY _row),
        w AS (SELECT phone, arg_max(result, (d, contact_id)) AS last_result
              FROM c WHERE result IS NOT NULL AND phone IS NOT NULL GROUP BY phone)
        SELECT l._row, CASE
            WHEN coalesce(per.dnc, false) THEN 'do_not_contact'
            WHEN w.last_result = 'wrong_number' THEN 'wrong_number'
            WHEN per.last_contact >= $recent_from THEN 'recent' END AS reason
        FROM l LEFT JOIN per USING (_row) LEFT JOIN w USING (phone)
    """


def reasons(
    con: duckdb.DuckDBPyConnection, cfg: Config, frame: pl.DataFrame, as_of: date
) -> pl.Series:
    """Per row of `frame`, the reason it is suppressed (None: it stays)."""
    if frame.height == 0 or not has_contacts(con):
        return pl.Series("reason", [None] * frame.height, dtype=pl.String)
    listed = frame.select(
        [c for c in ("customer_id", "phone", "vin") if c in frame.columns]
    ).with_row_index("_row")
    con.register("_crm_list", listed)
    try:
        got = con.sql(
            _reasons_sql(set(listed.columns)) + " ORDER BY _row",
            params={
                "as_of": as_of,
                "recent_from": as_of - timedelta(days=max(cfg.care.recent_days, 0) - 1),
            },
        ).pl()
    finally:
        con.unregister("_crm_list")
    return got["reason"]


def apply_suppression(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    frame: pl.DataFrame,
    as_of: date,
    include_recent: bool = False,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The list without its suppressed rows, and how many went for each reason."""
    why = reasons(con, cfg, frame, as_of)
    if include_recent:
        why = why.replace("recent", None)
    dropped = {r: int((why == r).sum()) for r in REASONS}
    return frame.filter(why.is_null()), dropped


def one_per_customer(frame: pl.DataFrame) -> pl.DataFrame:
    """The first row of each customer (by customer_id, else phone, else vin), order kept."""
    keys = [
        pl.col(c).cast(pl.String) for c in ("customer_id", "phone", "vin") if c in frame.columns
    ]
    if not keys or frame.height == 0:
        return frame
    keys.append(pl.int_range(pl.len()).cast(pl.String))  # nobody known: the row stays
    return (
        frame.with_columns(pl.coalesce(keys).alias("_who"))
        .unique("_who", keep="first", maintain_order=True)
        .drop("_who")
    )


def describe(dropped: dict[str, int], cfg: Config) -> str | None:
    """The stderr line for a list's suppressed rows, or None when nothing was dropped."""
    total = sum(dropped.values())
    if not total:
        return None
    parts = [f"{n} {k}" for k, n in dropped.items() if n]
    tail = (
        f" (recent: contacted in the last {cfg.care.recent_days} days; --include-recent keeps them)"
        if dropped.get("recent")
        else ""
    )
    return f"{total} row(s) suppressed: {', '.join(parts)}{tail}"
