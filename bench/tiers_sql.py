"""Baseline: run tiers_baseline.sql on a crmtool database, output to parquet.

python bench/tiers_sql.py DB AS_OF OUT.parquet
python bench/tiers_sql.py DB --export REPAIR_ORDERS.parquet VEHICLES.parquet   (for pandas)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

db = sys.argv[1]
con = duckdb.connect(db, read_only=True, config={
    "threads": int(os.environ.get("BENCH_THREADS", "2")),
    "memory_limit": os.environ.get("BENCH_MEMORY_LIMIT", "3GB"),
    "temp_directory": os.environ.get("BENCH_TEMP", "/tmp")})
if sys.argv[2] == "--export":
    con.execute(f"COPY repair_orders TO '{sys.argv[3]}' (FORMAT parquet)")
    con.execute(f"COPY vehicles TO '{sys.argv[4]}' (FORMAT parquet)")
else:
    sql = (Path(__file__).parent / "tiers_baseline.sql").read_text()
    con.execute(f"SET VARIABLE as_of = DATE '{sys.argv[2]}'")
    con.execute(f"COPY ({sql}) TO '{sys.argv[3]}' (FORMAT parquet)")
con.close()
