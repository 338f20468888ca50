"""Time every SQL statement (and the Python passes between them) of one `crmtool load`.

python bench/profile_load.py DATA_DIR [DB]   -> the slowest statements, top 25
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from crmtool.config import Config
from crmtool.db import connect
from crmtool.load import ingest


class Timed:
    """A DuckDB connection proxy that records the wall time of each execute."""

    def __init__(self, con) -> None:  # noqa: ANN001
        self._con = con
        self.log: list[tuple[float, str]] = []

    def execute(self, sql, params=None):  # noqa: ANN001, ANN201
        t = time.perf_counter()
        r = self._con.execute(sql, params or [])
        self.log.append((time.perf_counter() - t, " ".join(str(sql).split())[:160]))
        return r

    def __getattr__(self, name):  # noqa: ANN001, ANN204
        return getattr(self._con, name)


def main() -> None:
    data = Path(sys.argv[1])
    db = sys.argv[2] if len(sys.argv) > 2 else ":memory:"
    if db != ":memory:":
        Path(db).unlink(missing_ok=True)
    con = Timed(connect(db))
    t = time.perf_counter()
    res = ingest.load(con, [data], Config())
    total = time.perf_counter() - t
    sql = sum(d for d, _ in con.log)
    print(f"total {total:.2f}s, in SQL {sql:.2f}s, outside SQL {total - sql:.2f}s")
    print(res.describe())
    for d, s in sorted(con.log, reverse=True)[:25]:
        print(f"{d:7.2f}  {s}")


if __name__ == "__main__":
    main()
