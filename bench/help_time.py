"""Time `crmtool --help` and `crmtool --version` (issue 15 item 7: under 0.3 s; the modules
they may not import are asserted in tests/test_cli_imports.py, the time is measured here).

    python bench/help_time.py [--repeat 10]

Prints the median and the best wall time of each, a fresh interpreter per run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "crmtool", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    n = parser.parse_args().repeat
    for args in (["--help"], ["--version"], ["segment", "--help"]):
        times = [wall(args) for _ in range(n)]
        print(
            f"crmtool {' '.join(args):<16} median {statistics.median(times):.3f} s  "
            f"best {min(times):.3f} s  ({n} runs)"
        )


if __name__ == "__main__":
    main()
