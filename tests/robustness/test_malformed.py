"""Issue 7: real-world malformed input. Each case has its exact outcome: a one-line error that
names the file (never a traceback), or exact counts, rejects and flags, with
read = loaded + duplicates + rejected checked against the number of records the test wrote."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app
from crmtool.config import Config
from crmtool.errors import CrmError
from crmtool.load import ingest

V1 = "LSVAA4183E2000001"  # a valid VIN (check digit 4)
V2 = "LSVAA4183E2000002"  # wrong check digit
H = "工单号,VIN,结算日期,结算金额\n"
runner = CliRunner()


def row(ro: str, settle: str = "2021-01-05", amount: str = "100", vin: str = V1) -> str:
    return f"{ro},{vin},{settle},{amount}\n"


def xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, cells in enumerate(rows):
            for j, v in enumerate(cells):
                if v is not None:
                    ws.write(i, j, v)
    wb.close()
    return path


def load(tmp_path: Path, *files: Path, on_disk: bool = False):
    """ingest.load into a database: (load result, rejects, flags, connection)."""
    con = db.connect(tmp_path / "crm.duckdb" if on_disk else ":memory:")
    res = ingest.load(con, files, Config())
    for s in res.sheets:  # the invariant, sheet by sheet
        assert s.read == s.loaded + s.duplicates + s.rejected
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY file, line").fetchall()
    # these exports have no payer column: every order's payer is inferred (docs/rules.md §1 "Payer missing"), which
    # tests/test_vendor_exports.py covers; here only the other flags
    flags = con.execute(
        "SELECT line, field, flag, raw FROM flags WHERE flag <> 'payer_inferred' "
        "ORDER BY file, line, field, flag"
    ).fetchall()
    return res, rejects, flags, con


def cli_error(tmp_path: Path, *args: str) -> str:
    r = runner.invoke(app, ["--db", str(tmp_path / "crm.duckdb"), *args])
    assert r.exit_code == 1, r.output
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


# ------------------------------------------------------------------ files that fail, one line

FAILS = {
    "empty": ("e.csv", b"", "file is empty"),
    "blank_lines_only": ("b.csv", b"\n \n\t\r\n\n", "file is empty (only blank lines)"),
    "binary_garbage": (
        "g.csv",
        bytes(range(256)) * 8,
        "binary file, not a text export (NUL bytes)",
    ),
    "binary_no_nul": (
        "p.csv",
        b"\x89PNG\r\n\x1a\n" + bytes(range(1, 200)),
        "cannot decode the file: neither UTF-8 nor GB18030/GBK",
    ),
    "zip_garbage_as_csv": (
        "z.csv",
        b"PK\x03\x04garbage",
        "not a readable Excel workbook: calamine error: Cannot detect file format",
    ),
    "text_named_xlsx": (
        "t.xlsx",
        H.encode() + row("R1").encode(),
        "not an Excel workbook (an .xlsx file must be a zip archive)",
    ),
    "no_header": (
        "n.csv",
        row("R1").encode(),
        f"no recognisable header in the first 20 rows (first row: R1 | {V1} | 2021-01-05 | 100)",
    ),
    "header_too_deep": (
        "d.csv",
        ("x\n" * 25 + H + row("R1")).encode(),
        "no recognisable header in the first 20 rows (first row: x)",
    ),
    "only_missing_required": (
        "m.csv",
        "工单号,结算日期\nR1,2021-01-05\n".encode("gbk"),
        "no column for repair_orders.vin; accepted headers: VIN, VIN码, "
        "VIN号, 车辆VIN号, 车辆识别码(VIN), 车架号, 底盘号, "
        "车辆识别代号, vin",
    ),
    "missing_settle_date": (
        "s.csv",
        f"工单号,VIN\nR1,{V1}\n".encode(),
        "no column for repair_orders.settle_date; accepted headers: 结算日期, "
        "结算时间, 出厂日期, 完工日期, 工单结算日期, 提交结算时间, "
        "settle_date",
    ),
    "html_without_table": (
        "h.xls",
        b"<html><body><p>no data</p></body></html>",
        "no table with a recognisable header in its first 20 rows",
    ),
    "broken_spreadsheetml": (
        "x.xls",
        b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-'
        b'microsoft-com:office:spreadsheet"><Worksheet>',
        "not a readable XML spreadsheet: no element found: line 1, column 74",
    ),
}


HEADERS_NOT_UNDERSTOOD = ("only_missing_required", "missing_settle_date")


@pytest.mark.parametrize("case", list(FAILS))
def test_bad_file_is_one_line_error_naming_the_file(tmp_path, case):
    name, data, message = FAILS[case]
    path = tmp_path / name
    path.write_bytes(data)
    if case in HEADERS_NOT_UNDERSTOOD:  # `crmtool inspect` shows why
        message += f"; run `crmtool inspect {path}` to see why"
    assert cli_error(tmp_path, "load", str(path)) == f"crmtool: error: {path}: {message}"
    assert not (tmp_path / "crm.duckdb").exists()  # a failed load leaves no database


def test_workbook_without_header_anywhere(tmp_path):
    path = xlsx(tmp_path / "n.xlsx", {"s": [["R1", V1, "2021-01-05"]], "t": [["备注"]]})
    assert cli_error(tmp_path, "load", str(path)) == (
        f"crmtool: error: {path}: no sheet has a recognisable header in its first 20 rows "
        "(sheets: s, t)"
    )


def test_a_bad_file_among_good_ones_loads_nothing(tmp_path):
    good = tmp_path / "a.csv"
    good.write_bytes((H + row("R1")).encode())
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"")
    assert (
        cli_error(tmp_path, "load", str(good), str(bad)) == f"crmtool: error: {bad}: file is empty"
    )
    assert not (tmp_path / "crm.duckdb").exists()  # nothing loaded: not even a database


def test_database_in_missing_folder(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes((H + row("R1")).encode())
    target = tmp_path / "no" / "such" / "crm.duckdb"
    r = runner.invoke(app, ["--db", str(target), "load", str(f)])
    assert (r.exit_code, r.stderr) == (
        1,
        f"crmtool: error: folder of database {target} does not exist\n",
    )
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "toml, message",
    [
        ('ours_days = "abc"\n', "config key 'ours_days' must be int, got 'abc'"),
        ("[tiers]\nnope = 1\n", "unknown config key 'tiers.nope'"),
        ("ours_days = [\n", "{path}: not valid TOML: Invalid value (at end of document)"),
    ],
)
def test_config_with_bad_value_names_the_key(tmp_path, toml, message):
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text(toml, encoding="utf-8")
    f = tmp_path / "a.csv"
    f.write_bytes((H + row("R1")).encode())
    assert cli_error(
        tmp_path, "--config", str(cfg), "load", str(f)
    ) == "crmtool: error: " + message.format(path=cfg)


def test_no_traceback_reaches_stderr_in_a_real_process(tmp_path):
    garbage = tmp_path / "g.csv"
    garbage.write_bytes(bytes(range(256)) * 4)
    cfg = tmp_path / "bad.toml"
    cfg.write_text('shared_phone_max_ids = "x"\n', encoding="utf-8")
    runs = [
        ([str(garbage)], f"crmtool: error: {garbage}: binary file, not a text export (NUL bytes)"),
        (
            ["--config", str(cfg), str(garbage)],
            "crmtool: error: config key 'shared_phone_max_ids' must be int, got 'x'",
        ),
    ]
    for extra, line in runs:
        args = ["--db", str(tmp_path / "crm.duckdb")]
        if extra[0] == "--config":
            args += extra[:2]
            extra = extra[2:]
        p = subprocess.run(
            [sys.executable, "-m", "crmtool", *args, "load", *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (p.returncode, p.stdout, p.stderr) == (1, "", line + "\n")


# ------------------------------------------------------------ files that load: exact outcome

# name -> (file name, bytes, records written, (loaded, duplicates, rejected), rejects, flags)
LOADS = {
    "header_only": ("h.csv", H.encode(), 0, (0, 0, 0), [], []),
    "header_only_crlf_no_final_newline": ("h2.csv", H.strip().encode(), 0, (0, 0, 0), [], []),
    "semicolon_delimiter": (
        "s.csv",
        (H + row("R1")).replace(",", ";").encode(),
        1,
        (1, 0, 0),
        [],
        [],
    ),
    "tab_delimiter": ("t.tsv", (H + row("R1")).replace(",", "\t").encode(), 1, (1, 0, 0), [], []),
    "pipe_delimiter_gbk": (
        "p.csv",
        (H + row("R1")).replace(",", "|").encode("gbk"),
        1,
        (1, 0, 0),
        [],
        [],
    ),
    "mixed_delimiters": (
        "m.csv",
        (H + row("R1").replace(",", ";") + row("R2")).encode(),
        2,
        (1, 0, 1),
        [(2, "wrong number of fields: expected 4, found 1")],
        [],
    ),
    "utf8_bom": ("b.csv", b"\xef\xbb\xbf" + (H + row("R1")).encode(), 1, (1, 0, 0), [], []),
    "gbk_named_csv": ("g.csv", (H + row("R1")).encode("gbk"), 1, (1, 0, 0), [], []),
    "gbk_crlf": (
        "g2.csv",
        (H + row("R1") + row("R2")).replace("\n", "\r\n").encode("gbk"),
        2,
        (2, 0, 0),
        [],
        [],
    ),
    "mixed_line_endings": (
        "l.csv",
        (
            H.replace("\n", "\r\n") + row("R1") + row("R2")[:-1] + "\r" + row("R3")[:-1] + "\r\n"
        ).encode(),
        3,
        (3, 0, 0),
        [],
        [],
    ),
    "old_mac_cr_only": (
        "c.csv",
        (H + row("R1") + row("R2")).replace("\n", "\r").encode(),
        2,
        (2, 0, 0),
        [],
        [],
    ),
    "blank_lines_between": (
        "bl.csv",
        (H + "\n" + row("R1") + " \n\n" + row("R2")).encode(),
        2,
        (2, 0, 0),
        [],
        [],
    ),
    "unbalanced_quote_to_eof": (
        "u.csv",
        (H + row("R1") + f'R2,{V1},"2021-01-05,100\n' + row("R3")).encode(),
        2,
        (1, 0, 1),
        [(3, "unbalanced quote (the quoted field runs to the end of the file)")],
        [],
    ),
    "extra_and_missing_columns": (
        "r.csv",
        (H + row("R1")[:-1] + ",extra\n" + f"R2,{V1},2021-01-05\n" + row("R3")).encode(),
        3,
        (1, 0, 2),
        [
            (2, "wrong number of fields: expected 4, found 5"),
            (3, "wrong number of fields: expected 4, found 3"),
        ],
        [],
    ),
    "duplicate_header_names": (
        "d.csv",
        (f"工单号,VIN,结算日期,结算金额,结算金额\nR1,{V1},2021-01-05,100,200\n").encode(),
        1,
        (1, 0, 0),
        [],
        [],
    ),
    "title_row_and_totals_row": (
        "tt.csv",
        ("某某4S店 维修工单导出 2021年10月\n" + H + row("R1") + "合计,,,100\n").encode("gbk"),
        2,
        (1, 0, 1),
        [(4, "totals row")],
        [],
    ),
    "impossible_dates": (
        "i.csv",
        (H + row("R1", "2021-02-30") + row("R2", "2021-13-01") + row("R3", "2021-01-05")).encode(),
        3,
        (1, 0, 2),
        [
            (2, "settle_date is not a date: '2021-02-30'"),
            (3, "settle_date is not a date: '2021-13-01'"),
        ],
        [],
    ),
    "missing_required_values": (
        "mv.csv",
        (H + row("") + row("R2", vin="") + row("R3", "")).encode(),
        3,
        (0, 0, 3),
        [(2, "missing ro_id"), (3, "missing vin"), (4, "missing settle_date")],
        [],
    ),
    "future_date_flagged": (
        "f.csv",
        (H + row("R1", "2099-01-01")).encode(),
        1,
        (1, 0, 0),
        [],
        [(2, "settle_date", "future_date", "2099-01-01")],
    ),
    "negative_and_reversal_amounts": (
        "n.csv",
        (
            H + row("R1", amount="-100") + row("R2", amount="(250.5)") + row("R3", amount="abc")
        ).encode(),
        3,
        (3, 0, 0),
        [],
        [
            (2, "total_amount", "negative_total", "-100.0"),
            (3, "total_amount", "negative_total", "-250.5"),
            (4, "total_amount", "bad_amount", "abc"),
        ],
    ),
    "vins_flagged_not_rejected": (
        "v.csv",
        (
            H
            + row("R1", vin="LSVAA4183E200000I")
            + row("R2", vin="LSVOA4183Q2000001")
            + row("R3", vin=V2)
        ).encode(),
        3,
        (3, 0, 0),
        [],
        [
            (2, "vin", "vin_chars", "LSVAA4183E200000I"),
            (3, "vin", "vin_chars", "LSVOA4183Q2000001"),
            (4, "vin", "vin_check_digit", V2),
        ],
    ),
    "same_ro_twice_in_one_file": (
        "tw.csv",
        (H + row("R1", amount="1") + row("R1", amount="2")).encode(),
        2,
        (1, 1, 0),
        [],
        [],
    ),
}


@pytest.mark.parametrize("case", list(LOADS))
def test_file_loads_with_exact_outcome(tmp_path, case):
    name, data, records, counts, rejects, flags = LOADS[case]
    path = tmp_path / name
    path.write_bytes(data)
    res, got_rejects, got_flags, con = load(tmp_path, path)
    (sheet,) = res.sheets
    assert sheet.read == records
    assert (sheet.loaded, sheet.duplicates, sheet.rejected) == counts
    assert got_rejects == rejects
    assert got_flags == flags
    assert con.execute("SELECT count(*) FROM repair_orders").fetchall() == [(counts[0],)]
    con.close()


def test_values_survive_encodings_and_quoting(tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes((f"工单号,VIN,结算日期,服务顾问\nR1,{V1},2021-01-05,王五\n").encode("gbk"))
    # UTF-8 whose bytes would also decode as GBK mojibake ('锟斤拷' is what GBK shows for it)
    utf = tmp_path / "utf.csv"
    utf.write_bytes((f"工单号,VIN,结算日期,服务顾问\nR2,{V1},2021-01-05,锟斤拷 赵六\n").encode())
    qnl = tmp_path / "qnl.csv"
    qnl.write_bytes(
        (
            "工单号,VIN,结算日期,服务顾问\n"
            f'R3,{V1},2021-01-05,"钱\n七, ""老"""\n'
            f"R4,{V1},2021-01-05,孙八\n"
        ).encode()
    )
    big = tmp_path / "big.csv"
    big.write_bytes(
        (f"工单号,VIN,结算日期,服务顾问\nR5,{V1},2021-01-05,{'x' * (1 << 20)}\n").encode()
    )
    res, rejects, flags, con = load(tmp_path, gbk, utf, qnl, big)
    assert [(s.read, s.loaded) for s in res.sheets] == [(1, 1), (1, 1), (2, 2), (1, 1)]
    got = con.execute(
        "SELECT ro_id, length(advisor), left(advisor, 8), _line FROM repair_orders ORDER BY ro_id"
    ).fetchall()
    assert got == [
        ("R1", 2, "王五", 2),
        ("R2", 6, "锟斤拷 赵六", 2),
        ("R3", 8, '钱\n七, "老"', 2),
        ("R4", 2, "孙八", 4),
        ("R5", 1 << 20, "xxxxxxxx", 2),
    ]
    assert (rejects, flags) == ([], [])
    con.close()


def test_duplicate_header_takes_the_leftmost_column(tmp_path):
    name, data, *_ = LOADS["duplicate_header_names"]
    (tmp_path / name).write_bytes(data)
    *_, con = load(tmp_path, tmp_path / name)
    assert con.execute("SELECT total_amount FROM repair_orders").fetchall() == [(100.0,)]
    con.close()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021-01-05", date(2021, 1, 5)),
        ("2021/1/5", date(2021, 1, 5)),
        ("2021.01.05", date(2021, 1, 5)),
        ("20210105", date(2021, 1, 5)),
        ("2021年1月5日", date(2021, 1, 5)),
        ("2021-01-05 13:45:00", date(2021, 1, 5)),
        ("44201", date(2021, 1, 5)),  # an Excel serial
    ],
)
def test_each_date_form_loads(tmp_path, text, expected):
    path = tmp_path / "d.csv"
    path.write_bytes((H + row("R1", text)).encode("gbk"))
    res, rejects, flags, con = load(tmp_path, path)
    assert (res.loaded, rejects, flags) == (1, [], [])
    assert con.execute("SELECT settle_date FROM repair_orders").fetchall() == [(expected,)]
    con.close()


def test_workbook_title_row_totals_row_serial_and_sheet_without_header(tmp_path):
    (tmp_path / "in").mkdir()
    path = xlsx(
        tmp_path / "in" / "w.xlsx",
        {
            "工单": [
                ["某店工单导出 2021年"],
                [],
                ["工单号", "VIN", "结算日期", "结算金额"],
                ["R1", V1, "2021-01-05", 100],
                ["R2", V1, 44201, 50],
                ["合计", None, None, 150],
            ],
            "说明": [["本表说明"], ["无表头"]],
        },
    )
    # in a folder, the sheet without a header is reported on its own line (docs/rules.md §17 "Loading")
    res, rejects, flags, con = load(tmp_path, tmp_path / "in")
    assert [s.describe() for s in res.sheets] == [
        f"{path} [工单]: read 3 = loaded 2 + duplicates 0 + rejected 1 (repair_orders)",
        f"{path} [说明]: read 2 = rejected 2: no header",
    ]
    assert rejects == [(1, "no header"), (2, "no header"), (6, "totals row")]
    assert con.execute(
        "SELECT ro_id, settle_date, total_amount, _line FROM repair_orders ORDER BY ro_id"
    ).fetchall() == [("R1", date(2021, 1, 5), 100.0, 4), ("R2", date(2021, 1, 5), 50.0, 5)]
    con.close()


def test_xlsx_renamed_csv_is_read_by_content(tmp_path):
    path = xlsx(
        tmp_path / "really.csv", {"s": [["工单号", "VIN", "结算日期"], ["R1", V1, "2021-01-05"]]}
    )
    res, rejects, _, con = load(tmp_path, path)
    assert [s.describe() for s in res.sheets] == [
        f"{path} [s]: read 1 = loaded 1 + duplicates 0 + rejected 0 (repair_orders)"
    ]
    con.close()


def test_html_xls_in_gbk(tmp_path):
    path = tmp_path / "dms.xls"
    cells = "".join(f"<td>{c}</td>" for c in ["R1", V1, "2021-01-05", "1,234.50"])
    path.write_bytes(
        (
            '<html><head><meta charset="gbk"></head><body><table><tr><th>工单号</th>'
            "<th>VIN</th><th>结算日期</th><th>结算金额</th></tr>"
            f"<tr>{cells}</tr><tr><td>合计</td><td></td><td></td><td>1234.5</td></tr>"
            "</table></body></html>"
        ).encode("gbk")
    )
    res, rejects, _, con = load(tmp_path, path)
    assert [s.describe() for s in res.sheets] == [
        f"{path} [table 1]: read 2 = loaded 1 + duplicates 0 + rejected 1 (repair_orders)"
    ]
    assert rejects == [(3, "totals row")]
    assert con.execute("SELECT ro_id, total_amount FROM repair_orders").fetchall() == [
        ("R1", 1234.5)
    ]
    con.close()


def test_same_ro_in_two_exports_newer_wins_counted_duplicate(tmp_path):
    old = tmp_path / "2021-10.csv"
    old.write_bytes((H + row("R1", amount="100") + row("R2")).encode("gbk"))
    new = tmp_path / "2021-11.csv"
    new.write_bytes((H + row("R1", amount="180")).encode())
    res, *_, con = load(tmp_path, old, new)
    assert [(s.read, s.loaded, s.duplicates) for s in res.sheets] == [(2, 2, 0), (1, 0, 1)]
    assert con.execute(
        "SELECT ro_id, total_amount, _file FROM repair_orders ORDER BY ro_id"
    ).fetchall() == [("R1", 180.0, str(new)), ("R2", 100.0, str(old))]
    con.close()


def test_one_phone_two_names_merged_by_phone_and_counted(tmp_path):
    a = tmp_path / "cu1.csv"
    a.write_bytes("客户编号,姓名,手机\nC1,张三,138 0013 8000\n".encode("gbk"))
    b = tmp_path / "cu2.csv"
    b.write_bytes("客户编号,姓名,手机\nC9,张叁,+86 13800138000\n".encode())
    res, *_, con = load(tmp_path, a, b)
    assert [(s.read, s.loaded, s.duplicates, s.rejected) for s in res.sheets] == [
        (1, 1, 0, 0),
        (1, 0, 1, 0),
    ]
    assert con.execute("SELECT customer_id, name, phone FROM customers").fetchall() == [
        ("C1", "张叁", "13800138000")
    ]
    con.close()


def test_mileage_going_backwards_is_reported_by_validate(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(
        (
            "工单号,VIN,结算日期,进厂里程\n"
            f"R1,{V1},2021-01-05,20000\n"
            f'R2,{V1},2021-06-05,"12,000 km"\n'
        ).encode("gbk")
    )
    *_, con = load(tmp_path, path, on_disk=True)
    con.close()
    r = runner.invoke(app, ["--db", str(tmp_path / "crm.duckdb"), "validate", "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    check = next(c for c in json.loads(r.stdout) if c["name"] == "mileage_backwards")
    assert (check["count"], check["examples"]) == (1, [f"{V1} 2021-06-05: 12000.0 km < 20000.0 km"])


def test_100k_rows_one_bad_row_in_the_middle(tmp_path):
    n, bad = 100_000, 50_001  # the bad record is data row 50,001: physical line 50,002
    body = [f"R{i},{V1},2021-01-05,{i}\n" for i in range(1, n + 1)]
    body[bad - 1] = f"R{bad},{V1},2021-02-30,1\n"
    path = tmp_path / "big.csv"
    path.write_bytes((H + "".join(body)).encode("gbk"))
    res, rejects, flags, con = load(tmp_path, path)
    assert (res.read, res.loaded, res.duplicates, res.rejected) == (n, n - 1, 0, 1)
    assert rejects == [(bad + 1, "settle_date is not a date: '2021-02-30'")]
    assert con.execute(
        "SELECT count(*), sum(total_amount)::BIGINT FROM repair_orders"
    ).fetchall() == [(n - 1, n * (n + 1) // 2 - bad)]
    assert con.execute("SELECT _line FROM repair_orders WHERE ro_id = 'R99999'").fetchall() == [
        (100_000,)
    ]
    con.close()


def test_100k_rows_one_ragged_row_in_the_middle_via_cli(tmp_path):
    n, bad = 100_000, 70_000
    body = [f"R{i},{V1},2021-01-05,{i}\n" for i in range(1, n + 1)]
    body[bad - 1] = f"R{bad},{V1},2021-01-05\n"
    path = tmp_path / "big.csv"
    path.write_bytes((H + "".join(body)).encode())
    r = runner.invoke(app, ["--db", str(tmp_path / "crm.duckdb"), "load", str(path)])
    assert r.exit_code == 0, r.output
    assert (
        r.stderr.splitlines()[0]
        == f"{path}: read {n} = loaded {n - 1} + duplicates 0 + rejected 1 (repair_orders)"
    )
    r = runner.invoke(app, ["--db", str(tmp_path / "crm.duckdb"), "rejects", "--format", "csv"])
    assert r.stdout.splitlines()[1:] == [
        f'1,{path},{bad + 1},repair_orders,"wrong number of fields: expected 4, found 3",'
        f'"R{bad},{V1},2021-01-05"'
    ]


def test_unknown_kind_of_file_is_one_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("姓名,性别\n张三,男\n".encode("gbk"))
    assert cli_error(tmp_path, "load", str(path)) == (
        f"crmtool: error: {path}: no recognisable header in the first 20 rows "
        "(first row: 姓名 | 性别)"
    )


def test_ingest_raises_only_crmerror(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes(b"\xff\xfe" + "工单号".encode("utf-16-le"))
    con = db.connect(tmp_path / "crm.duckdb")
    with pytest.raises(CrmError):
        ingest.load(con, [path], Config())
    assert con.execute("SELECT count(*) FROM loads").fetchall() == [(0,)]
    con.close()
