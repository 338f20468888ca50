"""`crmtool care callbacks|birthdays|greetings|complaints`: the service desk's care lists
(issue 8), one row per customer, suppression applied."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from .. import holidays
from ..period import parse_date_arg
from .app import app, state
from .churn_cmds import _month, _open
from .lazy import lazy
from .lists import suppress
from .options import IncludeRecentOpt, ListOutput, MonthOpt, PerVehicleOpt, list_command

pl = lazy("polars")
care = lazy("crmtool.care")
suppression = lazy("crmtool.suppression")

care_app = typer.Typer(
    help="Customer care lists: 3DC/7DC callbacks, birthdays, holiday "
    "greetings, open complaints (one row per customer).",
    no_args_is_help=True,
)
app.add_typer(care_app, name="care")


@care_app.command("callbacks")
@list_command
def callbacks_cmd(
    ctx: typer.Context,
    output: ListOutput,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            "-d",
            metavar="YYYY-MM-DD",
            help="The day of the calls (default --as-of / today).",
        ),
    ] = None,
    per_vehicle: PerVehicleOpt = False,
    include_recent: IncludeRecentOpt = False,
) -> None:
    """Callbacks due on --date (回访): 3DC, own visits settled 3 days before [care.callback_days];
    7DC, deliveries 7 days before [care.delivery_days]; those already called back left out.

    Examples:

      crmtool care callbacks --date 2021-10-08

      crmtool care callbacks --format xlsx -o callbacks.xlsx --split-by advisor
    """
    st = state(ctx)
    when = parse_date_arg(day, "date") if day else (st.as_of or date.today())
    con = _open(st)
    res = care.callbacks(con, st.config, when)
    if res.left_out:
        st.say(f"{res.left_out} scrapped or transferred vehicle(s) left out of the list")
    frame = suppress(st, con, res.frame, when, include_recent)
    if not per_vehicle:
        frame = suppression.one_per_customer(frame)
    output.write(frame, sheet="callbacks")


@care_app.command("birthdays")
@list_command
def birthdays_cmd(
    ctx: typer.Context,
    output: ListOutput,
    month: MonthOpt = None,
    include_recent: IncludeRecentOpt = False,
) -> None:
    """Birthdays in --month (生日关怀) of customers with a vehicle ours; born on 29 February:
    listed on 28 February in a non-leap year.

    Examples:

      crmtool care birthdays --month 2022-02
    """
    st = state(ctx)
    as_of = st.as_of or date.today()
    con = _open(st)
    frame = care.birthdays(con, st.config, _month(month, as_of), as_of)
    frame = suppress(st, con, frame, as_of, include_recent)
    output.write(frame, sheet="birthdays")


@care_app.command("greetings")
@list_command
def greetings_cmd(
    ctx: typer.Context,
    output: ListOutput,
    holiday: Annotated[
        str,
        typer.Option(
            "--holiday", help="元旦 春节 元宵 妇女节 劳动节 儿童节 端午 教师节 中秋 国庆 圣诞."
        ),
    ],
    include_recent: IncludeRecentOpt = False,
) -> None:
    """Holiday greetings (节日问候): every active customer (a vehicle ours, not lost), once,
    with the holiday's next date on or after --as-of.

    Examples:

      crmtool care greetings --holiday 中秋 --format csv
    """
    st = state(ctx)
    as_of = st.as_of or date.today()
    name = holidays.canonical(holiday)
    con = _open(st)
    frame = care.greetings(con, st.config, name, holidays.next_holiday(name, as_of), as_of)
    frame = suppress(st, con, frame, as_of, include_recent)
    output.write(frame, sheet="greetings")


@care_app.command("complaints")
@list_command
def complaints_cmd(
    ctx: typer.Context,
    output: ListOutput,
) -> None:
    """Open complaints (投诉跟进), oldest first: dissatisfied contacts without a later satisfied
    one for the customer, with the visit they concern. Recent contact does not suppress them.

    Examples:

      crmtool care complaints --format xlsx -o complaints.xlsx
    """
    st = state(ctx)
    as_of = st.as_of or date.today()
    con = _open(st)
    frame = care.complaints(con, st.config, as_of)
    frame = suppress(st, con, frame, as_of, include_recent=True)
    output.write(care.complaints_per_customer(frame), sheet="complaints")
