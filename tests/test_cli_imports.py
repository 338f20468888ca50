"""`--help` and `--version` import none of the heavy modules (issue 15 item 7, rulebook §16:
a test may assert what `--help` imports; the time is measured in bench/help_time.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("duckdb", "polars", "numpy", "scipy", "pyspark")
PROBE = """
import sys
sys.argv = ["crmtool", *sys.argv[1:]]
from crmtool.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("LOADED " + " ".join(m for m in {heavy!r} if m in sys.modules) + "\\n")
"""


# Every run imports every command module (crmtool.cli), so `--help` covers their module-level
# imports; a command's own --help adds its option defaults and help callbacks.
@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("segment", "--help"),
        ("care", "callbacks", "--help"),
        ("find", "--help"),
        ("report", "--help"),
    ],
    ids=" ".join,
)
def test_help_and_version_import_no_heavy_module(args: tuple[str, ...]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout, proc.stderr
    loaded = proc.stderr.splitlines()[-1]
    assert loaded == "LOADED ", f"crmtool {' '.join(args)} imported {loaded[7:]}"
