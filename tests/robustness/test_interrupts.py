"""Issue 14 item 8: every Ctrl-C exits 130 with 'interrupted' and leaves the database as it
was, including one that lands inside a DuckDB query of a load (the transaction is then aborted
and every later statement fails with "TransactionContext Error: Current transaction is
aborted", which must never surface as a bad file). Deterministic: the interrupt is raised at
a chosen statement, no signals or timing."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from crmtool import db

H = "工单号,VIN,结算日期,结算金额\n"
V1 = "LSVAA4183E2000001"


class InterruptedAt:
    """A DuckDB connection whose ``at``-th statement containing ``marker`` is interrupted as
    Ctrl-C interrupts a running query: DuckDB aborts the transaction and Python sees
    KeyboardInterrupt (what crmtool's SIGINT handler raises)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, marker: str, at: int) -> None:
        self._con, self._marker, self._at, self.seen = con, marker, at, 0

    def execute(self, sql: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        if self._marker in str(sql):
            self.seen += 1
            if self.seen == self._at:
                with contextlib.suppress(duckdb.Error):  # the query dies: transaction aborted
                    self._con.execute("SELECT error('interrupted by the test')")
                raise KeyboardInterrupt
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._con, name)


def tables(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in names}
    finally:
        con.close()


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(3):
        rows = "".join(f"R{k}_{i},{V1},2021-01-{1 + i:02d},{i}\n" for i in range(5))
        (folder / f"ro{k}.csv").write_bytes((H + rows).encode("gbk"))
    return folder


def load_interrupted(monkeypatch, tmp_path: Path, exports: Path, marker: str, at: int):
    dbp = tmp_path / "crm.duckdb"
    db.connect(dbp).close()
    before = tables(dbp)
    real = db.connect
    seen: list[InterruptedAt] = []

    def connect(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append(InterruptedAt(real(*args, **kwargs), marker, at))
        return seen[-1]

    monkeypatch.setattr(db, "connect", connect)
    from crmtool.cli import app

    r = CliRunner().invoke(app, ["--db", str(dbp), "load", str(exports)])
    monkeypatch.setattr(db, "connect", real)
    assert seen and seen[0].seen >= at, "the interrupt point was never reached"
    return r, before, tables(dbp)


@pytest.mark.parametrize(
    "marker, at",
    [
        ("read_csv(", 2),  # inside the second file's read: the reader's cleanup then fails
        ("read_csv(", 1),
        ("INSERT INTO loads", 2),  # while recording the second file
    ],
)
def test_ctrl_c_inside_a_load_query_is_interrupted_not_a_bad_file(
    monkeypatch, tmp_path, exports, marker, at
):
    r, before, after = load_interrupted(monkeypatch, tmp_path, exports, marker, at)
    assert (r.exit_code, r.stderr) == (130, "crmtool: error: interrupted\n"), r.output
    assert "TransactionContext" not in r.output
    assert after == before  # rolled back: nothing of the load is kept


def test_ctrl_c_between_statements_of_a_load(monkeypatch, tmp_path, exports):
    from crmtool.load import ingest

    def interrupt(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest, "link_vehicles", interrupt)
    dbp = tmp_path / "crm.duckdb"
    db.connect(dbp).close()
    before = tables(dbp)
    from crmtool.cli import app

    r = CliRunner().invoke(app, ["--db", str(dbp), "load", str(exports)])
    assert (r.exit_code, r.stderr) == (130, "crmtool: error: interrupted\n"), r.output
    assert tables(dbp) == before


def test_ctrl_c_while_the_options_are_read(monkeypatch, tmp_path):
    """Before any command runs (the global options' callback): 130, not click's 'Aborted'."""
    import importlib

    app_module = importlib.import_module("crmtool.cli.app")

    def interrupt(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr(app_module, "parse_date_arg", interrupt)
    r = CliRunner().invoke(
        app_module.app, ["--db", str(tmp_path / "x.duckdb"), "--as-of", "2022-06-30", "tiers"]
    )
    assert r.exit_code == 130, r.output
    assert r.stderr.splitlines()[-1:] == ["crmtool: error: interrupted"]


# --- report's default period (rulebook §16 "First day") ------------------------------------


@pytest.mark.parametrize(
    "as_of, label",
    [
        ("2022-05-31", "2022-05"),  # a month's last day: that month
        ("2022-06-30", "2022-06"),
        ("2022-06-29", "2022-05"),  # else the last full month before
        ("2022-06-01", "2022-05"),
        ("2024-02-29", "2024-02"),  # leap day is February's last
        ("2023-01-15", "2022-12"),
    ],
)
def test_report_period_defaults_from_as_of(as_of, label):
    from datetime import date

    from crmtool.period import report_month

    assert report_month(date.fromisoformat(as_of)).label == label


def test_report_without_period_uses_as_of(tmp_path):
    from crmtool.cli import app

    dbp = tmp_path / "crm.duckdb"
    db.connect(dbp).close()
    # an empty store: --allow-empty (issue 15) writes the report of a period without data
    r = CliRunner().invoke(
        app,
        [
            "--db",
            str(dbp),
            "--as-of",
            "2021-10-31",
            "report",
            "--out",
            str(tmp_path / "rep"),
            "--format",
            "html",
            "--allow-empty",
        ],
    )
    assert r.exit_code == 0, r.output
    assert [p.name for p in (tmp_path / "rep").iterdir()] == ["crmtool-report-2021-10.html"]
