"""`crmtool forecast`: P(alive), expected paid visits and 12-month value per vehicle
(BG/NBD + Gamma-Gamma, docs/rules.md §20), its parameters and its calibration check."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UsageError
from ..period import parse_date_arg
from .app import State, app, state
from .options import IncludeRecentOpt, ListOutput, list_command

if TYPE_CHECKING:  # numpy, scipy, duckdb and polars load only when a command runs
    import duckdb
    import polars as pl


def open_snapshot(st: State) -> duckdb.DuckDBPyConnection:
    """The database with the facts computed once for the run (the fit is kept with them)."""
    from .. import db, facts

    con = db.connect(st.db, read_only=True, wait=st.wait)
    facts.install(con, st.config, snapshot=True)
    return con


@app.command("forecast")
@list_command
def forecast_cmd(
    ctx: typer.Context,
    output: ListOutput,
    per_customer: Annotated[
        bool,
        typer.Option(
            "--per-customer",
            help="One row per customer: value_12m and expected visits summed, "
            "p_alive the highest of their vehicles.",
        ),
    ] = False,
    params: Annotated[
        bool,
        typer.Option(
            "--params",
            help="Print the fitted parameters (r, alpha per day, a, b; p, q, gamma), "
            "log-likelihoods, standard errors and whether each fit converged.",
        ),
    ] = False,
    calibrate_until: Annotated[
        str | None,
        typer.Option(
            "--calibrate-until",
            metavar="DATE",
            help="Fit on paid visits up to DATE and compare "
            "predicted with actual paid visits from the day after DATE to --as-of, in total and "
            "by past repeat visits (0 … 7+), with the mean absolute error.",
        ),
    ] = None,
    include_recent: IncludeRecentOpt = False,
) -> None:
    """Forecast per vehicle (预测): the chance the car is still coming to us (p_alive), its
    expected paid visits in the next 12 months, expected ticket and 12-month value, with the
    inputs (x = paid visits after the first, t_x and T in days, mean repeat paid amount) and
    its tier and status. Vehicles ours at --as-of with at least one paid visit; highest value
    first. A car with one paid visit (x = 0) always shows p_alive 1: the model cannot tell.

    Examples:

      crmtool forecast --format csv > forecast.csv

      crmtool forecast --where "status = 'lost' AND p_alive > 0.5" --sort -value_12m

      crmtool forecast --per-customer --limit 200 -o top-customers.xlsx

      crmtool forecast --params

      crmtool forecast --calibrate-until 2021-06-30
    """
    from .. import facts, forecast
    from .lists import suppress

    st = state(ctx)
    cfg = st.config
    as_of = st.as_of or date.today()
    if params and (per_customer or calibrate_until):
        raise UsageError("--params goes alone (no --per-customer or --calibrate-until)")
    if calibrate_until and per_customer:
        raise UsageError("--calibrate-until prints buckets, not customers: drop --per-customer")
    con = open_snapshot(st)
    if params:
        fc = forecast.fit_unchecked(con, cfg, as_of)
        output.write(forecast.params_frame(fc), sheet="parameters")
        fc.check()
        for line in forecast.notes(fc):
            st.say(line)
        return
    if calibrate_until:
        cal = parse_date_arg(calibrate_until, "calibrate-until")
        if cal >= as_of:
            raise UsageError(f"--calibrate-until {cal} must be before --as-of {as_of}")
        output.write(forecast.calibration(con, cfg, cal, as_of), sheet="calibration")
        return
    res = forecast.forecast_list(con, cfg, as_of)
    for line in forecast.notes(forecast.fit(con, cfg, as_of)):
        st.say(line)
    facts.release(con)  # the list is built: its filters and writer get the memory
    frame = suppress(st, con, res.frame, include_recent=include_recent)
    if per_customer:
        frame = forecast.per_customer(frame)
    output.write(frame, sheet="forecast")
    if res.left_out:
        st.say(f"{res.left_out} scrapped or transferred vehicle(s) left out of the list")


ForecastOpt = Annotated[
    bool,
    typer.Option(
        "--forecast",
        help="Add x, p_alive and value_12m (BG/NBD + Gamma-Gamma, see `crmtool "
        "forecast`); null for vehicles without a paid visit.",
    ),
]


def with_forecast(
    st: State, con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, as_of: date | None = None
) -> pl.DataFrame:
    """The list with the forecast columns (the `--forecast` option of other lists)."""
    from .. import forecast

    out, notes = forecast.attach(con, st.config, as_of or st.as_of or date.today(), frame)
    for line in notes:
        st.say(line)
    return out
