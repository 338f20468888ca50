"""Time every SQL statement (and the Python passes between them) of one `crmtool load`.

python bench/profile_load.py DATA [DB [COPY_OF]]   -> the costliest statements, top 25

Wall and CPU seconds (user + system of the process, all DuckDB threads): on a shared machine
the wall time of a statement mostly says how busy the machine was, its CPU time what it
costs. DATA is a file or a folder; with COPY_OF, DB is first made a copy of that database
(a monthly load into a loaded database), else DB (default in memory) starts empty.
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from pathlib import Path

from crmtool.config import Config
from crmtool.db import connect
from crmtool.load import ingest


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Timed:
    """A DuckDB connection proxy that records the wall and CPU time of each execute."""

    def __init__(self, con) -> None:  # noqa: ANN001
        self._con = con
        self.log: list[tuple[float, float, str]] = []

    def execute(self, sql, params=None):  # noqa: ANN001, ANN201
        t, c = time.perf_counter(), cpu()
        r = self._con.execute(sql, params or [])
        self.log.append((time.perf_counter() - t, cpu() - c, " ".join(str(sql).split())[:150]))
        return r

    def __getattr__(self, name):  # noqa: ANN001, ANN204
        return getattr(self._con, name)


def main() -> None:
    data = Path(sys.argv[1])
    db = sys.argv[2] if len(sys.argv) > 2 else ":memory:"
    if db != ":memory:":
        Path(db).unlink(missing_ok=True)
        if len(sys.argv) > 3:
            shutil.copyfile(sys.argv[3], db)
    con = Timed(connect(db))
    t, c = time.perf_counter(), cpu()
    res = ingest.load(con, [data], Config())
    tc, cc = time.perf_counter(), cpu()
    con.close()  # the checkpoint
    close = (time.perf_counter() - tc, cpu() - cc)
    total, ctotal = time.perf_counter() - t, cpu() - c
    sql, csql = sum(d for d, _, _ in con.log), sum(x for _, x, _ in con.log)
    print(
        f"total {total:.2f}s wall, {ctotal:.2f}s CPU; in SQL {sql:.2f} / {csql:.2f}; "
        f"close (checkpoint) {close[0]:.2f} / {close[1]:.2f}; outside SQL "
        f"{total - sql - close[0]:.2f} / {ctotal - csql - close[1]:.2f}"
    )
    print(res.describe())
    print("   wall     CPU  statement")
    for d, x, s in sorted(con.log, key=lambda e: -e[1])[:25]:
        print(f"{d:7.2f} {x:7.2f}  {s}")


if __name__ == "__main__":
    main()
