"""Every help example: one line at any width, and rows on the demo (issue 15 item 7; rulebook
§16: help examples stay, the sample is fixed where one returned nothing)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from builders import commands
from typer.testing import CliRunner

from crmtool.cli import app
from crmtool.config import load_config
from crmtool.db import connect

runner = CliRunner()
AS_OF = "2021-12-31"  # the sample's own as_of (sample.json)


COMMANDS = [(), *commands()]


def _examples(command: tuple[str, ...], columns: int) -> list[str]:
    """The non-empty lines of the Examples block of `command --help` at a terminal width."""
    text = runner.invoke(app, [*command, "--help"], env={"COLUMNS": str(columns)}).stdout
    block = text.split("Examples:", 1)[1]
    for end in ("\nOptions:", "\nCommands:", "\nArguments:"):
        block = block.split(end, 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "crmtool")
def test_help_examples_are_one_line_each(command: tuple[str, ...]) -> None:
    """At 80 columns as at 250: each example is a whole command line (was: `crmtool-` /
    `demo.toml --as-of …` cut inside a word at 80 columns)."""
    narrow, wide = _examples(command, 80), _examples(command, 250)
    assert narrow == wide
    assert narrow and all(line.startswith("crmtool ") for line in narrow), narrow


EXAMPLES = [(c, line) for c in COMMANDS[1:] for line in _examples(c, 250)]
# examples that need files the demo does not have, or that load or generate a dataset
# (covered by tests/test_sample.py, tests/test_summary.py and the README test)
NOT_ON_THE_DEMO = {
    "crmtool demo",
    "crmtool demo --keep",
    "crmtool load exports/",
    "crmtool load 工单导出_2021.csv 车辆档案.xlsx",
    "crmtool load --kind repair_orders odd_export.txt",
    "crmtool sample demo/ && crmtool load demo/",
    "crmtool sample demo-utf8/ --encoding utf-8",
    "crmtool inspect exports/工单导出_2021.csv",
    "crmtool inspect --suggest-config odd_export.xls >> crmtool.toml",
    "crmtool inspect --format json exports/ | jq '.files[] | {file, load_error}'",
    "crmtool unload 7",
    "crmtool unload 5 --and-later",  # load ids of a longer history
}


def _rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        return sum(max(ws.max_row - 1, 0) for ws in wb.worksheets)
    return len(path.read_text(encoding="utf-8-sig").splitlines()) - 1


@pytest.mark.parametrize(
    ("command", "line"), EXAMPLES, ids=lambda x: x if isinstance(x, str) else ""
)
def test_help_examples_return_rows_on_the_demo(
    demo: Path, tmp_path: Path, command: tuple[str, ...], line: str
) -> None:
    """Run as printed, in a folder with a copy of the demo database and config as
    ./crmtool.duckdb and ./crmtool.toml, at the sample's as_of (--as-of is global: it goes
    last); whatever the example writes (stdout, -o, >) has rows."""
    if line in NOT_ON_THE_DEMO:
        pytest.skip("needs export files or makes a dataset: see tests/test_sample.py")
    for name in ("crmtool.duckdb", "crmtool-demo.duckdb"):
        shutil.copyfile(demo / "crmtool-demo.duckdb", tmp_path / name)
    if not line.startswith("crmtool config init"):  # it would not overwrite one
        shutil.copyfile(demo / "crmtool-demo.toml", tmp_path / "crmtool.toml")
    shutil.copyfile(demo / "crmtool-demo.toml", tmp_path / "crmtool-demo.toml")
    if "winback.csv --mark" in line:  # the list the example marks, written before
        _run(tmp_path, f"crmtool campaign winback -o winback.csv --as-of {AS_OF}")
    shell = (
        line
        if "--as-of" in line
        else line.replace("crmtool ", "crmtool --as-of " + AS_OF + " ", 1)
        if "|" in line or ">" in line
        else f"{line} --as-of {AS_OF}"
    )
    proc = _run(tmp_path, shell)
    if line == "crmtool forget --phone 13800138000":  # no terminal to confirm on: says so
        assert proc.returncode == 2 and "would remove: customers 1" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    words = shlex.split(line.split("|")[0])
    out = next((words[i + 1] for i, w in enumerate(words) if w in ("-o", ">")), None)
    if line.startswith("crmtool report"):
        assert list((tmp_path / "reports").glob("crmtool-report-2021-1?.*"))
    elif line.startswith(("crmtool config init", "crmtool tiers --suggest --write")):
        assert "[tiers" in (tmp_path / "crmtool.toml").read_text(encoding="utf-8")
    elif line.startswith("crmtool export --parquet"):  # a folder of tables, not stdout
        folder = tmp_path / words[words.index("--parquet") + 1]
        assert sum(1 for _ in folder.rglob("*.parquet")) >= 4, line
    elif line.startswith("crmtool forget"):
        assert "customers: 1" in proc.stdout
    elif out:
        assert _rows(tmp_path / out) > 0, line
    elif "--format json" in line and "|" not in line:
        assert json.loads(proc.stdout), line
    else:
        assert len(proc.stdout.strip().splitlines()) > 1, line


def _run(cwd: Path, line: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CRMTOOL_DB": "crmtool.duckdb",
        "CRMTOOL_CONFIG": "crmtool.toml",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        line,
        shell=True,
        executable="/bin/bash",
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_one_count_per_flag_in_validate_and_the_report(demo: Path) -> None:
    """The sample plants 3 VINs with a bad check digit (each flagged on the vehicle and on
    its orders: 13 flag rows) and 2 odd phones; validate and the report's flags block say 3
    and 2 (was: validate 3, report 13)."""
    from crmtool.load.validate import validate
    from crmtool.summary import FLAG_COUNTS_SQL

    con = connect(demo / "crmtool-demo.duckdb", read_only=True)
    try:
        report = dict(con.execute(FLAG_COUNTS_SQL).fetchall())
        checks = {c.name: c.count for c in validate(con, load_config(demo / "crmtool-demo.toml"))}
    finally:
        con.close()
    assert report["vin_check_digit"] == checks["vin_check_digit"] == 3
    assert report["phone_odd"] == checks["odd_phones"] == 2
    assert report["unknown_code"] == checks["unknown_ro_type"] + checks["unknown_payer"]
