"""Issue 14 item 9: a bounded, seeded fuzz run. Generated CSV and xlsx files (any dialect and
encoding, stray quotes, random shapes, random byte edits) are loaded one after another into one
database by a child process (fuzz_driver.py), so that a native abort would show as a failed
case instead of killing the test run. Each load: exit code 0, 1 or 2; no traceback; an error is
one line and leaves the database exactly as before; a success adds up
(read = loaded + duplicates + rejected per line), and where the test knows how many records it
wrote, read equals that number."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SEED, CASES = 20261129, 32
LINE = re.compile(
    r"^(?P<file>.+?)(?: \[(?P<sheet>[^\]]+)\])?: read (?P<read>\d+) = (?:loaded "
    r"(?P<loaded>\d+) \+ duplicates (?P<dup>\d+) \+ )?rejected (?P<rej>\d+)"
)


def test_fuzzed_files_load_or_fail_cleanly(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("fuzz_driver.py")),
            str(SEED),
            str(CASES),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    results = [e for e in events if "case" in e]
    started = [e["start"] for e in events if "start" in e]
    assert done.returncode == 0 and len(results) == CASES, (
        f"child ended with {done.returncode} in case {started[-1] if started else None}: "
        f"{done.stderr[-2000:]}"
    )
    outcomes = {0: 0, 1: 0}
    for r in results:
        what = f"case {r['case']} ({r['kind']}): {r['stderr']!r}"
        assert r["exit"] in (0, 1, 2) and r["crashed"] is None, what
        assert "Traceback" not in r["stderr"] and "unexpected" not in r["stderr"], what
        outcomes[min(r["exit"], 1)] += 1
        if r["exit"]:
            assert r["stderr"].count("\n") == 1 and r["stderr"].startswith("crmtool: error: "), what
            assert r["before"] == r["after"], what  # nothing of a failed load remains
            continue
        lines = [m for m in map(LINE.match, r["stderr"].splitlines()) if m]
        assert lines, what
        for m in lines:
            loaded = int(m["loaded"] or 0) + int(m["dup"] or 0)
            assert int(m["read"]) == loaded + int(m["rej"]), what
            if m["file"] == "total":
                continue
            if r["expected"] is not None and (r["kind"] != "xlsx" or m["sheet"] == "S0"):
                assert int(m["read"]) == r["expected"], what
    assert outcomes[0] >= CASES // 2 and outcomes[1] >= 3  # the run tries both outcomes
