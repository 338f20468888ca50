"""Smaller first-day items (issue 15 item 7): broken pipes, -o and --format, "wrote N rows",
one definition of the vehicles counted, one count of each flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app

runner = CliRunner()


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    """At 2021-12-31: V1 (迈腾, paid 800 on 2021-11-01) and V2 (朗逸, paid 500 on 2021-12-01)
    are counted; V3 (sold by us 2021-06-01) is scrapped: ours, but never counted."""
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES "
        "('C1', '张三', '13800000001'), ('C2', '李四', '13900000002')"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel,"
        " vehicle_status) VALUES ('V1', 'C1', '迈腾', DATE '2020-01-01', 'own', NULL),"
        " ('V2', 'C2', '朗逸', DATE '2020-01-01', 'own', NULL),"
        " ('V3', 'C2', '朗逸', DATE '2021-06-01', 'own', 'scrapped')"
    )
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount) VALUES ('R1', 'D001', 'V1', DATE '2021-11-01', 'maintenance',"
        " 'customer', 800), ('R2', 'D001', 'V2', DATE '2021-12-01', 'maintenance',"
        " 'customer', 500)"
    )
    con.close()
    return path


def run(dbfile: Path, *args: str):
    return runner.invoke(app, ["--db", str(dbfile), "--as-of", "2021-12-31", *args])


@pytest.mark.parametrize(
    "command",
    [
        ["summary", "--period", "2021-12"],
        ["find", "张三"],
        ["segment", "--format", "table"],
        ["validate"],
        ["--help"],
    ],
    ids=" ".join,
)
def test_a_reader_that_goes_away_is_not_an_error(dbfile: Path, command: list[str]) -> None:
    """`crmtool summary | head -1` exited 1 (rich's console on a broken pipe); `| true` closes
    the pipe before anything is written, so every write meets it."""
    proc = subprocess.run(
        f"{sys.executable} -m crmtool --db {dbfile} --as-of 2021-12-31 {' '.join(command)} "
        "| true; exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=dbfile.parent,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, "")


def test_format_follows_the_extension_and_a_conflict_is_exit_2(
    dbfile: Path, tmp_path: Path
) -> None:
    out = tmp_path / "x.xlsx"
    bad = run(dbfile, "segment", "--format", "csv", "-o", str(out))
    assert bad.exit_code == 2
    assert bad.stderr == (
        f"crmtool: error: --format csv does not match -o {out} (a .xlsx "
        "file); give one of them, or a file name that ends in .csv\n"
    )
    assert not out.exists()
    ok = run(dbfile, "segment", "-o", str(out))
    assert ok.exit_code == 0 and out.read_bytes()[:2] == b"PK"  # a zip: a real workbook
    same = run(dbfile, "segment", "--format", "xlsx", "-o", str(out))
    assert same.exit_code == 0


def test_o_says_what_it_wrote_except_with_q(dbfile: Path, tmp_path: Path) -> None:
    out = tmp_path / "list.csv"
    r = run(dbfile, "segment", "-o", str(out))
    assert r.exit_code == 0
    assert f"wrote 2 rows to {out}" in r.stderr.splitlines()  # V1, V2 (V3 scrapped)
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 1 + 2
    one = run(dbfile, "segment", "--series", "迈腾", "-o", str(out))
    assert f"wrote 1 row to {out}" in one.stderr.splitlines()
    quiet = run(dbfile, "-q", "segment", "-o", str(out))
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_the_vehicles_counted_are_the_same_everywhere(dbfile: Path) -> None:
    """Ours at 2021-12-31: V1, V2, V3; V3 is scrapped → 2 vehicles in tiers, summary (tiers
    and status) and segment --by (was: 3, 3 and 2)."""
    tiers = run(dbfile, "tiers", "--format", "json")
    everything = json.loads(tiers.stdout)[0]
    assert (everything["series"], everything["vehicles"]) == ("(all)", 2)
    summary = json.loads(run(dbfile, "summary", "--period", "2021-12", "--format", "json").stdout)
    assert sum(summary["tiers"].values()) == sum(summary["status"].values()) == 2
    by = json.loads(run(dbfile, "segment", "--by", "tier", "--format", "json").stdout)
    assert sum(row["vehicles"] for row in by) == 2
