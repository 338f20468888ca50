"""The fuzz cases of test_fuzz.py, run in a child process (a native abort must not take the
test run down): `python fuzz_driver.py SEED CASES FOLDER` writes each generated file, loads
it through the CLI into one database and prints one JSON line per case."""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from pathlib import Path

import duckdb
import xlsxwriter
from typer.testing import CliRunner

from crmtool.cli import app

HEADERS = [
    ["工单号", "VIN", "结算日期", "结算金额", "维修类型", "进厂里程"],
    ["客户编号", "客户姓名", "手机", "性别"],
    ["VIN", "车牌号", "车系", "购车日期", "车主电话"],
    ["线索编号", "客户姓名", "手机", "创建日期"],
]
PIECES = [
    "",
    " ",
    "R1",
    "LSVAA4183E2000001",
    "2021-01-05",
    "2021/3/6",
    "44201",
    "1,234.50",
    "(120)",
    "首保",
    "钣喷",
    "王五",
    '王"五',
    "合计",
    "138 0013 8000",
    "+86 186-0745-4659",
    "a,b",
    "x;y",
    "t\tab",
    "line\nbreak",
    "cr\rhere",
    '""',
    '"',
    "'",
    "=1+1",
    "１２３",
    "￥88",
    "-",
    "0",
    "1e22",
    "NULL",
    "无",
    "𠀀",
    "\u3000",
    "é",
]
TABLES = ("repair_orders", "customers", "vehicles", "leads", "loads", "rejects", "flags")


def cell(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 3)))


def structured_csv(rng: random.Random) -> tuple[bytes, int | None]:
    """A CSV written by the csv module (any dialect and encoding): the number of records is
    known, so `read` must equal it."""
    header = rng.choice(HEADERS)
    width = len(header)
    delim = rng.choice([",", ";", "\t", "|"])
    rows = [[cell(rng) for _ in range(width)] for _ in range(rng.randint(0, 12))]
    buf = io.StringIO()
    w = csv.writer(
        buf,
        delimiter=delim,
        lineterminator=rng.choice(["\n", "\r\n"]),
        quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    )
    w.writerow(header)
    w.writerows(rows)
    text = buf.getvalue()
    enc = rng.choice(["utf-8", "utf-8-sig", "gb18030", "utf-16"])
    # the records as Python's csv module reads them back: a CR the writer left unquoted
    # ends a record there (blank lines, spaces and tabs only, are no records)
    back = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))[1:]
    records = [r for r in back if len(r) > 1 or "".join(r).strip(" \t")]
    return text.encode(enc), len(records)


def stray_quotes_csv(rng: random.Random) -> tuple[bytes, int | None]:
    """Unquoted fields with quotes anywhere but at a field's start: data, as DuckDB reads."""
    header = rng.choice(HEADERS)
    rows = []
    for _ in range(rng.randint(1, 10)):
        cells = []
        for _ in header:
            text = "".join(rng.choice(["王", "五", "a", "1", '"', " "]) for _ in range(4))
            cells.append("x" + text)
        rows.append(",".join(cells))
    return ("\n".join([",".join(header), *rows]) + "\n").encode(), len(rows)


def mutated(rng: random.Random, data: bytes) -> bytes:
    """Random byte edits: inserts of quotes, line ends, NULs and any byte; deletions; a cut."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        pos = rng.randint(0, len(b))
        if op < 0.5:
            b[pos:pos] = rng.choice(
                [b'"', b"\n", b"\r", b",", b"\x00", bytes([rng.randrange(256)])]
            )
        elif op < 0.8 and b:
            del b[pos : pos + rng.randint(1, 4)]
        else:
            del b[pos:]
    return bytes(b)


def workbook(rng: random.Random, path: Path) -> int | None:
    """An .xlsx of 1-3 sheets with random shapes; returns the data rows of sheet S0 (which has
    a known header below 0-3 title rows)."""
    wb = xlsxwriter.Workbook(str(path))
    expected = 0
    for s in range(rng.randint(1, 3)):
        ws = wb.add_worksheet(f"S{s}")
        top = rng.randint(0, 3)
        for r in range(top):
            ws.write(r, 0, "某店导出")
        if s == 0:
            header = rng.choice(HEADERS)
            ws.write_row(top, 0, header)
            n = 0
            for r in range(rng.randint(0, 10)):
                values = [
                    rng.choice([cell(rng), rng.randint(-5, 10**6), rng.random() * 1e4])
                    for _ in header
                ]
                for j, v in enumerate(values):
                    ws.write(top + 1 + r, j, v)
                if any(str(v).strip() for v in values):
                    n += 1
            expected = n
        else:  # a sheet of random cells: maybe a header, maybe none
            for _ in range(rng.randint(0, 15)):
                ws.write(rng.randint(0, 30), rng.randint(0, 8), cell(rng))
    wb.close()
    return expected


def state(db: Path) -> list:
    if not db.exists():
        return []
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [
            con.execute(
                f"SELECT count(*), coalesce(sum(hash(t::VARCHAR)), 0)::VARCHAR FROM {t} t"
            ).fetchone()
            for t in TABLES
        ]
    finally:
        con.close()


def main(seed: int, cases: int, folder: Path) -> None:
    rng = random.Random(seed)
    runner = CliRunner()
    db = folder / "fuzz.duckdb"
    for i in range(cases):
        kind = rng.choice(["csv", "csv", "stray", "mutated_csv", "xlsx", "mutated_xlsx"])
        path = folder / f"case{i}.{'xlsx' if 'xlsx' in kind else 'csv'}"
        expected: int | None = None
        if kind == "csv":
            data, expected = structured_csv(rng)
            path.write_bytes(data)
        elif kind == "stray":
            data, expected = stray_quotes_csv(rng)
            path.write_bytes(data)
        elif kind == "mutated_csv":
            path.write_bytes(mutated(rng, structured_csv(rng)[0]))
        else:
            expected = workbook(rng, path)
            if kind == "mutated_xlsx":
                path.write_bytes(mutated(rng, path.read_bytes()))
                expected = None
        target = path
        if rng.random() < 0.5:  # loaded as a folder's file: a file without header is no error
            target = folder / f"in{i}"
            target.mkdir()
            path = path.rename(target / path.name)
        print(json.dumps({"start": i}), flush=True)
        before = state(db)
        r = runner.invoke(app, ["--db", str(db), "load", str(target)])
        crashed = r.exception is not None and not isinstance(r.exception, SystemExit)
        print(
            json.dumps(
                {
                    "case": i,
                    "kind": kind,
                    "file": str(path),
                    "folder": target != path,
                    "exit": r.exit_code,
                    "stderr": r.stderr,
                    "crashed": repr(r.exception) if crashed else None,
                    "expected": expected,
                    "before": before,
                    "after": state(db),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
