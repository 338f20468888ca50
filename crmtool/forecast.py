"""Forecast per vehicle (docs/rules.md §20): P(alive), expected paid
visits and 12-month value from BG/NBD + Gamma-Gamma fitted on the store's paid visits.

- The visits summary (x, t_x, T in days, mean repeat paid amount) is one DuckDB query over
  the facts (`summary_sql`); reversal orders are netted into their day's paid amount.
- The fits (crmtool.forecast_model) run on every vehicle with a paid own visit on or before
  the calibration end; parameters and scores are computed once per database snapshot (temp
  tables dropped by facts.install, like the rules' results) so lists do not refit.
- Lists take the scores by vin: `forecast_list`, `attach` (segment/churn/winback --forecast).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np
import polars as pl

from . import churn, facts, value_tiers
from . import forecast_model as fm
from .config import Config
from .errors import CrmError
from .output.labels import words

BANDS = ("x0", "[0,0.2)", "[0.2,0.5)", "[0.5,0.8)", "[0.8,1]")
X_BUCKETS = ("0", "1", "2", "3", "4", "5", "6", "7+")
SCORE_COLUMNS = (
    "vin",
    "x",
    "t_x",
    "T",
    "mean_paid",
    "first_paid",
    "last_paid",
    "p_alive",
    "expected_visits_12m",
    "expected_ticket",
    "value_12m",
)


def paid_days_sql() -> str:
    """Per (vin, day) up to $cal: the paid visits of docs/rules.md §2 with their amount, the
    net of the day's customer-paid orders of a visit type (`visits.paid_net`: a negative
    reversal order reduces its day's amount); a day whose net is not above 0 was fully
    reversed and is no paid visit."""
    return """
        SELECT vin, day, paid_net AS amount FROM visits
        WHERE is_paid AND paid_net > 0 AND vin IS NOT NULL AND day <= $cal
    """


def summary_sql() -> str:
    """Per vehicle with a paid visit up to $cal: x (paid visits after the first), t_x (days
    first → last paid visit), T (days first paid visit → $cal), mean_paid (mean amount of the
    repeat paid visits, the first excluded; null when x = 0; summed exactly in DECIMAL, so
    the same database gives the same bits whatever the threads), first_paid, last_paid."""
    return f"""
        WITH paid AS ({paid_days_sql()})
        SELECT vin, CAST(count(*) - 1 AS INTEGER) AS x,
               CAST(max(day) - min(day) AS INTEGER) AS t_x,
               CAST($cal - min(day) AS INTEGER) AS "T",
               CASE WHEN count(*) > 1
                    THEN CAST(sum(amount) - arg_min(amount, day) AS DOUBLE) / (count(*) - 1)
                    END AS mean_paid,
               min(day) AS first_paid, max(day) AS last_paid
        FROM paid GROUP BY vin
    """


@dataclass
class Forecast:
    """The two fits at a calibration end."""

    cal_end: date
    bgnbd: fm.Fit
    gamma_gamma: fm.Fit

    def check(self) -> Forecast:
        try:
            self.bgnbd.check()
            self.gamma_gamma.check()
        except fm.FitError as e:
            raise CrmError(f"forecast: {e}") from None
        if self.gamma_gamma.params[1] <= 1:
            raise CrmError(
                "forecast: the Gamma-Gamma fit gives q ≤ 1, so the mean ticket of "
                "vehicles without a repeat paid visit is not defined; too few "
                "repeat paid visits to forecast value"
            )
        return self


def note_codes(fc: Forecast) -> list[dict[str, str]]:
    """What a reader of the forecast should be warned about, as codes with a value (the
    report words them in its language, labels.py `fc_note_<code>`): `no_dropout` (the mean
    chance to leave per visit, a/(a+b) < 1e-4) and `edge` (parameters at a model limit)."""
    out = []
    _, _, a, b = fc.bgnbd.params
    if a / (a + b) < 1e-4:
        out.append({"code": "no_dropout", "value": f"{a / (a + b):.1g}"})
    edge = [*fc.bgnbd.edge, *fc.gamma_gamma.edge]
    if edge:
        out.append({"code": "edge", "value": ", ".join(edge)})
    return out


def notes(fc: Forecast) -> list[str]:
    """The warnings of `note_codes` as lines for stderr."""
    return ["note: " + words("en")[f"fc_note_{n['code']}"].format(**n) for n in note_codes(fc)]


def _key(cfg: Config, cal: date, *extra: object) -> str:
    text = repr((cfg.own_dealers, cfg.visit_excludes, cal.isoformat(), *extra))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _cached(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [name]
        ).fetchall()[0][0]
    )


def visit_summary(con: duckdb.DuckDBPyConnection, cal: date) -> pl.DataFrame:
    """The summary of `summary_sql` at calibration end `cal`, ordered by vin."""
    return con.sql(summary_sql() + " ORDER BY vin", params={"cal": cal}).pl()


def _fit_summary(summary: pl.DataFrame, cal: date, dealers: list[str]) -> Forecast:
    if summary.is_empty():
        raise CrmError(
            f"forecast: no paid visit at {', '.join(dealers) or 'the own dealers'} on or "
            f"before {cal}; nothing to forecast"
        )
    x = summary["x"].to_numpy().astype(float)
    tx = summary["t_x"].to_numpy().astype(float)
    T = summary["T"].to_numpy().astype(float)
    try:
        bg = fm.fit_bgnbd(x, tx, T)
        m = summary["mean_paid"].fill_null(0.0).to_numpy().astype(float)
        gg = fm.fit_gamma_gamma(x, m)
    except fm.FitError as e:
        raise CrmError(f"forecast: {e}") from None
    return Forecast(cal, bg, gg)


def _fit_from_json(text: str) -> Forecast:
    data = json.loads(text)
    fits = [
        fm.Fit(
            **{
                **d,
                "names": tuple(d["names"]),
                "params": tuple(d["params"]),
                "std_errors": tuple(d["std_errors"]),
                "edge": tuple(d["edge"]),
            }
        )
        for d in data["fits"]
    ]
    return Forecast(date.fromisoformat(data["cal_end"]), *fits)


def _fit_to_json(fc: Forecast) -> str:
    return json.dumps(
        {"cal_end": fc.cal_end.isoformat(), "fits": [asdict(fc.bgnbd), asdict(fc.gamma_gamma)]}
    )


def score(
    fc: Forecast, summary: pl.DataFrame, horizon: float, discount_rate: float = 0.0
) -> pl.DataFrame:
    """Per vehicle of the summary: p_alive, expected visits in the next `horizon` days,
    expected ticket and value (expected visits × ticket; with a discount rate, each of 12
    equal steps of the horizon is discounted at its midpoint)."""
    params, gg = fc.bgnbd.params, fc.gamma_gamma.params
    x = summary["x"].to_numpy().astype(float)
    tx = summary["t_x"].to_numpy().astype(float)
    T = summary["T"].to_numpy().astype(float)
    m = summary["mean_paid"].fill_null(0.0).to_numpy().astype(float)
    visits = fm.expected_visits(params, horizon, x, tx, T)
    if discount_rate > 0:
        steps = np.linspace(0.0, horizon, 13)
        prev, worth = np.zeros_like(visits), np.zeros_like(visits)
        for lo, hi in zip(steps[:-1], steps[1:], strict=True):
            cur = fm.expected_visits(params, hi, x, tx, T)
            worth += (cur - prev) / (1 + discount_rate) ** ((lo + hi) / 2 / 365.0)
            prev = cur
    else:
        worth = visits
    ticket = fm.expected_ticket(gg, x, m)
    return summary.with_columns(
        p_alive=pl.Series(fm.p_alive(params, x, tx, T)).round(4),
        expected_visits_12m=pl.Series(visits).round(3),
        expected_ticket=pl.Series(ticket).round(2),
        value_12m=pl.Series(worth * ticket).round(2),
        mean_paid=pl.col("mean_paid").round(2),
    )


def fit(con: duckdb.DuckDBPyConnection, cfg: Config, cal: date) -> Forecast:
    """The fits on paid visits up to `cal` (once per snapshot), checked: a fit that did not
    converge is a CrmError with one line saying so."""
    return _fit_and_scores(con, cfg, cal)[0].check()


def fit_unchecked(con: duckdb.DuckDBPyConnection, cfg: Config, cal: date) -> Forecast:
    """The fits as they came out of the optimiser, converged or not (for --params)."""
    return _fit_and_scores(con, cfg, cal)[0]


def _fit_and_scores(
    con: duckdb.DuckDBPyConnection, cfg: Config, cal: date
) -> tuple[Forecast, str | None]:
    """The fits, and (when they converged) the name of the temp table of scores. Under a
    snapshot both are kept for the run (`_rule_` tables, dropped by facts.install)."""
    key = _key(cfg, cal, cfg.forecast.horizon_days, cfg.forecast.discount_rate)
    fit_name, score_name = f"_rule_fcfit_{key}", f"_rule_fcscore_{key}"
    keep = facts.is_snapshot(con)
    if keep and _cached(con, fit_name):
        text = con.execute(f"SELECT fit FROM {fit_name}").fetchall()[0][0]
        fc = _fit_from_json(text)
        return fc, (score_name if _cached(con, score_name) else None)
    summary = visit_summary(con, cal)
    fc = _fit_summary(summary, cal, cfg.own_dealers)
    if keep:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {fit_name} AS SELECT ? AS fit", [_fit_to_json(fc)]
        )
    try:
        fc.check()
    except CrmError:
        return fc, None
    scores = score(fc, summary, cfg.forecast.horizon_days, cfg.forecast.discount_rate)
    name = score_name if keep else "_forecast_scores"
    con.register("_fc_frame", scores)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _fc_frame")
    finally:
        con.unregister("_fc_frame")
    return fc, name


def scores_source(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> str:
    """A temp table of the scores at as_of (SCORE_COLUMNS), every vehicle with a paid own
    visit up to as_of; CrmError when a fit did not converge."""
    fc, name = _fit_and_scores(con, cfg, as_of)
    fc.check()
    assert name is not None
    return name


def _list_sql(scores: str, tiers: str, status: str) -> str:
    return f"""
        SELECT f.vin, f.p_alive, f.expected_visits_12m, f.expected_ticket, f.value_12m,
               f.x, f.t_x, f."T", f.mean_paid, f.first_paid, f.last_paid, t.tier, s.status,
               s.days_since
        FROM (SELECT vin FROM ours($as_of)) o
        JOIN {scores} f USING (vin)
        LEFT JOIN {tiers} t USING (vin)
        LEFT JOIN {status} s USING (vin)
    """


def forecast_list(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> churn.ListResult:
    """One row per vehicle ours at as_of with a paid visit up to as_of: the owner's contact,
    p_alive, expected_visits_12m, expected_ticket, value_12m, the inputs (x, t_x, T,
    mean_paid, first_paid, last_paid), tier, status, days_since; highest value first.
    Scrapped and transferred vehicles are left out (counted)."""
    sql, params = _scored_sql(con, cfg, as_of)
    facts.evict(con)  # the parts are built: the list's join starts from an empty cache
    return churn.call_list(con, sql, params, "l.value_12m DESC, l.vin")


def _scored_sql(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date
) -> tuple[str, dict[str, Any]]:
    """The scores of the vehicles ours at as_of with their tier and status (without the
    churn warning's visit gaps, not shown here), and the query's parameters."""
    scores = scores_source(con, cfg, as_of)
    tiers, p1 = value_tiers.tiers_source(con, cfg, as_of)
    status, p2 = churn.status_core_source(con, cfg, as_of)
    return _list_sql(scores, tiers, status), {"as_of": as_of, **p1, **p2}


def per_customer(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per customer (vehicles without a customer_id stay one row each): the contact
    and tier/status of their highest-value vehicle, value_12m and expected_visits_12m summed,
    p_alive the maximum, x summed, and `vehicles`; highest value first."""
    if frame.is_empty():
        return frame.with_columns(vehicles=pl.lit(0, dtype=pl.UInt32))
    key = pl.coalesce(pl.col("customer_id"), pl.lit("vin:") + pl.col("vin"))
    best = [
        c for c in frame.columns if c not in ("p_alive", "expected_visits_12m", "value_12m", "x")
    ]
    out = (
        frame.sort(["value_12m", "vin"], descending=[True, False])
        .with_columns(_key=key)
        .group_by("_key", maintain_order=True)
        .agg(
            *[pl.col(c).first() for c in best],
            p_alive=pl.col("p_alive").max(),
            expected_visits_12m=pl.col("expected_visits_12m").sum().round(3),
            value_12m=pl.col("value_12m").sum().round(2),
            x=pl.col("x").sum(),
            vehicles=pl.len(),
        )
        .drop("_key")
    )
    out = out.with_columns(
        expected_ticket=pl.when(pl.col("expected_visits_12m") > 0)
        .then(pl.col("value_12m") / pl.col("expected_visits_12m"))
        .round(2)
    )
    return out.select([c for c in frame.columns if c in out.columns] + ["vehicles"])


def attach(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date, frame: pl.DataFrame
) -> tuple[pl.DataFrame, list[str]]:
    """A list with x, p_alive and value_12m by vin (null for vehicles without a paid visit:
    no forecast, never a guess), the list's order kept; and the fit's `notes`."""
    fc, name = _fit_and_scores(con, cfg, as_of)
    fc.check()
    scores = con.sql(f"SELECT vin, x, p_alive, value_12m FROM {name}").pl()
    out = frame.with_row_index("_row").join(scores, on="vin", how="left").sort("_row").drop("_row")
    return out, notes(fc)


# -- --params ------------------------------------------------------------------------------


def params_frame(fc: Forecast) -> pl.DataFrame:
    """One row per parameter and log-likelihood: fit (bgnbd / gamma_gamma), parameter, value,
    std_error, converged, vehicles. α is per day (γ in yuan)."""
    rows: list[dict[str, Any]] = []
    for f in (fc.bgnbd, fc.gamma_gamma):
        which = "bgnbd" if f is fc.bgnbd else "gamma_gamma"
        for name, value, se in zip(f.names, f.params, f.std_errors, strict=True):
            rows.append(
                {
                    "fit": which,
                    "parameter": name,
                    "value": value,
                    "std_error": None if math.isnan(se) else se,
                }
            )
        rows.append(
            {
                "fit": which,
                "parameter": "log_likelihood",
                "value": f.log_likelihood,
                "std_error": None,
            }
        )
        rows.append(
            {"fit": which, "parameter": "max_gradient", "value": f.max_gradient, "std_error": None}
        )
        for row in rows[-len(f.names) - 2 :]:
            row.update(converged=f.converged, vehicles=f.n)
    return pl.DataFrame(
        rows,
        schema={
            "fit": pl.String,
            "parameter": pl.String,
            "value": pl.Float64,
            "std_error": pl.Float64,
            "converged": pl.Boolean,
            "vehicles": pl.Int64,
        },
    )


# -- --calibrate-until -----------------------------------------------------------------------


def calibration(
    con: duckdb.DuckDBPyConnection, cfg: Config, cal: date, as_of: date
) -> pl.DataFrame:
    """Fit on paid visits up to `cal`, predict the paid visits in cal+1 … as_of of every
    vehicle with a paid visit up to cal, and compare with what happened: per x bucket
    (0 … 7+) and in total, vehicles, actual, predicted and MAE (mean |predicted − actual|
    over the vehicles)."""
    fc = fit(con, cfg, cal)
    summary = visit_summary(con, cal)
    actual = con.sql(
        f"""
        SELECT vin, count(*) AS actual FROM ({paid_days_sql()})
        WHERE day > $from GROUP BY vin""",
        params={"cal": as_of, "from": cal},
    ).pl()
    x = summary["x"].to_numpy().astype(float)
    predicted = fm.expected_visits(
        fc.bgnbd.params,
        float((as_of - cal).days),
        x,
        summary["t_x"].to_numpy().astype(float),
        summary["T"].to_numpy().astype(float),
    )
    per = (
        summary.select("vin", "x")
        .join(actual, on="vin", how="left")
        .with_columns(
            actual=pl.col("actual").fill_null(0).cast(pl.Int64),
            predicted=pl.Series(predicted),
            bucket=pl.when(pl.col("x") >= 7)
            .then(pl.lit("7+"))
            .otherwise(pl.col("x").cast(pl.String)),
        )
        .with_columns(err=(pl.col("predicted") - pl.col("actual")).abs())
    )

    def agg(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            vehicles=pl.len().cast(pl.Int64),
            actual=pl.col("actual").sum().cast(pl.Int64),
            predicted=pl.col("predicted").sum().round(2),
            mae=pl.col("err").mean().round(4),
        )

    rows = [agg(per.filter(pl.col("bucket") == b)).with_columns(x=pl.lit(b)) for b in X_BUCKETS]
    rows.append(agg(per).with_columns(x=pl.lit("total")))
    return (
        pl.concat(rows)
        .select("x", "vehicles", "actual", "predicted", "mae")
        .with_columns(pl.col("predicted").fill_null(0.0))
    )


# -- summary block -------------------------------------------------------------------------


def summary_block(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> dict[str, Any]:
    """The summary's "forecast" block: parameters, the sum of value_12m over the vehicles
    ours at as_of with a paid visit (scrapped/transferred left out), and those vehicles by
    P(alive) band (x = 0 vehicles in their own band "x0"), in all and per tier, and their
    value_12m per status (the value at risk: at_risk and lost). When the fit cannot be used,
    the block says why ({"error": ...})."""
    try:
        sql, params = _scored_sql(con, cfg, as_of)
    except CrmError as e:
        return {"error": str(e)}
    fc = fit(con, cfg, as_of)
    # the list's vehicles (scrapped / transferred left out), without the contacts it shows
    frame = con.sql(
        f"""SELECT vin, p_alive, x, value_12m, tier, status FROM ({sql}) l
        WHERE {facts.NOT_GONE}
        ORDER BY l.value_12m DESC, l.vin""",  # the list's order: the same float sums
        params=params,
    ).pl()
    frame = frame.with_columns(_band=band_expr())
    tiers = {t: _band_counts(frame.filter(pl.col("tier") == t)) for t in value_tiers.TIERS}
    return {
        "parameters": {
            **fc.bgnbd.as_dict(),
            **fc.gamma_gamma.as_dict(),
            "ll_bgnbd": fc.bgnbd.log_likelihood,
            "ll_gamma_gamma": fc.gamma_gamma.log_likelihood,
            "converged": True,
        },
        "vehicles": frame.height,
        "value_12m": round(float(frame["value_12m"].sum()), 2),
        "p_alive_bands": _band_counts(frame),
        "p_alive_bands_by_tier": tiers,
        "value_12m_by_status": {
            s: round(float(frame.filter(pl.col("status") == s)["value_12m"].sum()), 2)
            for s in churn.STATUSES
        },
        "notes": notes(fc),
        "note_codes": note_codes(fc),
    }


def band_expr() -> pl.Expr:
    """The P(alive) band of a list row: "x0" when x = 0, else the half-open band of p_alive."""
    pa = pl.col("p_alive")
    return (
        pl.when(pl.col("x") == 0)
        .then(pl.lit("x0"))
        .when(pa < 0.2)
        .then(pl.lit("[0,0.2)"))
        .when(pa < 0.5)
        .then(pl.lit("[0.2,0.5)"))
        .when(pa < 0.8)
        .then(pl.lit("[0.5,0.8)"))
        .otherwise(pl.lit("[0.8,1]"))
    )


def _band_counts(frame: pl.DataFrame) -> dict[str, int]:
    counts = dict(frame.group_by("_band").len().iter_rows())
    return {b: int(counts.get(b, 0)) for b in BANDS}
