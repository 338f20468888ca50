"""Config you can trust (issue 15 item 5): shapes validated with the key named, `config show`
as TOML naming the file in force and marking changed values, `tiers --suggest --write`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from builders import assert_error, invoke, order, store, vehicle
from typer.testing import CliRunner

from crmtool.cli import app
from crmtool.config import Config, load_config
from crmtool.config_toml import config_toml

runner = CliRunner()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[tiers]\nvisits = [4, 2]\n",
            "config key 'tiers.visits' must be 3 whole numbers (A, B, C), falling, ≥ 0, got [4, 2]",
        ),
        (
            "[tiers]\nvisits = [1, 2, 4]\n",
            "config key 'tiers.visits' must be 3 whole numbers (A, B, C), falling, ≥ 0, got [1, 2, 4]",
        ),
        (
            "[tiers]\ncycle_days = [365, 180, 90]\n",
            "config key 'tiers.cycle_days' must be 3 numbers (A, B, C), rising, ≥ 0, "
            "got [365.0, 180.0, 90.0]",
        ),
        (
            "[tiers]\ntarget_mix = [50, 50]\n",
            "config key 'tiers.target_mix' must be 4 percentages (A, B, C, D), ≥ 0, got [50.0, 50.0]",
        ),
        (
            '[tiers.series_ticket]\n"迈腾" = [900, 700]\n',
            "config key 'tiers.series_ticket.迈腾' must be 3 numbers (ticket cut points for A, B, C), "
            "falling, ≥ 0, got [900.0, 700.0]",
        ),
        (
            "[segments]\nmileage_bands_km = [30000, 10000]\n",
            "config key 'segments.mileage_bands_km' must be a non-empty list of numbers, rising, ≥ 0, "
            "got [30000.0, 10000.0]",
        ),
        (
            "[segments]\nmileage_bands_km = []\n",
            "config key 'segments.mileage_bands_km' must be a non-empty list of numbers, rising, ≥ 0, "
            "got []",
        ),
        (
            "[segments]\nfrequency_bands = [0, 2, 2]\n",
            "config key 'segments.frequency_bands' must be a non-empty list of whole numbers, rising, "
            "≥ 0, got [0, 2, 2]",
        ),
        (
            "[status]\nlost_days = -5\n",
            "config key 'status.lost_days' must be greater than status.at_risk_days (180), got -5",
        ),
        (
            "[status]\nat_risk_days = 0\n",
            "config key 'status.at_risk_days' must be at least 1, got 0",
        ),
        (
            "[insurance]\nbands = [5000, 20000]\n",
            "config key 'insurance.bands' must be 3 amounts (lower bounds of the 3 bands), rising, ≥ 0, "
            "got [5000.0, 20000.0]",
        ),
        (
            'own_dealers = ["D001", "D001"]\n',
            "config key 'own_dealers' must be a list of different dealer codes, got ['D001', 'D001']",
        ),
        (
            '[maintenance.series."迈腾"]\ninterval_km = 0\n',
            "config key 'maintenance.series.迈腾.interval_km' must be greater than 0, got 0.0",
        ),
        (
            '[maintenance.series."迈腾"]\nintervl_km = 7500\n',
            "unknown config key 'maintenance.series.迈腾.intervl_km'; use first_months, first_km, "
            "interval_months, interval_km",
        ),
    ],
)
def test_config_shapes_are_checked_with_the_key_named(
    tmp_path: Path, toml: str, message: str
) -> None:
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text(toml, encoding="utf-8")
    assert_error(invoke("config", "show", config=cfg), 1, message)


def test_the_defaults_pass_the_checks() -> None:
    assert load_config(None) == Config()


def test_config_show_is_toml_naming_the_file_and_marking_changes(tmp_path: Path) -> None:
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text(
        'own_region = "杭州"\n[status]\nlost_days = 400\n[tiers.ticket]\nA = [700, 550, 400]\n',
        encoding="utf-8",
    )
    r = runner.invoke(app, ["--config", str(cfg), "config", "show"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == f"# config in force: {cfg.resolve()}"
    assert 'own_region = "杭州" # changed; default ""' in lines
    assert "lost_days = 400 # changed; default 365" in lines
    assert "at_risk_days = 180" in lines  # unchanged: no mark
    # [tiers.ticket] given with A only: B and C of the defaults are gone, and said so
    assert "# changed: the defaults also have B = [400.0, 250.0, 200.0]" in lines
    assert sum("# changed" in line for line in lines[2:]) == 4  # region, lost_days, B, C
    assert tomllib.loads(r.stdout)["status"]["lost_days"] == 400


def test_config_show_without_a_file_says_so(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMTOOL_CONFIG", raising=False)
    r = runner.invoke(app, ["config", "show"])
    assert r.exit_code == 0
    assert r.stdout.startswith(
        "# config in force: none found (--config, $CRMTOOL_CONFIG, "
        "./crmtool.toml); these are the defaults\n"
    )
    assert "# changed" not in r.stdout.split("\n", 2)[2]
    assert tomllib.loads(r.stdout) == tomllib.loads(config_toml(Config()))


def _db(path: Path) -> Path:
    """Two series with paid visits at 2021-12-31: V1 迈腾 800, V2 朗逸 500."""
    return store(
        path,
        vehicles=[vehicle("V1", "迈腾", "2020-01-01"), vehicle("V2", "朗逸", "2020-01-01")],
        repair_orders=[order("R1", "V1", "2021-11-01", 800), order("R2", "V2", "2021-12-01", 500)],
    )


def test_the_tiers_help_example_works_after_config_init(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """`crmtool config init` then `crmtool tiers --suggest --write` (the example in
    `tiers --help`), twice: later commands still work, the user's comments stay.
    (Was: `tiers --suggest >> crmtool.toml` → "Cannot declare ('tiers', 'series_ticket')
    twice" on every later command.)"""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMTOOL_CONFIG", raising=False)
    _db(tmp_path / "crmtool.duckdb")
    assert "crmtool tiers --suggest --write" in runner.invoke(app, ["tiers", "--help"]).stdout
    assert runner.invoke(app, ["config", "init"]).exit_code == 0
    toml = tmp_path / "crmtool.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "# my own note\n", encoding="utf-8")
    for _ in range(2):
        r = runner.invoke(app, ["--as-of", "2021-12-31", "tiers", "--suggest", "--write"])
        assert r.exit_code == 0, r.output
        assert r.stdout == ""
        assert "wrote [tiers.series_ticket] (2 series) to crmtool.toml" in r.stderr
    text = toml.read_text(encoding="utf-8")
    assert "# my own note" in text and '# dealer codes that are "us"' in text
    assert text.count("[tiers.series_ticket]") == 1
    cfg = load_config(toml)
    assert set(cfg.tiers.series_ticket) == {"迈腾", "朗逸"}
    later = runner.invoke(app, ["--as-of", "2021-12-31", "tiers", "--format", "csv"])
    assert later.exit_code == 0, later.output


def test_write_goes_with_suggest(tmp_path: Path) -> None:
    r = invoke("tiers", "--write", db=_db(tmp_path / "c.duckdb"))
    assert_error(r, 2, "--write goes with --suggest")
