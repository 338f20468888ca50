"""Baseline: run segment_baseline.sql on a crmtool database, output to parquet.

python bench/segment_sql.py DB AS_OF OUT.parquet
python bench/segment_sql.py DB --export DIR     (repair_orders, vehicles, customers .parquet
                                                 in DIR, for the pandas baseline)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

TABLES = ("repair_orders", "vehicles", "customers")

db = sys.argv[1]
con = duckdb.connect(
    db,
    read_only=True,
    config={
        "threads": int(os.environ.get("BENCH_THREADS", "2")),
        "memory_limit": os.environ.get("BENCH_MEMORY_LIMIT", "3GB"),
        "temp_directory": os.environ.get("BENCH_TEMP", "/tmp"),
    },
)
if sys.argv[2] == "--export":
    for table in TABLES:
        con.execute(f"COPY {table} TO '{Path(sys.argv[3]) / table}.parquet' (FORMAT parquet)")
else:
    sql = (Path(__file__).parent / "segment_baseline.sql").read_text()
    con.execute(f"SET VARIABLE as_of = DATE '{sys.argv[2]}'")
    con.execute(f"COPY ({sql}) TO '{sys.argv[3]}' (FORMAT parquet)")
con.close()
