"""Commands that show and undo loads: loads, unload."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app, state
from .options import ListOutput, list_command


@app.command("loads")
@list_command
def loads_cmd(
    ctx: typer.Context,
    output: ListOutput,
    files: Annotated[
        bool, typer.Option("--files", help="One row per file (and sheet) instead of one per load.")
    ] = False,
) -> None:
    """The loads recorded in the database, oldest first: id, time, files, tables (kinds) and
    read = loaded + duplicates + rejected. `crmtool unload ID` undoes one.

    Examples:

      crmtool loads

      crmtool loads --files --format csv
    """
    from ..db import connect
    from ..load import history

    st = state(ctx)
    con = connect(st.db, read_only=True, wait=st.wait)
    try:
        sql = history.FILES_SQL if files else history.LOADS_SQL
        frame = con.sql(sql).pl()
    finally:
        con.close()
    output.write(frame, sheet="loads")


@app.command("unload")
def unload_cmd(
    ctx: typer.Context,
    load_id: Annotated[
        int, typer.Argument(metavar="ID", help="The load to undo (see `crmtool loads`).")
    ],
    and_later: Annotated[
        bool, typer.Option("--and-later", help="Also undo every load made after it (newest first).")
    ] = False,
) -> None:
    """Undo a load exactly: the rows it added are removed, the rows it replaced or changed
    come back as they were, its rejects, flags and loads rows go; in one transaction. Only
    the latest load, unless --and-later. People forgotten since never come back.

    Examples:

      crmtool unload 7

      crmtool unload 5 --and-later
    """
    from ..db import connect
    from ..load import history

    st = state(ctx)
    con = connect(st.db, wait=st.wait, create=False)
    try:
        done = history.unload(con, load_id, and_later=and_later)
    finally:
        con.close()
    st.say(done.describe())
