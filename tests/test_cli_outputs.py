"""Smaller first-day items (issue 15 item 7): broken pipes, -o and --format, "wrote N rows",
one definition of the vehicles counted, one count of each flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from builders import assert_error, customer, invoke, order, store, vehicle


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    """At 2021-12-31: V1 (迈腾, paid 800 on 2021-11-01) and V2 (朗逸, paid 500 on 2021-12-01)
    are counted; V3 (sold by us 2021-06-01) is scrapped: ours, but never counted."""
    return store(
        tmp_path / "crm.duckdb",
        customers=[customer("C1", "张三", "13800000001"), customer("C2", "李四", "13900000002")],
        vehicles=[
            vehicle("V1", "迈腾", "2020-01-01", customer_id="C1"),
            vehicle("V2", "朗逸", "2020-01-01", customer_id="C2"),
            vehicle("V3", "朗逸", "2021-06-01", customer_id="C2", vehicle_status="scrapped"),
        ],
        repair_orders=[order("R1", "V1", "2021-11-01", 800), order("R2", "V2", "2021-12-01", 500)],
    )


def run(dbfile: Path, *args: str):
    return invoke(*args, db=dbfile, as_of="2021-12-31")


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
    assert_error(
        bad,
        2,
        f"--format csv does not match -o {out} (a .xlsx file); give one of them, or a file "
        "name that ends in .csv",
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
