"""Chinese everywhere people read (issue 15, item 3): every list command's Excel sheet and
terminal table, and every section of the HTML and Excel report, on the demo data, with no
untranslated header or value: no ASCII snake_case word, no bare English word as a header, no
raw code (maintenance, at_risk, true …). CSV keeps the snake_case names and codes."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app
from crmtool.config import load_config
from crmtool.load.ingest import load
from crmtool.output.labels import VALUES
from crmtool.sample import bundled_sample_dir

SAMPLE = bundled_sample_dir()
AS_OF = json.loads((SAMPLE / "sample.json").read_text(encoding="utf-8"))["as_of"]
runner = CliRunner()

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# every code the label table knows, as it is stored (tiers A-D and 3DC/7DC read the same)
CODES = {
    code
    for domain, codes in VALUES.items()
    if domain != "sheet"
    for code in codes
    if re.fullmatch(r"[a-z][a-z_]*", code)
} | {"True", "False"}
DATA = {"file", "raw", "车架号(VIN)", "文件", "原始内容"}  # cells that are the data itself

LISTS = [
    ("segment",),
    ("segment", "--by", "tier"),
    ("tiers",),
    ("churn",),
    ("churn", "--leakage"),
    ("due",),
    ("campaign", "warranty"),
    ("campaign", "insurance"),
    ("campaign", "loyal"),
    ("campaign", "winback"),
    ("leads", "--period", "2021-11"),
    ("leads", "--period", "2021", "--by", "source"),
    ("leads", "--period", "2021", "--by", "consultant"),
    ("leads", "--overdue"),
    ("rejects",),
    ("care", "callbacks"),
    ("care", "birthdays"),
    ("care", "greetings", "--holiday", "元旦"),
    ("care", "complaints"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("demo") / "crm.duckdb"
    con = db.connect(path)
    load(con, [SAMPLE], load_config(SAMPLE / "crmtool.toml"))
    con.close()
    return ["--db", str(path), "--config", str(SAMPLE / "crmtool.toml"), "--as-of", AS_OF]


def untranslated(where: str, text: object, header: bool = False) -> list[str]:
    """What in one header or cell is not for people."""
    if text is None or not isinstance(text, str):
        return []
    bad = [f"{where}: {w!r}" for w in SNAKE.findall(text)]
    if text in CODES:
        bad.append(f"{where}: code {text!r}")
    if header and re.fullmatch(r"[a-z][a-z0-9 ]*", text):
        bad.append(f"{where}: English header {text!r}")
    return bad


def check_workbook(path: Path) -> list[str]:
    bad: list[str] = []
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        bad += untranslated(f"sheet name {ws.title}", ws.title, header=True)
        rows = list(ws.iter_rows(values_only=True))
        heads = [str(h) if h is not None else "" for h in (rows[0] if rows else ())]
        for j, h in enumerate(heads):
            bad += untranslated(f"{ws.title} header", h, header=True)
            if h in DATA:
                continue
            for row in rows[1:]:
                bad += untranslated(f"{ws.title}/{h}", row[j] if j < len(row) else None)
    return bad


@pytest.mark.parametrize("args", LISTS, ids=" ".join)
def test_every_list_is_labelled(demo: list[str], args: tuple[str, ...], tmp_path: Path) -> None:
    target = tmp_path / "list.xlsx"
    r = runner.invoke(app, [*demo, *args, "-o", str(target)])
    assert r.exit_code == 0, r.output
    assert check_workbook(target) == []
    table = runner.invoke(app, [*demo, *args, "--format", "table"])
    assert table.exit_code == 0, table.output
    head = next((line for line in table.stdout.splitlines() if "┃" in line), "")
    cells = [c.strip() for c in head.split("┃")[1:-1]]
    bad = [b for c in cells for b in untranslated("table header", c, header=True)]
    for line in table.stdout.splitlines():
        if line.startswith("│"):
            values = [c.strip() for c in line.split("│")[1:-1]]
            bad += [
                b
                for h, v in zip(cells, values, strict=True)
                if h not in DATA
                for b in untranslated(f"table {h}", v)
            ]
    assert bad == []


def test_csv_keeps_names_and_codes(demo: list[str]) -> None:
    r = runner.invoke(app, [*demo, "due", "--format", "csv", "--lang", "zh"])
    head, first = r.stdout.splitlines()[:2]
    assert head.startswith("vin,customer_id,name,phone,series,due_service,")
    assert ",maintenance," in first or ",first_service," in first


class _Text(HTMLParser):
    """The text a reader sees (no <style>, no attribute values)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag == "style"

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


@pytest.mark.parametrize("period", ["2021-12", "2021Q4"])
def test_every_report_section_is_labelled(demo: list[str], tmp_path: Path, period: str) -> None:
    r = runner.invoke(app, [*demo, "report", "--period", period, "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    (html,) = tmp_path.glob("*.html")
    (xlsx,) = tmp_path.glob("*.xlsx")
    reader = _Text()
    reader.feed(html.read_text(encoding="utf-8"))
    bad = [b for text in reader.parts for b in untranslated("html", text)]
    assert reader.parts and bad == []
    assert check_workbook(xlsx) == []
    names = openpyxl.load_workbook(xlsx).sheetnames
    for sheet in (
        "保养提醒",
        "脱保延保",
        "续保前移",
        "忠诚客户回馈",
        "流失客户招揽",
        "回访",
        "生日关怀",
        "投诉跟进",
    ):
        assert sheet in names
