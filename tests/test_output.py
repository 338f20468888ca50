"""crmtool.output.formats: masking, shape(), the formats of emit(), xlsx sheets and atomic writes."""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from crmtool.cli.options import ListOutput, split_csv
from crmtool.errors import CrmError, UsageError
from crmtool.output.formats import (
    TMP_DIR,
    atomic_path,
    emit,
    mask_name,
    mask_phone,
    mask_pii,
    shape,
    write_xlsx_sheets,
)


@pytest.fixture
def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "vin": ["LSVAA0001", "LSVAA0002", "LSVAA0003"],
            "name": ["张三", "欧阳娜娜", "Li Wei"],
            "phone": ["13812345678", "0571888888", None],
            "tier": ["A", "B", None],
            "ticket": [700.5, -12.5, None],
            "sale_date": [date(2021, 1, 2), None, date(2020, 5, 1)],
            "note": ["=1+1", "-cmd", "ok"],
        }
    )


# --- masking -------------------------------------------------------------------------------


def test_mask_phone_forms() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0571888888") == "057*****88"
    assert mask_phone("1234567") == "123**67"
    assert mask_phone("123456") == "******"
    assert mask_phone("") == ""
    assert mask_phone(None) is None


def test_mask_name_forms() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("Li Wei") == "L*****"
    assert mask_name("张") == "*"
    assert mask_name(None) is None


def test_mask_pii_matches_scalar_functions() -> None:
    df = pl.DataFrame(
        {
            "name": ["张三", "欧阳娜娜", "Li Wei", None, "张"],
            "owner_phone": ["13812345678", "1234567", "12", None, ""],
            "contact_name": ["王五", None, "x", "ab", "abc"],
            "tier": ["A", "B", "C", "D", "A"],
        }
    )
    masked = mask_pii(df)
    assert masked["name"].to_list() == [mask_name(v) for v in df["name"]]
    assert masked["owner_phone"].to_list() == ["138****5678", "123**67", "**", None, ""]
    assert masked["contact_name"].to_list() == ["王*", None, "*", "a*", "a**"]
    assert masked["tier"].to_list() == df["tier"].to_list()


# --- shape ---------------------------------------------------------------------------------


def test_shape_where_columns_sort_limit(frame: pl.DataFrame) -> None:
    out = shape(
        frame, where="tier = 'A' OR ticket < 0", columns=["vin", "ticket"], sort=["-ticket"]
    )
    assert out.to_dicts() == [
        {"vin": "LSVAA0001", "ticket": 700.5},
        {"vin": "LSVAA0002", "ticket": -12.5},
    ]
    assert shape(frame, sort=["ticket"])["ticket"].to_list() == [-12.5, 700.5, None]
    assert shape(frame, sort=["-ticket"])["ticket"].to_list() == [700.5, -12.5, None]
    assert shape(frame, sort=["tier", "-vin"], limit=2)["vin"].to_list() == [
        "LSVAA0001",
        "LSVAA0002",
    ]
    assert shape(frame, where="note = 'select'").height == 0  # keywords inside literals are fine
    assert shape(frame, where="name LIKE '张%'")["vin"].to_list() == ["LSVAA0001"]


@pytest.mark.parametrize(
    "where, message",
    [
        (
            "zz > 1",
            "--where: unknown column 'zz'; columns are: vin, name, phone, tier, ticket, "
            "sale_date, note",
        ),
        ("tier >", "--where: invalid condition near column 6: something is missing"),
        ("1=1; DROP TABLE x", "--where: ';' (a second statement) is not allowed"),
        ("read_csv('/etc/passwd') IS NOT NULL", "--where: function read_csv is not allowed"),
        ("vin IN (SELECT 1)", "--where: a subquery (SELECT) is not allowed"),
        ("tier = 'A' UNION ALL vin", "--where: invalid condition near column 24"),
        ("tier = 'A' -- comment", "--where: a comment (-- or /* */) is not allowed"),
    ],
)
def test_shape_bad_where(frame: pl.DataFrame, where: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        shape(frame, where=where)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_shape_unknown_columns_and_sort(frame: pl.DataFrame) -> None:
    with pytest.raises(UsageError, match=r"--columns: unknown column 'x'; columns are: vin, "):
        shape(frame, columns=["vin", "x"])
    with pytest.raises(UsageError, match=r"--sort: unknown column 'y'"):
        shape(frame, sort=["-y"])


def test_split_csv() -> None:
    assert split_csv("tier, -ticket,,") == ["tier", "-ticket"]
    assert split_csv(None) == []


# --- csv / json / parquet ------------------------------------------------------------------


def test_csv_to_stdout_is_default_in_a_pipe(frame: pl.DataFrame, capfd) -> None:
    emit(frame.select("vin", "name", "ticket", "sale_date"))
    out = capfd.readouterr().out
    assert out == (
        "vin,name,ticket,sale_date\n"
        "LSVAA0001,张三,700.5,2021-01-02\n"
        "LSVAA0002,欧阳娜娜,-12.5,\n"
        "LSVAA0003,Li Wei,,2020-05-01\n"
    )


def test_csv_keeps_english_names_whatever_the_lang_and_masks(frame: pl.DataFrame, capfd) -> None:
    """CSV is for machines: snake_case names even with --lang zh (rulebook §16)."""
    emit(frame.select("name", "phone"), fmt="csv", lang="zh", mask=True)
    assert capfd.readouterr().out == ("name,phone\n张*,138****5678\n欧***,057*****88\nL*****,\n")


def test_csv_file_has_bom(frame: pl.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "list.csv"
    emit(frame.select("vin", "name"), out=target)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfvin,name\n")
    assert data.decode("utf-8-sig").splitlines()[1] == "LSVAA0001,张三"
    assert os.listdir(tmp_path) == ["list.csv"]


def test_csv_gbk(frame: pl.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "list.csv"
    emit(frame.select("vin", "name"), out=target, encoding="gbk")
    data = target.read_bytes()
    assert data == "vin,name\nLSVAA0001,张三\nLSVAA0002,欧阳娜娜\nLSVAA0003,Li Wei\n".encode("gbk")


def test_csv_gbk_unencodable_names_row_and_column(tmp_path: Path) -> None:
    df = pl.DataFrame({"vin": ["A", "B"], "name": ["张三", "𠮷野"]})
    target = tmp_path / "list.csv"
    with pytest.raises(CrmError, match=r"row 2, column name: '𠮷' has no GBK code"):
        emit(df, out=target, encoding="gbk")
    assert not target.exists()
    assert os.listdir(tmp_path) == []
    emit(df, out=target, encoding="gb18030")
    assert target.read_bytes().decode("gb18030") == "vin,name\nA,张三\nB,𠮷野\n"


def test_safe_csv(capfd) -> None:
    df = pl.DataFrame(
        {
            "note": ["=cmd|' /C calc'!A0", "+1", "-12.5", "@SUM(A1)", "\tx", "ok"],
            "amount": [-12.5, 1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    emit(df, fmt="csv", safe_csv=True)
    assert capfd.readouterr().out.splitlines() == [
        "note,amount",
        "'=cmd|' /C calc'!A0,-12.5",
        "+1,1.0",
        "-12.5,2.0",
        "'@SUM(A1),3.0",
        "'\tx,4.0",
        "ok,5.0",
    ]


def test_json_round_trip(frame: pl.DataFrame, capfd, tmp_path: Path) -> None:
    emit(frame, fmt="json")
    rows = json.loads(capfd.readouterr().out)
    assert rows[0] == {
        "vin": "LSVAA0001",
        "name": "张三",
        "phone": "13812345678",
        "tier": "A",
        "ticket": 700.5,
        "sale_date": "2021-01-02",
        "note": "=1+1",
    }
    assert rows[1]["sale_date"] is None
    target = tmp_path / "list.json"
    emit(frame, out=target)
    assert "张三" in target.read_text(encoding="utf-8")
    assert json.loads(target.read_text(encoding="utf-8")) == rows


def test_parquet_round_trip(frame: pl.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "list.parquet"
    emit(frame, out=target)
    assert pl.read_parquet(target).equals(frame)


def test_parquet_to_pipe(frame: pl.DataFrame, monkeypatch) -> None:
    buf = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buf))
    emit(frame, fmt="parquet")
    assert pl.read_parquet(io.BytesIO(buf.getvalue())).equals(frame)


def test_binary_formats_refuse_a_terminal(frame: pl.DataFrame, monkeypatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    with pytest.raises(UsageError, match="^parquet output needs -o FILE or a pipe$"):
        emit(frame, fmt="parquet")
    with pytest.raises(UsageError, match="^xlsx output needs -o FILE or a pipe$"):
        emit(frame, fmt="xlsx")


def test_unknown_suffix(frame: pl.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown file type '\.txt'"):
        emit(frame, out=tmp_path / "x.txt")


def test_table_piped_prints_all_rows(capfd) -> None:
    df = pl.DataFrame({"vin": [f"V{i:03d}" for i in range(150)], "name": ["欧阳娜娜"] * 150})
    emit(df, fmt="table")
    captured = capfd.readouterr()
    assert "V000" in captured.out and "V149" in captured.out
    assert "欧阳娜娜" in captured.out
    assert captured.err == ""


def test_table_on_terminal_shows_100_rows(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    df = pl.DataFrame({"vin": [f"V{i:03d}" for i in range(150)]})
    emit(df)
    captured = capsys.readouterr()
    assert "V099" in captured.out and "V100" not in captured.out
    assert captured.err == "… 50 more rows (use --format csv or -o)\n"


# --- xlsx ----------------------------------------------------------------------------------


def test_xlsx_cells(frame: pl.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "calls.xlsx"
    emit(frame, out=target, sheet="保养提醒")
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["保养提醒"]
    ws = wb["保养提醒"]
    assert [c.value for c in ws[1]] == [
        "车架号(VIN)",
        "客户姓名",
        "联系电话",
        "价值等级",
        "客单价",
        "购车日期",
        "备注",
    ]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G4"
    assert ws["C2"].value == "13812345678" and ws["C2"].data_type == "s"
    assert ws["G2"].value == "=1+1" and ws["G2"].data_type == "s"
    assert ws["E2"].value == 700.5
    assert ws["F2"].value == datetime(2021, 1, 2) and ws["F2"].is_date
    assert ws["F2"].number_format == "yyyy-mm-dd"
    assert ws["F3"].value is None
    assert ws.column_dimensions["B"].width >= 10  # '欧阳娜娜' counts 8


def test_xlsx_ids_as_text_and_english_headers(tmp_path: Path) -> None:
    target = tmp_path / "x.xlsx"
    df = pl.DataFrame(
        {"customer_id": [1001, 1002], "phone": [13812345678, None], "visits_12m": [3, 4]}
    )
    write_xlsx_sheets(target, {"list": df}, lang="en")
    ws = openpyxl.load_workbook(target)["List"]
    assert [c.value for c in ws[1]] == ["Customer ID", "Phone", "Visits (12 months)"]
    assert [ws["A2"].value, ws["B2"].value, ws["C2"].value] == ["1001", "13812345678", 3]


def test_xlsx_splits_rows_across_sheets(tmp_path: Path) -> None:
    target = tmp_path / "x.xlsx"
    df = pl.DataFrame({"vin": [f"V{i}" for i in range(7)]})
    names: dict[str, str] = {}
    write_xlsx_sheets(target, {"list": df}, max_rows=3, workbook_hook=lambda wb, n: names.update(n))
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["名单", "名单 (2)", "名单 (3)"]
    assert [[c.value for c in row] for row in wb["名单 (3)"].iter_rows()] == [
        ["车架号(VIN)"],
        ["V6"],
    ]
    assert sum(wb[n].max_row - 1 for n in wb.sheetnames) == 7
    assert names == {"list": "名单"}


def test_xlsx_split_by(tmp_path: Path) -> None:
    target = tmp_path / "x.xlsx"
    df = pl.DataFrame(
        {"vin": ["A", "B", "C", "D"], "advisor": ["李四", None, "a/b:c*?[x]" + "x" * 40, "李四"]}
    )
    emit(df, out=target, split_by="advisor")
    wb = openpyxl.load_workbook(target)
    long_name = ("a_b_c___x_" + "x" * 40)[:31]
    assert wb.sheetnames == [long_name, "李四", "(none)"]
    assert [c.value for c in wb["李四"]["A"]] == ["车架号(VIN)", "A", "D"]
    assert [c.value for c in wb["(none)"]["A"]] == ["车架号(VIN)", "B"]


def test_xlsx_split_by_alias_of_last_column(tmp_path: Path) -> None:
    """Lists carry `last_advisor`; `--split-by advisor` names it (docs/rules.md §11)."""
    target = tmp_path / "x.xlsx"
    df = pl.DataFrame({"vin": ["A", "B", "C"], "last_advisor": ["王伟", "李娜", "王伟"]})
    emit(df, out=target, split_by="advisor")
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["李娜", "王伟"]
    assert [c.value for c in wb["王伟"]["A"]] == ["车架号(VIN)", "A", "C"]
    # a column of that very name wins over the last_ one
    both = df.with_columns(advisor=pl.Series(["x", "x", "y"]))
    emit(both, out=target, split_by="advisor")
    assert openpyxl.load_workbook(target).sheetnames == ["x", "y"]


def test_split_by_unknown_column(frame: pl.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--split-by: unknown column 'advisor'"):
        emit(frame, out=tmp_path / "x.xlsx", split_by="advisor")
    assert os.listdir(tmp_path) == []


# --- atomic writes -------------------------------------------------------------------------


def test_atomic_path_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "list.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path / TMP_DIR
        assert str(os.getpid()) in tmp.name
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["list.csv"]


def test_atomic_path_replaces_and_clears_stale(tmp_path: Path) -> None:
    stale_dir = tmp_path / TMP_DIR
    stale_dir.mkdir()
    (stale_dir / "999999999-dead-list.csv").write_text("x", encoding="utf-8")
    target = tmp_path / "list.csv"
    with atomic_path(target) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert os.listdir(tmp_path) == ["list.csv"]


def test_atomic_path_missing_folder(tmp_path: Path) -> None:
    with (
        pytest.raises(CrmError, match="output folder does not exist: .*nope"),
        atomic_path(tmp_path / "nope" / "x.csv"),
    ):
        pass


# --- ListOutput ----------------------------------------------------------------------------


def test_list_output_write(frame: pl.DataFrame, capfd) -> None:
    ListOutput(
        fmt="csv", where="ticket IS NOT NULL", columns="vin,phone", sort="-ticket", mask_pii=True
    ).write(frame)
    assert capfd.readouterr().out == "vin,phone\nLSVAA0001,138****5678\nLSVAA0002,057*****88\n"
