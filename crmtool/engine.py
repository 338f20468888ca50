"""The engine the rules run on (docs/rules.md §22 "Spark"): DuckDB embedded by default, Spark
through a SparkSession for a maker's network.

A rule is SQL text (DuckDB dialect, in the portable subset of crmtool/spark_sql.py) with
$parameters. An Engine runs it and hands back the result as a frame (Arrow underneath), stages
intermediate results as views or cached tables, and tells which tables exist. Rule modules
take `con` (a DuckDB connection, as every caller has, or an Engine) and call `of(con)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import duckdb
    import polars as pl
    import pyarrow as pa

Params = Mapping[str, Any] | None


@dataclass(frozen=True)
class ListQuery:
    """A call list not yet run (docs/rules.md §22 "Spark lists"): `sql` gives every row with
    a last boolean column _gone (scrapped / transferred: left out and counted), unordered;
    `order_by` is the list's order (a qualifier l. or c. names one of the list's columns)."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    order_by: str = ""


def defers_lists(con: Any) -> bool:
    """True when the engine hands call lists back as queries (ListQuery) for the engine to
    write itself (Spark writing a maker's list as Parquet or a table), not as frames."""
    return bool(getattr(con, "defer_lists", False))


@runtime_checkable
class Engine(Protocol):
    """What a rule needs of an engine."""

    name: str  # "duckdb" | "spark"

    def arrow(self, sql: str, params: Params = None) -> pa.Table: ...
    def frame(self, sql: str, params: Params = None) -> pl.DataFrame: ...
    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]: ...
    def records(self, sql: str, params: Params = None) -> list[dict[str, Any]]: ...
    def columns(self, sql: str, params: Params = None) -> list[str]: ...
    def stage(self, name: str, sql: str, params: Params = None, *, table: bool = False) -> None: ...
    def drop(self, name: str) -> None: ...
    def exists(self, name: str) -> bool: ...
    def temp_names(self, prefix: str) -> list[str]: ...


class DuckDBEngine:
    """The embedded store: one DuckDB connection. Staged results are temp views or tables."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        return self.con.sql(sql, params=dict(params or {})).arrow()

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        return self.con.sql(sql, params=dict(params or {})).pl()

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, dict(params or {})).fetchall()

    def records(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        rel = self.con.sql(sql, params=dict(params or {}))  # bound once, for names and rows
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]

    def columns(self, sql: str, params: Params = None) -> list[str]:
        return list(
            self.con.sql(f"SELECT * FROM ({sql}) LIMIT 0", params=dict(params or {})).columns
        )

    def stage(self, name: str, sql: str, params: Params = None, *, table: bool = False) -> None:
        self.drop(name)
        kind = "TABLE" if table else "VIEW"
        self.con.execute(f"CREATE TEMP {kind} {name} AS {sql}", dict(params or {}))

    def drop(self, name: str) -> None:
        for (kind,) in self.con.execute(
            "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? UNION ALL "
            "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
            [name, name],
        ).fetchall():
            self.con.execute(f"DROP {kind} {name}")

    def exists(self, name: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()[0][0]
        )

    def temp_names(self, prefix: str) -> list[str]:
        """The temp views and tables whose name starts with `prefix`."""
        return [
            n
            for (n,) in self.con.execute(
                "SELECT view_name FROM duckdb_views() WHERE temporary "
                "AND starts_with(view_name, $p) UNION ALL SELECT table_name FROM duckdb_tables() "
                "WHERE temporary AND starts_with(table_name, $p)",
                {"p": prefix},
            ).fetchall()
        ]


def of(con: Any) -> Engine:
    """The engine of `con`: an Engine as it is, a DuckDB connection wrapped."""
    if hasattr(con, "stage") and hasattr(con, "frame"):
        return con
    return DuckDBEngine(con)


def is_spark(con: Any) -> bool:
    return getattr(con, "name", None) == "spark"
