"""`crmtool churn`, `due`, `campaign …`, `leads`: the lost-customer analysis and call lists."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import call_lists
from ..codes import AT_RISK, REASONS, STATUSES
from ..errors import UsageError
from ..period import Period, last_full_half, month_of, parse_period, resolve_period
from . import notice
from .app import State, app, state
from .forecast_cmds import ForecastOpt, with_forecast
from .lazy import lazy
from .lists import defer, suppress, write_spark_list
from .options import FromOpt, IncludeRecentOpt, ListOutput, MonthOpt, PeriodOpt, ToOpt, list_command
from .store import rules_store

if TYPE_CHECKING:  # exact types for mypy; churn is imported lazily at run time
    import duckdb

    from .. import churn
    from ..spark_lists import Target
else:
    churn = lazy("crmtool.churn")

pl = lazy("polars")
campaigns = lazy("crmtool.campaigns")
db = lazy("crmtool.db")
facts = lazy("crmtool.facts")
leads = lazy("crmtool.leads")
spark_lists = lazy("crmtool.spark_lists")


def _open(st: State, as_of: date | None = None) -> duckdb.DuckDBPyConnection:
    """The database with the rules' views; warns when as_of is long after the data."""
    con = rules_store(st)  # --engine spark: the maker's tables
    notice.check_as_of(st, con, as_of or st.as_of or date.today())
    return con


def _choices(text: str | None, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    """A comma list checked against the allowed values."""
    if not text:
        return allowed
    got = tuple(v.strip() for v in text.split(",") if v.strip())
    bad = [v for v in got if v not in allowed]
    if bad or not got:
        raise UsageError(f"{option} takes {', '.join(allowed)}; got {text!r}")
    return got


def _emit(
    st: State,
    res: churn.ListResult,
    out: ListOutput,
    con: duckdb.DuckDBPyConnection | None = None,
    include_recent: bool = False,
    sheet: str = "list",
    *,
    spark: tuple[Any, Target] | None = None,
    filters: tuple[str, ...] = (),
) -> None:
    """Write a call list; with `con`, suppressed rows (issue 8) are dropped first. `spark`:
    (engine, target) when Spark writes the list itself (res.query), with `filters`."""
    if spark is not None and res.query is not None:
        eng, target = spark
        written = write_spark_list(
            st,
            eng,
            res.query,
            out,
            target,
            filters=filters,
            suppress=con is not None,
            include_recent=include_recent,
        )
        if written.left_out:
            st.say(f"{written.left_out} scrapped or transferred vehicle(s) left out of the list")
        return
    if res.left_out:
        st.say(f"{res.left_out} scrapped or transferred vehicle(s) left out of the list")
    frame = (
        res.frame if con is None else suppress(st, con, res.frame, include_recent=include_recent)
    )
    out.write(frame, sheet=sheet)


@app.command("churn")
@list_command
def churn_cmd(
    ctx: typer.Context,
    output: ListOutput,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Statuses to list, comma separated: new, loyal, general, at_risk, "
            "lost (default: lost,at_risk).",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", help="Only this reason: never_returned, defected, out_of_channel."
        ),
    ] = None,
    warn: Annotated[
        bool,
        typer.Option(
            "--warn", help="Only vehicles with a churn warning (流失预警, loyal/general)."
        ),
    ] = False,
    per_customer: Annotated[
        bool,
        typer.Option("--per-customer", help="One row per customer (their most urgent vehicle)."),
    ] = False,
    include_recent: IncludeRecentOpt = False,
    with_fc: ForecastOpt = False,
    leakage: Annotated[
        bool,
        typer.Option(
            "--leakage",
            help="Where the base vehicles went in --period (retained, cross_shop, "
            "defected, out_of_channel).",
        ),
    ] = False,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Loyalty status and churn list (流失客户): one row per vehicle with status, days_since,
    risk_ratio, the reason (never_returned / defected with the dealer / out_of_channel) and
    the owner's contact. Status is computed at --as-of (default today).

    Examples:

      crmtool churn --format csv > lost.csv

      crmtool churn --status at_risk --reason defected

      crmtool churn --status loyal,general --warn

      crmtool churn --leakage --period 2021 --format csv

      crmtool churn --forecast --where "p_alive > 0.5" --sort -value_12m
    """
    st = state(ctx)
    if leakage:
        if with_fc:
            raise UsageError("--forecast goes with the status list, not --leakage")
        p = resolve_period(period, date_from, date_to, st.as_of or date.today())
        con = _open(st)
        target = defer(st, con, output)
        notice.check_period(st, con, p)
        res = churn.leakage_list(con, st.config, p)
        _emit(st, res, output, sheet="churn", spark=(con, target) if target else None)
        return
    if period or date_from or date_to:
        raise UsageError("--period/--from/--to go with --leakage; the status list uses --as-of")
    default = STATUSES if warn else AT_RISK
    wanted = _choices(status, STATUSES, "--status") if status else default
    con = _open(st)
    target = defer(st, con, output, ("--forecast", with_fc), ("--per-customer", per_customer))
    res = churn.churn_list(con, st.config, st.as_of or date.today(), wanted)
    if target is not None:  # Spark writes the list: --reason and --warn in its SQL
        chosen = {"reason": _choices(reason, REASONS, "--reason")} if reason else {}
        filters = (*spark_lists.filters_in(chosen), *(("warn",) if warn else ()))
        _emit(st, res, output, con, include_recent, spark=(con, target), filters=filters)
        return
    frame = res.frame
    if reason:
        frame = frame.filter(pl.col("reason").is_in(_choices(reason, REASONS, "--reason")))
    if warn:
        frame = frame.filter(pl.col("warn"))
    frame = suppress(st, con, frame, include_recent=include_recent)
    if with_fc:
        frame = with_forecast(st, con, frame)
    if per_customer:
        frame = call_lists.per_customer(frame, call_lists.LISTS["churn"].best)
    _emit(st, churn.ListResult(frame, res.left_out), output, sheet="churn")


def _month(text: str | None, as_of: date) -> Period:
    if text is None:
        return month_of(as_of, 1)
    if not re.fullmatch(r"\s*\d{4}-\d{1,2}\s*", text):
        raise UsageError(f"--month must be a month like 2021-11, got {text!r}")
    return parse_period(text, "--month")


@app.command("due")
@list_command
def due_cmd(
    ctx: typer.Context,
    output: ListOutput,
    month: MonthOpt = None,
    include_recent: IncludeRecentOpt = False,
) -> None:
    """Maintenance reminders (保养提醒): vehicles whose first service or next maintenance
    falls due in the month (by time or by estimated km, whichever first), plus the overdue
    ones (up to 180 days late), flagged.

    Examples:

      crmtool due

      crmtool due --month 2021-11 --format xlsx -o due-2021-11.xlsx --split-by last_advisor

      crmtool due --where "overdue" --format csv
    """
    st = state(ctx)
    as_of = st.as_of or date.today()
    m = _month(month, as_of)
    con = _open(st)
    target = defer(st, con, output)
    _emit(
        st,
        campaigns.maintenance_due(con, st.config, m, as_of),
        output,
        con,
        include_recent,
        sheet="due",
        spark=(con, target) if target else None,
    )


# the call lists `campaign KIND` makes (crmtool/call_lists.py), in the registry's order
CAMPAIGNS = tuple(
    e.name for e in call_lists.LISTS.values() if e.command.startswith("crmtool campaign ")
)


def _loyal_period(
    half: str | None,
    year: str | None,
    as_of: date,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Period:
    if (half or year) and (date_from or date_to):
        raise UsageError("give either --half/--year or --from/--to, not both")
    if date_from or date_to:  # any span, e.g. the half year the report's list ends on
        return resolve_period(None, date_from, date_to, as_of)
    if half and year:
        raise UsageError("give either --half or --year, not both")
    if year:
        if not re.fullmatch(r"\s*\d{4}\s*", year):
            raise UsageError(f"--year must be a year like 2021, got {year!r}")
        return parse_period(year, "--year")
    if half:
        if not re.fullmatch(r"\s*\d{4}-?[hH][12]\s*", half):
            raise UsageError(f"--half must be a half year like 2021H2, got {half!r}")
        return parse_period(half, "--half")
    return last_full_half(as_of)


@app.command("campaign")
@list_command
def campaign_cmd(
    ctx: typer.Context,
    output: ListOutput,
    kind: Annotated[
        str,
        typer.Argument(
            help="warranty (脱保/延保) | insurance (续保前移) | loyal (忠诚客户回馈) | "
            "winback (流失客户招揽)"
        ),
    ],
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=1,
            help="warranty: ending within N days (default 90); insurance: "
            "settled in the last N days (default 30).",
        ),
    ] = None,
    half: Annotated[
        str | None, typer.Option("--half", help="loyal: a half year, e.g. 2021H2.")
    ] = None,
    year: Annotated[str | None, typer.Option("--year", help="loyal: a year, e.g. 2021.")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="loyal: the span's first day (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="loyal: the span's last day (YYYY-MM-DD).")
    ] = None,
    include_recent: IncludeRecentOpt = False,
    with_fc: ForecastOpt = False,
) -> None:
    """Campaign call lists, one row per vehicle with the owner's contact and the gift.

    Examples:

      crmtool campaign warranty --days 60

      crmtool campaign insurance --format csv

      crmtool campaign loyal --half 2021H2

      crmtool campaign winback --format xlsx -o winback.xlsx

      crmtool campaign winback --forecast --sort -value_12m
    """
    st = state(ctx)
    if kind not in CAMPAIGNS:
        raise UsageError(f"campaign must be one of {', '.join(CAMPAIGNS)}; got {kind!r}")
    if days is not None and kind not in ("warranty", "insurance"):
        raise UsageError("--days goes with warranty or insurance")
    if (half or year or date_from or date_to) and kind != "loyal":
        raise UsageError("--half/--year/--from/--to go with loyal")
    if with_fc and kind != "winback":
        raise UsageError("--forecast goes with winback")
    as_of = st.as_of or date.today()
    if kind == "loyal":
        p = _loyal_period(half, year, as_of, date_from, date_to)
    con, cfg = _open(st), st.config
    target = defer(st, con, output, ("--forecast", with_fc))
    if kind == "warranty":
        res = campaigns.warranty_expiring(con, cfg, as_of, days)
    elif kind == "insurance":
        res = campaigns.insurance_renewal(con, cfg, as_of, days)
    elif kind == "loyal":
        res = campaigns.loyal_reward(con, cfg, p)
    else:
        res = campaigns.winback(con, cfg, as_of)
        if with_fc:
            res.frame = with_forecast(st, con, res.frame, as_of)
    _emit(st, res, output, con, include_recent, sheet=kind, spark=(con, target) if target else None)


@app.command("leads")
@list_command
def leads_cmd(
    ctx: typer.Context,
    output: ListOutput,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    by: Annotated[
        str | None, typer.Option("--by", help="source | consultant: one row each.")
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option("--overdue", help="List open leads not followed up for more than 30 days."),
    ] = False,
) -> None:
    """Sales leads (线索) created in the period: leads, visited, won, lost, conversion and
    overdue follow-ups, in total or per source / consultant; or the overdue list.

    Examples:

      crmtool leads --period 2021-10

      crmtool leads --period 2021Q3 --by consultant --format csv

      crmtool leads --overdue
    """
    st = state(ctx)
    if by not in (None, "source", "consultant"):
        raise UsageError(f"--by takes source or consultant; got {by!r}")
    if overdue:
        if by or period or date_from or date_to:
            raise UsageError("--overdue lists every open lead at --as-of; no --by or --period")
        output.write(leads.overdue(_open(st), st.config, st.as_of or date.today()), sheet="leads")
        return
    p = resolve_period(period, date_from, date_to, st.as_of or date.today())
    as_of = st.as_of or p.end
    con = _open(st, as_of)
    if by == "source":
        frame = leads.by_source(con, st.config, p, as_of)
    elif by == "consultant":
        frame = leads.by_consultant(con, st.config, p, as_of)
    else:
        row = leads.lead_summary(con, st.config, p, as_of)
        frame = pl.DataFrame([{"period": p.label, **row}])
    output.write(frame, sheet="leads")
