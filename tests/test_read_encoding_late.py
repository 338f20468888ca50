"""Issue 18 item 3: UTF-8 is decoded in Python over the head of a file only; DuckDB's reader
checks the rest. A file whose head is plain ASCII and whose later rows are GB18030 (or
undecodable) must read exactly as when the whole file was decoded first."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from builders import recognise

from crmtool.errors import CrmError
from crmtool.load import readers
from crmtool.load.readers import read_file


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


@pytest.fixture(autouse=True)
def small_head(monkeypatch):
    """A 32-byte head: the ASCII header and first rows are all Python decodes."""
    monkeypatch.setattr(readers, "HEAD_BYTES", 32)


HEAD = b"VIN,name\n" + b"".join(b"LVA%d,Tom\n" % i for i in range(1, 9))  # 8 ASCII rows


def load(con, path: Path):
    (sheet,) = read_file(con, path, recognise=recognise, chunk_size=16)
    cells = con.execute(f"SELECT _line, c0, c1 FROM {sheet.table} ORDER BY _line").fetchall()
    return sheet, cells


def test_gb18030_after_an_ascii_head_is_read_as_gb18030(con, tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(HEAD + "LVA9,王小明\n".encode("gb18030"))
    sheet, cells = load(con, path)
    assert sheet.encoding == "gb18030" and sheet.malformed == []
    assert sheet.read == 8 + 1
    assert cells[-1] == (1 + 8 + 1, "LVA9", "王小明")


def test_utf8_after_an_ascii_head_is_read_as_utf8(con, tmp_path):
    path = tmp_path / "late8.csv"
    path.write_bytes(HEAD + "LVA9,王小明\n".encode())
    sheet, cells = load(con, path)
    assert sheet.encoding == "utf-8" and sheet.malformed == []
    assert cells[-1] == (1 + 8 + 1, "LVA9", "王小明")


def test_gb18030_in_a_malformed_row_after_the_head(con, tmp_path):
    """The late bytes sit in a row with a field too many: read as GB18030 all the same."""
    path = tmp_path / "late_bad.csv"
    path.write_bytes(HEAD + "LVA9,王小明,多余\nLVA10,李雷\n".encode("gb18030"))
    sheet, cells = load(con, path)
    assert sheet.encoding == "gb18030"
    assert [(line, raw) for line, raw, _ in sheet.malformed] == [(10, "LVA9,王小明,多余")]
    assert cells[-1] == (11, "LVA10", "李雷")


def test_undecodable_after_the_head_fails_in_one_line(con, tmp_path):
    path = tmp_path / "late_ff.csv"
    path.write_bytes(HEAD + b"LVA9,\xff\xff\n")
    with pytest.raises(CrmError, match="cannot decode the file: neither UTF-8 nor GB18030/GBK"):
        load(con, path)
