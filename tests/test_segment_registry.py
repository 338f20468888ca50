"""The segment registry (issue 20): a segment is one entry, and `crmtool segment` takes its
filter option, `--by` key, `--by` order and labels from it. A throw-away segment added
through the registry shows up everywhere; the built-in columns keep their order."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import call_lists, db
from crmtool import segment_registry as registry
from crmtool.output import labels
from crmtool.segment_registry import Segment

runner = CliRunner()

# sold in our showroom or by a secondary outlet; a vehicle sold elsewhere has neither
SOLD_BY = Segment(
    "sold_by",
    lambda cfg: "CASE sale_channel WHEN 'own' THEN 'showroom' WHEN 'secondary' THEN 'outlet' END",
    needs=("v.sale_channel",),
    values=lambda cfg: ("showroom", "outlet"),
    ordered=True,
    flag="--sold-by",
    by="sold",
    metavar="S",
    help="showroom or outlet.",
    label=("销售来源", "Sold by"),
    value_labels={"showroom": ("展厅", "Showroom"), "outlet": ("二网", "Outlet")},
)


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    con.execute(
        "INSERT INTO vehicles (vin, series, sale_date, sale_channel) VALUES"
        " ('V1', '迈腾', DATE '2021-06-01', 'secondary'),"
        " ('V2', '朗逸', DATE '2021-07-01', 'own'),"
        " ('V3', '朗逸', DATE '2021-08-01', 'own'),"
        " ('V4', '朗逸', DATE '2021-09-01', 'other')"
    )
    # V4, sold elsewhere, is ours by its own visit
    con.execute(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, payer,"
        " total_amount) VALUES ('R1', 'D001', 'V4', DATE '2021-12-01', 'repair', 'customer', 100)"
    )
    con.close()
    return path


def run(path: Path, *args: str):
    from crmtool.cli import app

    return runner.invoke(app, ["--db", str(path), "--as-of", "2021-12-31", "segment", *args])


def test_a_new_segment_is_one_entry(dbfile: Path) -> None:
    with registry.registered(SOLD_BY):
        # a column of the list, after the built-in segments (before last_visit)
        r = run(dbfile, "--format", "csv", "--columns", "vin,occupation,sold_by,last_visit")
        assert r.exit_code == 0, r.output
        assert r.stdout.splitlines() == [
            "vin,occupation,sold_by,last_visit",
            "V1,,outlet,",
            "V2,,showroom,",
            "V3,,showroom,",
            "V4,,,2021-12-01",
        ]
        cols = registry.list_columns()
        assert cols.index("sold_by") == cols.index("occupation") + 1
        # its filter option, checked against its values
        r = run(dbfile, "--format", "csv", "--columns", "vin", "--sold-by", "showroom")
        assert r.stdout.splitlines() == ["vin", "V2", "V3"]
        r = run(dbfile, "--format", "csv", "--sold-by", "dealer")
        assert r.exit_code == 2
        assert r.stderr.splitlines()[0] == (
            "crmtool: error: --sold-by: unknown value 'dealer'; use showroom, outlet"
        )
        # its --by key, rows in the values' order (showroom before outlet), none last
        r = run(dbfile, "--format", "csv", "--by", "sold")
        assert r.stdout.splitlines() == [
            "sold_by,vehicles,share",
            "showroom,2,0.5",
            "outlet,1,0.25",
            ",1,0.25",
        ]
        # its labels, in THE label table: header and values in Chinese
        assert labels.column_label("sold_by", "zh") == "销售来源"
        assert labels.value_label("sold_by", "outlet", "zh") == "二网"
        r = run(dbfile, "--format", "table", "--lang", "zh", "--by", "sold")
        assert r.exit_code == 0, r.output
        assert "销售来源" in r.stdout and "展厅" in r.stdout and "二网" in r.stdout
        # --help shows the option
        assert "--sold-by" in run(dbfile, "--help").stdout
    # gone with the with block: option, column and labels
    assert "sold_by" not in registry.list_columns()
    assert labels.column_label("sold_by", "zh") == "sold_by"
    r = run(dbfile, "--format", "csv", "--sold-by", "showroom")
    assert r.exit_code == 2 and "--sold-by" in r.stderr


def test_the_built_in_segments_keep_the_list_and_its_keys() -> None:
    assert tuple(registry.list_columns()) == registry.LIST_COLUMNS
    assert call_lists.get("segment").columns == registry.LIST_COLUMNS
    assert registry.by_keys() == {
        "tier": "tier",
        "stage": "age_stage",
        "mileage": "mileage_band",
        "frequency": "frequency_band",
        "area": "area_type",
        "decade": "birth_decade",
    }
    flags = [s.flag for s in registry.SEGMENTS.values() if s.flag]
    assert flags == [
        "--tier",
        "--stage",
        "--mileage-band",
        "--frequency",
        "--series",
        "--usage",
        "--area",
        "--status",
    ]
    for seg in registry.SEGMENTS.values():  # every built-in column has its Chinese header
        assert labels.column_label(seg.name, "zh") != seg.name, seg.name
