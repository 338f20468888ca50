"""The call-list registry (issue 20): every list declared once, read by `contacts export`,
the report data and the report layout; adding a list is one entry."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmtool import call_lists, db, facts
from crmtool.call_lists import CallList
from crmtool.config import Config
from crmtool.output import labels

runner = CliRunner()
DAY = date(2022, 6, 10)


def _store(con) -> None:  # noqa: ANN001
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES"
        " ('C1', '张三', '13800138000'), ('C2', '李四', '13900139000')"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) VALUES"
        " ('V1', 'C1', '迈腾', DATE '2021-01-01', 'own'),"
        " ('V2', 'C1', '朗逸', DATE '2021-06-01', 'own'),"
        " ('V3', 'C2', '朗逸', DATE '2020-06-03', 'own')"
    )


@pytest.mark.parametrize("name", call_lists.names())
def test_every_list_builds_its_declared_columns_on_an_empty_store(con, name: str) -> None:
    cfg = Config()
    facts.install(con, cfg)
    entry = call_lists.get(name)
    frame = entry.build(con, cfg, DAY)
    assert frame.height == 0
    assert tuple(frame.columns) == entry.columns
    for column in entry.columns:  # every header a person reads has its Chinese form
        assert labels.column_label(column, "zh") != column, column
    if entry.report is not None:
        assert entry.report(con, cfg, DAY).height == 0


def test_the_report_shows_the_registered_lists_in_the_registry_order() -> None:
    # the layout of the workbook and the HTML report before the registry, kept
    reported = [e.name for e in call_lists.LISTS.values() if e.report is not None]
    assert reported == [
        "due",
        "warranty",
        "insurance",
        "loyal",
        "winback",
        "birthdays",
        "callbacks",
        "complaints",
    ]
    assert call_lists.report_order(["zz", "winback", "due", "aa"]) == ["due", "winback", "aa", "zz"]


def test_per_customer_keeps_the_best_row_or_the_first() -> None:
    frame = pl.DataFrame(
        {
            "vin": ["V1", "V2", "V3", "V4", "V5"],
            "customer_id": ["C1", "C2", "C1", None, "C2"],
            "tier": ["B", "C", "A", "D", "C"],
            "ticket": [100.0, 80.0, 50.0, 10.0, 90.0],
            "visits_12m": [1, 1, 1, 1, 1],
        }
    )
    # the list's order: C1's first row V1, C2's first V2, V4 alone; kept in the frame's order
    first = call_lists.per_customer(frame)
    assert first.select("vin", "vehicles").rows() == [("V1", 2), ("V2", 2), ("V4", 1)]
    # segment's rule: best tier, then highest ticket: C1 → V3 (A), C2 → V5 (C, 90 > 80);
    # rows in the frame's order of the rows kept: V3 (row 3), V4 (row 4), V5 (row 5)
    best = call_lists.per_customer(frame, call_lists.get("segment").best)
    assert best.select("vin", "vehicles").rows() == [("V3", 2), ("V4", 1), ("V5", 2)]


def _throwaway(con, cfg, as_of):  # noqa: ANN001, ANN202
    """Vehicles sold more than a year before as_of, oldest first (a list made up for the test)."""
    return con.sql(
        "SELECT v.vin, v.customer_id, c.name, c.phone, v.series, v.sale_date FROM vehicles v"
        " LEFT JOIN customers c USING (customer_id)"
        " WHERE v.sale_date < $as_of - 365 ORDER BY v.sale_date, v.vin",
        params={"as_of": as_of},
    ).pl()


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    c = db.connect(path)
    _store(c)
    c.close()
    return path


def test_a_new_list_is_one_entry(dbfile: Path, con) -> None:  # noqa: ANN001
    from crmtool.cli import app

    entry = CallList(
        "old_cars",
        _throwaway,
        "vehicle",
        ("vin", "customer_id", "name", "phone", "series", "sale_date"),
        "crmtool contacts export --list old_cars",
        report=_throwaway,
    )
    with call_lists.registered(entry):
        # contacts export: once per customer; V3 (2020-06-03) and V1 (2021-01-01) are older
        # than 2022-06-10 − 365 days = 2021-06-10, V2 (2021-06-01) too but C1 is already listed
        r = runner.invoke(
            app,
            ["--db", str(dbfile), "--as-of", "2022-06-10", "contacts", "export"]
            + ["--list", "old_cars", "--format", "json"],
        )
        assert r.exit_code == 0, r.output
        assert [row["vin"] for row in json.loads(r.stdout)] == ["V3", "V1"]
        # the report data carries it, after the lists it knew
        _store(con)
        facts.install(con, Config())
        lists = call_lists.report_lists(con, Config(), DAY)
        assert list(lists)[-1] == "old_cars"
        assert lists["old_cars"]["vin"].to_list() == ["V3", "V1", "V2"]
        assert call_lists.report_order(list(lists))[-1] == "old_cars"
    assert "old_cars" not in call_lists.names()


def test_an_unknown_list_names_the_choices(dbfile: Path) -> None:
    from crmtool.cli import app

    r = runner.invoke(
        app, ["--db", str(dbfile), "contacts", "export", "--list", "nope", "--format", "csv"]
    )
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == (
        "crmtool: error: --list must be one of due, warranty, insurance, loyal, winback, churn, "
        "segment, birthdays, callbacks, complaints; got 'nope'"
    )
