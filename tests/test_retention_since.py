"""Retention without the cohort table reads only the visits its KPIs need (retention._since):
the figures are those of the run over every visit, also for a car whose previous visit is
cut off (its prev_day is then null)."""

from __future__ import annotations

from datetime import date, timedelta

from builders import insert_ro

from crmtool import db, facts, retention
from crmtool.config import Config

AS_OF = date(2022, 6, 30)

# (vin, own visit days): P's first visit is before _since(AS_OF) = AS_OF − 730 = 2020-06-30
VISITS = {
    "P": ["2020-06-01", "2020-08-01", "2021-09-01"],
    "Q": ["2019-03-01", "2020-06-29", "2020-07-01", "2021-06-30"],
    "R": ["2018-05-05", "2021-05-15", "2021-05-20", "2022-06-30"],
    "S": ["2020-06-30", "2022-01-31"],
}


def _store(tmp_path):
    path = tmp_path / "store.duckdb"
    con = db.connect(path)
    for vin, days in VISITS.items():
        con.execute("INSERT INTO vehicles (vin, series) VALUES (?, 'S')", [vin])
        for day in days:
            insert_ro(con, vin, date.fromisoformat(day), dealer_code="D001", ro_type="repair")
    con.close()
    return path


def test_since_is_two_windows_back():
    # min(as_of − 2 × 365, as_of − 730, 2022-06-01 − 13 months)
    assert retention._since(Config(), [AS_OF]) == AS_OF - timedelta(days=730)


def test_figures_equal_the_run_over_every_visit(tmp_path):
    con = db.connect(_store(tmp_path), read_only=True)
    cfg = Config()
    facts.install(con, cfg)
    days = [AS_OF - timedelta(days=n) for n in range(0, 400, 7)]
    cut = retention.compute(con, cfg, days, cohorts=False)
    full = retention.compute(con, cfg, days, cohorts=True)
    for d in days:
        assert retention.block(cut, cfg, d) == retention.block(full, cfg, d)
    # at AS_OF: base = a visit in 2020-07-01 … 2021-06-30: P (2020-08-01), Q, R (2021-05-20);
    # retained = again in 2021-07-01 … 2022-06-30: P (2021-09-01), R (2022-06-30)
    assert retention.block(cut, cfg, AS_OF)["retention_12_24"] == {
        "base": 3,
        "retained": 2,
        "rate": 2 / 3,
    }
    con.close()
