"""Loads you can see and undo (issue 13 item 9): `crmtool loads`, `crmtool unload`, `load
--force`. The fixture's second load replaces, adds, merges by phone, fills empty fields from a
combined file and links a vehicle to a new owner; undoing it must give back the first load's
database exactly, row for row."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from builders import assert_error, invoke, query, write_export

from crmtool import db
from crmtool.load import history

V1, V2, V3 = "LSVAA4183E2000001", "LSVAA4185E2000002", "LSVAA4187E2000003"
TABLES = (*history.TABLES, "rejects", "flags", "loads", "forgotten")


def run(dbfile: Path, *args: str):
    return invoke(*args, db=dbfile)


def snapshot(dbfile: Path) -> dict[str, list[tuple]]:
    """Every row of every table the loads write (loaded_at excluded), sorted."""
    con = db.connect(dbfile, read_only=True)
    try:
        out = {}
        for t in TABLES:
            cols = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [t],
                ).fetchall()
                if r[0] != "loaded_at"
            ]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


@pytest.fixture
def first(tmp_path: Path) -> tuple[Path, Path]:
    """Load 1: two customers, three vehicles (V3 has a phone but no known owner yet), two
    repair orders."""
    d = tmp_path / "in"
    d.mkdir()
    cu = write_export(
        d / "cu1.csv", ["客户编号,客户姓名,手机", "C1,张三,13800138000", "C2,李四,13900139000"]
    )
    ve = write_export(
        d / "ve1.csv",
        [
            "VIN,车牌号,客户编号,手机,车系,购车日期",
            f"{V1},浙A12345,C1,,朗逸,2021-01-01",
            f"{V2},浙B54321,C2,,,2021-03-01",
            f"{V3},浙C11111,,13700137000,迈腾,2022-01-01",
        ],
    )
    ro = write_export(
        d / "ro1.csv",
        ["工单号,VIN,结算日期,结算金额", f"R1,{V1},2021-07-01,300", f"R2,{V2},2021-08-01,500"],
    )
    dbfile = tmp_path / "crm.duckdb"
    r = run(dbfile, "load", str(cu), str(ve), str(ro))
    assert r.exit_code == 0, r.output
    return dbfile, d


def second(d: Path) -> list[str]:
    """Load 2: C2 replaced, C3 new, C4 merged into C1 by phone, a reject; V1 replaced; R1
    replaced, R3 new, and the combined file fills V2's empty series; V3 gets owner C3."""
    cu = write_export(
        d / "cu2.csv",
        [
            "客户编号,客户姓名,手机",
            "C2,李四四,13900139000",
            "C3,王五,13700137000",
            "C4,张三,138-0013-8000",
            ",李某,",
        ],
    )
    ve = write_export(
        d / "ve2.csv",
        ["VIN,车牌号,客户编号,手机,车系,购车日期", f"{V1},浙A12345,C1,,朗逸Pro,2021-01-01"],
    )
    ro = write_export(
        d / "ro2.csv",
        [
            "工单号,VIN,结算日期,结算金额,车系",
            f"R1,{V1},2021-07-01,350,朗逸Pro",
            f"R3,{V2},2022-02-01,800,宝来",
        ],
    )
    return [str(cu), str(ve), str(ro)]


def test_unload_gives_back_the_database_before_the_load(first):
    dbfile, d = first
    before = snapshot(dbfile)
    files = second(d)
    r = run(dbfile, "load", *files)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[:3] == [
        f"{files[0]}: read 4 = loaded 1 + duplicates 2 + rejected 1 (customers)",
        f"{files[1]}: read 1 = loaded 0 + duplicates 1 + rejected 0 (vehicles)",
        f"{files[2]}: read 2 = loaded 1 + duplicates 1 + rejected 0 (repair_orders); "
        "also fed: vehicles +0",
    ]
    # the load did change what the undo must put back
    assert query(dbfile, "SELECT customer_id, name FROM customers ORDER BY 1") == [
        ("C1", "张三"),
        ("C2", "李四四"),
        ("C3", "王五"),
    ]
    assert query(dbfile, "SELECT vin, customer_id, series FROM vehicles ORDER BY 1") == [
        (V1, "C1", "朗逸Pro"),
        (V2, "C2", "宝来"),
        (V3, "C3", "迈腾"),
    ]
    assert query(dbfile, "SELECT ro_id, total_amount FROM repair_orders ORDER BY 1") == [
        ("R1", 350.0),
        ("R2", 500.0),
        ("R3", 800.0),
    ]
    r = run(dbfile, "unload", "2")
    assert r.exit_code == 0, r.output
    # added: C3 and R3 (2); restored: C1 (merged), C2, V1 (replaced), V2 (filled),
    # V3 (linked), R1 = 6; one reject (the line without id and phone); two flags: ro2.csv has
    # no payer column, so both orders' payers are inferred (payer_inferred, docs/rules.md §1 "Payer missing")
    assert r.stderr.splitlines() == [
        "unloaded load 2 (3 file(s)): removed 2 row(s) it added, restored 6 row(s) it "
        "replaced; 1 reject(s) and 2 flag(s) removed"
    ]
    assert snapshot(dbfile) == before
    assert all(
        not query(dbfile, f"SELECT * FROM history_{t} WHERE _replaced_by = 2")
        for t in history.TABLES
    )
    # and the first load too: an empty store
    assert run(dbfile, "unload", "1").exit_code == 0
    assert all(v == [] for v in snapshot(dbfile).values())


def test_loads_lists_each_load(first):
    dbfile, d = first
    assert run(dbfile, "load", *second(d)).exit_code == 0
    r = run(
        dbfile,
        "loads",
        "--format",
        "csv",
        "--columns",
        "load_id,files,kinds,read,loaded,duplicates,rejected",
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "load_id,files,kinds,read,loaded,duplicates,rejected",
        f'1,"{d}/cu1.csv, {d}/ro1.csv, {d}/ve1.csv","customers, repair_orders, vehicles",'
        f"{2 + 3 + 2},{2 + 3 + 2},0,0",
        f'2,"{d}/cu2.csv, {d}/ro2.csv, {d}/ve2.csv","customers, repair_orders, vehicles",'
        f"{4 + 1 + 2},{1 + 0 + 1},{2 + 1 + 1},1",
    ]
    r = run(dbfile, "loads", "--format", "csv", "--columns", "loaded_at")
    assert (
        all(
            re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t)  # whole seconds
            for t in r.stdout.splitlines()[1:]
        )
        and len(r.stdout.splitlines()) == 3
    )
    r = run(dbfile, "loads", "--files", "--format", "csv", "--columns", "load_id,file,read")
    assert r.stdout.splitlines()[1:] == [
        f"1,{d}/cu1.csv,2",
        f"1,{d}/ro1.csv,2",
        f"1,{d}/ve1.csv,3",
        f"2,{d}/cu2.csv,4",
        f"2,{d}/ro2.csv,2",
        f"2,{d}/ve2.csv,1",
    ]


def test_unload_of_an_earlier_load_needs_and_later(first):
    dbfile, d = first
    assert run(dbfile, "load", *second(d)).exit_code == 0
    before = snapshot(dbfile)
    r = run(dbfile, "unload", "1")
    assert_error(
        r, 2, "load 1 is not the latest: load 2 came after it; pass --and-later to undo it too"
    )
    assert snapshot(dbfile) == before  # nothing changed
    r = run(dbfile, "unload", "9")
    assert_error(r, 2, "no load 9; loads are 1…2 (`crmtool loads` lists them)")
    r = run(dbfile, "unload", "1", "--and-later")
    assert r.exit_code == 0, r.output
    assert r.stderr.startswith("unloaded load 2, 1 (6 file(s)): ")
    assert all(v == [] for v in snapshot(dbfile).values())


def test_force_loads_the_same_bytes_again_and_unload_undoes_it(first):
    dbfile, d = first
    before = snapshot(dbfile)
    r = run(dbfile, "load", str(d / "ro1.csv"))
    assert r.stderr.splitlines()[0] == (
        f"{d}/ro1.csv: skipped: already loaded in load 1; --force loads it again"
    )
    r = run(dbfile, "load", "--force", str(d / "ro1.csv"))
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[0] == (
        f"{d}/ro1.csv: read 2 = loaded 0 + duplicates 2 + rejected 0 (repair_orders)"
    )
    assert query(dbfile, "SELECT DISTINCT _load_id FROM repair_orders") == [(3,)]
    r = run(dbfile, "unload", "3")
    assert r.stderr.startswith(
        "unloaded load 3 (1 file(s)): removed 0 row(s) it added, restored 2 row(s) it replaced"
    )
    assert snapshot(dbfile) == before


def test_wrong_kind_is_one_unload_to_fix(first):
    """A file loaded with the wrong --kind: unload it, and it loads again without --force."""
    dbfile, d = first
    f = write_export(d / "odd.csv", ["VIN,客户编号,车系", f"{V2},C9,宝来"])
    r = run(dbfile, "load", "--kind", "customers", str(f))
    assert r.exit_code == 0, r.output
    assert query(dbfile, "SELECT customer_id FROM customers ORDER BY 1") == [
        ("C1",),
        ("C2",),
        ("C9",),
    ]
    assert run(dbfile, "unload", "2").exit_code == 0
    r = run(dbfile, "load", "--kind", "vehicles", str(f))
    assert r.exit_code == 0, r.output
    assert (
        r.stderr.splitlines()[0] == f"{f}: read 1 = loaded 0 + duplicates 1 + rejected 0 (vehicles)"
    )
    assert query(dbfile, "SELECT customer_id FROM customers ORDER BY 1") == [("C1",), ("C2",)]


def test_unload_never_brings_back_a_forgotten_person(first):
    dbfile, d = first
    assert run(dbfile, "load", *second(d)).exit_code == 0  # replaces C1 (merge) and V1
    r = run(dbfile, "forget", "--customer", "C1", "--yes")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-1] == "undo history: 2"  # C1 and V1 as load 1 wrote them
    assert run(dbfile, "unload", "2").exit_code == 0
    assert query(dbfile, "SELECT customer_id FROM customers ORDER BY 1") == [("C2",)]
    assert query(
        dbfile, f"SELECT customer_id, phone, plate, series FROM vehicles WHERE vin = '{V1}'"
    ) == [(None, None, None, "朗逸")]
    assert not query(dbfile, "SELECT * FROM customers WHERE phone = '13800138000' OR name = '张三'")


def test_loads_made_before_history_cannot_be_undone(tmp_path):
    dbfile = tmp_path / "old.duckdb"
    con = duckdb.connect(str(dbfile))  # a database of an older crmtool: one load, no history
    con.execute(
        "CREATE TABLE loads (load_id BIGINT, file VARCHAR, sha256 VARCHAR, kind VARCHAR,"
        " sheet VARCHAR, loaded_at TIMESTAMP, read BIGINT, loaded BIGINT,"
        " duplicates BIGINT, rejected BIGINT, totals_rows BIGINT)"
    )
    con.execute(
        "INSERT INTO loads VALUES (1, 'a.csv', 'x', 'customers', NULL,"
        " TIMESTAMP '2024-01-01 00:00:00', 1, 1, 0, 0, 0)"
    )
    con.close()
    r = run(dbfile, "unload", "1")
    assert_error(
        r,
        2,
        "load 1 was made before crmtool kept what loads replace (loads from 2 on can be "
        "undone); it cannot be undone exactly",
    )
