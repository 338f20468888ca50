"""`crmtool load / rejects / validate / config init` through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from crmtool.cli import app
from crmtool.config import Config, load_config

V1 = "LSVAA4183E2000001"
runner = CliRunner()


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def run(db: Path, *args: str):
    return runner.invoke(app, ["--db", str(db), *args])


def test_load_prints_counts_and_total(tmp_path):
    db = tmp_path / "crm.duckdb"
    ro = write(
        tmp_path / "ro.csv",
        [
            "工单号,VIN,结算日期,结算金额",
            f"R1,{V1},2021-01-05,100",
            f"R1,{V1},2021-01-05,110",
            "R2,,2021-01-05,1",
        ],
        encoding="gbk",
    )
    cu = write(tmp_path / "cu.csv", ["客户编号,手机", "C1,13800138000"])
    r = run(db, "load", str(ro), str(cu))
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        f"{ro}: read 3 = loaded 1 + duplicates 1 + rejected 1 (repair_orders)",
        f"{cu}: read 1 = loaded 1 + duplicates 0 + rejected 0 (customers)",
        "total: read 4 = loaded 2 + duplicates 1 + rejected 1",
        # the export has no payer column (docs/rules.md §1 "Payer missing")
        f"crmtool: warning: {ro}: payer missing on 2 of 2 rows (no payer column): inferred "
        "from the order type ([defaults.payer_by_ro_type])",
        f"rejected rows: `crmtool rejects`; how a file is read: `crmtool inspect {ro}`",
    ]
    again = run(db, "load", str(ro))
    assert again.exit_code == 0
    assert again.stderr.splitlines() == [
        f"{ro}: skipped: already loaded in load 1; --force loads it again",
        "total: read 0 = loaded 0 + duplicates 0 + rejected 0",
    ]
    quiet = run(db, "--quiet", "load", str(cu))
    assert (quiet.exit_code, quiet.stderr) == (0, "")


def test_load_failure_is_one_line_and_loads_nothing(tmp_path):
    db = tmp_path / "crm.duckdb"
    good = write(tmp_path / "a.csv", ["工单号,VIN,结算日期", f"R1,{V1},2021-01-05"])
    bad = write(tmp_path / "b.csv", ["工单号,结算日期", "R2,2021-01-05"])
    r = run(db, "load", str(good), str(bad))
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"crmtool: error: {bad}: no column for repair_orders.vin; accepted headers: "
        "VIN, VIN码, VIN号, 车辆VIN号, 车辆识别码(VIN), 车架号, 底盘号, 车辆识别代号, vin; "
        f"run `crmtool inspect {bad}` to see why"
    ]
    assert not db.exists()  # nothing loaded: a failed load leaves no database (issue 15)


def test_load_usage_errors(tmp_path):
    db = tmp_path / "crm.duckdb"
    r = run(db, "load", "--kind", "cars", str(tmp_path))
    assert r.exit_code == 2
    assert "--kind must be one of: customers, vehicles, repair_orders, leads, dealers" in r.stderr
    missing = run(db, "load", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert missing.stderr == f"crmtool: error: {tmp_path / 'nope.csv'}: no such file or folder\n"


def test_locked_database(tmp_path):
    db = tmp_path / "crm.duckdb"
    duckdb.connect(str(db)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True);"
            " sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        f = write(tmp_path / "d.csv", ["经销商代码,经销商名称", "D1,x"])
        r = run(db, "load", str(f))
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"crmtool: error: database {db} is in use")


def test_rejects_csv_and_json(tmp_path):
    db = tmp_path / "crm.duckdb"
    a = write(tmp_path / "a.csv", ["工单号,VIN,结算日期", f"R1,{V1},2021-02-30", "R2,,2021-01-01"])
    b = write(tmp_path / "b.csv", ["线索编号,来源", ",展厅"])
    assert run(db, "load", str(a), str(b)).exit_code == 0
    r = run(db, "rejects")
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "load_id,file,line,kind,reason,raw",
        f"1,{a},2,repair_orders,settle_date is not a date: '2021-02-30',\"R1,{V1},2021-02-30\"",
        f'1,{a},3,repair_orders,missing vin,"R2,,2021-01-01"',
        f'1,{b},2,leads,missing lead_id,",展厅"',
    ]
    j = run(db, "rejects", "--file", "b.csv", "--format", "json")
    assert j.exit_code == 0
    assert json.loads(j.stdout) == [
        {
            "load_id": 1,
            "file": str(b),
            "line": 2,
            "kind": "leads",
            "reason": "missing lead_id",
            "raw": ",展厅",
        }
    ]
    lim = run(db, "rejects", "--limit", "1")
    assert len(lim.stdout.splitlines()) == 2


def test_validate_command(tmp_path):
    db = tmp_path / "crm.duckdb"
    f = write(
        tmp_path / "r.csv", ["工单号,VIN,结算日期,结算金额,维修类型", f"R1,{V1},2021-01-05,-3,洗车"]
    )
    assert run(db, "load", str(f)).exit_code == 0
    r = run(db, "--as-of", "2022-01-01", "validate", "--format", "json")
    assert r.exit_code == 0
    got = {c["name"]: (c["count"], c["examples"]) for c in json.loads(r.stdout)}
    assert got["negative_totals"] == (1, ["D001/R1 -3.0"])
    assert got["unknown_ro_type"] == (1, ["洗车: 1"])
    assert got["ro_vin_without_vehicle"] == (1, [V1])
    text = run(db, "validate")
    assert "结算金额为负：1\n    D001/R1 -3.0\n" in text.stdout
    text = run(db, "validate", "--lang", "en")
    assert (
        "negative_totals: 1  (repair orders with a negative total)\n    D001/R1 -3.0\n"
        in text.stdout
    )


def test_config_init(tmp_path):
    target = tmp_path / "crmtool.toml"
    r = runner.invoke(app, ["config", "init", str(target)])
    assert r.exit_code == 0, r.output
    text = target.read_text(encoding="utf-8")
    assert '# dealer codes that are "us"' in text
    assert tomllib.loads(text)["tiers"]["ticket"]["B"] == [400.0, 250.0, 200.0]
    assert load_config(target) == Config()
    again = runner.invoke(app, ["config", "init", str(target)])
    assert again.exit_code == 1
    assert again.stderr == f"crmtool: error: {target} exists; pass --force to overwrite it\n"
    target.write_text("x", encoding="utf-8")
    forced = runner.invoke(app, ["config", "init", str(target), "--force"])
    assert forced.exit_code == 0 and load_config(target) == Config()
