"""One way to compose SQL (issue 20): every rule's SQL builds and runs under several configs on
an empty store; two steps (CTEs) tested on hand-computed data: the mileage fold and the tier
grades; `crmtool sql RULE` prints a rule; bind parameters are passed, never rewritten."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from builders import insert_ro
from typer.testing import CliRunner

import crmtool
from crmtool import db, facts, rule_catalog
from crmtool.config import Config, config_from_dict, with_dealer
from crmtool.sqltext import cte, ident, in_list, literal

DAY = date(2022, 6, 30)
CONFIGS = {
    "defaults": Config(),
    "score": config_from_dict({"tiers": {"combine": "score"}}),
    "series_groups": config_from_dict(
        {
            "tiers": {
                "series_groups": {"B": ["朗逸", "O'Brien"]},
                "series_ticket": {"迈腾": [800.0, 600.0, 450.0]},
            },
            "maintenance": {"series": {"O'Brien": {"interval_km": 7500}}},
        }
    ),
    "custom_bands": config_from_dict(
        {
            "segments": {
                "mileage_bands_km": [5000, 20000, 50000],
                "frequency_bands": [0, 2, 5],
                "age_stage_years": [2, 5],
            }
        }
    ),
    "dealer_group": with_dealer(config_from_dict({"own_dealers": ["D1", "D2"]}), "D2"),
}
VALUES = {"DATE": DAY, "VARCHAR": None, "VARCHAR[]": ["lost", "at_risk"]}


@pytest.mark.parametrize("rule", list(rule_catalog.RULES))
@pytest.mark.parametrize("config", list(CONFIGS))
def test_every_rule_builds_and_runs_on_an_empty_store(rule: str, config: str) -> None:
    cfg = CONFIGS[config]
    con = db.connect(":memory:")
    facts.install(con, cfg)
    r = rule_catalog.RULES[rule]
    rel = con.sql(r.sql(cfg), params={k: VALUES[t] for k, t in r.params.items()})
    rows = rel.fetchall()
    if rule == "leads":  # an aggregate: one row of zeros
        assert rows == [(0, 0, 0, 0, 0.0, 0)]
    else:
        assert rel.columns and rows == []
    # the printed form names the rule and every bind parameter the SQL uses
    text = rule_catalog.compiled(rule, cfg)
    assert text.startswith(f"-- crmtool rule {rule}: ")
    used = set(re.findall(r"\$([a-z_]+)", r.sql(cfg)))
    assert used <= set(r.params), used - set(r.params)


def test_no_rule_rewrites_a_bind_parameter_in_its_text() -> None:
    # was: churn._leakage_sql did .replace("$as_of", "$end"); call_list chose the advisor's
    # bound by testing "as_of" in params
    root = Path(crmtool.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\.replace\(\s*\"\$", text), path
        assert '"as_of" in params' not in text, path


def test_literals_identifiers_and_in_lists() -> None:
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(None) == "NULL" and literal(True) == "TRUE" and literal(2.5) == "2.5"
    assert literal(date(2022, 6, 30)) == "DATE '2022-06-30'"
    assert ident('a "b"') == '"a ""b"""'
    assert in_list(["scrapped", "transferred"]) == "('scrapped', 'transferred')"
    assert in_list([]) == "(NULL)"
    con = db.connect(":memory:")
    assert con.sql(f"SELECT {literal(chr(39) * 3)}, 'x' IN {in_list(['x', 'y'])}").fetchall() == [
        ("'''", True)
    ]


# -- the mileage fold (rates, step `m_kept`) -----------------------------------------------------


def test_mileage_fold_drops_rollbacks_and_jumps(con) -> None:  # noqa: ANN001
    cfg = Config()  # max_daily_km 500, min_rate_days 30
    con.execute(
        "INSERT INTO vehicles (vin, sale_date, sale_channel) VALUES ('V1', DATE '2021-01-01', 'own')"
    )
    for day, km in (
        ("2021-03-01", 5000),  # first reading: kept
        ("2021-04-01", 4000),  # below 5000: dropped (1)
        ("2021-05-01", 9000),  # (9000 − 5000) / 61 days = 65.6 km/day: kept
        ("2021-05-02", 20000),  # (20000 − 9000) / 1 day = 11000 > 500: dropped (2)
        ("2021-07-01", 12000),  # (12000 − 9000) / 61 days = 49.2: kept
    ):
        insert_ro(con, "V1", date.fromisoformat(day), dealer_code="D001", mileage_km=km)
    facts.install(con, cfg)
    sql = rule_catalog.RULES["rates"].sql(cfg)
    kept = con.sql(cte(sql, "m_kept"), params={"as_of": DAY}).fetchall()
    assert kept == [("V1", 12000, date(2021, 7, 1), 2, 5000, date(2021, 3, 1))]
    # step `m_rated`: (12000 − 5000) km over 2021-03-01 … 2021-07-01 = 122 days
    rated = con.sql(
        f"SELECT vin, rb, round(daily_km, 4) FROM ({cte(sql, 'm_rated')})", params={"as_of": DAY}
    ).fetchall()
    assert rated == [("V1", 2, round(7000 / 122, 4))]
    # the rule's result: 12000 + 7000/122 × (2022-06-30 − 2021-07-01 = 364 days), rounded
    out = con.sql(sql, params={"as_of": DAY}).fetchall()
    assert out[0][4] == round(12000 + 7000 / 122 * 364) and out[0][5] == 2


def test_same_day_readings_count_one_day_apart(con) -> None:  # noqa: ANN001
    con.execute(
        "INSERT INTO vehicles (vin, sale_date, sale_channel) VALUES ('V1', DATE '2021-01-01', 'own')"
    )
    insert_ro(con, "V1", date(2021, 3, 1), dealer_code="D001", mileage_km=5000)
    insert_ro(con, "V1", date(2021, 3, 1), dealer_code="D001", mileage_km=5400)  # 400 in "1 day"
    insert_ro(con, "V1", date(2021, 3, 1), dealer_code="D001", mileage_km=6000)  # 600 > 500
    facts.install(con, Config())
    sql = cte(rule_catalog.RULES["rates"].sql(Config()), "m_kept")
    assert con.sql(sql, params={"as_of": DAY}).fetchall() == [
        ("V1", 5400, date(2021, 3, 1), 1, 5000, date(2021, 3, 1))
    ]


# -- the tier grades (tiers, step `t_grades`) ---------------------------------------------------


def _paid(con, vin: str, day: str, amount: float) -> None:  # noqa: ANN001
    insert_ro(
        con,
        vin,
        date.fromisoformat(day),
        dealer_code="D001",
        ro_type="repair",
        payer="customer",
        total_amount=amount,
    )


@pytest.mark.parametrize(("combine", "tier_v2"), [("strict", "C"), ("score", "B")])
def test_tier_grades(con, combine: str, tier_v2: str) -> None:  # noqa: ANN001
    cfg = config_from_dict({"tiers": {"combine": combine}})
    # series 朗逸 in the default group A: ticket ≥ 700 A, ≥ 550 B, ≥ 400 C; visits ≥ 4 A,
    # ≥ 2 B, ≥ 1 C; cycle ≤ 90 A, ≤ 180 B, ≤ 365 C; window 2021-07-01 … 2022-06-30
    con.execute(
        "INSERT INTO vehicles (vin, series, sale_date, sale_channel) VALUES"
        " ('V1', '朗逸', DATE '2020-01-01', 'own'), ('V2', '朗逸', DATE '2020-01-01', 'own')"
    )
    for day in ("2021-09-01", "2021-12-01", "2022-03-01"):
        _paid(con, "V1", day, 600)  # ticket 600: B; 3 visits: B; gaps 91, 90 → 90.5: B
    _paid(con, "V2", "2022-06-01", 1000)  # ticket 1000: A; 1 visit: C; 29 days since: A
    facts.install(con, cfg)
    sql = rule_catalog.RULES["tiers"].sql(cfg)
    grades = con.sql(
        f"SELECT vin, ticket, visits_12m, cycle_days, ticket_grade, visits_grade, cycle_grade "
        f"FROM ({cte(sql, 't_grades')}) ORDER BY vin",
        params={"as_of": DAY},
    ).fetchall()
    assert grades == [
        ("V1", 600, 3, (91 + 90) / 2, "B", "B", "B"),
        ("V2", 1000, 1, 29, "A", "C", "A"),
    ]
    # strict: the lowest grade (V2: C); score: (4 + 2 + 4) / 3 = 3.33 → 3 = B
    tiers = con.sql(f"SELECT vin, tier FROM ({sql}) ORDER BY vin", params={"as_of": DAY})
    assert tiers.fetchall() == [("V1", "B"), ("V2", tier_v2)]


def test_crmtool_sql_prints_a_rule_for_the_config_in_force(tmp_path: Path) -> None:
    from crmtool.cli import app

    toml = tmp_path / "crmtool.toml"
    toml.write_text("[segments]\nmax_daily_km = 321.0\n", encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["--config", str(toml), "sql", "rates"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[:2] == [
        "-- crmtool rule rates: mileage readings folded, daily km and estimated mileage per "
        "vehicle",
        "-- parameters: $as_of DATE",
    ]
    assert "<= 321.0" in r.stdout
    listed = runner.invoke(app, ["sql"]).stdout.split()
    assert {"tiers", "rates", "segments", "churn", "due"} <= set(listed)
    bad = runner.invoke(app, ["sql", "nope"])
    assert bad.exit_code == 2
    assert bad.stderr.splitlines()[0].startswith("crmtool: error: unknown rule 'nope'; use one of")
