"""Run one command; print {"wall": s, "cpu": user + system s, "rss_mb": max RSS of it, "rc": code}
as JSON (stdout)
and keep the command's own output in the file named by $BENCH_LOG (else discard it)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

log = os.environ.get("BENCH_LOG")
with open(log or os.devnull, "ab") as out:
    t = time.perf_counter()
    rc = subprocess.run(sys.argv[1:], stdout=out, stderr=out, check=False).returncode
    wall = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = use.ru_maxrss / 1024  # KiB on Linux
cpu = use.ru_utime + use.ru_stime
print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss, "rc": rc}))
