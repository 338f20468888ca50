"""`crmtool export --parquet DIR` (issue 19; docs/rules.md §22 "Spark"; rulebook §16): the
canonical tables partitioned by dealer, forgotten people left out, phones masked unless
--show-pii."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from crmtool.cli import app

runner = CliRunner()
V1, V2 = "LSVAA4183E2000001", "LSVAA4185E2000002"
PHONE, OTHER = "13812345678", "13900139000"


def run(dbfile: Path, *args: str):
    return runner.invoke(app, ["--db", str(dbfile), *args])


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Two customers (C1 欧阳明日 with a phone, C2), a vehicle each, three repair orders at two
    dealers (D001 ours, D002 another) and one without a dealer column's value."""
    ex = tmp_path / "exports"
    ex.mkdir()
    dbfile = tmp_path / "crm.duckdb"
    files = [
        write(ex / "a.csv", ["客户编号,客户姓名,手机", f"C1,欧阳明日,{PHONE}", f"C2,李四,{OTHER}"]),
        write(
            ex / "b.csv",
            [
                "VIN,车牌号,客户编号,手机,车系",
                f"{V1},浙A88888,C1,{PHONE},朗逸",
                f"{V2},浙B1,C2,,迈腾",
            ],
        ),
        write(
            ex / "c.csv",
            [
                "工单号,经销商代码,VIN,结算日期,结算金额",
                f"R1,D001,{V1},2021-07-01,300",
                f"R2,D002,{V1},2021-08-01,200",
                f"R3,D001,{V2},2021-09-01,100",
            ],
        ),
    ]
    r = run(dbfile, "load", *map(str, files))
    assert r.exit_code == 0, r.output
    return dbfile


def read(folder: Path, table: str, sql: str = "SELECT * FROM t") -> list[tuple]:
    files = str(folder / table / "**" / "*.parquet")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)")
    return con.execute(sql).fetchall()


def test_tables_partitioned_by_dealer_with_phones_masked(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "staged"
    r = run(store, "export", "--parquet", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "customers",
        "dealers",
        "repair_orders",
        "vehicles",
    ]
    assert sorted(p.name for p in (out / "repair_orders").iterdir()) == [
        "dealer_code=D001",
        "dealer_code=D002",
    ]
    # 2 orders at D001 + 1 at D002
    assert read(
        out, "repair_orders", "SELECT dealer_code, count(*) FROM t GROUP BY 1 ORDER BY 1"
    ) == [
        ("D001", 2),
        ("D002", 1),
    ]
    assert read(out, "customers", "SELECT customer_id, phone FROM t ORDER BY 1") == [
        ("C1", "138****5678"),
        ("C2", "139****9000"),
    ]
    assert read(out, "vehicles", "SELECT vin, phone FROM t ORDER BY 1") == [
        (V1, "138****5678"),
        (V2, None),
    ]
    # canonical columns only: no provenance
    names = [r[0] for r in read(out, "vehicles", "DESCRIBE t")]
    assert "_file" not in names and "_load_id" not in names


def test_show_pii_keeps_phones(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "staged"
    assert run(store, "export", "--parquet", str(out), "--show-pii").exit_code == 0
    assert read(out, "customers", "SELECT phone FROM t ORDER BY 1") == [(PHONE,), (OTHER,)]


def test_forgotten_people_are_left_out(store: Path, tmp_path: Path) -> None:
    assert run(store, "forget", "--customer", "C1", "--yes").exit_code == 0
    out = tmp_path / "staged"
    assert run(store, "export", "--parquet", str(out), "--show-pii").exit_code == 0
    assert read(out, "customers", "SELECT customer_id FROM t") == [("C2",)]
    # their vehicle stays (the dealer's history) without phone or owner; orders stay
    assert read(out, "vehicles", f"SELECT customer_id, phone FROM t WHERE vin = '{V1}'") == [
        (None, None)
    ]
    assert read(out, "repair_orders", "SELECT count(*) FROM t") == [(3,)]
    for table in ("customers", "vehicles"):
        for p in (out / table).rglob("*.parquet"):
            assert (
                PHONE.encode() not in p.read_bytes() and "欧阳明日".encode() not in p.read_bytes()
            )


def test_export_needs_a_folder(store: Path) -> None:
    r = run(store, "export")
    assert r.exit_code == 2
    assert r.stderr.strip() == "crmtool: error: export needs --parquet DIR"
