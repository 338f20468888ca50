"""Value tier A–D per vehicle and customer (rules §3, seed 003 客户价值等级).

Three dimensions over the paid visits (有偿服务) of the window ending on as_of:
ticket 客单价 (paid amount / paid visits), visits 回站次数 (paid visits) and cycle_days 回站周期
(mean days between consecutive paid visits in the window when there are two or more, else days
since the last paid visit ever). Each gets a grade A–D from the cut points of cfg.tiers (ticket
cut points per series group, overridden per series by tiers.series_ticket); the tier combines
them: "strict" = the lowest grade, "score" = mean of A=4 … D=1 rounded half up.
Grades use unrounded values; the frame shows ticket and cycle_days rounded to 2 decimals.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

import duckdb

from . import engine, facts
from .codes import TIERS
from .config import Config
from .lazy import lazy
from .sqltext import literal

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")


def _cuts_sql(cfg: Config) -> str:
    """Per series (NULL = unlisted) the group and the ticket cut points that apply to it."""
    t = cfg.tiers
    rows = []
    named = set(t.series_ticket)
    for names in t.series_groups.values():
        named.update(names)
    for series in sorted(named):
        group = cfg.series_group(series)
        a, b, c = t.series_ticket.get(series, t.ticket[group])
        rows.append(f"({literal(series)}, {literal(group)}, {float(a)}, {float(b)}, {float(c)})")
    rows.append(
        f"(NULL, {literal(t.default_group)}, "
        + ", ".join(str(float(x)) for x in t.ticket[t.default_group])
        + ")"
    )
    return (
        f"SELECT * FROM (VALUES {', '.join(rows)}) "
        "AS cuts(series, tier_group, ticket_a, ticket_b, ticket_c)"
    )


def score_sql(grades: list[str]) -> str:
    """Score mode: mean of the grades as A=4 … D=1, rounded half up, back to a letter."""
    points = " + ".join(f"(ascii('E') - ascii({g}))" for g in grades)
    return f"chr(CAST(ascii('E') - floor(({points}) / {float(len(grades))} + 0.5) AS INTEGER))"


def tiers_sql(
    cfg: Config, with_cuts: bool = False, day: str = "$as_of", vins: str | None = None
) -> str:
    """The tier of every vehicle ours at `day` (one SQL query; needs facts.install);
    with_cuts adds the ticket cut points used (ticket_a, ticket_b, ticket_c). `day` is the
    as_of as SQL: the parameter $as_of, or an outer query's column (a tier per day in one
    LATERAL query: retention --by tier); `vins` a query of the vins wanted (default: all
    ours; the others are not needed, a vehicle's tier is its own visits')."""
    base = facts.ours_sql(cfg, day, vins)
    t = cfg.tiers
    va, vb, vc = (int(x) for x in t.visits)
    ca, cb, cc = (float(x) for x in t.cycle_days)
    if t.combine == "score":
        tier = (
            f"CASE WHEN visits_12m = 0 THEN 'D' "
            f"ELSE {score_sql(['ticket_grade', 'visits_grade', 'cycle_grade'])} END"
        )
    else:  # strict: the lowest grade is the latest letter
        tier = "greatest(ticket_grade, visits_grade, cycle_grade)"
    return f"""
        WITH t_base AS ({base}),
        t_paid AS (
            SELECT vin, day, paid_amount FROM visits
            WHERE is_paid AND day <= {day} AND vin IN (SELECT vin FROM t_base)),
        t_in_window AS (
            SELECT vin, paid_amount,
                   date_diff('day', lag(day) OVER (PARTITION BY vin ORDER BY day), day) AS gap
            FROM t_paid WHERE day >= {day} - {int(t.window_days) - 1}),
        t_w AS (
            SELECT vin, count(*) AS visits_12m, sum(paid_amount) AS paid_amount_12m,
                   avg(gap) AS mean_gap
            FROM t_in_window GROUP BY vin),
        t_life AS (
            SELECT vin, max(day) AS last_paid_visit, sum(paid_amount) AS lifetime_paid
            FROM t_paid GROUP BY vin),
        t_dims AS (
            SELECT b.vin, v.series, coalesce(s.tier_group, d.tier_group) AS tier_group,
                   coalesce(s.ticket_a, d.ticket_a) AS ticket_a,
                   coalesce(s.ticket_b, d.ticket_b) AS ticket_b,
                   coalesce(s.ticket_c, d.ticket_c) AS ticket_c,
                   CAST(w.paid_amount_12m AS DOUBLE) / w.visits_12m AS ticket,
                   coalesce(w.visits_12m, 0) AS visits_12m,
                   CASE WHEN w.visits_12m >= 2 THEN w.mean_gap
                        ELSE date_diff('day', l.last_paid_visit, {day}) END AS cycle_days,
                   coalesce(w.paid_amount_12m, 0) AS paid_amount_12m,
                   coalesce(l.lifetime_paid, 0) AS lifetime_paid
            FROM t_base b
            LEFT JOIN vehicles v USING (vin)
            LEFT JOIN t_w w USING (vin)
            LEFT JOIN t_life l USING (vin)
            LEFT JOIN ({_cuts_sql(cfg)}) s ON s.series = v.series
            CROSS JOIN (SELECT * FROM ({_cuts_sql(cfg)}) cuts_all WHERE series IS NULL) d),
        t_grades AS (
            SELECT *,
                CASE WHEN ticket >= ticket_a THEN 'A' WHEN ticket >= ticket_b THEN 'B'
                     WHEN ticket >= ticket_c THEN 'C' ELSE 'D' END AS ticket_grade,
                CASE WHEN visits_12m >= {va} THEN 'A' WHEN visits_12m >= {vb} THEN 'B'
                     WHEN visits_12m >= {vc} THEN 'C' ELSE 'D' END AS visits_grade,
                CASE WHEN cycle_days <= {ca} THEN 'A' WHEN cycle_days <= {cb} THEN 'B'
                     WHEN cycle_days <= {cc} THEN 'C' ELSE 'D' END AS cycle_grade
            FROM t_dims)
        SELECT vin, series, tier_group, {"ticket_a, ticket_b, ticket_c," if with_cuts else ""}
               {facts.round_exact("ticket")} AS ticket, visits_12m,
               {facts.round_exact("cycle_days")} AS cycle_days,
               CAST(paid_amount_12m AS DOUBLE) AS paid_amount_12m,
               CAST(lifetime_paid AS DOUBLE) AS lifetime_paid,
               ticket_grade, visits_grade, cycle_grade, {tier} AS tier
        FROM t_grades
    """


def tiers_source(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date
) -> tuple[str, dict[str, object]]:
    """The tiers at as_of with their cut points as a FROM item (computed once per snapshot)."""
    return facts.rule_source(con, tiers_sql(cfg, with_cuts=True), {"as_of": as_of})


def vehicle_tiers(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Per vehicle ours at as_of: vin, series, tier_group, ticket, visits_12m, cycle_days,
    paid_amount_12m, lifetime_paid, ticket_grade, visits_grade, cycle_grade, tier."""
    return engine.of(con).frame(tiers_sql(cfg) + " ORDER BY vin", {"as_of": as_of})


def customer_tiers(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Per customer with a vehicle ours at as_of: customer_id, tier (best of their vehicles)."""
    return engine.of(con).frame(
        f"""
        SELECT v.customer_id, min(t.tier) AS tier
        FROM ({tiers_sql(cfg)}) t JOIN vehicles v USING (vin)
        WHERE v.customer_id IS NOT NULL
        GROUP BY v.customer_id ORDER BY v.customer_id
    """,
        {"as_of": as_of},
    )


def tier_counts(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> dict[str, int]:
    """The summary's "tiers" block: the vehicles counted at as_of (facts.counted) per tier."""
    src, params = tiers_source(con, cfg, as_of)
    rows = dict(
        engine.of(con).rows(
            f"SELECT tier, count(*) AS n FROM {src} WHERE {facts.NOT_GONE} GROUP BY tier", params
        )
    )
    return {k: int(rows.get(k, 0)) for k in TIERS}


def tier_table(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> pl.DataFrame:
    """Per series (most vehicles first): tier_group, ticket cut points, counts A–D, vehicles
    (the vehicles counted at as_of: facts.counted)."""
    src, params = tiers_source(con, cfg, as_of)
    return engine.of(con).frame(
        f"""
        SELECT series, any_value(tier_group) AS tier_group,
               any_value(ticket_a) AS ticket_a, any_value(ticket_b) AS ticket_b,
               any_value(ticket_c) AS ticket_c,
               count(*) FILTER (WHERE tier = 'A') AS "A",
               count(*) FILTER (WHERE tier = 'B') AS "B",
               count(*) FILTER (WHERE tier = 'C') AS "C",
               count(*) FILTER (WHERE tier = 'D') AS "D",
               count(*) AS vehicles
        FROM {src} t
        WHERE {facts.NOT_GONE}
        GROUP BY series ORDER BY vehicles DESC, series NULLS LAST
    """,
        params,
    )


def tier_counts_by_series(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date
) -> list[dict[str, object]]:
    """For the report: [{"series": s, "A": n, "B": n, "C": n, "D": n}], most vehicles first."""
    frame = tier_table(con, cfg, as_of).select("series", *TIERS)
    return frame.to_dicts()


# -- tiers --suggest -------------------------------------------------------------------------


@dataclass
class Suggestion:
    """Per-series ticket cut points aimed at a tier mix, and the mix they give."""

    mix: list[float]
    series_ticket: dict[str, list[float]]
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    by_series: pl.DataFrame | None = None  # tier_table with the suggested cut points

    def shares(self, counts: dict[str, int] | None = None) -> dict[str, float]:
        counts = self.after if counts is None else counts
        total = sum(counts.values())
        return {k: (counts.get(k, 0) / total if total else 0.0) for k in TIERS}

    def toml(self) -> str:
        """A block to paste into crmtool.toml."""
        lines = ["[tiers.series_ticket]"]
        for series, cuts in self.series_ticket.items():
            key = json.dumps(series, ensure_ascii=False)
            lines.append(f"{key} = [{', '.join(str(int(c)) for c in cuts)}]")
        return "\n".join(lines) + "\n"


def _cut_between(tickets: list[float], k: int) -> float:
    """A cut point (whole tens of yuan) with about k of the tickets (sorted high to low) at or
    above it: halfway between the k-th and the next ticket."""
    if k <= 0:
        return math.floor(tickets[0] / 10) * 10 + 10.0
    if k >= len(tickets):
        return math.floor(tickets[-1] / 10) * 10.0
    mid = (tickets[k - 1] + tickets[k]) / 2
    return math.floor(mid / 10 + 0.5) * 10.0


def suggest(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date, mix: list[float] | None = None
) -> Suggestion:
    """Ticket cut points per series so that each series' ticket grades come near `mix`
    (percent A, B, C, D; default cfg.tiers.target_mix) among its vehicles counted at as_of.

    Vehicles without a paid visit in the window are ticket grade D whatever the cut points,
    so the cuts are placed among the tickets of the others: the top mix[A] of all the series'
    vehicles get A, and so on. The resulting tier mix is computed with the new cut points.
    """
    mix = [float(x) for x in (mix or cfg.tiers.target_mix)]
    total = sum(mix)
    if len(mix) != 4 or total <= 0 or any(x < 0 for x in mix):
        raise ValueError("mix must be 4 non-negative numbers (A, B, C, D) with a positive sum")
    shares = [x / total for x in mix]
    counted = [
        vin
        for (vin,) in engine.of(con).rows(
            f"SELECT vin FROM ({facts.counted_sql(cfg, '$as_of')}) c", {"as_of": as_of}
        )
    ]
    tiers = vehicle_tiers(con, cfg, as_of).filter(
        pl.col("series").is_not_null() & pl.col("vin").is_in(counted)
    )
    series_ticket: dict[str, list[float]] = {}
    for (series,), group in tiers.group_by("series"):
        tickets = sorted((x for x in group["ticket"].to_list() if x is not None), reverse=True)
        if not tickets:
            continue
        n = group.height
        cuts, cum = [], 0.0
        for share in shares[:3]:
            cum += share
            cuts.append(_cut_between(tickets, math.floor(cum * n + 0.5)))
        series_ticket[str(series)] = cuts
    series_ticket = dict(sorted(series_ticket.items()))
    new_cfg = replace(
        cfg, tiers=replace(cfg.tiers, series_ticket={**cfg.tiers.series_ticket, **series_ticket})
    )
    return Suggestion(
        mix=mix,
        series_ticket=series_ticket,
        before=tier_counts(con, cfg, as_of),
        after=tier_counts(con, new_cfg, as_of),
        by_series=tier_table(con, new_cfg, as_of),
    )
