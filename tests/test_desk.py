"""`crmtool find` and `crmtool forget` (docs/rules.md §12, §13) on a hand-built database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.config import Config
from crmtool.forget import marker
from crmtool.load import ingest

runner = CliRunner()
V1, V2 = "LSVAA4183E2000001", "LSVAA4185E2000002"


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone, gender) VALUES"
        " ('C1', '张三', '13800138000', 'male'), ('C2', '张三丰', '13900139000', NULL)"
    )
    con.execute(
        "INSERT INTO vehicles (vin, plate, customer_id, phone, series, sale_date,"
        " sale_channel) VALUES"
        f" ('{V1}', '浙A12345', 'C1', '13800138000', '朗逸', DATE '2021-01-01', 'own'),"
        f" ('{V2}', '浙B54321', 'C2', NULL, '迈腾', DATE '2021-03-01', 'own')"
    )
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount, mileage_km, advisor) VALUES"
        f" ('R1', 'D001', '{V1}', DATE '2021-07-01', 'first_service', 'warranty', 300,"
        "  5100, '王五'),"
        f" ('R2', 'D002', '{V1}', DATE '2022-01-10', 'maintenance', 'customer', 500,"
        "  11000, NULL),"
        f" ('R3', 'D001', '{V1}', DATE '2022-03-01', 'repair', 'customer', 800, 13000,"
        "  '赵六')"
    )
    con.execute(
        "INSERT INTO leads (lead_id, phone, source) VALUES ('L1', '13800138000', '展厅'),"
        " ('L2', '13900139000', '网络')"
    )
    con.execute(
        "INSERT INTO rejects VALUES (1, 'c.csv', 3, 'customers', 'missing x',"
        " 'C1,张三,138-0013-8000'), (1, 'c.csv', 4, 'customers', 'missing x',"
        " 'C2,张三丰,13900139000')"
    )
    con.execute(
        "INSERT INTO flags VALUES (1, 'c.csv', 2, 'customers', 'C1', 'phone',"
        " 'phone_odd', '138 0013 8000'), (1, 'v.csv', 2, 'vehicles', 'X', 'vin',"
        " 'vin_length', 'X')"
    )
    if con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'contacts'"
    ).fetchall()[0][0]:  # the contact history (issue 8), when present
        con.execute(
            "INSERT INTO contacts (contact_id, contact_date, phone) VALUES"
            " ('K1', DATE '2022-05-01', '13800138000'),"
            " ('K2', DATE '2022-06-01', '13800138000')"
        )
    con.close()
    return path


def has_contacts(path: Path) -> bool:
    con = db.connect(path, read_only=True)
    try:
        return bool(
            con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'contacts'"
            ).fetchall()[0][0]
        )
    finally:
        con.close()


def run(path: Path, *args: str, **kw):
    from crmtool.cli import app

    return runner.invoke(app, ["--db", str(path), "--as-of", "2022-06-30", *args], **kw)


def cards(path: Path, query: str) -> list[dict]:
    r = run(path, "find", query, "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize(
    "query",
    [
        "浙A·12345",
        "浙A12345",
        "A12345",
        "12345",
        "138-0013-8000",
        "+86 138 0013 8000",
        V1,
        "2000001",
        "张三",
    ],
)
def test_find_one_customer(dbfile, query):
    assert [c["customer"]["customer_id"] for c in cards(dbfile, query)] == ["C1"]


def test_find_name_prefix_and_card(dbfile):
    assert [c["customer"]["customer_id"] for c in cards(dbfile, "张")] == ["C1", "C2"]
    (card,) = cards(dbfile, "A12345")
    assert card["customer"]["name"] == "张三" and card["customer"]["gender"] == "male"
    assert [v["vin"] for v in card["vehicles"]] == [V1]
    # newest first, own and other dealers; own visits 2021-07-01 and 2022-03-01 (D002 is other)
    assert [(v["settle_date"], v["dealer_code"], v["is_own"]) for v in card["visits"]] == [
        ("2022-03-01", "D001", True),
        ("2022-01-10", "D002", False),
        ("2021-07-01", "D001", True),
    ]
    assert card["visits_total"] == 3
    # last own visit 2022-03-01, 121 days before as_of, 2 own visits in 12 months → general
    assert card["vehicles"][0]["status"] == "general"
    if has_contacts(dbfile):
        assert card["last_contact"]["contact_id"] == "K2"
    else:
        assert card["last_contact"] is None


def test_find_masks_the_person_on_request(dbfile):
    r = run(dbfile, "find", "A12345", "--format", "json", "--mask-pii")
    (card,) = json.loads(r.stdout)
    assert (card["customer"]["name"], card["customer"]["phone"]) == ("张*", "138****8000")
    assert "13800138000" not in r.stdout and "张三" not in r.stdout
    r = run(dbfile, "find", "A12345", "--mask-pii")
    assert r.exit_code == 0 and "138****8000" in r.stdout and "13800138000" not in r.stdout


def test_find_limits_visits_and_prints_cards(dbfile):
    r = run(dbfile, "find", "12345", "--format", "json", "--visits", "1")
    (card,) = json.loads(r.stdout)
    assert card["visits_total"] == 3 and len(card["visits"]) == 1
    r = run(dbfile, "find", "浙B54321")
    assert r.exit_code == 0 and "张三丰" in r.stdout and "回厂记录（共 0 次" in r.stdout
    r = run(dbfile, "find", "浙B54321", "--lang", "en")
    assert r.exit_code == 0 and "visits (0 of 0" in r.stdout


def test_find_no_match(dbfile):
    r = run(dbfile, "find", "浙Z99999")
    assert r.exit_code == 1
    # as_of 2022-06-30 is 121 days after the newest order: a warning line comes first
    assert r.stderr.splitlines()[-1] == "crmtool: error: no customer or vehicle matches '浙Z99999'"
    r = run(dbfile, "find", "x'; DROP TABLE customers; --")
    assert r.exit_code == 1
    assert len(cards(dbfile, "张")) == 2


def test_forget_needs_yes_without_terminal(dbfile):
    r = run(dbfile, "forget", "--phone", "138 0013 8000")
    assert r.exit_code == 2
    assert "pass --yes" in r.stderr
    assert len(cards(dbfile, "张")) == 2  # nothing removed
    assert run(dbfile, "forget", "--phone", "1", "--customer", "C1", "--yes").exit_code == 2


def test_forget_removes_and_counts(dbfile):
    r = run(dbfile, "forget", "--phone", "138-0013-8000", "--yes")
    assert r.exit_code == 0, r.output
    contacts = ["contacts: 2"] if has_contacts(dbfile) else []
    assert r.stdout.splitlines() == [
        "customers: 1",
        "vehicles unlinked: 1",
        "leads: 1",
        *contacts,
        "rejects: 1",
        "flags: 1",
        "undo history: 0",
    ]
    con = db.connect(dbfile)
    assert con.execute("SELECT customer_id FROM customers").fetchall() == [("C2",)]
    assert con.execute(
        "SELECT vin, customer_id, phone, plate FROM vehicles ORDER BY vin"
    ).fetchall() == [(V1, None, None, None), (V2, "C2", None, "浙B54321")]
    assert con.execute("SELECT count(*) FROM repair_orders").fetchall() == [(3,)]  # stay
    assert con.execute("SELECT lead_id FROM leads").fetchall() == [("L2",)]
    assert con.execute("SELECT line FROM rejects").fetchall() == [(4,)]
    assert con.execute("SELECT key FROM flags").fetchall() == [("X",)]
    assert sorted(con.execute("SELECT kind, hash, scheme FROM forgotten").fetchall()) == [
        ("customer_id", marker(con, "C1"), "hmac-sha256"),
        ("phone", marker(con, "13800138000"), "hmac-sha256"),
    ]
    con.close()
    # the vehicle is still found by its VIN, without an owner and plate
    (card,) = cards(dbfile, V1)
    assert card["customer"] is None and card["visits_total"] == 3
    r = run(dbfile, "forget", "--customer", "C9", "--yes")
    assert (r.exit_code, r.stderr) == (
        2,
        "crmtool: error: --customer: no customer has the id 'C9'\n",
    )


def test_forgotten_person_not_loaded_again(dbfile, tmp_path):
    assert run(dbfile, "forget", "--customer", "C1", "--yes").exit_code == 0
    old = tmp_path / "customers.csv"
    old.write_bytes(
        "客户编号,客户姓名,手机\nC1,张三,13800138000\nC3,王五,13700137000\n"
        ",张三,138 0013 8000\n".encode("gbk")
    )
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "线索编号,电话,来源\nL1,13800138000,展厅\nL3,13600136000,展厅\n", encoding="utf-8"
    )
    con = db.connect(dbfile)
    res = ingest.load(con, [old, leads], Config())
    c, le = res.sheets
    assert (c.read, c.loaded, c.duplicates, c.rejected, c.forgotten) == (3, 1, 0, 2, 2)
    assert (le.read, le.loaded, le.duplicates, le.rejected, le.forgotten) == (2, 1, 0, 1, 1)
    assert "forgotten: 2 rows not loaded" in c.describe()
    assert con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall() == [
        ("C2",),
        ("C3",),
    ]
    assert con.execute(
        "SELECT line, reason, raw FROM rejects WHERE file = ? ORDER BY line", [str(old)]
    ).fetchall() == [(2, "forgotten person (PIPL)", None), (4, "forgotten person (PIPL)", None)]
    con.close()


V3 = "LSVAA4187E2000003"


def test_combined_repair_order_file_feeds_owners(tmp_path):
    con = db.connect(":memory:")
    veh = tmp_path / "a_vehicles.csv"
    veh.write_text(f"VIN,车系,客户编号\n{V1},朗逸,C1\n", encoding="utf-8")
    cus = tmp_path / "a_customers.csv"
    cus.write_text("客户编号,客户姓名,手机\nC1,张三,13800138000\n", encoding="utf-8")
    ingest.load(con, [veh, cus], Config())
    combined = tmp_path / "b_ro.csv"
    combined.write_bytes(
        (
            "工单号,VIN,结算日期,维修类型,结算金额,车主姓名,车主电话,车牌号,车系\n"
            f"R1,{V1},2022-01-05,保养,500,张三丰,13800138000,浙A99999,迈腾\n"  # known: fills plate
            f"R2,{V2},2022-01-06,维修,300,李四,139-0013-9000,浙A22222,朗逸\n"  # new person, car
            f"R3,{V2},2022-02-01,保养,200,李四,13900139000,浙A22222,朗逸\n"  # same again
            ",,2022-02-02,保养,100,王五,13700137000,浙A33333,Polo\n"  # rejected RO
            f"R5,{V3},2022-02-03,保养,100,,,浙A44444,Polo\n"  # car, no person
        ).encode("gbk")
    )
    res = ingest.load(con, [combined], Config())
    (s,) = res.sheets
    assert (s.kind, s.read, s.loaded, s.duplicates, s.rejected) == ("repair_orders", 5, 4, 0, 1)
    assert s.fed == {"customers": 1, "vehicles": 2}
    assert s.describe().endswith("; also fed: customers +1, vehicles +2")
    assert con.execute("SELECT customer_id, name, phone FROM customers ORDER BY 1").fetchall() == [
        ("C1", "张三", "13800138000"),
        ("P13900139000", "李四", "13900139000"),
    ]
    assert con.execute(
        "SELECT vin, plate, series, customer_id FROM vehicles ORDER BY 1"
    ).fetchall() == [
        (V1, "浙A99999", "朗逸", "C1"),
        (V2, "浙A22222", "朗逸", "P13900139000"),
        (V3, "浙A44444", "Polo", None),
    ]
    con.close()
