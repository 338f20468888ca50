"""Baseline: plain DuckDB `CREATE TABLE … AS SELECT * FROM read_csv(…)` of every CSV.

python bench/plain_load.py DB DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

db, folder = sys.argv[1], Path(sys.argv[2])
con = duckdb.connect(
    db,
    config={
        "threads": int(os.environ.get("BENCH_THREADS", "2")),
        "memory_limit": os.environ.get("BENCH_MEMORY_LIMIT", "3GB"),
        "temp_directory": os.environ.get("BENCH_TEMP", "/tmp"),
    },
)
for i, path in enumerate(sorted(folder.glob("*.csv"))):
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv('{path}')")
con.close()
