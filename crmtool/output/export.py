"""`crmtool export --parquet DIR`: the canonical tables a maker stages for Spark (docs/rules.md
"Spark"; rulebook §16 "Speed and Spark").

One folder per table (repair_orders, vehicles, customers, dealers), Hive-partitioned by
dealer_code where the table has one (repair orders, customers; no dealer: Hive's
__HIVE_DEFAULT_PARTITION__, read back as NULL). Forgotten people are left
out (their customer row, and their phone or owner link on a vehicle); phones are masked
unless show_pii. Provenance columns (_file, _line, _load_id) stay in the store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from .. import forget
from ..schema import stored_fields

TABLES = ("repair_orders", "vehicles", "customers", "dealers")
PARTITIONED = ("repair_orders", "customers")  # tables with a dealer_code of their own
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _select(con: duckdb.DuckDBPyConnection, table: str, show_pii: bool, checks: bool) -> str:
    """The rows of `table` to export: canonical columns, forgotten people out, phones masked."""
    cols = []
    for f in stored_fields(table):
        expr = f.name
        if f.name == "phone":
            if checks:
                expr = f"CASE WHEN {forget.is_forgotten_sql('phone', 'phone')} THEN NULL ELSE phone END"
            if not show_pii:
                expr = f"crm_mask_phone({expr})"
        elif f.name == "customer_id" and checks and table == "vehicles":
            expr = (
                "CASE WHEN "
                f"{forget.is_forgotten_sql('customer_id', 'customer_id')} THEN NULL "
                "ELSE customer_id END"
            )
        elif f.name == "dealer_code" and table in PARTITIONED:
            expr = f"coalesce(dealer_code, '{NULL_PARTITION}')"  # Hive's folder of NULL
        cols.append(f"{expr} AS {f.name}")
    where = ""
    if checks and table == "customers":
        where = (
            f"WHERE NOT coalesce({forget.is_forgotten_sql('customer_id', 'customer_id')}, false)"
            f" AND NOT coalesce({forget.is_forgotten_sql('phone', 'phone')}, false)"
        )
    return f"SELECT {', '.join(cols)} FROM {table} {where}"


def export_parquet(
    con: duckdb.DuckDBPyConnection, folder: str | Path, *, show_pii: bool = False
) -> dict[str, int]:
    """Write the canonical tables under `folder` (each table's folder replaced); returns the
    rows written per table."""
    from .pii import mask_phone

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    checks = forget.install(con)  # nothing forgotten yet: no check needed
    if not show_pii:
        # the stub wants duckdb.func.SPECIAL, a module newer duckdb versions have; the string
        # works in every version the project allows
        con.create_function(  # type: ignore[call-overload]
            "crm_mask_phone", mask_phone, ["VARCHAR"], "VARCHAR", null_handling="special"
        )
    written: dict[str, int] = {}
    try:
        for table in TABLES:
            target = root / table
            if target.exists():
                shutil.rmtree(target)
            query = _select(con, table, show_pii, checks)
            (n,) = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0]
            if table in PARTITIONED:
                con.execute(
                    f"COPY ({query}) TO '{_sql_path(target)}' "
                    "(FORMAT parquet, PARTITION_BY (dealer_code))"
                )
            else:
                target.mkdir()
                con.execute(
                    f"COPY ({query}) TO '{_sql_path(target / 'data.parquet')}' (FORMAT parquet)"
                )
            written[table] = int(n)
    finally:
        if not show_pii:
            con.remove_function("crm_mask_phone")
    return written
