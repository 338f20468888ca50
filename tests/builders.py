"""Builders shared by the tests: rows of a hand-built store, export files, the command line
through typer's CliRunner, crmtool in a process that signals itself, and the exact error line
a failed command must print (the data and the answers stay in each test)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple

from typer.testing import CliRunner, Result

from crmtool import db

_ro_ids = count(1)
runner = CliRunner()


# -- rows of a store ----------------------------------------------------------------------------


def insert_ro(con, vin: str, day: date, **columns) -> str:  # noqa: ANN001, ANN003
    """One repair order of `vin` settled on `day` with the given columns; returns its ro_id
    (R1, R2, … unique within the test run)."""
    row = {"ro_id": f"R{next(_ro_ids)}", "vin": vin, "settle_date": day, **columns}
    insert(con, "repair_orders", row)
    return row["ro_id"]


def insert(con, table: str, *rows: dict[str, Any]) -> None:  # noqa: ANN001
    """Rows into a table of the store, each a dict of column -> value (None is NULL)."""
    for row in rows:
        con.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )


def order(
    ro_id: str,
    vin: str,
    day: str,
    amount: float,
    ro_type: str = "maintenance",
    payer: str = "customer",
    dealer: str = "D001",
    **more: Any,
) -> dict[str, Any]:
    """A repair-order row: an own paid maintenance by default."""
    return {
        "ro_id": ro_id,
        "dealer_code": dealer,
        "vin": vin,
        "settle_date": date.fromisoformat(day),
        "ro_type": ro_type,
        "payer": payer,
        "total_amount": amount,
        **more,
    }


def vehicle(
    vin: str, series: str, sale_date: str | None = None, customer_id: str | None = None, **more: Any
) -> dict[str, Any]:
    """A vehicle row, sold by us (sale_channel own) when it has a sale date."""
    sold = {"sale_date": date.fromisoformat(sale_date), "sale_channel": "own"} if sale_date else {}
    return {"vin": vin, "customer_id": customer_id, "series": series, **sold, **more}


def customer(customer_id: str, name: str, phone: str, **more: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "name": name, "phone": phone, **more}


def store(path: Path, **tables: Iterable[dict[str, Any]]) -> Path:
    """A crmtool database file at `path` holding the given rows, table by table:
    store(p, customers=[customer(...)], vehicles=[vehicle(...)], repair_orders=[order(...)])."""
    con = db.connect(path)
    try:
        for table, rows in tables.items():
            insert(con, table, *rows)
    finally:
        con.close()
    return path


def query(dbfile: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """The rows of a query on a database file, opened read-only."""
    con = db.connect(dbfile, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# -- export files -------------------------------------------------------------------------------


def write_export(
    path: Path,
    rows: Iterable[str | Sequence[str]],
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """An export file: each row a line of text or a list of cells (joined with commas), every
    line ended by `newline`, the whole encoded as `encoding`."""
    lines = [r if isinstance(r, str) else ",".join(r) for r in rows]
    path.write_bytes("".join(line + newline for line in lines).encode(encoding))
    return path


# -- the command line ---------------------------------------------------------------------------


def invoke(
    *args: str,
    db: Path | None = None,
    config: Path | None = None,
    as_of: str | None = None,
    input: str | None = None,  # noqa: A002 - CliRunner's name
) -> Result:
    """`crmtool [--db DB] [--config CONFIG] [--as-of AS_OF] ARGS` through typer's CliRunner."""
    from crmtool.cli import app

    head: list[str] = []
    if db is not None:
        head += ["--db", str(db)]
    if config is not None:
        head += ["--config", str(config)]
    if as_of is not None:
        head += ["--as-of", as_of]
    return runner.invoke(app, [*head, *args], input=input)


def commands() -> list[tuple[str, ...]]:
    """The path of every command of the CLI (leaves only: `care callbacks`, not `care`)."""
    import typer

    from crmtool.cli import app

    def walk(group: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for name, cmd in getattr(group, "commands", {}).items():
            out += walk(cmd, (*path, name)) if hasattr(cmd, "commands") else [(*path, name)]
        return out

    return walk(typer.main.get_command(app), ())


def warnings(result: Result | Done | subprocess.CompletedProcess) -> list[str]:
    """The `crmtool: warning: …` lines of a run."""
    return [line for line in result.stderr.splitlines() if line.startswith("crmtool: warning:")]


def assert_error(
    result: Result | Done | subprocess.CompletedProcess,
    exit_code: int,
    message: str,
    *,
    warnings_first: bool = False,
) -> None:
    """The run failed with `exit_code` and printed exactly one line on stderr,
    `crmtool: error: MESSAGE`, and nothing on stdout (csvkit's assertError).
    `warnings_first`: `crmtool: warning:` lines may come before it."""
    code = result.exit_code if isinstance(result, Result) else result.returncode
    lines = result.stderr.splitlines()
    if warnings_first:
        lines = [line for line in lines if not line.startswith("crmtool: warning:")]
    assert (code, lines) == (exit_code, [f"crmtool: error: {message}"]), result.stderr
    assert result.stderr.endswith("\n") and result.stdout == "", result.stdout


# -- crmtool in a process that signals itself ---------------------------------------------------

# crmtool in a fresh interpreter that sends itself SIGNAL right after HOOK (module:attribute,
# e.g. crmtool.load.ingest:load_sheet or xlsxwriter.packager:Packager._create_package) returns from
# its N-th call: argv HOOK N SIGNAL crmtool-args... No sleeps, no timing: the signal lands at
# the same point of the work every time.
SELF_SIGNAL = textwrap.dedent("""
    import importlib, os, sys
    module, _, attr = sys.argv[1].rpartition(":")
    owner_path, _, name = attr.rpartition(".")
    owner = importlib.import_module(module)
    for part in filter(None, owner_path.split(".")):
        owner = getattr(owner, part)
    original, nth, sig = getattr(owner, name), int(sys.argv[2]), int(sys.argv[3])
    calls = [0]

    def hook(*args, **kwargs):
        out = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), sig)
        return out

    setattr(owner, name, hook)
    from crmtool.cli.app import main
    main(sys.argv[4:])
""")


def signalled(
    hook: str,
    *args: str,
    nth: int = 1,
    sig: int = signal.SIGTERM,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """Start crmtool ARGS in a process that signals itself after HOOK's `nth` call."""
    return subprocess.Popen(
        [sys.executable, "-c", SELF_SIGNAL, hook, str(nth), str(int(sig)), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def crmtool_process(*args: str, **kw: Any) -> subprocess.Popen:
    """Start `python -m crmtool ARGS` (stdout and stderr piped, text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "crmtool", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


class Done(NamedTuple):
    """A finished process: unpacks as (returncode, stdout, stderr)."""

    returncode: int
    stdout: str
    stderr: str


def finish(p: subprocess.Popen, timeout: float = 300) -> Done:
    """Wait for a started process."""
    out, err = p.communicate(timeout=timeout)
    return Done(p.returncode, out, err)


def report_store(path: Path) -> Path:
    """Two customers and their cars; an insurance body-paint order in the report's May (the
    store the fault and leftover tests write reports from)."""
    return store(
        path,
        customers=[customer("C1", "张三", "13800138000"), customer("C2", "李四", "13900139000")],
        vehicles=[
            vehicle("V1", "迈腾", "2021-01-01", customer_id="C1"),
            vehicle("V2", "朗逸", "2021-10-01", customer_id="C2"),
        ],
        repair_orders=[
            order("R1", "V1", "2021-06-01", 500),
            order("R9", "V2", "2022-05-20", 12000, ro_type="body_paint", payer="insurance"),
        ],
    )


def recognise(cells: list[str]) -> bool:
    """A reader's header test by the built-in names alone: two cells naming a known column."""
    from crmtool.schema import TABLES, header_map, normalise_header

    known = {h for t in TABLES for h in header_map(t)}
    return sum(normalise_header(c) in known for c in cells) >= 2
