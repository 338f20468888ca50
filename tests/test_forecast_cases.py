"""The forecast on hand-built cases (issue 17, docs/rules.md §20): the three cars pinned with
parameters chosen so that every output is hand arithmetic, and the data a store may really
hold that the fit cannot learn from, each a clear line through the CLI.

With r = a + b − 1 the hypergeometric term of the expected visits is 1 (its first upper
parameter a + b − 1 − r is 0, docs/rules.md §20 "Euler's transformation"), so with a = 2:
E[visits in t] = (a+b+x−1)/(a−1) · (1 − (1−z)^(a−1)) · P(alive) = (3 + x) · z · P(alive),
z = t / (α + T + t), for r = 3, α = 100 days, a = 2, b = 2.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from builders import insert_ro
from typer.testing import CliRunner

from crmtool import db, facts, forecast
from crmtool import forecast_model as fm
from crmtool.config import Config

runner = CliRunner()
AS_OF = date(2021, 12, 31)
BG = (3.0, 100.0, 2.0, 2.0)  # r, α (days), a, b
GG = (2.0, 3.0, 400.0)  # p, q, γ (yuan)


def _fit(params: tuple[float, ...], names: tuple[str, ...]) -> fm.Fit:
    n = len(params)
    return fm.Fit("x", names, params, (0.0,) * n, 0.0, 0.0, True, 0, 3)


def _monthly() -> list[date]:
    """The 15th of every month, 2019-01 … 2020-12: 24 paid visits, the last a year ago."""
    return [date(2019 + k // 12, k % 12 + 1, 15) for k in range(24)]


def test_three_cars_by_hand(con):
    insert_ro(con, "ONEVISIT", date(2021, 3, 1), payer="customer", total_amount=800.0)
    for d in _monthly():
        insert_ro(con, "MONTHLY", d, ro_type="maintenance", payer="customer", total_amount=500)
    insert_ro(con, "YESTERDAY", date(2021, 12, 30), payer="customer", total_amount=300.0)
    facts.install(con, Config())
    summary = forecast.visit_summary(con, AS_OF)
    fc = forecast.Forecast(AS_OF, _fit(BG, ("r", "alpha", "a", "b")), _fit(GG, ("p", "q", "g")))
    got = {row["vin"]: row for row in forecast.score(fc, summary, 365.0).to_dicts()}
    # inputs: MONTHLY x 23, t_x = 2019-01-15 … 2020-12-15 = 700, T = … 2021-12-31 = 1081;
    # ONEVISIT x 0, T = 2021-03-01 … 12-31 = 305; YESTERDAY x 0, T 1
    assert {v: (r["x"], r["t_x"], r["T"]) for v, r in got.items()} == {
        "MONTHLY": (23, 700, 1081),
        "ONEVISIT": (0, 0, 305),
        "YESTERDAY": (0, 0, 1),
    }
    # P(alive) = 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)); x = 0 → 1
    monthly_alive = 1 / (1 + 2 / 24 * (1181 / 800) ** 26)
    assert got["MONTHLY"]["p_alive"] == round(monthly_alive, 4) == 0.0005
    assert got["ONEVISIT"]["p_alive"] == got["YESTERDAY"]["p_alive"] == 1.0
    # expected paid visits in 365 days: (3 + x) · 365 / (α + T + 365) · P(alive)
    visits = {
        "MONTHLY": 26 * 365 / 1546 * monthly_alive,
        "ONEVISIT": 3 * 365 / 770,  # 1.422
        "YESTERDAY": 3 * 365 / 466,  # 2.350: first seen yesterday, expected back the most
    }
    # ticket: p(γ + x·m)/(p·x + q − 1); x = 0 → the store's mean pγ/(q − 1) = 400
    ticket = {"MONTHLY": 2 * (400 + 23 * 500) / (2 * 23 + 2), "ONEVISIT": 400, "YESTERDAY": 400}
    for vin, row in got.items():
        assert row["expected_visits_12m"] == round(visits[vin], 3)
        assert row["expected_ticket"] == round(ticket[vin], 2)
        assert row["value_12m"] == round(visits[vin] * ticket[vin], 2)
    assert got["MONTHLY"]["mean_paid"] == 500.0 and got["ONEVISIT"]["mean_paid"] is None
    # a 10 % annual discount: 12 steps of 365/12 days, each step's visits discounted at its
    # midpoint; the visits up to h days are (3 + x) · h / (α + T + h) · P(alive)
    disc = forecast.score(fc, summary, 365.0, discount_rate=0.1).to_dicts()
    one = next(r for r in disc if r["vin"] == "ONEVISIT")
    steps = [365 * k / 12 for k in range(13)]
    worth = sum(
        (3 * hi / (405 + hi) - 3 * lo / (405 + lo)) / 1.1 ** ((lo + hi) / 2 / 365)
        for lo, hi in zip(steps[:-1], steps[1:], strict=True)
    )
    assert one["value_12m"] == round(worth * 400, 2)
    assert one["value_12m"] < round(visits["ONEVISIT"] * 400, 2)


# -- data the fit cannot learn from: one clear line, exit 1 --------------------------------


def _store(tmp_path: Path, orders: list[tuple[str, date, dict]], toml: str = "") -> list[str]:
    path = tmp_path / "crm.duckdb"
    con = db.connect(path)
    base = {"dealer_code": "D001", "ro_type": "maintenance", "payer": "customer"}
    rows = [
        {"ro_id": f"R{i}", "vin": vin, "settle_date": day, **base, "total_amount": 500.0, **cols}
        for i, (vin, day, cols) in enumerate(orders)
    ]
    names = list(rows[0]) if rows else []
    con.executemany(
        f"INSERT INTO repair_orders ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [[row[k] for k in names] for row in rows],
    )
    con.close()
    cfg = tmp_path / "crmtool.toml"
    cfg.write_text(toml, encoding="utf-8")
    return ["--db", str(path), "--config", str(cfg), "--as-of", "2021-12-31"]


def _every_month(vins: int, months: int, **cols: object) -> list[tuple[str, date, dict]]:
    return [
        (f"V{i}", AS_OF - timedelta(days=30 * k + i), dict(cols))
        for i in range(vins)
        for k in range(months)
    ]


NOTHING = (
    "crmtool: error: forecast: no paid visit at D001 on or before 2021-12-31; nothing to forecast"
)
CASES = {
    # warranty work only: no paid visit (docs/rules.md §2)
    "no paid visit": (_every_month(20, 3, payer="warranty"), NOTHING),
    # a paid visit needs a total above 0
    "all amounts 0": (_every_month(20, 3, total_amount=0.0), NOTHING),
    # reversal orders alone net to below 0 on their day: no paid visit
    "only reversals": (_every_month(20, 3, total_amount=-300.0), NOTHING),
    "one vehicle": (
        _every_month(1, 5),
        "crmtool: error: forecast: Gamma-Gamma needs at least 2 vehicles with a repeat "
        "paid visit; 1 found",
    ),
    "everyone x = 0": (
        _every_month(30, 1),
        "crmtool: error: forecast: BG/NBD needs vehicles with a repeat paid visit; "
        "30 vehicle(s), 0 with one",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    "command",
    [
        ("forecast",),
        ("forecast", "--params"),
        ("forecast", "--per-customer"),
        ("segment", "--forecast"),
        ("churn", "--forecast"),
        ("campaign", "winback", "--forecast"),
    ],
    ids=" ".join,
)
def test_nothing_to_learn_is_one_clear_line(tmp_path, case, command):
    orders, line = CASES[case]
    r = runner.invoke(_app(), [*_store(tmp_path, orders), *command, "--format", "csv"])
    assert r.exit_code == 1, r.output
    assert r.stdout == "" and r.stderr == line + "\n"


def test_calibration_before_any_data(tmp_path):
    args = _store(tmp_path, _every_month(20, 3))  # paid visits from 2021-08 on
    r = runner.invoke(_app(), [*args, "forecast", "--calibrate-until", "2021-01-31"])
    assert r.exit_code == 1
    assert r.stderr == (
        "crmtool: error: forecast: no paid visit at D001 on or before 2021-01-31; "
        "nothing to forecast\n"
    )


def test_a_dealer_without_data(tmp_path):
    # a group of two; D002 has no repair order at all
    args = _store(tmp_path, _every_month(20, 3), 'own_dealers = ["D001", "D002"]\n')
    r = runner.invoke(_app(), [*args, "--dealer", "D002", "forecast"])
    assert r.exit_code == 1
    assert r.stderr == (
        "crmtool: error: forecast: no paid visit at D002 on or before 2021-12-31; "
        "nothing to forecast\n"
    )
    r = runner.invoke(_app(), [*args, "--dealer", "D002", "summary", "--format", "json"])
    assert r.exit_code == 0
    assert '"error": "forecast: no paid visit at D002 on or before 2021-12-31' in r.stdout


def test_equal_amounts_cannot_be_fitted_and_say_so(tmp_path):
    # 20 cars, each 3 paid visits of exactly 500: no spread in spend between cars, so
    # Gamma-Gamma has no maximum (p, q → ∞): one line naming the fit, never numbers
    args = _store(tmp_path, _every_month(20, 3))
    r = runner.invoke(_app(), [*args, "forecast", "--format", "csv"])
    assert r.exit_code == 1 and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("crmtool: error: forecast: the Gamma-Gamma fit did not converge on 20 ")
    assert line.endswith("; too little or too uniform paid-visit history to forecast")
    # --params shows what the optimiser found, converged = false, and exits 1 with that line
    r = runner.invoke(_app(), [*args, "forecast", "--params", "--format", "csv"])
    assert r.exit_code == 1 and r.stderr.splitlines() == [line]
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row["fit"]: row["converged"] for row in table} == {
        "bgnbd": "true",
        "gamma_gamma": "false",
    }


def _app():
    from crmtool.cli import app

    return app


# -- data that is odd but can be forecast ----------------------------------------------------


def _population(n: int = 300, seed: int = 5) -> list[tuple[str, date, dict]]:
    """n cars with a few paid visits at their own pace and varied amounts."""
    g = np.random.default_rng(seed)
    out = []
    for i in range(n):
        first = int(g.integers(30, 1000))
        gap = float(g.gamma(2.0, 60.0))
        days = sorted({first - int(k * gap) for k in range(int(g.integers(1, 6)))})
        for d in days:
            if d >= 0:
                out.append((f"P{i}", AS_OF - timedelta(days=d), {"total_amount": 200 + d % 977}))
    return out


def test_hundreds_of_visits_and_a_visit_on_as_of(tmp_path):
    # DAILY: a paid visit every day for 900 days up to yesterday (x = 899); GONE: 600 daily
    # visits, the last 1,000 days ago; TODAY: one paid visit on as_of itself (T = 0)
    orders = _population()
    orders += [
        ("DAILY", AS_OF - timedelta(days=k), {"total_amount": 300 + k % 7}) for k in range(1, 901)
    ]
    orders += [
        ("GONE", AS_OF - timedelta(days=1000 + k), {"total_amount": 400}) for k in range(600)
    ]
    orders += [("TODAY", AS_OF, {"total_amount": 250})]
    args = _store(tmp_path, orders)
    r = runner.invoke(_app(), [*args, "forecast", "--format", "csv", "--include-recent"])
    assert r.exit_code == 0, r.output
    got = {row["vin"]: row for row in csv.DictReader(io.StringIO(r.stdout))}
    for row in got.values():  # every number finite, p_alive a probability
        for col in ("p_alive", "expected_visits_12m", "expected_ticket", "value_12m"):
            assert math.isfinite(float(row[col])), (row["vin"], col, row[col])
        assert 0 <= float(row["p_alive"]) <= 1
    assert (got["DAILY"]["x"], got["DAILY"]["t_x"], got["DAILY"]["T"]) == ("899", "899", "900")
    assert (got["GONE"]["x"], got["GONE"]["t_x"], got["GONE"]["T"]) == ("599", "599", "1599")
    assert (got["TODAY"]["x"], got["TODAY"]["T"], got["TODAY"]["p_alive"]) == ("0", "0", "1.0")
    k = {
        row["parameter"]: float(row["value"])
        for row in csv.DictReader(
            io.StringIO(
                runner.invoke(_app(), [*args, "forecast", "--params", "--format", "csv"]).stdout
            )
        )
    }
    # an alive car's expected visits are at most its posterior pace (r + x)/(α + T) per day
    # times 365; DAILY is alive (last seen yesterday) and keeps close to a visit a day
    pace = (k["r"] + 899) / (k["alpha"] + 900) * 365
    assert float(got["DAILY"]["p_alive"]) > 0.99
    assert 0.5 * pace < float(got["DAILY"]["expected_visits_12m"]) <= pace + 0.001
    # GONE: 599 visits a day apart, then 1,000 silent days: the odds it is gone are
    # a/(b + 598) · ((α + 1599)/(α + 599))^(r + 599), astronomically large
    assert float(got["GONE"]["p_alive"]) == 0.0
    assert float(got["GONE"]["expected_visits_12m"]) == 0.0
