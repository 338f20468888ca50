"""`crmtool retention`: the retention KPIs (首保率, milestones, 保持率, return after N months,
ownership-year cohorts, time to return), their monthly trend, and the lists that act on them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from ..errors import UsageError
from .app import app, state
from .lazy import lazy
from .lists import defer, suppress, write_spark_list
from .options import ListOutput, list_command
from .store import rules_store

# imported on first use: not for --help (docs/rules.md §18)
db = lazy("crmtool.db")
facts = lazy("crmtool.facts")
retention = lazy("crmtool.retention")


@app.command("retention")
@list_command
def retention_cmd(
    ctx: typer.Context,
    output: ListOutput,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="series|tier|dealer|advisor|sale_channel",
            help="Split every figure by this.",
        ),
    ] = None,
    trend: Annotated[
        int | None,
        typer.Option(
            "--trend",
            metavar="N",
            min=1,
            max=120,
            help="Each KPI for the last N month ends, one row per month.",
        ),
    ] = None,
    cohort: Annotated[
        bool,
        typer.Option(
            "--cohort",
            help="The ownership-year table: per sale year, the share of cars with an "
            "own visit in ownership year 1 … 5.",
        ),
    ] = False,
    list_: Annotated[
        str | None,
        typer.Option(
            "--list",
            metavar="first_service_missing|milestone_stalled",
            help="A call list: cars whose first-service (or next-milestone) window closes within "
            "retention.closing_days without the visit.",
        ),
    ] = None,
) -> None:
    """Retention KPIs (售后保持) at --as-of: first-service rate, service milestones 1 → 5,
    12/24-month retention, return after 6 and 13 months, ownership-year cohorts and the time
    to return (Kaplan–Meier).

    Examples:

      crmtool retention

      crmtool retention --by series --format csv

      crmtool retention --trend 24 --format csv -o retention-trend.csv

      crmtool retention --cohort

      crmtool retention --list first_service_missing -o first-service.xlsx
    """
    st = state(ctx)
    cfg = st.config
    as_of = st.as_of or date.today()
    if by is not None and by not in retention.SPLITS:
        raise UsageError(f"--by takes {', '.join(retention.SPLITS)}; got {by!r}")
    if list_ is not None:
        if list_ not in retention.LISTS:
            raise UsageError(f"--list takes {', '.join(retention.LISTS)}; got {list_!r}")
        if by or trend or cohort:
            raise UsageError("--list goes without --by, --trend and --cohort")
        con = rules_store(st)
        target = defer(st, con, output)
        res = getattr(retention, list_)(con, cfg, as_of)
        if target is not None and res.query is not None:  # Spark writes the list
            res.left_out = write_spark_list(
                st, con, res.query, output, target, as_of=as_of
            ).left_out
        if res.left_out:
            st.say(f"{res.left_out} scrapped or transferred vehicle(s) left out of the list")
        if target is None:
            output.write(suppress(st, con, res.frame, as_of), sheet=list_)
        return
    if trend and cohort:
        raise UsageError("--trend and --cohort are separate tables; give one")
    con = rules_store(st, snapshot=True)  # several KPIs over the same visits
    if trend:
        days = retention.trend_days(as_of, trend)
        res = retention.compute(con, cfg, days, by, cohorts=False)
        output.write(retention.trend_rows(res, cfg, days, by), sheet="retention_trend")
    elif cohort:
        res = retention.compute(con, cfg, [as_of], by)
        output.write(retention.cohort_rows(res, by), sheet="retention_cohort")
    else:
        res = retention.compute(con, cfg, [as_of], by, cohorts=False)
        output.write(retention.kpi_rows(res, cfg, as_of, by), sheet="retention")
