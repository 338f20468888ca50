"""Issue 7: private data. --mask-pii on every list of people, the HTML report masked unless
--show-pii, no formula from data in xlsx, --safe-csv, a --where that cannot reach anything but
the list, and an audit of SQL built from strings."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app

runner = CliRunner()
PHONES = ("13800138000", "13900139000", "13700137000")
EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def dbfile(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("privacy") / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES"
        f" ('C1', '张三', '{PHONES[0]}'), ('C2', '李四', '{PHONES[1]}'),"
        f" ('C3', ?, '{PHONES[2]}')",
        [EVIL],
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, phone, series, sale_date, sale_channel)"
        " VALUES ('V1', 'C1', NULL, '迈腾', DATE '2019-07-01', 'own'),"
        " ('V2', 'C2', NULL, '朗逸', DATE '2021-10-01', 'own'),"
        " ('V3', 'C3', NULL, '@SUM(A1)', DATE '2017-07-15', 'own')"
    )
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount, advisor) VALUES"
        " ('R1', 'D001', 'V1', DATE '2021-06-01', 'maintenance', 'customer', 500, '王五'),"
        " ('R2', 'D001', 'V1', DATE '2022-03-01', 'maintenance', 'customer', 900, '王五'),"
        " ('R3', 'D001', 'V1', DATE '2022-06-01', 'repair', 'customer', 3000, '王五'),"
        " ('R9', 'D001', 'V2', DATE '2022-06-20', 'body_paint', 'insurance', 12000,"
        "  '-2+3'),"
        " ('R8', 'D001', 'V3', DATE '2020-06-20', 'repair', 'customer', 800, '王五')"
    )
    con.execute(
        "INSERT INTO leads (lead_id, created_at, status, phone, source) VALUES"
        f" ('L1', DATE '2022-06-01', 'open', '{PHONES[0]}', '+cmd')"
    )
    con.close()
    return path


def run(path: Path, *args: str):
    return runner.invoke(app, ["--db", str(path), "--as-of", "2022-06-30", *args])


LISTS = [
    ["segment"],
    ["churn", "--status", "lost,at_risk,general"],
    ["due"],
    ["campaign", "warranty"],
    ["campaign", "insurance"],
    ["campaign", "loyal"],
    ["campaign", "winback"],
    ["leads", "--overdue"],
]


@pytest.mark.parametrize("args", LISTS, ids=lambda a: "-".join(a))
def test_mask_pii_hides_every_full_phone(dbfile, args):
    plain = run(dbfile, *args, "--format", "csv")
    masked = run(dbfile, *args, "--format", "csv", "--mask-pii")
    assert plain.exit_code == masked.exit_code == 0, plain.output + masked.output
    assert len(plain.stdout.splitlines()) == len(masked.stdout.splitlines())
    assert not [p for p in PHONES if p in masked.stdout]
    assert not re.search(r"1[3-9]\d{9}", masked.stdout)
    assert "张三" not in masked.stdout and "李四" not in masked.stdout
    for fmt in ("json", "xlsx"):
        out = Path(dbfile).parent / f"{'-'.join(args)}.{fmt}"
        r = run(dbfile, *args, "--mask-pii", "-o", str(out))
        assert r.exit_code == 0, r.output
        text = out.read_bytes() if fmt == "json" else _xlsx_text(out).encode()
        assert not re.search(rb"1[3-9]\d{9}", text)


def test_lists_do_show_phones_without_mask(dbfile):
    """The masking test above is not vacuous: these lists carry phones."""
    shown = {
        " ".join(a)
        for a in LISTS
        if any(p in run(dbfile, *a, "--format", "csv").stdout for p in PHONES)
    }
    assert shown >= {"segment", "churn --status lost,at_risk,general", "campaign insurance"}


def _xlsx_text(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(
        str(c.value) for ws in wb for r in ws.iter_rows() for c in r if c.value is not None
    )


def test_rejects_show_raw_text_and_mask_it_on_request(tmp_path):
    """rejects is the data admin's tool to fix a source line: it shows the raw text, phones
    included; --mask-pii masks the mobile numbers inside it (documented in
    docs/robustness.md)."""
    f = tmp_path / "cu.csv"
    f.write_bytes("客户编号,姓名,手机,性别\n,张三,,男\n,李四,,X\n,王五,13812345678\n".encode("gbk"))
    r = run(tmp_path / "r.duckdb", "load", str(f))
    assert r.exit_code == 0, r.output
    r = run(tmp_path / "r.duckdb", "rejects", "--format", "csv")
    assert r.stdout.splitlines()[1:] == [
        f'1,{f},2,customers,missing customer_id and phone,",张三,,男"',
        f'1,{f},3,customers,missing customer_id and phone,",李四,,X"',
        f'1,{f},4,customers,"wrong number of fields: expected 4, found 3",",王五,13812345678"',
    ]
    r = run(tmp_path / "r.duckdb", "rejects", "--format", "csv", "--mask-pii")
    assert r.stdout.splitlines()[-1].endswith('",王五,138****5678"')


def test_html_report_masks_unless_show_pii(dbfile, tmp_path):
    out = tmp_path / "rep"
    r = run(dbfile, "report", "--period", "2022-06", "--out", str(out), "--format", "html")
    assert r.exit_code == 0, r.output
    html = (out / "crmtool-report-2022-06.html").read_text(encoding="utf-8")
    assert not re.search(r"1[3-9]\d{9}", html)
    assert "<script" not in html.lower() or "=HYPERLINK" not in html
    shown = tmp_path / "shown"
    r = run(
        dbfile,
        "report",
        "--period",
        "2022-06",
        "--out",
        str(shown),
        "--format",
        "html",
        "--show-pii",
    )
    assert r.exit_code == 0, r.output
    assert any(
        p in (shown / "crmtool-report-2022-06.html").read_text(encoding="utf-8") for p in PHONES
    )


def test_xlsx_report_and_lists_never_write_a_formula(dbfile, tmp_path):
    out = tmp_path / "rep"
    r = run(dbfile, "report", "--period", "2022-06", "--out", str(out), "--format", "xlsx")
    assert r.exit_code == 0, r.output
    lst = tmp_path / "seg.xlsx"
    assert run(dbfile, "segment", "-o", str(lst)).exit_code == 0
    for path in (out / "crmtool-report-2022-06.xlsx", lst):
        wb = openpyxl.load_workbook(path)
        cells = [c for ws in wb for row in ws.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], path
    seg = openpyxl.load_workbook(lst).active
    assert EVIL in [c.value for row in seg.iter_rows() for c in row]  # kept as text


def test_safe_csv_prefixes_formula_cells(dbfile):
    r = run(dbfile, "segment", "--format", "csv", "--safe-csv", "--columns", "name,series")
    assert r.exit_code == 0, r.output
    body = r.stdout.splitlines()[1:]
    assert '"\'=HYPERLINK(""http://x"",""y"")",\'@SUM(A1)' in body
    plain = run(dbfile, "segment", "--format", "csv", "--columns", "name,series")
    assert '"=HYPERLINK(""http://x"",""y"")",@SUM(A1)' in plain.stdout.splitlines()


@pytest.mark.parametrize(
    "where, message",
    [
        ("vin IN (SELECT vin FROM vehicles)", "--where: a subquery (SELECT) is not allowed"),
        (
            "vin = (select content from read_text('/etc/passwd'))",
            "--where: a subquery (SELECT) is not allowed",
        ),
        ("read_csv('/etc/passwd') IS NOT NULL", "--where: function read_csv is not allowed"),
        ("1=1; ATTACH '/tmp/x.db'", "--where: ';' (a second statement) is not allowed"),
        ("ATTACH '/tmp/x.db' AS x", "--where: statement ATTACH is not allowed"),
        ("vin = 'V1' -- comment", "--where: a comment (-- or /* */) is not allowed"),
        ("vin = 'V1", "--where: unterminated ' (opened at column 7)"),
        ("secret > 1", None),
    ],
)
def test_where_cannot_reach_other_tables_or_files(dbfile, where, message):
    r = run(dbfile, "segment", "--format", "csv", "--where", where)
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    if message:
        assert lines[0] == "crmtool: error: " + message
    else:
        assert lines[0].startswith(
            "crmtool: error: --where: unknown column 'secret'; columns are: "
        )
    assert "root:" not in r.stdout


def test_where_values_in_quotes_are_data_not_sql(dbfile):
    r = run(
        dbfile,
        "segment",
        "--format",
        "csv",
        "--columns",
        "vin",
        "--where",
        "series = 'select * from customers'",
    )
    assert (r.exit_code, r.stdout.splitlines()) == (0, ["vin"])


def test_rejects_file_filter_is_a_bound_parameter(tmp_path):
    f = tmp_path / "ro.csv"
    f.write_bytes("工单号,VIN,结算日期\n,V1,2021-01-01\n".encode("gbk"))
    assert run(tmp_path / "r.duckdb", "load", str(f)).exit_code == 0
    for evil in ("x' OR '1'='1", "%", "_o.csv", "ro.csv' --"):
        r = run(tmp_path / "r.duckdb", "rejects", "--format", "csv", "--file", evil)
        assert (r.exit_code, r.stdout.splitlines()) == (0, ["load_id,file,line,kind,reason,raw"])
    r = run(tmp_path / "r.duckdb", "rejects", "--format", "csv", "--file", "ro.csv")
    assert len(r.stdout.splitlines()) == 2


# ---------------------------------------------------------------------- audit of SQL strings

SRC = Path(__file__).resolve().parents[2] / "crmtool"
# What may be interpolated into SQL text: identifiers and literals that come from the code
# (schema.TABLES / KEYS field names, generated temp-table names raw_<hex>, column indexes c0..),
# quoted with ingest.q / ingest.lit / readers._sql_str, config values quoted with lit(), and
# ints. User-typed values (--file, --where, find terms, periods) are bound parameters or go
# through crmtool/output/where.py, which renders a checked tree (never the text) for the list.
USER_INPUT = re.compile(r"\b(where|file|term|query|needle|pattern|search|name_filter)\b")
SQL_START = re.compile(r'f"[^"]*\b(SELECT|INSERT|DELETE|UPDATE|WHERE|FROM)\b', re.I)


# file: interpolated name -> why it is safe (line numbers left out: other work moves them)
ALLOWED = {
    "cli/app.py: {where}": "an error message, not SQL",
    "find.py: {where}": "a detail message, not SQL",
    "cli/load_cmds.py: {where}": "fixed text 'WHERE file = ? OR file LIKE ?', values bound",
    "forget.py: {where}": "forget._where: column names from code with ? placeholders, bound",
    "output/export.py: {query}": "export._select: a SELECT of a canonical table, names from the "
    "schema",
    "output/export.py: {where}": "export._select: the forget check built from code, no value",
    "load/history.py: {where}": "history.keep: conditions ingest writes over code-owned names and "
    "temp tables, no values",
}


def test_no_user_value_is_formatted_into_sql():
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not SQL_START.search(line):
                continue
            for expr in re.findall(r"\{([^{}]+)\}", line):
                if USER_INPUT.search(expr) and not expr.strip().startswith(("q(", "lit(", "int(")):
                    found.add(f"{path.relative_to(SRC).as_posix()}: {{{expr}}}")
    assert found <= set(ALLOWED), sorted(found - set(ALLOWED))
