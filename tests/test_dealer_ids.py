"""Ids that collide between the stores of a dealer group stay apart (docs/rules.md §14 "Ids of the stores", issue 9):
customer_id and lead_id are keyed with the dealer (D002/C0001); find and forget take the keyed
id or the bare one."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from builders import assert_error, invoke, query, write_export

from crmtool import db
from crmtool.config import config_from_dict, with_dealer
from crmtool.forget import marker

V1, V2, V3 = "LSVAA4183E2000001", "LSVAA4185E2000002", "LSVAA4187E2000003"


def run(dbfile: Path, cfg: Path, *args: str):
    return invoke(*args, db=dbfile, config=cfg, as_of="2022-06-30")


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    """Two stores' exports that both use customer C0001 and lead L001: D001's carry a
    经销商代码 column, D002's carry none (loaded with --dealer D002)."""
    d = tmp_path / "exports"
    d.mkdir()
    return {
        "cu1": write_export(
            d / "cu_d001.csv",
            [
                "客户编号,客户姓名,手机,经销商代码",
                "C0001,张三,13800138000,D001",
                "C0002,李四,13900139000,D001",
            ],
            "gbk",
        ),
        "ve1": write_export(
            d / "ve_d001.csv",
            [
                "VIN,车牌号,客户编号,车系,购车日期,经销商代码",
                f"{V1},浙A11111,C0001,朗逸,2020-01-01,D001",
            ],
        ),
        "le1": write_export(
            d / "le_d001.csv", ["线索编号,电话,来源,经销商代码", "L001,13600136000,展厅,D001"]
        ),
        "cu2": write_export(
            d / "cu_d002.csv", ["客户编号,客户姓名,手机", "C0001,王五,13700137000"]
        ),
        "ve2": write_export(
            d / "ve_d002.csv",
            ["VIN,车牌号,客户编号,车系,购车日期", f"{V2},浙B22222,C0001,迈腾,2021-01-01"],
        ),
        "le2": write_export(d / "le_d002.csv", ["线索编号,电话,来源", "L001,13500135000,网络"]),
        "ct2": write_export(
            d / "ct_d002.csv", ["回访编号,回访日期,客户编号,回访结果", "K1,2022-06-01,C0001,满意"]
        ),
        # a combined repair-order export of D002 that also carries the owner
        "ro2": write_export(
            d / "ro_d002.csv",
            [
                "工单号,经销商代码,VIN,结算日期,客户编号,车主姓名,车主电话,车系",
                f"R1,D002,{V3},2022-05-01,C0003,赵六,13300133000,途观",
                f"R2,D002,{V2},2022-05-02,C0001,王五,13700137000,迈腾",
            ],
        ),
    }


@pytest.fixture
def group(tmp_path: Path, exports: dict[str, Path]) -> tuple[Path, Path]:
    cfg = write_export(tmp_path / "crmtool.toml", ['own_dealers = ["D001", "D002"]'])
    dbfile = tmp_path / "crm.duckdb"
    r = run(dbfile, cfg, "load", *(str(exports[k]) for k in ("cu1", "ve1", "le1")))
    assert r.exit_code == 0, r.output
    r = run(
        dbfile,
        cfg,
        "--dealer",
        "D002",
        "load",
        *(str(exports[k]) for k in ("cu2", "ve2", "le2", "ct2", "ro2")),
    )
    assert r.exit_code == 0, r.output
    assert (
        f"{exports['ro2']}: read 2 = loaded 2 + duplicates 0 + rejected 0 (repair_orders); "
        "also fed: customers +1, vehicles +1" in r.stderr.splitlines()
    )
    return dbfile, cfg


def test_dealer_flag_keeps_the_configured_group():
    cfg = config_from_dict({"own_dealers": ["D001", "D002"]})
    one = with_dealer(cfg, "D002")
    assert one.own_dealers == ["D002"] and one.own_dealer == "D002"
    assert one.is_group and one.dealer_group == ["D001", "D002"]
    assert with_dealer(one, "D002").is_group  # narrowing twice keeps it
    assert not config_from_dict({"own_dealers": ["D001"]}).is_group


def test_group_keeps_both_stores_customers_apart(group):
    dbfile, _ = group
    assert query(
        dbfile, "SELECT customer_id, name, phone, dealer_code FROM customers ORDER BY 1"
    ) == [
        ("D001/C0001", "张三", "13800138000", "D001"),
        ("D001/C0002", "李四", "13900139000", "D001"),
        ("D002/C0001", "王五", "13700137000", "D002"),
        ("D002/C0003", "赵六", "13300133000", "D002"),
    ]  # fed by the combined export
    assert query(dbfile, "SELECT vin, customer_id FROM vehicles ORDER BY 1") == [
        (V1, "D001/C0001"),
        (V2, "D002/C0001"),
        (V3, "D002/C0003"),
    ]
    assert query(dbfile, "SELECT lead_id, phone, dealer_code FROM leads ORDER BY 1") == [
        ("D001/L001", "13600136000", "D001"),
        ("D002/L001", "13500135000", "D002"),
    ]
    assert query(dbfile, "SELECT contact_id, customer_id FROM contacts") == [("K1", "D002/C0001")]
    assert query(dbfile, "SELECT dealer_code, ro_id FROM repair_orders ORDER BY 2") == [
        ("D002", "R1"),
        ("D002", "R2"),
    ]
    # every vehicle's owner is known
    assert query(
        dbfile,
        "SELECT count(*) FROM vehicles v WHERE NOT EXISTS (SELECT 1 FROM "
        "customers c WHERE c.customer_id = v.customer_id)",
    ) == [(0,)]


def test_keyed_export_loads_idempotently(group, tmp_path):
    dbfile, cfg = group
    # D002's re-export (other bytes: one more customer) replaces its own C0001 only
    again = write_export(
        tmp_path / "cu_d002_v2.csv",
        [
            "客户编号,客户姓名,手机,经销商代码",
            "C0001,王五五,13700137000,D002",
            "D002/C0004,钱七,13200132000,D002",
        ],
    )
    r = run(dbfile, cfg, "load", str(again))
    assert r.exit_code == 0, r.output
    assert f"{again}: read 2 = loaded 1 + duplicates 1 + rejected 0 (customers)" in r.stderr
    assert query(dbfile, "SELECT customer_id, name FROM customers ORDER BY 1") == [
        ("D001/C0001", "张三"),
        ("D001/C0002", "李四"),
        ("D002/C0001", "王五五"),
        ("D002/C0003", "赵六"),
        ("D002/C0004", "钱七"),
    ]  # an id already keyed stays as it is


def test_find_takes_keyed_and_bare_ids(group):
    dbfile, cfg = group
    r = run(dbfile, cfg, "find", "C0001", "--format", "json")
    assert r.exit_code == 0, r.output
    cards = json.loads(r.stdout)
    assert [
        (c["customer"]["customer_id"], c["customer"]["name"], [v["vin"] for v in c["vehicles"]])
        for c in cards
    ] == [("D001/C0001", "张三", [V1]), ("D002/C0001", "王五", [V2])]
    r = run(dbfile, cfg, "find", "D002/C0001", "--format", "json")
    assert r.exit_code == 0, r.output
    (card,) = json.loads(r.stdout)
    assert card["customer"]["customer_id"] == "D002/C0001"
    assert [v["vin"] for v in card["vehicles"]] == [V2]
    assert card["visits_total"] == 1 and card["last_contact"]["contact_id"] == "K1"
    assert run(dbfile, cfg, "find", "C0009").exit_code == 1


def test_forget_bare_id_of_several_stores_is_refused(group):
    dbfile, cfg = group
    r = run(dbfile, cfg, "forget", "--customer", "C0001", "--yes")
    assert_error(
        r,
        2,
        "customer_id 'C0001' is used by several stores: D001/C0001, D002/C0001; give one of them",
    )
    assert query(dbfile, "SELECT count(*) FROM customers") == [(4,)]  # nothing removed


def test_forget_keyed_id_removes_one_store_customer(group, exports, tmp_path):
    dbfile, cfg = group
    r = run(dbfile, cfg, "forget", "--customer", "D002/C0001", "--yes")
    assert r.exit_code == 0, r.output
    assert "customers: 1" in r.stdout.splitlines() and "contacts: 1" in r.stdout.splitlines()
    assert query(dbfile, "SELECT customer_id FROM customers ORDER BY 1") == [
        ("D001/C0001",),
        ("D001/C0002",),
        ("D002/C0003",),
    ]
    assert query(dbfile, "SELECT vin, customer_id FROM vehicles ORDER BY 1") == [
        (V1, "D001/C0001"),
        (V2, None),
        (V3, "D002/C0003"),
    ]
    con = db.connect(dbfile, read_only=True)
    expected = sorted(
        [("customer_id", marker(con, "D002/C0001")), ("phone", marker(con, "13700137000"))]
    )
    con.close()
    assert sorted(query(dbfile, "SELECT kind, hash FROM forgotten")) == expected
    # a later load skips D002's C0001, never D001's
    d1 = write_export(
        tmp_path / "cu_d001_v2.csv",
        ["客户编号,客户姓名,手机,经销商代码", "C0001,张三,13800138000,D001"],
    )
    d2 = write_export(tmp_path / "cu_d002_v2.csv", ["客户编号,客户姓名", "C0001,王五"])
    r = run(dbfile, cfg, "--dealer", "D002", "load", str(d1), str(d2))
    assert r.exit_code == 0, r.output
    assert f"{d1}: read 1 = loaded 0 + duplicates 1 + rejected 0 (customers)" in r.stderr
    assert (
        f"{d2}: read 1 = loaded 0 + duplicates 0 + rejected 1 (customers); "
        "forgotten: 1 rows not loaded"
    ) in r.stderr
    # a bare id that one store uses names that store's customer
    r = run(dbfile, cfg, "forget", "--customer", "C0002", "--yes")
    assert r.exit_code == 0, r.output
    assert query(dbfile, "SELECT customer_id FROM customers ORDER BY 1") == [
        ("D001/C0001",),
        ("D002/C0003",),
    ]


def test_single_dealer_keeps_bare_ids(tmp_path, exports):
    cfg = write_export(tmp_path / "crmtool.toml", ['own_dealers = ["D001"]'])
    dbfile = tmp_path / "crm.duckdb"
    r = run(dbfile, cfg, "load", *(str(exports[k]) for k in ("cu1", "ve1", "le1", "ro2")))
    assert r.exit_code == 0, r.output
    assert query(dbfile, "SELECT customer_id, name, dealer_code FROM customers ORDER BY 1") == [
        ("C0001", "张三", "D001"),
        ("C0002", "李四", "D001"),
        ("C0003", "赵六", "D002"),
    ]
    assert query(dbfile, "SELECT vin, customer_id FROM vehicles ORDER BY 1") == [
        (V1, "C0001"),
        (V2, "C0001"),
        (V3, "C0003"),
    ]
    assert query(dbfile, "SELECT lead_id, dealer_code FROM leads") == [("L001", "D001")]
    # the other store's export overwrites C0001: one store has one numbering
    r = run(dbfile, cfg, "load", str(exports["cu2"]), str(exports["le2"]))
    assert r.exit_code == 0, r.output
    assert query(dbfile, "SELECT customer_id, name, dealer_code FROM customers ORDER BY 1") == [
        ("C0001", "王五", "D001"),
        ("C0002", "李四", "D001"),
        ("C0003", "赵六", "D002"),
    ]
    assert query(dbfile, "SELECT lead_id, dealer_code FROM leads") == [("L001", "D001")]
    r = run(dbfile, cfg, "find", "C0001", "--format", "json")
    assert [c["customer"]["customer_id"] for c in json.loads(r.stdout)] == ["C0001"]


def test_old_database_gets_the_dealer_columns(tmp_path, exports):
    dbfile = tmp_path / "old.duckdb"
    con = duckdb.connect(str(dbfile))  # customers and leads as created before issue 9
    con.execute(
        "CREATE TABLE customers (customer_id VARCHAR, name VARCHAR, phone VARCHAR, "
        "gender VARCHAR, birth_date DATE, birth_year INTEGER, area_type VARCHAR, "
        "occupation VARCHAR, _file VARCHAR, _line BIGINT, _load_id BIGINT)"
    )
    con.execute("INSERT INTO customers (customer_id, name) VALUES ('C9', '孙八')")
    con.execute(
        "CREATE TABLE leads (lead_id VARCHAR, created_at DATE, source VARCHAR, "
        "level VARCHAR, consultant VARCHAR, status VARCHAR, last_follow_up DATE, "
        "visited BOOLEAN, phone VARCHAR, defeat_reason VARCHAR, _file VARCHAR, "
        "_line BIGINT, _load_id BIGINT)"
    )
    con.close()
    cfg = write_export(tmp_path / "crmtool.toml", ['own_dealers = ["D001"]'])
    r = run(dbfile, cfg, "load", str(exports["cu1"]), str(exports["le1"]))
    assert r.exit_code == 0, r.output
    assert query(dbfile, "SELECT customer_id, dealer_code FROM customers ORDER BY 1") == [
        ("C0001", "D001"),
        ("C0002", "D001"),
        ("C9", None),
    ]
    assert query(dbfile, "SELECT lead_id, dealer_code FROM leads") == [("L001", "D001")]
