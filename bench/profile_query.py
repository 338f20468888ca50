"""Time the SQL of `crmtool summary` and `crmtool segment` on a loaded database, per statement.

python bench/profile_query.py DB [AS_OF] [PERIOD]
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from datetime import date

from crmtool import facts
from crmtool.config import Config
from crmtool.db import connect
from crmtool.period import parse_period
from crmtool.segment import segment_list
from crmtool.summary import build_summary


def main() -> None:
    db = sys.argv[1]
    as_of = date.fromisoformat(sys.argv[2] if len(sys.argv) > 2 else "2021-12-31")
    period = parse_period(sys.argv[3] if len(sys.argv) > 3 else "2021-12")
    cfg = Config()
    con = connect(db, read_only=True)
    facts.install(con, cfg)
    for name, fn in (
        ("segment", lambda: segment_list(con, cfg, as_of)),
        ("summary", lambda: build_summary(con, cfg, period)),
    ):
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.runcall(fn)
        print(f"== {name}: {time.perf_counter() - t:.2f} s")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(r"crmtool/(?!cli)", 18)


if __name__ == "__main__":
    main()
