"""Lists in a real terminal (a pseudo-terminal of 80 and 160 columns) on the demo data
(issue 15, item 2): the list's own columns first, whole columns only, never a cut phone, VIN,
date or number, and a line saying how many rows there are and how many columns are left out.
Pipes and files are unchanged: every column, no row line."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest
from rich.cells import cell_len

from crmtool import db
from crmtool.config import load_config
from crmtool.load.ingest import load
from crmtool.sample import bundled_sample_dir

SAMPLE = bundled_sample_dir()
AS_OF = json.loads((SAMPLE / "sample.json").read_text(encoding="utf-8"))["as_of"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Global options of a database holding the bundled sample (`crmtool demo --keep`)."""
    path = tmp_path_factory.mktemp("demo") / "crm.duckdb"
    con = db.connect(path)
    load(con, [SAMPLE], load_config(SAMPLE / "crmtool.toml"))
    con.close()
    return ["--db", str(path), "--config", str(SAMPLE / "crmtool.toml"), "--as-of", AS_OF]


def in_terminal(cols: int, *args: str) -> list[str]:
    """Run crmtool with stdout on a pseudo-terminal `cols` wide; the lines it shows."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm", PAGER="cat")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmtool", *args],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = ANSI.sub("", out.decode("utf-8")).replace("\r\n", "\n")
    return text.rstrip("\n").split("\n")


def header(lines: list[str]) -> list[str]:
    """The column labels of the first table on screen."""
    row = next(line for line in lines if "┃" in line)
    return [cell.strip() for cell in row.rstrip().split("┃")[1:-1]]


def body(lines: list[str]) -> list[list[str]]:
    return [
        [c.strip() for c in line.rstrip().split("│")[1:-1]]
        for line in lines
        if line.startswith("│")
    ]


def assert_fits(lines: list[str], cols: int) -> None:
    assert max(cell_len(line.rstrip()) for line in lines) <= cols
    for row in body(lines):
        for cell in row:
            assert "…" not in cell or not re.search(r"\d", cell), cell  # no cut number/date


LISTS = {
    # (command, width): (the columns shown, in this order; how many are left out)
    (("segment", "--tier", "A"), 80): (
        ["车牌号", "客户姓名", "联系电话", "价值等级", "忠诚状态", "未回厂天数"],
        17,
    ),
    (("segment", "--tier", "A"), 160): (
        [
            "车牌号",
            "客户姓名",
            "联系电话",
            "价值等级",
            "忠诚状态",
            "未回厂天数",
            "车系",
            "最近回厂日期",
            "近12月回站次数",
            "客单价",
            "最近服务顾问",
            "车架号(VIN)",
        ],
        11,
    ),
    (("churn",), 80): (
        ["客户姓名", "联系电话", "忠诚状态", "流失原因", "未回厂天数", "流失预警"],
        11,
    ),
    (("churn",), 160): (
        [
            "客户姓名",
            "联系电话",
            "忠诚状态",
            "流失原因",
            "未回厂天数",
            "最近本店回厂日期",
            "去向经销商",
            "累计自付金额",
            "流失预警",
            "车系",
            "最近服务顾问",
        ],
        6,
    ),
    (("due",), 80): (
        ["客户姓名", "联系电话", "保养类型", "应保养日期", "已超期", "超期天数", "车系"],
        6,
    ),
    # the forecast's own figures before the owner's details (the probability and the value)
    (("forecast",), 80): (
        ["客户姓名", "联系电话", "仍在本店概率", "预计12个月价值", "预计客单价", "车系"],
        13,
    ),
    (("due",), 160): (
        [
            "客户姓名",
            "联系电话",
            "保养类型",
            "应保养日期",
            "已超期",
            "超期天数",
            "到期依据",
            "车系",
            "上次保养日期",
            "最近服务顾问",
            "车架号(VIN)",
            "客户编号",
        ],
        1,
    ),
}


@pytest.mark.parametrize(("args", "cols"), list(LISTS))
def test_a_list_shows_whole_columns_that_fit(
    demo: list[str], args: tuple[str, ...], cols: int
) -> None:
    lines = in_terminal(cols, *demo, *args)
    shown, hidden = LISTS[(args, cols)]
    assert header(lines) == shown
    assert_fits(lines, cols)
    rows = body(lines)
    phone = shown.index("联系电话")
    assert all(re.fullmatch(r"\d*", r[phone]) for r in rows)  # every phone whole (no '…')
    assert sum(bool(re.fullmatch(r"1\d{10}", r[phone])) for r in rows) > len(rows) * 0.9
    total = int(re.search(r"共 ([\d,]+) 行", lines[-1]).group(1).replace(",", ""))
    assert len(rows) == min(total, 100)  # a terminal shows the first 100 rows
    first = "，显示前 100 行" if total > 100 else ""
    assert lines[-1] == f"共 {total:,} 行{first}；另有 {hidden} 列未显示：--columns 或 --wide"


def test_wide_shows_every_column_and_english_follows_lang(demo: list[str]) -> None:
    lines = in_terminal(80, *demo, "due", "--wide", "--limit", "3", "--lang", "en")
    assert header(lines) == [
        "VIN",
        "Customer ID",
        "Name",
        "Phone",
        "Series",
        "Due service",
        "Last service",
        "Last service km",
        "Due date",
        "Due by",
        "Overdue",
        "Days overdue",
        "Last advisor",
    ]
    assert lines[-1] == "3 rows"
    assert body(lines)[0][5] == "Maintenance" and body(lines)[0][10] in ("yes", "no")


def test_an_empty_list_says_0_rows(demo: list[str]) -> None:
    lines = in_terminal(80, *demo, "churn", "--where", "days_since < 0")
    assert lines[-1].startswith("共 0 行")
    assert body(lines) == []


@pytest.mark.parametrize("cols", [80, 160])
def test_find_cards_fit(demo: list[str], cols: int) -> None:
    lines = in_terminal(cols, *demo, "find", "肖明")
    assert max(cell_len(line.rstrip()) for line in lines) <= cols
    vins = re.findall(r"\b[A-Z][A-HJ-NPR-Z0-9]{9,}", "\n".join(lines))
    assert vins and all(len(v) == 17 for v in vins)  # no VIN cut
    phones = re.findall(r"\b1\d{6,}", "\n".join(lines))
    assert phones and all(len(p) == 11 for p in phones)  # no phone cut
    dates = re.findall(r"\b\d{4}-\d\d(?:-\d\d)?\b", "\n".join(lines))
    assert dates and all(len(d) == 10 for d in dates)  # no date cut
    if cols == 80:
        assert any("另有 4 列未显示" in line for line in lines)
    else:
        assert not any("未显示" in line for line in lines)


def test_pipes_are_unchanged(demo: list[str]) -> None:
    """Piped, a table keeps every column and every row, without the row line."""
    out = subprocess.run(
        [sys.executable, "-m", "crmtool", *demo, "due", "--format", "table"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.rstrip("\n").split("\n")
    assert len(header(lines)) == 13
    assert "行" not in lines[-1] and lines[-1].startswith("└")
