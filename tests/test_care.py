"""Issue 8: contacts load, care lists (3DC/7DC, birthdays, greetings, complaints),
suppression and `contacts export --mark`, on a hand-built database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import care, db, facts, holidays
from crmtool.config import Config
from crmtool.load import ingest
from crmtool.period import parse_period

runner = CliRunner()
D = "2022-06-10"  # the callback day: 3DC visits of 06-07, 7DC sales of 06-03


def _build(con) -> None:  # noqa: ANN001
    con.execute(
        "INSERT INTO customers (customer_id, name, phone, birth_date) VALUES"
        " ('C1', '张三', '13800138000', DATE '1988-02-29'),"
        " ('C2', '李四', '13900139000', NULL),"
        " ('C3', '王五', '13700137000', DATE '1985-02-10'),"
        " ('C4', '赵六', '13600136000', NULL),"
        " ('C5', '钱七', '13500135000', NULL)"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) VALUES"
        " ('V1', 'C1', '迈腾', DATE '2021-01-01', 'own'),"
        " ('V2', 'C1', '朗逸', DATE '2021-06-01', 'own'),"
        " ('V3', 'C2', '朗逸', DATE '2022-06-03', 'own'),"  # 7 days before D
        " ('V4', 'C3', '迈腾', NULL, NULL),"
        " ('V5', 'C4', '迈腾', NULL, NULL),"
        " ('V6', 'C5', '迈腾', NULL, NULL),"
        " ('V7', 'C3', '速腾', DATE '2022-06-04', 'own'),"  # 6 days
        " ('V8', 'C4', '速腾', DATE '2022-06-02', 'own')"
    )  # 8 days
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount, advisor) VALUES"
        " ('R1', 'D001', 'V1', DATE '2022-06-07', 'maintenance', 'customer', 500, '甲'),"
        " ('R2', 'D001', 'V2', DATE '2022-06-07', 'maintenance', 'customer', 400, '乙'),"
        " ('R4', 'D001', 'V4', DATE '2022-06-08', 'repair', 'customer', 300, '甲'),"
        " ('R5', 'D001', 'V5', DATE '2022-06-06', 'repair', 'customer', 300, '乙'),"
        " ('R6', 'D001', 'V6', DATE '2022-06-07', 'repair', 'customer', 300, '甲'),"
        " ('R7', 'D001', 'V4', DATE '2022-06-07', 'pds', 'internal', 0, '甲'),"
        " ('R8', 'D001', 'V4', DATE '2022-04-30', 'repair', 'customer', 900, '孙八')"
    )
    con.execute(
        "INSERT INTO contacts (contact_id, contact_date, phone, vin, customer_id, ro_id,"
        " purpose, result, do_not_contact) VALUES"
        " ('K6', DATE '2022-06-09', NULL, 'V6', 'C5', 'R6', 'callback', 'satisfied',"
        " NULL),"
        " ('K10', DATE '2022-05-01', NULL, 'V5', 'C4', 'R5', 'callback', 'dissatisfied',"
        "  NULL),"
        " ('K11', DATE '2022-05-10', NULL, NULL, 'C4', NULL, 'callback', 'satisfied',"
        " NULL),"
        " ('K14', DATE '2022-05-02', NULL, NULL, 'C3', NULL, 'callback', 'satisfied',"
        " NULL),"
        " ('K12', DATE '2022-05-03', '13700137000', 'V4', 'C3', 'R8', 'callback',"
        "  'dissatisfied', NULL),"
        " ('K20', DATE '2022-06-20', NULL, NULL, 'C2', NULL, 'care', NULL, true),"
        " ('K21', DATE '2022-03-01', '13600136000', NULL, NULL, NULL, 'campaign',"
        "  'wrong_number', NULL),"
        " ('K22', DATE '2022-06-24', NULL, NULL, 'C5', NULL, 'campaign', 'no_answer',"
        " NULL),"
        " ('K23', DATE '2022-06-23', NULL, NULL, 'C1', NULL, 'campaign', 'satisfied',"
        " NULL)"
    )


@pytest.fixture
def con():
    c = db.connect(":memory:")
    _build(c)
    facts.install(c, Config())
    return c


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    c = db.connect(path)
    _build(c)
    c.close()
    return path


def run(path: Path, as_of: str, *args: str):
    from crmtool.cli import app

    return runner.invoke(app, ["--db", str(path), "--as-of", as_of, *args])


def rows(result) -> list[dict]:  # noqa: ANN001
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- contacts load ------------------------------------------------------------------------------


def test_gbk_contacts_export_loads_with_exact_counts(tmp_path: Path) -> None:
    text = (
        "回访编号,回访日期,联系电话,VIN,工单号,回访方式,回访类型,回访结果,勿扰,备注\n"
        "K1,2021-10-05,13800138000,LSVAA4182E2000001,R1,电话,回访,满意,否,好\n"
        "K2,2021/10/06,139-0013-9000,,,短信,招揽,空号,,\n"
        ",2021-10-07,13700137000,,,微信,关怀,未接通,是,\n"  # id derived
        ",,,,,电话,投诉,不满意,,\n"  # no id, date, phone
        "K1,2021-10-05,13800138000,,R1,电话,回访,一般,否,重复\n"
    )  # same key: last wins
    f = tmp_path / "回访记录.csv"
    f.write_bytes(text.encode("gbk"))
    c = db.connect(":memory:")
    res = ingest.load(c, [f], Config())
    s = res.sheets[0]
    assert (s.kind, s.read, s.loaded, s.duplicates, s.rejected) == ("contacts", 5, 3, 1, 1)
    got = c.execute(
        "SELECT contact_id, contact_date::VARCHAR, phone, channel, purpose, result,"
        " do_not_contact, note FROM contacts ORDER BY contact_id"
    ).fetchall()
    assert got == [
        (
            "2021-10-07/13700137000/care",
            "2021-10-07",
            "13700137000",
            "wechat",
            "care",
            "no_answer",
            True,
            None,
        ),
        ("K1", "2021-10-05", "13800138000", "phone", "callback", "neutral", False, "重复"),
        ("K2", "2021-10-06", "13900139000", "sms", "campaign", "wrong_number", None, None),
    ]
    assert c.execute("SELECT reason FROM rejects").fetchall() == [("missing contact_id",)]
    again = ingest.load(c, [f], Config())
    assert again.sheets[0].skipped == "already loaded"
    assert c.execute("SELECT count(*) FROM contacts").fetchall() == [(3,)]


def test_contacts_not_confused_with_customers(tmp_path: Path) -> None:
    assert ingest.detect(["客户编号", "客户姓名", "电话", "备注"], None) == "customers"
    assert ingest.detect(["工单号", "VIN", "结算日期"], None) == "repair_orders"
    assert ingest.detect(["电话", "回访日期", "回访结果"], None) == "contacts"


# -- callbacks ---------------------------------------------------------------------------------


def test_callback_windows_and_already_called(con) -> None:  # noqa: ANN001
    from datetime import date

    frame = care.callbacks(con, Config(), date(2022, 6, 10)).frame
    got = frame.select("callback", "vin", "customer_id", "event_date", "ro_id").rows()
    # R4 (2 days), R5 (4 days), V7 (6 days), V8 (8 days) are outside; R6 was called back
    # (K6 on its ro_id); R7 is pds (not a visit)
    assert [(k, v, c, str(d), r) for k, v, c, d, r in got] == [
        ("3DC", "V1", "C1", "2022-06-07", "R1"),
        ("3DC", "V2", "C1", "2022-06-07", "R2"),
        ("7DC", "V3", "C2", "2022-06-03", None),
    ]


def test_callbacks_cli_once_per_customer(dbfile: Path) -> None:
    out = rows(run(dbfile, D, "care", "callbacks", "--date", D, "--format", "json"))
    assert [(r["customer_id"], r["vin"]) for r in out] == [("C1", "V1"), ("C2", "V3")]
    out = rows(
        run(dbfile, D, "care", "callbacks", "--date", D, "--per-vehicle", "--format", "json")
    )
    assert [r["vin"] for r in out] == ["V1", "V2", "V3"]


def test_callback_by_vin_after_settle_date(con) -> None:  # noqa: ANN001
    from datetime import date

    con.execute(
        "INSERT INTO contacts (contact_id, contact_date, vin, purpose) VALUES "
        "('X1', DATE '2022-06-07', 'V2', 'callback'),"
        "('X2', DATE '2022-06-06', 'V1', 'callback')"
    )  # before the visit: no
    frame = care.callbacks(con, Config(), date(2022, 6, 10)).frame
    assert frame["vin"].to_list() == ["V1", "V3"]


# -- birthdays, greetings, complaints ------------------------------------------------------------


def test_birthday_29_february(con) -> None:  # noqa: ANN001
    from datetime import date

    as_of = date(2022, 6, 30)
    feb = care.birthdays(con, Config(), parse_period("2022-02"), as_of)
    assert [(r["customer_id"], str(r["birthday"]), r["age"]) for r in feb.to_dicts()] == [
        ("C3", "2022-02-10", 37),
        ("C1", "2022-02-28", 34),
    ]
    leap = care.birthdays(con, Config(), parse_period("2024-02"), as_of)
    assert [str(d) for d in leap["birthday"]] == ["2024-02-10", "2024-02-29"]
    assert care.birthdays(con, Config(), parse_period("2022-03"), as_of).height == 0


def test_complaints_open_and_closed(con) -> None:  # noqa: ANN001
    from datetime import date

    frame = care.complaints(con, Config(), date(2022, 6, 30))
    # K10 (C4) is closed by K11, satisfied later; K12 (C3) only has an earlier satisfied one
    assert frame.select("contact_id", "customer_id", "days_open", "ro_id", "advisor").rows() == [
        ("K12", "C3", 58, "R8", "孙八")
    ]
    assert str(frame["settle_date"][0]) == "2022-04-30"


def test_holiday_table() -> None:
    from datetime import date

    assert holidays.next_holiday("中秋", date(2022, 6, 30)) == date(2022, 9, 10)
    assert holidays.next_holiday("春节", date(2022, 6, 30)) == date(2023, 1, 22)
    assert holidays.next_holiday("元宵节", date(2023, 1, 1)) == date(2023, 2, 5)
    assert holidays.next_holiday("国庆", date(2022, 10, 2)) == date(2023, 10, 1)


# -- suppression -------------------------------------------------------------------------------


def test_greetings_suppression_by_each_reason(dbfile: Path) -> None:
    res = run(dbfile, "2022-06-30", "care", "greetings", "--holiday", "中秋", "--format", "json")
    out = rows(res)
    # C2 do-not-contact (K20), C4 wrong number (K21), C5 contacted 6 days ago (K22);
    # C1 was contacted 7 days ago (K23): not recent
    assert [(r["customer_id"], r["holiday_date"]) for r in out] == [
        ("C1", "2022-09-10"),
        ("C3", "2022-09-10"),
    ]
    assert "3 row(s) suppressed: 1 do_not_contact, 1 wrong_number, 1 recent" in res.stderr
    out = rows(
        run(
            dbfile,
            "2022-06-30",
            "care",
            "greetings",
            "--holiday",
            "中秋",
            "--include-recent",
            "--format",
            "json",
        )
    )
    assert [r["customer_id"] for r in out] == ["C1", "C3", "C5"]


def test_segment_suppression_per_vehicle(dbfile: Path) -> None:
    res = run(dbfile, D, "segment", "--format", "json")
    out = rows(res)
    # at 06-10: C4's phone is a wrong number (V5, V8), C5 was called back on 06-09 (V6)
    assert sorted(r["vin"] for r in out) == ["V1", "V2", "V3", "V4", "V7"]
    assert "3 row(s) suppressed: 2 wrong_number, 1 recent" in res.stderr


def test_mark_then_next_list_drops_them(dbfile: Path) -> None:
    res = run(dbfile, D, "contacts", "export", "--list", "callbacks", "--mark", "--format", "json")
    assert [r["customer_id"] for r in rows(res)] == ["C1", "C2"]
    assert "marked 2 customer(s)" in res.stderr
    res = run(dbfile, D, "segment", "--format", "json")
    assert sorted(r["vin"] for r in rows(res)) == ["V4", "V7"]
    assert "6 row(s) suppressed: 2 wrong_number, 4 recent" in res.stderr
    c = db.connect(dbfile, read_only=True)
    assert c.execute(
        "SELECT contact_id, contact_date::VARCHAR, purpose, channel, result "
        "FROM contacts WHERE contact_id LIKE 'mark/%' ORDER BY 1"
    ).fetchall() == [
        ("mark/2022-06-10/C1", "2022-06-10", "campaign", "phone", None),
        ("mark/2022-06-10/C2", "2022-06-10", "campaign", "phone", None),
    ]
    c.close()


def test_summary_care_block(con) -> None:  # noqa: ANN001
    from datetime import date

    got = care.care_summary(con, Config(), date(2022, 6, 30))
    assert got == {
        "callbacks_due": 0,
        "birthdays": 0,
        "open_complaints": 1,
        "suppressed": {"do_not_contact": 1, "wrong_number": 1, "recent": 1},
    }
