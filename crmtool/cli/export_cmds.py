"""`crmtool export --parquet DIR`: the canonical tables for a maker's Spark (docs/rules.md
"Spark")."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import UsageError
from .app import app, state
from .lazy import lazy

db = lazy("crmtool.db")
export = lazy("crmtool.output.export")


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    parquet: Annotated[
        str | None,
        typer.Option(
            "--parquet", metavar="DIR", help="Write the tables as Parquet, one folder each."
        ),
    ] = None,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Keep phones whole (masked by default).")
    ] = False,
) -> None:
    """The canonical tables (repair_orders, vehicles, customers, dealers) as Parquet,
    partitioned by dealer, for `crmtool --engine spark` or a maker's data platform.
    Forgotten people are left out; phones are masked unless --show-pii.

    Examples:

      crmtool export --parquet exports/
    """
    st = state(ctx)
    if not parquet:
        raise UsageError("export needs --parquet DIR")
    con = db.connect(st.db, read_only=True, wait=st.wait)
    written = export.export_parquet(con, parquet, show_pii=show_pii)
    st.say(", ".join(f"{table}: {n} rows" for table, n in written.items()) + f" → {parquet}")
