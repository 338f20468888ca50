"""The summary JSON contract (docs/rules.md §11 "Summary") and the demo, on the bundled sample dealership."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtool import db
from crmtool.cli import app
from crmtool.config import load_config
from crmtool.load.ingest import load
from crmtool.sample import bundled_sample_dir

runner = CliRunner()
SAMPLE = bundled_sample_dir()
MANIFEST = json.loads((SAMPLE / "sample.json").read_text(encoding="utf-8"))

# the rulebook's §12, key for key: the value says what kind of figure it is.
COUNT, MONEY, SHARE = "count", "money", "share"
RO_TYPES = (
    "first_service",
    "maintenance",
    "repair",
    "body_paint",
    "warranty",
    "pds",
    "internal",
    "other",
)
CONTRACT = {
    "as_of": str,
    "period": {"start": str, "end": str},
    "tiers": {k: COUNT for k in "ABCD"},
    "status": {k: COUNT for k in ("new", "loyal", "general", "at_risk", "lost")},
    "leakage": {
        "retained": COUNT,
        "cross_shop": COUNT,
        "defected": COUNT,
        "out_of_channel": COUNT,
        "cross_shop_by_own_visits": {k: COUNT for k in ("1", "2", "3", "4", "5+")},
        "cross_shop_region": {k: COUNT for k in ("same", "other", "unknown")},
    },
    "new_car_defection": {"sold": COUNT, "defected": COUNT, "direct": COUNT},
    "secondary_network": {
        "sold": COUNT,
        "returned_paid": COUNT,
        "revenue": MONEY,
        "no_paid": COUNT,
        "no_ro": COUNT,
        "by_outlet": list,
    },
    "never_returned": COUNT,
    "service_mix": {t: {"count": COUNT, "share": SHARE, "revenue": MONEY} for t in RO_TYPES},
    "leads": {
        "leads": COUNT,
        "visited": COUNT,
        "won": COUNT,
        "lost": COUNT,
        "conversion": SHARE,
        "overdue": COUNT,
    },
    "data_quality": {"read": COUNT, "loaded": COUNT, "duplicates": COUNT, "rejected": COUNT},
    "maintenance_due": {"due": COUNT, "returned": COUNT, "rate": SHARE},
}


def check(value: object, spec: object, path: str) -> None:
    if isinstance(spec, dict):
        assert isinstance(value, dict), path
        missing = set(spec) - set(value)
        assert not missing, f"{path}: missing keys {sorted(missing)}"
        for key, sub in spec.items():
            check(value[key], sub, f"{path}.{key}")
    elif spec == COUNT:
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, path
    elif spec == MONEY:
        assert isinstance(value, int | float) and round(value, 2) == value, path
    elif spec == SHARE:
        assert isinstance(value, int | float) and 0 <= value <= 1, path
    else:
        assert isinstance(value, spec), path


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "crm.duckdb"
    con = db.connect(path)
    load(con, [SAMPLE], load_config(SAMPLE / "crmtool.toml"))
    con.close()
    return path


def summary_json(sample_db: Path, *args: str) -> dict:
    result = runner.invoke(
        app,
        [
            "--db",
            str(sample_db),
            "--config",
            str(SAMPLE / "crmtool.toml"),
            "summary",
            *args,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_summary_json_has_every_key_of_the_contract(sample_db: Path) -> None:
    s = summary_json(sample_db, "--period", MANIFEST["period"])
    check(s, CONTRACT, "summary")
    assert s["as_of"] == MANIFEST["as_of"] == "2021-12-31"
    assert s["period"] == {"start": "2021-12-01", "end": "2021-12-31"}
    for outlet in s["secondary_network"]["by_outlet"]:
        check(outlet, {"outlet": str, "sold": COUNT, "returned_paid": COUNT}, "by_outlet")


def test_summary_figures_add_up(sample_db: Path) -> None:
    s = summary_json(sample_db, "--period", "2021")
    dq = s["data_quality"]
    # every row the sample's files hold, plus its totals row (counted as read and rejected)
    assert dq["read"] == sum(MANIFEST["files"].values()) + MANIFEST["planted"]["totals_row"]
    assert dq["read"] == dq["loaded"] + dq["duplicates"] + dq["rejected"]
    planted = MANIFEST["planted"]
    assert dq["rejected"] == (
        planted["missing_settle_date"]
        + planted["impossible_date"]
        + planted["wrong_field_count"]
        + planted["totals_row"]
    )
    # repeated monthly exports and customers sharing a phone are the duplicates
    assert dq["duplicates"] == planted["overlap_rows"] + planted["shared_phone"]
    # tiers and status both count the vehicles ours at as_of
    assert sum(s["tiers"].values()) == sum(s["status"].values())
    lk = s["leakage"]
    assert sum(lk["cross_shop_by_own_visits"].values()) == lk["cross_shop"]
    assert sum(lk["cross_shop_region"].values()) == lk["cross_shop"]
    sn = s["secondary_network"]
    assert sn["no_paid"] == sn["sold"] - sn["returned_paid"]
    assert sum(o["sold"] for o in sn["by_outlet"]) == sn["sold"]
    assert round(sum(v["share"] for v in s["service_mix"].values()), 6) == 1.0


def test_summary_table_on_a_terminal_shows_the_same_figures(sample_db: Path) -> None:
    s = summary_json(sample_db, "--period", "2021-12")
    result = runner.invoke(
        app,
        [
            "--db",
            str(sample_db),
            "--config",
            str(SAMPLE / "crmtool.toml"),
            "summary",
            "--period",
            "2021-12",
        ],
    )
    assert result.exit_code == 0
    assert "客户价值等级" in result.stdout and "客户去向（流失客户分析）" in result.stdout
    assert f"{s['data_quality']['read']:,}" in result.stdout
    english = runner.invoke(
        app,
        [
            "--db",
            str(sample_db),
            "--config",
            str(SAMPLE / "crmtool.toml"),
            "summary",
            "--period",
            "2021-12",
            "--lang",
            "en",
        ],
    )
    assert "Value tiers" in english.stdout and "Where customers go" in english.stdout


def test_demo_loads_the_sample_and_prints_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "客户价值等级" in result.stdout
    planted = MANIFEST["planted"]
    read = sum(MANIFEST["files"].values()) + planted["totals_row"]
    dup = planted["overlap_rows"] + planted["shared_phone"]
    rejected = (
        planted["missing_settle_date"]
        + planted["impossible_date"]
        + planted["wrong_field_count"]
        + planted["totals_row"]
    )
    assert (
        f"total: read {read} = loaded {read - dup - rejected} + duplicates {dup} + "
        f"rejected {rejected}"
    ) in result.stderr
    assert f"统计日期 {MANIFEST['as_of']}" in result.stdout
    assert not list(tmp_path.iterdir())  # without --keep nothing is left behind
