"""Issue 14 items 2, 3, 5 and 8 (file formats): every sheet and row accounted for, stray quotes,
over-long lines, workbook limits before the native reader, private temporary copies, HTML
spans, UTF-16 text, repeated and two-row headers. Files are written by each test; the answers
are worked out by hand in the comments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from hostile_workbooks import cell, xlsx
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app
from crmtool.config import Config, LimitsConfig, config_from_dict
from crmtool.load import ingest, readers, scratch

V1 = "LSVAA4183E2000001"
H = "工单号,VIN,结算日期,结算金额\n"
runner = CliRunner()


def cli(tmp_path: Path, *args: str):
    return runner.invoke(app, ["--db", str(tmp_path / "crm.duckdb"), *args])


def counts(con) -> tuple:
    return con.execute(
        "SELECT (SELECT count(*) FROM repair_orders), (SELECT count(*) FROM "
        "loads), (SELECT count(*) FROM rejects)"
    ).fetchone()


def notes_workbook(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("工单")
    ws.write_row(0, 0, ["工单号", "VIN", "结算日期", "结算金额", "付费方式"])
    ws.write_row(1, 0, ["R1", V1, "2021-01-05", 100, "自费"])
    notes = wb.add_worksheet("说明")
    for i in range(50):  # 50 rows of data, no header
        notes.write_row(i, 0, [f"第{i + 1}行", "备注"])
    wb.close()
    return path


# ------------------------------------------------------------ every sheet and file accounted for


def test_folder_reports_sheet_without_header_and_unrecognised_file(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    book = notes_workbook(folder / "a.xlsx")
    (folder / "readme.txt").write_text("本文件夹为每月导出\n请勿修改\n", encoding="utf-8")
    (folder / "z.csv").write_bytes(b"\x00\x01binary")
    r = cli(tmp_path, "load", str(folder))
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        f"{book} [工单]: read 1 = loaded 1 + duplicates 0 + rejected 0 (repair_orders)",
        f"{book} [说明]: read 50 = rejected 50: no header",
        f"{folder / 'readme.txt'}: read 2 = rejected 2: no header",
        f"{folder / 'z.csv'}: skipped: not recognised: binary file, not a text export (NUL bytes)",
        "total: read 53 = loaded 1 + duplicates 0 + rejected 52",
        "rejected rows: `crmtool rejects`; how a file is read: `crmtool inspect FILE`",
        "crmtool: warning: 3 file(s) or sheet(s) not recognised and not loaded (52 rows "
        "rejected: no header); see the lines above and `crmtool rejects`",
    ]
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    # 1 order; loads: 2 sheets + readme; rejects: 50 + 2 rows, each with its line and text
    assert counts(con) == (1, 3, 52)
    assert con.execute(
        "SELECT line, reason, raw FROM rejects WHERE file LIKE '%readme.txt' ORDER BY line"
    ).fetchall() == [(1, "no header", "本文件夹为每月导出"), (2, "no header", "请勿修改")]
    assert con.execute(
        "SELECT sum(read), sum(loaded) + sum(duplicates) + sum(rejected) FROM loads"
    ).fetchone() == (53, 53)
    con.close()


def test_warning_survives_quiet(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "readme.txt").write_text("说明\n", encoding="utf-8")
    r = cli(tmp_path, "-q", "load", str(folder))
    assert r.exit_code == 0 and r.stderr.splitlines() == [
        "crmtool: warning: 1 file(s) or sheet(s) not recognised and not loaded (1 rows "
        "rejected: no header); see the lines above and `crmtool rejects`"
    ]


def test_named_workbook_with_sheet_without_header_fails_and_loads_nothing(tmp_path):
    book = notes_workbook(tmp_path / "a.xlsx")
    r = cli(tmp_path, "load", str(book))
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"crmtool: error: {book}: sheet '说明' has 50 rows and no recognisable header in its "
        "first 20 rows (first row: 第1行 | 备注); load its folder instead to report it and "
        "load the rest"
    ]
    assert not (tmp_path / "crm.duckdb").exists()  # a failed load leaves no database (#15)


def test_named_readme_still_fails(tmp_path):
    readme = tmp_path / "readme.txt"
    readme.write_text("本文件夹为每月导出\n", encoding="utf-8")
    r = cli(tmp_path, "load", str(readme))
    assert r.exit_code == 1 and r.stderr.splitlines() == [
        f"crmtool: error: {readme}: no recognisable header in the first 20 rows (first row: "
        "本文件夹为每月导出)"
    ]


# ------------------------------------------------------------------------------- CSV records


def test_stray_quote_in_unquoted_field_is_data(tmp_path):
    # 10 records; record 2's name is 王"五 written without quotes (DuckDB and csv: 10 records)
    odd = '王"五'
    rows = [f"R{i},{V1},2021-01-{i:02d},{odd if i == 2 else '李四'}\n" for i in range(1, 11)]
    path = tmp_path / "q.csv"
    path.write_text("工单号,VIN,结算日期,车主姓名\n" + "".join(rows), encoding="utf-8")
    con = db.connect(":memory:")
    res = ingest.load(con, [path], Config())
    assert (res.read, res.loaded, res.rejected) == (10, 10, 0)
    assert con.execute("SELECT _line FROM repair_orders WHERE ro_id = 'R10'").fetchone() == (11,)
    con.close()


@pytest.mark.parametrize(
    "text, records",
    [
        ('R1,V,李四",1\nR2,V,"a\nb",2\nR3,V,x,3\n', [(2, '李四"'), (3, "a\nb"), (5, "x")]),
        ('R1,V,a"b"c,1\nR2,V,"x,y",2\n', [(2, 'a"b"c'), (3, "x,y")]),
        ('R1,V, "x,y",1\nR2,V,王"五,2\n', [(2, "x,y"), (3, '王"五')]),  # DuckDB: quote after spaces
    ],
)
def test_quotes_read_as_duckdb_reads_them(tmp_path, text, records):
    path = tmp_path / "q.csv"
    path.write_text("工单号,VIN,备注,结算金额\n" + text, encoding="utf-8")
    con = duckdb.connect()
    [s] = readers.read_file(con, path, recognise=ingest.recogniser(None))
    assert con.execute(f"SELECT _line, c2 FROM {s.table} ORDER BY _line").fetchall() == records
    assert s.read == len(records) and s.malformed == []
    con.close()


def test_over_long_line_is_a_reject_in_bounded_memory(tmp_path):
    big = 3 << 20  # a 3 MiB line; the limit is 1 MiB
    path = tmp_path / "long.csv"
    with open(path, "wb") as fh:
        fh.write(H.encode() + f"R1,{V1},2021-01-05,1\n".encode())
        fh.write(f"R2,{V1},2021-01-05,".encode() + b"9" * big + b"\n")
        fh.write(f"R3,{V1},2021-01-06,3\n".encode())
    con = db.connect(":memory:")
    cfg = config_from_dict({"limits": {"max_line_mib": 1}})
    res = ingest.load(con, [path], cfg)
    assert (res.read, res.loaded, res.rejected) == (3, 2, 1)
    line, reason, raw = con.execute("SELECT line, reason, raw FROM rejects").fetchone()
    assert (line, reason) == (3, "line longer than 1 MiB (limits.max_line_mib): not read")
    assert raw.startswith(f"R2,{V1},2021-01-05,999") and len(raw) == 201  # 200 + "…"
    con.close()


def test_scan_never_holds_more_than_the_limit():
    scan = readers._Scan(max_line=1000)
    held = 0
    scan.feed(b"a,b\n")
    for _ in range(500):  # one line of 500 x 64 KiB = 32 MiB, fed in chunks
        scan.feed(b"x" * (64 << 10))
        held = max(held, len(scan._tail))
    scan.feed(b"\nc,d\n")
    scan.finish()
    assert held <= 1000 + (64 << 10)  # at most one chunk past the limit, then nothing
    assert (scan.lines, [ln for ln, _ in scan.long], scan.blanks) == (3, [2], [])


# -------------------------------------------------------------------------- workbook limits


def header_cells() -> list[str]:
    return [cell("A1", "工单号"), cell("B1", "VIN"), cell("C1", "结算日期")]


def load_in_subprocess(tmp_path: Path, path: Path) -> subprocess.CompletedProcess:
    """A native abort would kill pytest itself: the hostile workbooks load in a child."""
    return subprocess.run(
        [sys.executable, "-m", "crmtool", "--db", str(tmp_path / "c.duckdb"), "load", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    "rows, dimension, message",
    [
        (
            [(1, "H")],
            "A1:XFD1048576",
            "sheet '数据' declares 16,384 × 1,048,576 cells; limit 50,000,000 (limits.max_cells)",
        ),
        (
            [(1, "H"), (1048576, "XFD1048576")],
            "A1:C1",  # one cell far away, the dimension lies
            "sheet '数据' uses 16,384 × 1,048,576 cells; limit 50,000,000 (limits.max_cells)",
        ),
    ],
)
def test_workbook_declaring_huge_sheet_is_refused_before_reading(
    tmp_path, rows, dimension, message
):
    built = [(r, header_cells() if c == "H" else [cell(c, "x")]) for r, c in rows]
    path = xlsx(tmp_path / "bomb.xlsx", built, dimension=dimension)
    assert path.stat().st_size < 2000
    done = load_in_subprocess(tmp_path, path)
    assert (done.returncode, done.stderr) == (1, f"crmtool: error: {path}: {message}\n")


def test_huge_shared_string_is_refused(tmp_path):
    # one 300,000-character string used by 4 cells: Excel itself stops at 32,767
    rows = [(1, header_cells())] + [
        (r, [cell(f"A{r}", f"R{r}"), cell(f"B{r}", "#0")]) for r in range(2, 6)
    ]
    path = xlsx(tmp_path / "sst.xlsx", rows, strings=["x" * 300_000])
    done = load_in_subprocess(tmp_path, path)
    assert (done.returncode, done.stderr) == (
        1,
        f"crmtool: error: {path}: the shared strings hold a text longer than 32,767 "
        "characters (limits.max_cell_chars)\n",
    )


def test_zip_bomb_part_is_refused(tmp_path):
    # 30 MiB of spaces inside the sheet: packs about 1000 : 1
    rows = [(1, header_cells() + [" " * (30 << 20)])]
    path = xlsx(tmp_path / "zip.xlsx", rows, dimension="A1:C1")
    done = load_in_subprocess(tmp_path, path)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"crmtool: error: {path}: workbook part xl/worksheets/sheet1.xml unpacks "
    )
    assert done.stderr.endswith(" times its packed size; limit 200 (limits.max_zip_ratio)\n")


def test_limits_come_from_config(tmp_path):
    rows = [(1, header_cells()), (2, [cell("A2", "R1"), cell("B2", V1), cell("C2", "2021-01-05")])]
    path = xlsx(tmp_path / "ok.xlsx", rows, dimension="A1:C2")
    con = db.connect(":memory:")
    with pytest.raises(readers.CrmError, match=r"declares 3 × 2 cells; limit 5 "):
        ingest.load(con, [path], config_from_dict({"limits": {"max_cells": 5}}))
    assert ingest.load(con, [path], Config()).loaded == 1
    con.close()


def test_encrypted_workbook_is_refused_in_one_line(tmp_path):
    # an OLE2 compound file whose directory names an EncryptedPackage stream
    path = tmp_path / "secret.xlsx"
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(1000)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(1000)
    )
    r = cli(tmp_path, "load", str(path))
    assert r.exit_code == 1 and r.stderr == (
        f"crmtool: error: {path}: the workbook is encrypted (password-protected); save a copy "
        "without a password and load that\n"
    )


class FakePanic(BaseException):
    """What pyo3 raises for a Rust panic: a BaseException, not an Exception."""


def test_native_reader_panic_is_one_line(tmp_path, monkeypatch):
    import fastexcel

    def boom(*args, **kwargs):
        raise FakePanic("called `Option::unwrap()` on a `None` value\nstack backtrace: ...")

    rows = [(1, header_cells())]
    path = xlsx(tmp_path / "p.xlsx", rows, dimension="A1:C1")
    monkeypatch.setattr(fastexcel, "read_excel", boom)
    r = cli(tmp_path, "load", str(path))
    assert r.exit_code == 1 and r.stderr == (
        f"crmtool: error: {path}: not a readable Excel workbook: called `Option::unwrap()` on "
        "a `None` value\n"
    )


# -------------------------------------------------------------------- temporary copies


def test_transcoded_copy_lives_in_private_folder_beside_database(tmp_path, monkeypatch):
    seen: list[tuple[Path, int]] = []
    real = readers._duck_csv

    def spy(con, path, source, *args):
        seen.append((Path(source), os.stat(Path(source).parent).st_mode & 0o777))
        return real(con, path, source, *args)

    monkeypatch.setattr(readers, "_duck_csv", spy)
    home = tmp_path / "db"
    home.mkdir()
    path = tmp_path / "gbk.csv"
    path.write_bytes((H + f"R1,{V1},2021-01-05,100\n").encode("gbk"))
    con = db.connect(home / "crm.duckdb")
    ingest.load(con, [path], Config())
    con.close()
    [(source, mode)] = seen
    assert source.parent.parent == home / scratch.WORK_DIR and mode == 0o700
    assert not (home / scratch.WORK_DIR).exists()  # removed after the load


def test_leftovers_of_a_killed_load_are_cleared_at_the_next_start(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()  # a pid that ended
    left = tmp_path / scratch.WORK_DIR / f"{dead}-0000"
    left.mkdir(parents=True)
    (left / "copy.csv").write_text("客户编号,手机\nC1,13800138000\n", encoding="utf-8")
    path = tmp_path / "a.csv"
    path.write_bytes((H + f"R1,{V1},2021-01-05,100\n").encode())
    assert cli(tmp_path, "load", str(path)).exit_code == 0
    assert not (tmp_path / scratch.WORK_DIR).exists()


# -------------------------------------------------------------------------------- file formats


def test_html_spans_and_nested_table_read_as_a_browser_lays_them_out(tmp_path):
    # a layout table holding the data table; the header is two rows (费用 over 工时费 材料费,
    # the others merged down); the VIN is merged over both orders
    html = (
        "<html><body><table><tr><td>导出</td><td><table>"
        "<tr><th rowspan=2>工单号</th><th rowspan=2>VIN</th><th colspan=2>费用</th>"
        "<th rowspan=2>结算日期</th></tr><tr><th>工时费</th><th>材料费</th></tr>"
        f"<tr><td>R1</td><td rowspan=2>{V1}</td><td>100</td><td>20</td>"
        "<td>2021-01-05</td></tr>"
        "<tr><td>R2</td><td>50</td><td>5</td><td>2021-01-06</td></tr>"
        "<tr><td colspan=2>合计</td><td>150</td><td>25</td><td></td></tr>"
        "</table></td></tr></table></body></html>"
    )
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "web.xls"
    path.write_text(html, encoding="utf-8")
    con = db.connect(":memory:")
    res = ingest.load(con, [folder], Config())
    # table 1 (the layout) has one row of data, 导出, and no header
    assert [s.describe() for s in res.sheets] == [
        f"{path} [table 1]: read 1 = rejected 1: no header",
        f"{path} [table 2]: read 3 = loaded 2 + duplicates 0 + rejected 1 (repair_orders)",
    ]
    assert con.execute(
        "SELECT ro_id, vin, labor_amount, parts_amount, total_amount, _line "
        "FROM repair_orders ORDER BY ro_id"
    ).fetchall() == [("R1", V1, 100.0, 20.0, 120.0, 3), ("R2", V1, 50.0, 5.0, 55.0, 4)]
    con.close()


def test_span_above_the_limit_refuses_the_file(tmp_path):
    path = tmp_path / "web.xls"
    path.write_text(
        "<table><tr><th>工单号</th><th>VIN</th><th colspan=1001>结算日期</th></tr></table>",
        encoding="utf-8",
    )
    r = cli(tmp_path, "load", str(path))
    assert r.exit_code == 1 and r.stderr == (
        f"crmtool: error: {path}: table 1, row 1: colspan 1001 is above the limit of 1,000 "
        "(limits.max_span)\n"
    )


def test_excel_unicode_text_utf16_tab_separated(tmp_path):
    text = (
        f"工单号\tVIN\t结算日期\t结算金额\r\nR1\t{V1}\t2021-01-05\t100\r\n"
        f"R2\t{V1}\t2021-01-06\t5\r\n"
    )
    path = tmp_path / "unicode.txt"
    path.write_bytes(text.encode("utf-16"))  # with BOM, little-endian: Excel's own output
    con = db.connect(":memory:")
    res = ingest.load(con, [path], Config())
    assert (res.read, res.loaded) == (2, 2)
    assert con.execute("SELECT sum(total_amount) FROM repair_orders").fetchone() == (105.0,)
    con.close()


def test_repeated_header_rows_are_dropped_counted_and_located(tmp_path):
    # a report printed page by page: the header again on lines 4 and 6
    path = tmp_path / "pages.csv"
    path.write_text(
        H
        + f"R1,{V1},2021-01-05,1\nR2,{V1},2021-01-05,2\n"
        + H
        + f"R3,{V1},2021-01-05,3\n"
        + H.replace(",", " , ")
        + f"R4,{V1},2021-01-05,4\n",
        encoding="utf-8",
    )
    r = cli(tmp_path, "load", str(path))
    assert r.exit_code == 0
    assert r.stderr.splitlines()[0] == (
        f"{path}: read 6 = loaded 4 + duplicates 0 + rejected 2 (repair_orders); header "
        "repeated on line 4, 6 (rejected)"
    )
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    assert con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall() == [
        (4, "repeated header row"),
        (6, "repeated header row"),
    ]
    con.close()


def test_two_row_merged_header_in_a_workbook(tmp_path):
    path = tmp_path / "merged.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("工单")
    ws.merge_range(0, 0, 1, 0, "工单号")
    ws.merge_range(0, 1, 1, 1, "VIN")
    ws.merge_range(0, 2, 0, 3, "费用")
    ws.write_row(1, 2, ["工时费", "材料费"])
    ws.merge_range(0, 4, 1, 4, "结算日期")
    ws.write_row(2, 0, ["R1", V1, 100, 20, "2021-01-05"])
    wb.close()
    con = db.connect(":memory:")
    res = ingest.load(con, [path], Config())
    assert (res.read, res.loaded) == (1, 1)
    assert con.execute(
        "SELECT labor_amount, parts_amount, total_amount, _line FROM repair_orders"
    ).fetchone() == (100.0, 20.0, 120.0, 3)
    con.close()


def test_a_data_row_under_a_group_is_never_taken_for_a_header(tmp_path):
    # row 2 has values under single headers (工单号, VIN): data, not a second header row
    path = tmp_path / "g.csv"
    path.write_text(
        f"工单号,VIN,费用,,结算日期\nR1,{V1},工时费,材料费,2021-01-05\n", encoding="utf-8"
    )
    con = duckdb.connect()
    [s] = readers.read_file(con, path, recognise=ingest.recogniser(None))
    assert (s.headers, s.read) == (["工单号", "VIN", "费用", "", "结算日期"], 1)
    con.close()


def test_limits_defaults_are_documented():
    doc = (Path(__file__).parents[2] / "docs" / "robustness.md").read_text(encoding="utf-8")
    for name, value in vars(LimitsConfig()).items():
        assert f"`{name} = {value}`" in doc, name


KILLED_IN_READ = """
import os, signal, sys
from crmtool.load import readers
from crmtool.cli.app import main

def die(*args):  # SIGKILL exactly while DuckDB would read the transcoded copy
    os.kill(os.getpid(), signal.SIGKILL)

readers._duck_csv = die
sys.argv = ["crmtool", "--db", sys.argv[1], "load", sys.argv[2]]
main()
"""


def test_sigkilled_gbk_load_leaves_nothing_in_tmpdir_and_its_copy_is_cleared(tmp_path):
    tmpdir, home = tmp_path / "tmp", tmp_path / "db"
    tmpdir.mkdir()
    home.mkdir()
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        (f"工单号,VIN,结算日期,车主电话\nR1,{V1},2021-01-05,13800138000\n").encode("gbk")
    )
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_IN_READ, str(home / "crm.duckdb"), str(path)],
        env=env,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == -9
    assert list(tmpdir.iterdir()) == []  # no copy of the export in $TMPDIR
    [left] = (home / scratch.WORK_DIR).iterdir()  # the killed load's private folder ...
    assert (left.stat().st_mode & 0o777) == 0o700 and len(list(left.iterdir())) == 1
    r = subprocess.run(
        [sys.executable, "-m", "crmtool", "--db", str(home / "crm.duckdb"), "load", str(path)],
        env=env,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0
    assert not (home / scratch.WORK_DIR).exists()  # ... is cleared by the next load


def test_over_long_line_and_stray_quote_in_one_file(tmp_path):
    # the stray quote sends the count to the exact pass, which must keep the long line a record
    path = tmp_path / "both.csv"
    with open(path, "wb") as fh:
        fh.write(H.encode() + f"R1,{V1},2021-01-05,1\n".encode())
        fh.write(f"R2,{V1},2021-01-05,".encode() + b"9" * (2 << 20) + b"\n")
        fh.write(f'R3,{V1},2021-01-06,3,王"五\n'.replace(",王", "").encode())
        fh.write(f'R4,{V1},王"五,4\nR5,{V1},2021-01-07,5\n'.encode())
    con = duckdb.connect()
    [s] = readers.read_file(
        con, path, recognise=ingest.recogniser(None), limits=LimitsConfig(max_line_mib=1)
    )
    assert s.read == 5 and [m[0] for m in s.malformed] == [3]
    assert con.execute(f"SELECT _line, c0 FROM {s.table} ORDER BY _line").fetchall() == [
        (2, "R1"),
        (4, "R3"),
        (5, "R4"),
        (6, "R5"),
    ]
    con.close()
