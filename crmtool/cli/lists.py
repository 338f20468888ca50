"""The step every call list takes before it is written: suppression (issue 8), with the
count of dropped rows per reason on stderr."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from .app import State
from .lazy import lazy

if TYPE_CHECKING:
    import duckdb
    import polars as pl

suppression = lazy("crmtool.suppression")


def suppress(
    st: State,
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    as_of: date | None = None,
    include_recent: bool = False,
) -> pl.DataFrame:
    """The list without do-not-contact, wrong-number and recently contacted rows."""
    kept, dropped = suppression.apply_suppression(
        con, st.config, frame, as_of or st.as_of or date.today(), include_recent
    )
    if line := suppression.describe(dropped, st.config):
        st.say(line)
    return kept
