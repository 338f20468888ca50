"""The store the rules of a command read (docs/rules.md §22 "Spark"): the DuckDB database, or with
`--engine spark` a SparkSession over a maker's tables, with the facts installed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .app import State
from .lazy import lazy

if TYPE_CHECKING:
    from ..spark_engine import SparkEngine

db = lazy("crmtool.db")
facts = lazy("crmtool.facts")

SPARK_COMMANDS = ("summary", "segment", "churn", "due", "campaign", "retention")


def is_spark(st: State) -> bool:
    return st.engine == "spark"


def spark_engine(st: State) -> SparkEngine:
    """A Spark session over the tables named by [spark] (or a parquet folder)."""
    from ..spark_engine import SparkEngine, session

    cfg = st.config.spark
    eng = SparkEngine(session(st.spark_master or cfg.master or "local[*]"))
    if cfg.parquet:
        eng.use_parquet(cfg.parquet)
    else:
        names = {
            "repair_orders": cfg.repair_orders,
            "vehicles": cfg.vehicles,
            "customers": cfg.customers,
            "dealers": cfg.dealers,
        }
        eng.use_tables(
            names,
            st.spark_database or cfg.database or None,
            st.spark_catalog or cfg.catalog or None,
        )
    return eng


def rules_store(st: State, *, snapshot: bool = False, facts_installed: bool = True) -> Any:
    """The DuckDB connection (read-only) or the Spark engine, facts installed."""
    if is_spark(st):
        con: Any = spark_engine(st)
    else:
        con = db.connect(st.db, read_only=True, wait=st.wait)
    if facts_installed:
        facts.install(con, st.config, snapshot=snapshot)
    return con


def duckdb_only(st: State, what: str) -> None:
    """Usage error for an option the Spark engine does not offer."""
    if is_spark(st):
        raise UsageError(f"{what} is not available with --engine spark")
