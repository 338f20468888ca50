"""Issue 18 item 1: `find` and the lists answer while a load runs, from the database as it
was before the load (docs/rules.md 'Loading while others read'). The load runs in another
process, held after its first file by a patched hook that says so on stdout and waits for a
line on stdin: deterministic, no sleeps, no timing."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

runner = CliRunner()
V1, V2 = "LSVAA4183E2000001", "LSVAA4185E2000002"

# crmtool in a fresh interpreter; after its first sheet is loaded (into the load's copy of
# the database, not yet committed) it prints "held" and waits for a line on stdin
HELD = textwrap.dedent("""
    import sys
    from crmtool.load import ingest
    original = ingest.load_sheet

    def held(*args, **kwargs):
        out = original(*args, **kwargs)
        print("held", flush=True)
        sys.stdin.readline()
        return out

    ingest.load_sheet = held
    from crmtool.cli.app import main
    main(sys.argv[1:])
""")


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def run(db: Path, *args: str):
    from crmtool.cli import app

    return runner.invoke(app, ["--db", str(db), "--as-of", "2022-06-30", *args])


def card(db: Path, query: str) -> dict:
    r = run(db, "find", query, "--format", "json")
    assert r.exit_code == 0, r.output
    (only,) = json.loads(r.stdout)
    return only


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A database with one customer, one vehicle and one repair order (load 1)."""
    data = tmp_path / "first"
    data.mkdir()
    write(
        data / "customers.csv",
        """
        客户编号,客户姓名,联系电话
        C1,张三,13800138000
        """,
    )
    write(
        data / "vehicles.csv",
        f"""
        车辆识别代号,车牌号,客户编号,车系,购车日期,销售渠道
        {V1},浙A12345,C1,朗逸,2021-01-01,自店
        """,
    )
    write(
        data / "repair_orders.csv",
        f"""
        工单号,经销商代码,VIN,结算日期,维修类型,付费方式,结算金额
        R1,D001,{V1},2021-07-01,首保,保修,300
        """,
    )
    db = tmp_path / "crm.duckdb"
    r = run(db, "load", str(data))
    assert r.exit_code == 0, r.output
    return db


def test_find_and_lists_answer_from_the_old_data_while_a_load_runs(store, tmp_path):
    new = tmp_path / "second"
    new.mkdir()
    ro = write(
        new / "a_repair_orders.csv",
        f"""
        工单号,经销商代码,VIN,结算日期,维修类型,付费方式,结算金额
        R2,D001,{V1},2022-03-01,一般维修,自费,800
        """,
    )
    people = write(
        new / "b_customers.csv",
        """
        客户编号,客户姓名,联系电话
        C2,李四,13900139000
        """,
    )
    cars = write(
        new / "c_vehicles.csv",
        f"""
        车辆识别代号,车牌号,客户编号,车系,购车日期,销售渠道
        {V2},浙B54321,C2,迈腾,2021-03-01,自店
        """,
    )
    before = run(store, "loads", "--format", "csv").stdout
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    load = subprocess.Popen(
        [sys.executable, "-c", HELD, "--db", str(store), "load", str(ro), str(people), str(cars)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert load.stdout is not None and load.stdin is not None
        assert load.stdout.readline() == "held\n", load.stderr.read() if load.stderr else ""
        # the load holds the repair orders of its first file: readers see the old data
        assert card(store, "浙A12345")["visits_total"] == 1
        r = run(store, "find", "李四")
        assert r.exit_code == 1 and "no customer or vehicle matches '李四'" in r.stderr
        assert run(store, "loads", "--format", "csv").stdout == before  # a list: load 1 only
        r = run(store, "rejects", "--format", "csv")
        assert r.exit_code == 0, r.output
        # writers wait for the load: a second load, and an unload
        r = run(store, "load", str(people))
        assert r.exit_code == 1
        assert "is in use by another crmtool process" in r.stderr
        r = run(store, "unload", "1")
        assert r.exit_code == 1 and "in use by another crmtool process" in r.stderr
        load.stdin.write("go on\n")
        load.stdin.flush()
        out, err = load.communicate(timeout=300)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    assert load.returncode == 0, err
    # once the load is done, readers see it: two visits, 李四, loads 1 and 2
    assert card(store, "浙A12345")["visits_total"] == 1 + 1
    assert card(store, "李四")["customer"]["customer_id"] == "C2"
    rows = list(csv.reader(io.StringIO(run(store, "loads", "--format", "csv").stdout)))
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert sorted(p.name for p in store.parent.iterdir() if p.is_file()) == ["crm.duckdb"]


def test_a_failed_load_leaves_the_database_as_it_was(store, tmp_path):
    before = run(store, "loads", "--format", "csv").stdout
    (tmp_path / "third").mkdir()
    bad = write(tmp_path / "third" / "bad.csv", "这不是表头,也不是\n1,2\n")
    r = run(store, "load", str(bad))
    assert r.exit_code == 1
    assert run(store, "loads", "--format", "csv").stdout == before
    assert card(store, "浙A12345")["visits_total"] == 1
    assert sorted(p.name for p in store.parent.iterdir() if p.is_file()) == ["crm.duckdb"]
