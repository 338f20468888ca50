"""`crmtool contacts export`: a call list, once per customer, suppression applied; with
--mark the customers on it are recorded as contacted (purpose campaign) so the next list
leaves them out (issue 8)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from .. import call_lists
from ..errors import UsageError
from . import notice
from .app import app, state
from .lazy import lazy
from .lists import suppress
from .options import IncludeRecentOpt, ListOutput, list_command, split_csv

care = lazy("crmtool.care")
db = lazy("crmtool.db")
facts = lazy("crmtool.facts")
outputs = lazy("crmtool.output.formats")
suppression = lazy("crmtool.suppression")

contacts_app = typer.Typer(
    help="Contact history: export a call list and mark it contacted.", no_args_is_help=True
)
app.add_typer(contacts_app, name="contacts")


@contacts_app.command("export")
@list_command
def export_cmd(
    ctx: typer.Context,
    output: ListOutput,
    list_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[LIST-FILE]", help="A list written earlier (csv, xlsx, parquet, json)."
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--list", help=f"Build this list: {', '.join(call_lists.names())}."),
    ] = None,
    do_mark: Annotated[
        bool,
        typer.Option(
            "--mark", help="Record a contact (招揽, phone, dated --as-of) per customer listed."
        ),
    ] = False,
    include_recent: IncludeRecentOpt = False,
) -> None:
    """Export a call list once per customer (suppression applied) and, with --mark, record
    the customers as contacted so the next list leaves them out for care.recent_days days.

    Examples:

      crmtool contacts export --list due --mark -o due.xlsx

      crmtool contacts export winback.csv --mark
    """
    st = state(ctx)
    if (list_file is None) == (name is None):
        raise UsageError("give a LIST-FILE or --list NAME (one of them)")
    as_of = st.as_of or date.today()
    con = (
        db.connect(st.db, wait=st.wait, create=False)
        if do_mark
        else db.connect(st.db, read_only=True, wait=st.wait)
    )
    facts.install(con, st.config)
    notice.check_as_of(st, con, as_of)
    if list_file:
        frame = call_lists.read_list(list_file)
    else:
        frame = call_lists.get(name or "").build(con, st.config, as_of)
    frame = suppression.one_per_customer(suppress(st, con, frame, as_of, include_recent))
    # the rows written are the rows marked: --where/--sort/--limit first, --columns at the end
    frame = outputs.shape(
        frame, where=output.where, sort=split_csv(output.sort) or None, limit=output.limit
    )
    replace(output, where=None, sort=None, limit=None).write(frame, sheet=name or "list")
    if do_mark:
        n = care.mark_contacted(con, frame, as_of, f"crmtool contacts export {name or list_file}")
        st.say(f"marked {n} customer(s) as contacted on {as_of.isoformat()}")
