"""crmtool.load.readers: files written by each test, answers worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from builders import recognise

from crmtool.errors import CrmError
from crmtool.load import readers
from crmtool.load.readers import RawSheet, read_file


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def rows(con, s: RawSheet) -> list[tuple]:
    n = len(s.headers)
    cols = ", ".join(f"c{i}" for i in range(n))
    return con.execute(f"SELECT _line, {cols} FROM {s.table} ORDER BY _line").fetchall()


def check(con, s: RawSheet) -> None:
    count = con.execute(f"SELECT count(*) FROM {s.table}").fetchone()[0]
    assert s.read == count + len(s.malformed) + len(s.totals) + len(s.repeated)


def one(con, path: Path, **kw) -> RawSheet:
    sheets = read_file(con, path, recognise=recognise, **kw)
    assert len(sheets) == 1
    check(con, sheets[0])
    return sheets[0]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


BASIC = "VIN,车牌号,联系电话\nLVA1,粤A1,13800000001\nLVA2,粤A2,13800000002\n"


def test_utf8_basic(con, tmp_path):
    s = one(con, write(tmp_path, "a.csv", BASIC.encode()))
    assert (s.headers, s.header_line, s.read, s.encoding, s.sheet) == (
        ["VIN", "车牌号", "联系电话"],
        1,
        2,
        "utf-8",
        None,
    )
    assert rows(con, s) == [(2, "LVA1", "粤A1", "13800000001"), (3, "LVA2", "粤A2", "13800000002")]
    assert con.execute(f"SELECT _raw FROM {s.table} ORDER BY _line").fetchall() == [
        ("LVA1,粤A1,13800000001",),
        ("LVA2,粤A2,13800000002",),
    ]


def test_utf8_bom(con, tmp_path):
    s = one(con, write(tmp_path, "a.csv", b"\xef\xbb\xbf" + BASIC.encode()))
    assert s.encoding == "utf-8-sig" and s.headers[0] == "VIN"
    assert rows(con, s)[0] == (2, "LVA1", "粤A1", "13800000001")


def test_gbk(con, tmp_path):
    text = "工单号,VIN,结算日期,维修类型\r\nR1,LVA1,2021-03-05,首保\r\nR2,LVA2,2021/3/6,钣喷\r\n"
    s = one(con, write(tmp_path, "g.csv", text.encode("gbk")))
    assert s.encoding == "gb18030" and s.headers == ["工单号", "VIN", "结算日期", "维修类型"]
    assert rows(con, s) == [
        (2, "R1", "LVA1", "2021-03-05", "首保"),
        (3, "R2", "LVA2", "2021/3/6", "钣喷"),
    ]


def test_gbk_char_straddles_chunk(con, tmp_path):
    head = "VIN,车主姓名\n".encode("gbk")
    body = "LVA1,王小明\nLVA2,李雷\n".encode("gbk")
    data = head + body
    for chunk in (3, 5, 7, 16):  # small chunks: some cut through a two-byte character
        s = one(con, write(tmp_path, f"g{chunk}.csv", data), chunk_size=chunk)
        assert rows(con, s) == [(2, "LVA1", "王小明"), (3, "LVA2", "李雷")]


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiters(con, tmp_path, delim):
    text = f"VIN{delim}车牌号{delim}备注\nLVA1{delim}粤A1{delim}x,y\nLVA2{delim}粤A2{delim}\n"
    if delim == ",":
        text = text.replace("x,y", '"x,y"')
    s = one(con, write(tmp_path, "d.csv", text.encode()))
    assert rows(con, s) == [(2, "LVA1", "粤A1", "x,y"), (3, "LVA2", "粤A2", None)]
    assert s.malformed == []


def test_title_rows_and_totals(con, tmp_path):
    text = (
        "某某4S店维修工单导出\n导出日期：2024-01-31\n"
        "工单号,VIN,结算金额\nR1,LVA1,100\n\nR2,LVA2,200\n合计,,300\n,总计：,300\n"
    )
    s = one(con, write(tmp_path, "t.csv", text.encode()))
    assert s.header_line == 3 and s.read == 4
    assert rows(con, s) == [(4, "R1", "LVA1", "100"), (6, "R2", "LVA2", "200")]
    assert s.totals == [(7, "合计,,300"), (8, ",总计：,300")]


def test_wrong_field_count(con, tmp_path):
    text = "VIN,车牌号,联系电话\nLVA1,粤A1,138\nLVA2,粤A2\nLVA3,粤A3,139,extra\nLVA4,粤A4,137\n"
    s = one(con, write(tmp_path, "m.csv", text.encode()))
    assert s.read == 4
    why = "wrong number of fields: expected 3, found "
    assert s.malformed == [(3, "LVA2,粤A2", why + "2"), (4, "LVA3,粤A3,139,extra", why + "4")]
    assert rows(con, s) == [(2, "LVA1", "粤A1", "138"), (5, "LVA4", "粤A4", "137")]


def test_quoted_comma_and_newline(con, tmp_path):
    text = 'VIN,车牌号,备注\nLVA1,粤A1,"a,b"\nLVA2,粤A2,"line1\nline2"\nLVA3,粤A3,"x ""q"""\n'
    s = one(con, write(tmp_path, "q.csv", text.encode()))
    # the record with a quoted newline starts on line 3 and ends on line 4
    assert rows(con, s) == [
        (2, "LVA1", "粤A1", "a,b"),
        (3, "LVA2", "粤A2", "line1\nline2"),
        (5, "LVA3", "粤A3", 'x "q"'),
    ]


def test_unbalanced_quote(con, tmp_path):
    text = 'VIN,车牌号,备注\nLVA1,粤A1,ok\nLVA2,粤A2,"open\nLVA3,粤A3,x\n'
    s = one(con, write(tmp_path, "u.csv", text.encode()))
    assert s.read == 2
    assert rows(con, s) == [(2, "LVA1", "粤A1", "ok")]
    assert [(m[0], m[2]) for m in s.malformed] == [
        (3, "unbalanced quote (the quoted field runs to the end of the file)")
    ]
    assert s.malformed[0][1].startswith('LVA2,粤A2,"open')


def test_crlf_and_mixed_endings(con, tmp_path):
    s = one(con, write(tmp_path, "c.csv", b"VIN,plate\r\nA1,P1\r\n\r\nA2,P2\r\n"))
    assert rows(con, s) == [(2, "A1", "P1"), (4, "A2", "P2")]
    s = one(con, write(tmp_path, "m.csv", b"VIN,plate\r\nA1,P1\nA2,P2\rA3,P3\r\n\rA4,P4"))
    assert s.encoding == "utf-8"
    assert rows(con, s) == [(2, "A1", "P1"), (3, "A2", "P2"), (4, "A3", "P3"), (6, "A4", "P4")]


def test_mixed_endings_straddling_chunks(con, tmp_path):
    data = b"VIN,plate\r\nA1,P1\r\nA2,P2\nA3,P3\r\n"
    for chunk in (1, 2, 4, 10):
        s = one(con, write(tmp_path, f"x{chunk}.csv", data), chunk_size=chunk)
        assert rows(con, s) == [(2, "A1", "P1"), (3, "A2", "P2"), (4, "A3", "P3")]


def test_empty_and_blank_and_header_only(con, tmp_path):
    with pytest.raises(CrmError, match=r"e\.csv: file is empty"):
        read_file(con, write(tmp_path, "e.csv", b""), recognise=recognise)
    with pytest.raises(CrmError, match=r"b\.csv: file is empty"):
        read_file(con, write(tmp_path, "b.csv", b"\n\r\n  \n"), recognise=recognise)
    s = one(con, write(tmp_path, "h.csv", "VIN,车牌号\n".encode()))
    assert (s.read, s.header_line, s.headers) == (0, 1, ["VIN", "车牌号"])


def test_binary_garbage(con, tmp_path):
    with pytest.raises(CrmError, match=r"bin\.csv: binary file"):
        read_file(
            con, write(tmp_path, "bin.csv", b"VIN,plate\n\x00\x01\x02\xff"), recognise=recognise
        )


def test_undecodable(con, tmp_path):
    with pytest.raises(CrmError, match=r"x\.csv: cannot decode"):
        read_file(
            con, write(tmp_path, "x.csv", b"VIN,plate\nA,\xff\xff\xff\n"), recognise=recognise
        )


def test_no_header(con, tmp_path):
    with pytest.raises(CrmError) as e:
        read_file(con, write(tmp_path, "n.csv", b"foo,bar\n1,2\n"), recognise=recognise)
    assert str(e.value) == (
        f"{tmp_path / 'n.csv'}: no recognisable header in the first 20 rows (first row: foo | bar)"
    )


def test_large_field(con, tmp_path):
    big = "x" * 1_100_000
    s = one(con, write(tmp_path, "big.csv", f"VIN,车牌号\nA1,{big}\nA2,y\n".encode()))
    assert con.execute(f"SELECT _line, length(c1) FROM {s.table} ORDER BY _line").fetchall() == [
        (2, 1_100_000),
        (3, 1),
    ]


def test_single_column_blank_lines(con, tmp_path):
    def one_col(cells):
        return cells == ["VIN"]

    p = write(tmp_path, "v.csv", b"VIN\nA\n\nB\n  \nC\n\n")
    [s] = read_file(con, p, recognise=one_col)
    check(con, s)
    assert s.read == 3 and rows(con, s) == [(2, "A"), (4, "B"), (6, "C")]


def test_progress_called(con, tmp_path):
    data = ("VIN,车主姓名\n" + "LVA1,王小明\n" * 50).encode("gbk")
    seen: list[tuple[int, int]] = []
    s = one(
        con,
        write(tmp_path, "p.csv", data),
        progress=lambda a, b: seen.append((a, b)),
        chunk_size=100,
    )
    assert s.read == 50 and seen[-1] == (len(data), len(data))


def _workbook(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    notes = wb.add_worksheet("说明")
    notes.write_row(0, 0, ["本表为导出数据"])
    ws = wb.add_worksheet("工单")
    ws.write_row(0, 0, ["维修工单"])
    ws.write_row(2, 0, ["工单号", "VIN", "结算日期", "车主电话", "结算金额", "进厂时间"])
    ws.write_row(3, 0, ["R1", "LVA1"])
    ws.write_datetime(3, 2, dt.datetime(2021, 3, 5), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_number(3, 3, 13812345678)
    ws.write_number(3, 4, 1234.5)
    ws.write_datetime(
        3, 5, dt.datetime(2021, 3, 5, 9, 30, 15), wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    )
    ws.write_row(5, 0, ["R2", "LVA2", "2021/3/6", "13900000000", 88])
    ws.write_row(6, 0, ["合计", None, None, None, 1322.5])
    wb.close()


def test_xlsx_two_sheets(con, tmp_path):
    p = tmp_path / "w.xlsx"
    _workbook(p)
    with pytest.raises(CrmError) as e:  # named explicitly: the sheet without header fails it
        read_file(con, p, recognise=recognise)
    assert str(e.value) == (
        f"{p}: sheet '说明' has 1 rows and no recognisable header in its first 20 rows (first "
        "row: 本表为导出数据); load its folder instead to report it and load the rest"
    )
    u, s = read_file(con, p, recognise=recognise, strict=False)
    assert (u.sheet, u.read, u.reason) == ("说明", 1, "no header")
    assert con.execute(f"SELECT _line, _raw FROM {u.table}").fetchall() == [(1, "本表为导出数据")]
    check(con, s)
    assert (s.sheet, s.header_line, s.read, s.encoding) == ("工单", 3, 3, None)
    assert s.headers == ["工单号", "VIN", "结算日期", "车主电话", "结算金额", "进厂时间"]
    assert rows(con, s) == [
        (4, "R1", "LVA1", "2021-03-05", "13812345678", "1234.5", "2021-03-05 09:30:15"),
        (6, "R2", "LVA2", "2021/3/6", "13900000000", "88", None),
    ]
    assert s.totals == [(7, "合计,,,,1322.5,")]
    assert con.execute(f"SELECT _raw FROM {s.table} WHERE _line = 6").fetchone() == (
        "R2,LVA2,2021/3/6,13900000000,88,",
    )


def test_xlsx_renamed_csv(con, tmp_path):
    p = tmp_path / "w.xlsx"
    _workbook(p)
    q = tmp_path / "export.csv"
    q.write_bytes(p.read_bytes())
    _, s = read_file(con, q, recognise=recognise, strict=False)
    check(con, s)
    assert s.sheet == "工单" and s.read == 3


def test_xlsx_not_zip(con, tmp_path):
    with pytest.raises(CrmError, match=r"bad\.xlsx: not an Excel workbook"):
        read_file(con, write(tmp_path, "bad.xlsx", BASIC.encode()), recognise=recognise)


def test_xlsx_no_header_anywhere(con, tmp_path):
    p = tmp_path / "nh.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("a").write_row(0, 0, ["foo", "bar"])
    wb.close()
    with pytest.raises(CrmError, match=r"nh\.xlsx: no sheet has a recognisable header"):
        read_file(con, p, recognise=recognise)


def test_html_xls(con, tmp_path):
    html = (
        "<html><head><meta charset=gbk></head><body><table>"
        "<tr><td>车辆维修记录</td></tr>"
        "<tr><th>工单号</th><th>VIN</th><th>结算日期</th></tr>"
        "<tr><td> R1 </td><td>LVA1</td><td>2021-03-05</td></tr>"
        "<tr><td>R2</td><td>LVA2&amp;</td><td></td></tr>"
        "<tr><td>小计</td><td></td><td></td></tr>"
        "</table></body></html>"
    )
    s = one(con, write(tmp_path, "web.xls", html.encode("gbk")))
    assert (s.headers, s.header_line, s.read) == (["工单号", "VIN", "结算日期"], 2, 3)
    assert rows(con, s) == [(3, "R1", "LVA1", "2021-03-05"), (4, "R2", "LVA2&", None)]
    assert s.totals == [(5, "小计,,")]


def test_spreadsheetml_xls(con, tmp_path):
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        '<Worksheet ss:Name="S"><Table>'
        '<Row><Cell><Data ss:Type="String">VIN</Data></Cell>'
        '<Cell><Data ss:Type="String">手机</Data></Cell>'
        '<Cell><Data ss:Type="String">购车日期</Data></Cell></Row>'
        '<Row><Cell><Data ss:Type="String">LVA1</Data></Cell>'
        '<Cell><Data ss:Type="Number">1.3812345678E10</Data></Cell>'
        '<Cell><Data ss:Type="DateTime">2021-03-05T00:00:00.000</Data></Cell></Row>'
        '<Row ss:Index="4"><Cell><Data ss:Type="String">LVA2</Data></Cell>'
        '<Cell ss:Index="3"><Data ss:Type="DateTime">2021-03-06T08:00:00.000</Data></Cell>'
        "</Row></Table></Worksheet></Workbook>"
    )
    s = one(con, write(tmp_path, "x.xls", xml.encode()))
    assert s.sheet == "S" and s.read == 2
    assert rows(con, s) == [
        (2, "LVA1", "13812345678", "2021-03-05"),
        (4, "LVA2", None, "2021-03-06 08:00:00"),
    ]


def test_tables_unique_per_call(con, tmp_path):
    p = write(tmp_path, "a.csv", BASIC.encode())
    a, b = one(con, p), one(con, p)
    assert a.table != b.table and rows(con, a) == rows(con, b)


def test_scan_quote_state_across_chunks():
    scan = readers._Scan()
    data = b'a,b\n1,"x\n\ny"\n\n2,z\n'
    for i in range(len(data)):
        scan.feed(data[i : i + 1])
    scan.finish()
    assert (scan.lines, scan.spans, scan.blanks, scan.unterminated) == (6, [(2, 2)], [5], None)
