"""No silent empty answers (issue 15 item 4): a failed load leaves no database; an empty folder,
an as_of long after the data, a period without data and a count without vehicles each warn;
`report` on a period without data exits 1 unless --allow-empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import assert_error, customer, invoke, order, store, vehicle, warnings


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    """Own repair orders 2021-11-01 (V1, owner 张三) and 2021-12-01 (V2); both sold by us
    2020-01-01."""
    return store(
        tmp_path / "crm.duckdb",
        customers=[customer("C1", "张三", "13800000001")],
        vehicles=[
            vehicle("V1", "迈腾", "2020-01-01", customer_id="C1"),
            vehicle("V2", "朗逸", "2020-01-01"),
        ],
        repair_orders=[order("R1", "V1", "2021-11-01", 800), order("R2", "V2", "2021-12-01", 500)],
    )


def run(dbfile: Path, *args: str):
    return invoke(*args, db=dbfile)


def test_failed_load_creates_no_database(tmp_path: Path) -> None:
    target = tmp_path / "new.duckdb"
    r = run(target, "load", str(tmp_path / "nonexistent"))
    assert_error(r, 1, f"{tmp_path / 'nonexistent'}: no such file or folder")
    assert not target.exists() and not Path(str(target) + ".wal").exists()
    # and the commands after it say the database is missing instead of answering 0 rows
    after = run(target, "segment", "--format", "csv")
    assert_error(after, 1, f"database {target} does not exist; run `crmtool load` first")


def test_failed_load_keeps_an_existing_database(dbfile: Path, tmp_path: Path) -> None:
    r = run(dbfile, "load", str(tmp_path / "nonexistent"))
    assert r.exit_code == 1 and dbfile.exists()


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_load_of_an_empty_folder_warns(tmp_path: Path, quiet: list[str]) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "notes.doc").write_text("not an export")
    r = run(tmp_path / "crm.duckdb", "load", str(folder), *quiet)
    assert r.exit_code == 0
    assert warnings(r) == [
        f"crmtool: warning: {folder}: no .csv .txt .tsv .xlsx .xls file in "
        "this folder; nothing loaded from it"
    ]


STALE = (
    "crmtool: warning: as_of 2022-03-02 is 91 days after the newest repair order "
    "(2021-12-01): vehicles without a visit since count as lost; pass --as-of 2021-12-01 "
    "to see the data at its end"
)


@pytest.mark.parametrize(
    "command",
    [
        ["segment"],
        ["tiers"],
        ["churn"],
        ["due"],
        ["campaign", "winback"],
        ["care", "callbacks"],
        ["find", "张三"],
    ],
    ids=" ".join,
)
def test_as_of_long_after_the_data_warns_once(dbfile: Path, command: list[str]) -> None:
    """From 2021-12-01: 2022-01-01 is 31 days, 02-01 62, 03-01 90, 03-02 91 → warned at
    2022-03-02, not at 2022-03-01 (90 days is not more than 90)."""
    r = run(dbfile, *command, "--as-of", "2022-03-02", "--format", "json")
    assert r.exit_code == 0, r.output
    assert warnings(r) == [STALE]
    quiet = run(dbfile, *command, "--as-of", "2022-03-01", "--format", "json")
    assert quiet.exit_code == 0 and warnings(quiet) == []


def test_summary_of_a_period_without_data_warns(dbfile: Path) -> None:
    r = run(dbfile, "summary", "--period", "2021-10", "--format", "json")
    assert r.exit_code == 0
    assert warnings(r) == [
        "crmtool: warning: period 2021-10 has no data: no own repair order settled from "
        "2021-10-01 to 2021-10-31 (the data runs 2021-11-01 … 2021-12-01)"
    ]
    ok = run(dbfile, "summary", "--period", "2021-11", "--format", "json")
    assert ok.exit_code == 0 and warnings(ok) == []


def test_summary_without_vehicles_warns(dbfile: Path) -> None:
    """as_of 2019-06-30: nothing sold or serviced yet; the period (2019-06) has no data."""
    r = run(dbfile, "--as-of", "2019-06-30", "summary", "--period", "2019-06", "--format", "json")
    assert r.exit_code == 0
    assert warnings(r) == [
        "crmtool: warning: period 2019-06 has no data: no own repair order settled from "
        "2019-06-01 to 2019-06-30 (the data runs 2021-11-01 … 2021-12-01)",
        "crmtool: warning: no vehicle is ours at as_of 2019-06-30 (a sale or own visit in the "
        "1096 days before): every count is 0",
    ]


def test_report_of_a_period_without_data_exits_1(dbfile: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    r = run(dbfile, "report", "--period", "2015-06", "--out", str(out), "-q")
    assert_error(
        r,
        1,
        "period 2015-06 has no data: no own repair order settled from 2015-06-01 to "
        "2015-06-30 (the data runs 2021-11-01 … 2021-12-01); pass --allow-empty to write the "
        "report anyway",
    )
    assert not list(out.glob("crmtool-report-*")) if out.exists() else True
    allowed = run(
        dbfile,
        "report",
        "--period",
        "2015-06",
        "--out",
        str(out),
        "-q",
        "--allow-empty",
        "--format",
        "xlsx",
    )
    assert allowed.exit_code == 0, allowed.output
    assert (out / "crmtool-report-2015-06.xlsx").exists()
