"""`forget` that forgets (issue 14 item 4, docs/rules.md §13): nothing of the person left in
any file the database uses, keyed markers that cannot be reversed without the database, their
malformed lines dropped at later loads, --phone / --customer checked."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app, desk_cmds
from crmtool.forget import marker

runner = CliRunner()
V1, V2 = "LSVAA4183E2000001", "LSVAA4185E2000002"
NAME, PHONE, PLATE = "欧阳明日", "13812345678", "浙A88888"
NEEDLES = (NAME.encode("utf-8"), PHONE.encode(), PLATE.encode("utf-8"))


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def run(dbfile: Path, *args: str, **kw):
    return runner.invoke(app, ["--db", str(dbfile), *args], **kw)


def rows(dbfile: Path, sql: str) -> list[tuple]:
    con = db.connect(dbfile, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def files_bytes(folder: Path) -> dict[str, bytes]:
    """The raw bytes of every file in the database's folder (db file, .wal, temp files)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Path]:
    """Two loads naming the person everywhere a load can put them: customers, vehicles (plate,
    phone, owner), leads, contacts, a malformed line in rejects, and history versions (the
    second load replaces their customer row and their vehicle)."""
    ex = tmp_path / "exports"
    ex.mkdir()
    (tmp_path / "db").mkdir()
    dbfile = tmp_path / "db" / "crm.duckdb"
    first = [
        write(
            ex / "a.csv",
            [
                "客户编号,客户姓名,手机",
                f"C1,{NAME},{PHONE}",
                "C2,李四,13900139000",
                f"C1,{NAME},{PHONE},多一列",
            ],
        ),
        write(
            ex / "b.csv",
            [
                "VIN,车牌号,客户编号,手机,车系",
                f"{V1},{PLATE},C1,{PHONE},朗逸",
                f"{V2},浙B54321,C2,,迈腾",
            ],
        ),
        write(ex / "c.csv", ["工单号,VIN,结算日期,结算金额", f"R1,{V1},2021-07-01,300"]),
        write(ex / "d.csv", ["回访编号,回访日期,手机,回访结果", f"K1,2022-05-01,{PHONE},满意"]),
        write(ex / "e.csv", ["线索编号,电话,来源", f"L1,{PHONE},展厅"]),
    ]
    second = [
        write(ex / "f.csv", ["客户编号,客户姓名,手机,性别", f"C1,{NAME},{PHONE},男"]),
        write(ex / "g.csv", ["VIN,车牌号,客户编号,手机,车系", f"{V1},{PLATE},C1,{PHONE},朗逸Pro"]),
    ]
    for files in (first, second):
        r = run(dbfile, "load", *map(str, files))
        assert r.exit_code == 0, r.output
    return dbfile, ex


def test_forget_leaves_no_byte_of_the_person_in_any_database_file(store):
    dbfile, _ = store
    found = files_bytes(dbfile.parent)
    # the check can see them: before forget every needle is in the database's files
    assert all(any(n in b for b in found.values()) for n in NEEDLES)
    r = run(dbfile, "forget", "--phone", "+86 138-1234-5678", "--yes")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "customers: 1",
        "vehicles unlinked: 1",
        "leads: 1",
        "contacts: 1",
        "rejects: 1",
        "flags: 0",
        "undo history: 2",
    ]
    found = files_bytes(dbfile.parent)
    assert list(found) == ["crm.duckdb"]  # no .wal, no temp file, no rebuild leftover
    assert [(f, n) for f, b in found.items() for n in NEEDLES if n in b] == []
    # what stays: the vehicle and its repair order (the dealer's accounting), without them
    assert rows(
        dbfile, "SELECT vin, plate, phone, customer_id, series FROM vehicles ORDER BY vin"
    ) == [(V1, None, None, None, "朗逸Pro"), (V2, "浙B54321", None, "C2", "迈腾")]
    assert rows(dbfile, "SELECT ro_id, vin FROM repair_orders") == [("R1", V1)]
    assert rows(dbfile, "SELECT customer_id FROM customers") == [("C2",)]
    # the rewritten file is the same database: the next load gets the next id
    r = run(
        dbfile,
        "load",
        str(
            write(dbfile.parent.parent / "h.csv", ["客户编号,客户姓名,手机", "C5,赵六,13600136000"])
        ),
    )
    assert r.exit_code == 0, r.output
    assert rows(dbfile, "SELECT max(load_id) FROM loads") == [(3,)]


def test_marker_is_a_keyed_hash_that_guessing_phones_cannot_reverse(store):
    """The attack of the issue: a masked report shows 138****5678, so 10^4 guesses are enough
    against an unsalted SHA-256. Against the HMAC they find nothing without the secret;
    with the database's secret the same guesses do find it (the check is not vacuous)."""
    dbfile, _ = store
    assert run(dbfile, "forget", "--customer", "C1", "--yes").exit_code == 0
    marks = {h for (h,) in rows(dbfile, "SELECT hash FROM forgotten WHERE kind = 'phone'")}
    assert len(marks) == 1
    guesses = [f"138{i:04d}5678" for i in range(10_000)]
    assert not [g for g in guesses if hashlib.sha256(g.encode()).hexdigest() in marks]
    assert not [
        g for g in guesses if hmac.new(b"", g.encode(), hashlib.sha256).hexdigest() in marks
    ]
    (secret,) = rows(dbfile, "SELECT value FROM secret WHERE name = 'forget'")[0]
    assert len(bytes.fromhex(secret)) == 32
    assert [
        g
        for g in guesses
        if hmac.new(bytes.fromhex(secret), g.encode(), hashlib.sha256).hexdigest() in marks
    ] == [PHONE]


def test_markers_of_two_databases_differ(tmp_path, store):
    dbfile, ex = store
    other = tmp_path / "other.duckdb"
    assert run(other, "load", str(ex / "a.csv")).exit_code == 0
    for f in (dbfile, other):
        assert run(f, "forget", "--phone", PHONE, "--yes").exit_code == 0
    one, two = (rows(f, "SELECT hash FROM forgotten WHERE kind = 'phone'") for f in (dbfile, other))
    assert len(one) == len(two) == 1 and one != two


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--phone", "12"],
            "--phone '12' is not a full phone number (11 digits, or a phone "
            "exactly as stored); give the whole number or --customer ID",
        ),
        (
            ["--phone", "1381234567"],
            "--phone '1381234567' is not a full phone number (11 digits, "
            "or a phone exactly as stored); give the whole number or "
            "--customer ID",
        ),
        (["--customer", "C"], "--customer: no customer has the id 'C'"),
    ],
)
def test_forget_takes_only_a_full_phone_or_an_existing_id(store, args, message):
    dbfile, _ = store
    before = [rows(dbfile, f"SELECT count(*) FROM {t}") for t in ("rejects", "flags", "customers")]
    r = run(dbfile, "forget", *args, "--yes")
    assert (r.exit_code, r.stderr) == (2, f"crmtool: error: {message}\n")
    assert [
        rows(dbfile, f"SELECT count(*) FROM {t}") for t in ("rejects", "flags", "customers")
    ] == before


def test_a_malformed_line_of_a_forgotten_person_is_dropped_not_rejected(store):
    dbfile, ex = store
    assert run(dbfile, "forget", "--customer", "C1", "--yes").exit_code == 0
    again = write(
        ex / "a2.csv",
        [
            "客户编号,客户姓名,手机",
            f"C1,{NAME},{PHONE}",
            f"C1,{NAME},{PHONE},多一列",
            f"C9,{NAME},138 1234 5678,x",
            "C2,李四,13900139000,y",
        ],
    )
    r = run(dbfile, "load", str(again))
    assert r.exit_code == 0, r.output
    # 4 lines: one valid of theirs, three malformed (two of them theirs: by id, by phone)
    assert r.stderr.splitlines()[0] == (
        f"{again}: read 4 = loaded 0 + duplicates 0 + "
        "rejected 4 (customers); forgotten: 3 rows not loaded"
    )
    got = rows(
        dbfile, f"SELECT line, reason, raw FROM rejects WHERE file = '{again}' ORDER BY line"
    )
    assert got == [
        (2, "forgotten person (PIPL)", None),
        (3, "forgotten person (PIPL)", None),
        (4, "forgotten person (PIPL)", None),
        (5, "wrong number of fields: expected 3, found 4", "C2,李四,13900139000,y"),
    ]
    assert not rows(
        dbfile, f"SELECT * FROM rejects WHERE raw LIKE '%{PHONE}%' OR raw LIKE '%{NAME}%'"
    )


def test_old_unsalted_markers_still_skip_and_become_keyed(tmp_path):
    """A database forgotten by an older crmtool keeps SHA-256 markers (scheme NULL): they
    still keep the person out, and become keyed when the person shows up in a load."""
    dbfile = tmp_path / "old.duckdb"
    con = db.connect(dbfile)
    con.execute(
        "INSERT INTO forgotten (kind, hash, forgotten_on) VALUES ('phone', ?, DATE '2024-01-01')",
        [hashlib.sha256(PHONE.encode()).hexdigest()],
    )
    con.close()
    f = write(
        tmp_path / "cu.csv", ["客户编号,客户姓名,手机", f"C1,{NAME},{PHONE}", "C2,李四,13900139000"]
    )
    r = run(dbfile, "load", str(f))
    assert r.stderr.splitlines()[0] == (
        f"{f}: read 2 = loaded 1 + duplicates 0 + rejected 1 "
        "(customers); forgotten: 1 rows not loaded"
    )
    con = db.connect(dbfile)
    assert con.execute("SELECT kind, hash, scheme FROM forgotten").fetchall() == [
        ("phone", marker(con, PHONE), "hmac-sha256")
    ]
    con.close()


def test_forget_shows_the_person_and_vehicles_before_asking(store, monkeypatch):
    dbfile, _ = store
    monkeypatch.setattr(desk_cmds, "_interactive", lambda: True)
    r = run(dbfile, "forget", "--customer", "C1", input="n\n")
    assert r.exit_code == 1  # declined: nothing removed
    assert r.stderr.splitlines()[:4] == [
        "将删除此人的个人信息（车辆与工单保留，但去掉车牌、电话与车主关联）：",
        f"  客户 C1  {NAME}  {PHONE}",
        f"  车辆 {V1}  {PLATE}  朗逸Pro",
        "将删除: customers 1, vehicles unlinked 1, leads 1, contacts 1, rejects 1, flags 0, "
        "undo history 2",
    ]
    assert "确认删除？" in r.stderr
    assert rows(dbfile, "SELECT count(*) FROM customers WHERE customer_id = 'C1'") == [(1,)]


def test_the_question_is_in_english_with_lang_en(store, monkeypatch, tmp_path):
    dbfile, _ = store
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text('lang = "en"\n', encoding="utf-8")
    monkeypatch.setattr(desk_cmds, "_interactive", lambda: True)
    r = runner.invoke(
        app, ["--db", str(dbfile), "--config", str(cfg), "forget", "--customer", "C1"], input="y\n"
    )
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[:3] == [
        "This person's data will be deleted (vehicles and repair orders stay, without plate, "
        "phone and owner):",
        f"  customer C1  {NAME}  {PHONE}",
        f"  vehicle {V1}  {PLATE}  朗逸Pro",
    ]
    assert "Delete?" in r.stderr and "customers: 1" in r.stdout.splitlines()


def test_a_killed_rewrite_leaves_nothing_behind(store):
    """A rewrite killed before its swap leaves .crm.duckdb.rebuild-PID: the next command that
    opens the database for writing removes it."""
    dbfile, _ = store
    left = dbfile.parent / ".crm.duckdb.rebuild-99999"
    left.write_bytes(NAME.encode("utf-8"))
    db.connect(dbfile).close()
    assert not left.exists()
