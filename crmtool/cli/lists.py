"""The step every call list takes before it is written: suppression (issue 8), with the
count of dropped rows per reason on stderr; and, with `--engine spark`, the lists Spark writes
itself (docs/rules.md §22 "Spark lists")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .app import State
from .lazy import lazy
from .options import ListOutput, split_csv
from .store import is_spark

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from ..engine import ListQuery
    from ..spark_engine import SparkEngine
    from ..spark_lists import Target, Written

suppression = lazy("crmtool.suppression")
db = lazy("crmtool.db")

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)")


def _store(st: State) -> duckdb.DuckDBPyConnection | None:
    """With --engine spark: the DuckDB store that holds the contacts, or None (warned: the
    list is then not suppressed, and the user must know)."""
    path = db.db_path(st.db)
    if not path.exists():
        st.warn(
            f"{path}: no store with contacts, so this list is not suppressed "
            "(do-not-contact, wrong numbers, recently contacted); give --db STORE"
        )
        return None
    con = db.connect(path, read_only=True, wait=st.wait)
    if suppression.has_contacts(con):
        return con
    con.close()  # a store without contacts: nothing to suppress, as on DuckDB
    return None


def suppress(
    st: State,
    con: Any,
    frame: pl.DataFrame,
    as_of: date | None = None,
    include_recent: bool = False,
) -> pl.DataFrame:
    """The list without do-not-contact, wrong-number and recently contacted rows. On Spark
    the contacts are those of the DuckDB store (--db)."""
    store = _store(st) if is_spark(st) else con
    if store is None:
        return frame
    try:
        kept, dropped = suppression.apply_suppression(
            store, st.config, frame, as_of or st.as_of or date.today(), include_recent
        )
    finally:
        if store is not con:
            store.close()
    if line := suppression.describe(dropped, st.config):
        st.say(line)
    return kept


# -- lists written by Spark ---------------------------------------------------------------------


def _path_text(out: Path) -> str:
    """-o as the user wrote it: a URL (hdfs://…, s3a://…) got its '//' folded by Path."""
    return _URL.sub(r"\1://", str(out)) if not str(out).startswith("file:") else str(out)


def spark_target(st: State, output: ListOutput) -> Target | None:
    """Where Spark writes this list itself (-o a folder or *.parquet, --format parquet,
    --spark-table), or None: the list goes through crmtool's output."""
    from ..spark_lists import Target

    if output.spark_table:
        if not is_spark(st):
            raise UsageError("--spark-table needs --engine spark")
        if output.out is not None:
            raise UsageError("give -o or --spark-table, not both")
        target = Target(table=output.spark_table)
    else:
        if not is_spark(st) or output.out is None or str(output.out) == "-":
            return None
        fmt = (output.fmt or "").lower()
        text = _path_text(output.out)
        suffix = Path(text).suffix.lower()
        if not (fmt == "parquet" or (not fmt and (suffix == ".parquet" or output.out.is_dir()))):
            return None
        if fmt == "parquet" and suffix in (".csv", ".json", ".xlsx"):
            return None  # crmtool's output says the two disagree
        target = Target(path=text)
    if output.split_by:
        raise UsageError("--split-by works with xlsx output only (-o FILE.xlsx)")
    return target


def defer(st: State, con: Any, output: ListOutput, *refused: tuple[str, bool]) -> Target | None:
    """The Spark target of this list, the engine told to hand lists back as queries; each
    (option, given) of `refused` given is a usage error there (a step only the driver does)."""
    target = spark_target(st, output)
    if target is None:
        return None
    for option, given in refused:
        if given:
            raise UsageError(f"{option} is not available when Spark writes the list ({target})")
    con.defer_lists = True
    return target


def _stage_contacts(st: State, con: SparkEngine) -> bool:
    """The store's contacts as a view of the session; False when there are none (warned
    when there is no store)."""
    from ..spark_lists import contact_rows, stage_contacts

    store = _store(st)
    if store is None:
        return False
    try:
        stage_contacts(con, contact_rows(store))
    finally:
        store.close()
    return True


def write_spark_list(
    st: State,
    con: Any,
    query: ListQuery,
    output: ListOutput,
    target: Target,
    *,
    filters: Sequence[str] = (),
    suppress: bool = True,
    as_of: date | None = None,
    include_recent: bool = False,
) -> Written:
    """Spark writes the list (crmtool/spark_lists.py) with `con` (a SparkEngine); suppressed and
    written rows are said on stderr, the left-out count is the caller's to say."""
    from ..spark_lists import Shape, write_list

    shape = Shape(
        where=output.where,
        columns=split_csv(output.columns),
        sort=split_csv(output.sort),
        limit=output.limit,
        mask=output.mask_pii,
    )
    staged = suppress and _stage_contacts(st, con)
    written = write_list(
        con,
        query,
        target,
        filters=filters,
        shape=shape,
        suppress=staged,
        as_of=as_of or st.as_of or date.today(),
        recent_days=st.config.care.recent_days,
        include_recent=include_recent,
    )
    if staged and (line := suppression.describe(written.suppressed, st.config)):
        st.say(line)
    st.say(f"wrote {written.rows:,} {'row' if written.rows == 1 else 'rows'} to {target}")
    return written
