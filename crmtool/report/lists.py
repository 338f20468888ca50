"""The call-list sheets of the report workbook (docs/rules.md §11 "Report"; rulebook §16
"Speed and Spark"): each list's first rows in its own order (the most urgent first),
`[report] list_rows` of them, per own dealer in a dealer group. A list cut short says so in
its sheet's first row: how many rows the whole list has and the command that exports it. The
HTML page keeps the full lists (it shows their counts and first rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from .. import call_lists
from ..config import Config
from ..lazy import lazy
from ..output.labels import words

if TYPE_CHECKING:
    import duckdb
    import polars as pl
else:
    pl = lazy("polars")

_STORE = "_store"


@dataclass
class ListSheet:
    """A list as its workbook sheet holds it: the rows written, the full list's row count,
    and the sheet's first row when rows were left out (else None)."""

    frame: pl.DataFrame
    total: int
    note: str | None = None


def export_command(key: str, cfg: Config, as_of: date) -> str:
    """The command that exports the whole list `key` of a report at as_of to a workbook (""
    for a list no command exports)."""
    head = "crmtool"
    if cfg.is_group and len(cfg.own_dealers) == 1:  # the report of one store (--dealer)
        head += f" --dealer {cfg.own_dealers[0]}"
    head += f" --as-of {as_of.isoformat()}"
    entry = call_lists.LISTS.get(key)
    args = entry.export(as_of) if entry and entry.export else None
    return f"{head} {args} -o {key}.xlsx" if args else ""


def _stores(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with column _store: the store of the row's customer (customers.dealer_code,
    docs/rules.md §14), null without one."""
    ids = frame.get_column("customer_id").drop_nulls().unique().to_list()
    rows = con.execute(
        "SELECT customer_id, dealer_code FROM customers "
        "WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))",
        [ids],
    ).fetchall()
    store = dict(rows)
    return frame.with_columns(
        pl.col("customer_id")
        .replace_strict(store, default=None, return_dtype=pl.String)
        .alias(_STORE)
    )


def list_sheets(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    lists: Mapping[str, pl.DataFrame],
    as_of: date,
    lang: str = "zh",
) -> dict[str, ListSheet]:
    """Each list's sheet: its first `cfg.report.list_rows` rows (per own dealer in a group:
    the rows of each store's customers, and of customers without a store, each so many);
    a list cut short carries its note."""
    n = int(cfg.report.list_rows)
    t = words(lang)
    per_store = len(cfg.own_dealers) > 1
    out: dict[str, ListSheet] = {}
    for key, frame in lists.items():
        total = frame.height
        if per_store and "customer_id" in frame.columns and total > n:
            kept = _stores(con, frame).filter(pl.int_range(pl.len()).over(_STORE) < n).drop(_STORE)
        else:
            kept = frame.head(n)
        if kept.height == total:
            out[key] = ListSheet(frame, total)
            continue
        text = t["list_capped_per_store" if per_store else "list_capped"].format(
            total=f"{total:,}", n=f"{n:,}", shown=f"{kept.height:,}"
        )
        command = export_command(key, cfg, as_of)
        note = text + (t["list_export"].format(command=command) if command else "")
        out[key] = ListSheet(kept, total, note)
    return out
