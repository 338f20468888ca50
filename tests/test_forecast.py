"""`crmtool forecast` and the forecast columns of other commands, on small hand-built stores.

The three cars of issue 17 sit in a store whose other 400 vehicles are drawn from a BG/NBD
population (numpy's seeded Generator), so that the fit has something to learn from; the
three cars' inputs (x, t_x, T) are worked out by hand below.
"""

from __future__ import annotations

import csv
import io
import json
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


def _background(con, n: int = 400, seed: int = 3) -> dict[str, list[date]]:
    """n vehicles B0000… with paid visits drawn from BG/NBD (r=1, α=150 days, a=0.8, b=3)
    and spends from Gamma-Gamma (p=4, q=5, γ=2000); returns each vehicle's paid days."""
    g = np.random.default_rng(seed)
    days: dict[str, list[date]] = {}
    rows = []
    for i in range(n):
        vin = f"B{i:04d}"
        lam, p, nu = g.gamma(1.0, 1 / 150), g.beta(0.8, 3.0), g.gamma(5.0, 1 / 2000)
        T = int(g.integers(60, 1000))
        first = AS_OF - timedelta(days=T)
        seen, t = [first], 0.0
        while True:
            t += g.exponential(1 / lam)
            if t > T:
                break
            seen.append(first + timedelta(days=int(t)))
            if g.random() < p:
                break
        days[vin] = sorted(set(seen))
        for d in days[vin]:
            rows.append(
                (
                    f"R{vin}-{d}",
                    "D001",
                    vin,
                    d,
                    "maintenance",
                    "customer",
                    round(float(g.gamma(4.0, 1 / nu)), 2),
                )
            )
    con.executemany(
        "INSERT INTO repair_orders (ro_id, dealer_code, vin, settle_date, ro_type, "
        "payer, total_amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.executemany(
        "INSERT INTO vehicles (vin, customer_id, series, sale_channel) "
        "VALUES (?, ?, '朗逸', 'own')",
        [(v, f"CB{v}") for v in days],
    )
    return days


def _monthly() -> list[date]:
    """The 15th of every month, 2019-01 … 2020-12: 24 paid visits, the last a year ago."""
    return [date(2019 + k // 12, k % 12 + 1, 15) for k in range(24)]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, dict[str, list[date]]]:
    path = tmp_path_factory.mktemp("fc") / "crm.duckdb"
    con = db.connect(path)
    days = _background(con)
    con.execute(
        "INSERT INTO customers (customer_id, name, phone) VALUES"
        " ('C1', '张三', '13800138000'), ('C2', '李四', '13900139000')"
    )
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) VALUES"
        " ('ONEVISIT', 'C1', '迈腾', DATE '2021-02-01', 'own'),"
        " ('MONTHLY', 'C2', '迈腾', DATE '2018-12-01', 'own'),"
        " ('YESTERDAY', 'C1', '朗逸', DATE '2021-12-01', 'own')"
    )
    insert_ro(
        con,
        "ONEVISIT",
        date(2021, 3, 1),
        dealer_code="D001",
        ro_type="maintenance",
        payer="customer",
        total_amount=800.0,
    )
    for d in _monthly():
        insert_ro(
            con,
            "MONTHLY",
            d,
            dealer_code="D001",
            ro_type="maintenance",
            payer="customer",
            total_amount=500.0,
        )
    insert_ro(
        con,
        "YESTERDAY",
        date(2021, 12, 30),
        dealer_code="D001",
        ro_type="repair",
        payer="customer",
        total_amount=300.0,
    )
    con.close()
    days.update(ONEVISIT=[date(2021, 3, 1)], MONTHLY=_monthly(), YESTERDAY=[date(2021, 12, 30)])
    return path, days


def app_():
    from crmtool.cli import app

    return app


def run(path: Path, *args: str, as_of: str = "2021-12-31"):
    return runner.invoke(app_(), ["--db", str(path), "--as-of", as_of, *args])


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def params_of(path: Path) -> dict[str, float]:
    r = run(path, "forecast", "--params", "--format", "csv")
    assert r.exit_code == 0, r.output
    return {row["parameter"]: float(row["value"]) for row in rows(r.stdout)}


def test_three_cars(store):
    path, _ = store
    r = run(
        path,
        "forecast",
        "--format",
        "csv",
        "--where",
        "vin IN ('ONEVISIT', 'MONTHLY', 'YESTERDAY')",
        "--sort",
        "vin",
    )
    assert r.exit_code == 0, r.output
    got = {row["vin"]: row for row in rows(r.stdout)}
    assert list(got) == ["MONTHLY", "ONEVISIT", "YESTERDAY"]
    # ONEVISIT: one paid visit 2021-03-01 → x 0, t_x 0, T = 2021-03-01 … 12-31 = 305 days
    # MONTHLY: 24 visits → x 23; t_x = 2019-01-15 … 2020-12-15 = 365 + 335 = 700;
    #          T = 2019-01-15 … 2021-12-31 = 731 + 350 = 1081
    # YESTERDAY: first paid visit 2021-12-30 → x 0, t_x 0, T 1
    assert [(got[v]["x"], got[v]["t_x"], got[v]["T"]) for v in got] == [
        ("23", "700", "1081"),
        ("0", "0", "305"),
        ("0", "0", "1"),
    ]
    # x = 0 → p_alive 1 by the model, whatever the parameters
    assert got["ONEVISIT"]["p_alive"] == got["YESTERDAY"]["p_alive"] == "1.0"
    # MONTHLY: P(alive) = 1 / (1 + a/(b+22) · ((α+1081)/(α+700))^(r+23)), with the fit's values
    k = params_of(path)
    odds = k["a"] / (k["b"] + 22) * ((k["alpha"] + 1081) / (k["alpha"] + 700)) ** (k["r"] + 23)
    assert float(got["MONTHLY"]["p_alive"]) == round(1 / (1 + odds), 4)
    assert float(got["MONTHLY"]["p_alive"]) < 0.05
    # MONTHLY's mean repeat paid amount: 23 visits of 500 → 500; the others have none
    assert (got["MONTHLY"]["mean_paid"], got["ONEVISIT"]["mean_paid"]) == ("500.0", "")
    # a car first seen yesterday is expected back more than one silent for 305 days
    assert float(got["YESTERDAY"]["expected_visits_12m"]) > float(
        got["ONEVISIT"]["expected_visits_12m"]
    )
    for row in got.values():  # value = expected visits × expected ticket (each rounded)
        assert float(row["value_12m"]) == pytest.approx(
            float(row["expected_visits_12m"]) * float(row["expected_ticket"]), abs=1.0
        )
    assert got["MONTHLY"]["status"] == "lost" and got["MONTHLY"]["name"] == "李四"


def test_list_is_highest_value_first_and_every_paid_car_is_on_it(store):
    path, days = store
    r = run(path, "forecast", "--format", "csv")
    assert r.exit_code == 0, r.output
    got = rows(r.stdout)
    values = [float(x["value_12m"]) for x in got]
    assert values == sorted(values, reverse=True)
    # every vehicle has a paid visit and is ours (last visit ≤ 1096 days back): all 403
    assert len(got) == len(days) == 403
    assert r.stdout.splitlines()[0] == (
        "vin,customer_id,name,phone,series,p_alive,expected_visits_12m,expected_ticket,"
        "value_12m,x,t_x,T,mean_paid,first_paid,last_paid,tier,status,days_since,last_advisor"
    )


def test_per_customer_sums_value_and_takes_the_highest_p_alive(store):
    path, _ = store
    r = run(path, "forecast", "--format", "csv", "--where", "customer_id = 'C1'")
    per_vehicle = rows(r.stdout)
    r = run(path, "forecast", "--per-customer", "--format", "csv", "--where", "customer_id = 'C1'")
    assert r.exit_code == 0, r.output
    (one,) = rows(r.stdout)
    assert one["vehicles"] == "2"
    assert float(one["value_12m"]) == pytest.approx(
        sum(float(v["value_12m"]) for v in per_vehicle), abs=0.011
    )
    assert one["p_alive"] == "1.0"


def test_params_are_per_day_and_converged(store):
    path, days = store
    r = run(path, "forecast", "--params", "--format", "csv")
    lines = rows(r.stdout)
    assert [(x["fit"], x["parameter"]) for x in lines] == [
        ("bgnbd", "r"),
        ("bgnbd", "alpha"),
        ("bgnbd", "a"),
        ("bgnbd", "b"),
        ("bgnbd", "log_likelihood"),
        ("bgnbd", "max_gradient"),
        ("gamma_gamma", "p"),
        ("gamma_gamma", "q"),
        ("gamma_gamma", "gamma"),
        ("gamma_gamma", "log_likelihood"),
        ("gamma_gamma", "max_gradient"),
    ]
    assert all(x["converged"] == "true" for x in lines)
    # BG/NBD on every vehicle with a paid visit; Gamma-Gamma on those with a repeat one
    repeat = sum(len(seen) > 1 for seen in days.values())
    assert [x["vehicles"] for x in lines] == ["403"] * 6 + [str(repeat)] * 5
    k = {x["parameter"]: float(x["value"]) for x in lines}
    # drawn with α = 150 days and mean ticket pγ/(q−1) = 2000 (400 vehicles: loose bounds)
    assert 50 < k["alpha"] < 450
    assert 1000 < k["p"] * k["gamma"] / (k["q"] - 1) < 4000


def test_calibration_counts_the_holdout_by_hand(store):
    path, days = store
    cal = date(2021, 6, 30)
    r = run(path, "forecast", "--calibrate-until", "2021-06-30", "--format", "csv")
    assert r.exit_code == 0, r.output
    got = {row["x"]: row for row in rows(r.stdout)}
    assert list(got) == ["0", "1", "2", "3", "4", "5", "6", "7+", "total"]
    # vehicles with a paid visit ≤ D, by their repeat visits up to D; actual = visits after D
    want: dict[str, list[int]] = {}
    for seen in days.values():
        before = [d for d in seen if d <= cal]
        if before:
            b = "7+" if len(before) - 1 >= 7 else str(len(before) - 1)
            v, a = want.get(b, [0, 0])
            want[b] = [v + 1, a + sum(d > cal for d in seen)]
    for b, (vehicles, actual) in want.items():
        assert (int(got[b]["vehicles"]), int(got[b]["actual"])) == (vehicles, actual)
    assert int(got["total"]["vehicles"]) == sum(v for v, _ in want.values())
    assert int(got["total"]["actual"]) == sum(a for _, a in want.values())
    assert float(got["total"]["predicted"]) == pytest.approx(
        sum(float(got[b]["predicted"]) for b in got if b != "total"), abs=0.05
    )
    # MAE is a mean over the vehicles of |predicted − actual|: the total is the mean of the
    # buckets weighted by their vehicles
    weighted = sum(float(got[b]["mae"]) * int(got[b]["vehicles"]) for b in want)
    assert float(got["total"]["mae"]) == pytest.approx(
        weighted / int(got["total"]["vehicles"]), abs=1e-3
    )


def test_calibration_date_must_be_before_as_of(store):
    path, _ = store
    r = run(path, "forecast", "--calibrate-until", "2021-12-31")
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        "crmtool: error: --calibrate-until 2021-12-31 must be before --as-of 2021-12-31"
    )


def test_lists_carry_the_forecast(store):
    path, _ = store
    fc = {x["vin"]: x for x in rows(run(path, "forecast", "--format", "csv").stdout)}
    for args in (
        ("segment", "--forecast"),
        ("churn", "--forecast"),
        ("campaign", "winback", "--forecast", "--sort", "-value_12m"),
    ):
        r = run(path, *args, "--format", "csv")
        assert r.exit_code == 0, r.output
        listed = rows(r.stdout)
        assert listed and {"x", "p_alive", "value_12m"} <= set(listed[0])
        for row in listed:
            assert (row["x"], row["p_alive"], row["value_12m"]) == (
                fc[row["vin"]]["x"],
                fc[row["vin"]]["p_alive"],
                fc[row["vin"]]["value_12m"],
            )
    winback = [
        float(x["value_12m"])
        for x in rows(
            run(
                path, "campaign", "winback", "--forecast", "--sort", "-value_12m", "--format", "csv"
            ).stdout
        )
    ]
    assert winback == sorted(winback, reverse=True)
    r = run(path, "campaign", "loyal", "--forecast")
    assert r.exit_code == 2 and r.stderr.strip() == "crmtool: error: --forecast goes with winback"


def test_summary_block(store):
    path, _ = store
    r = runner.invoke(
        app_(), ["--db", str(path), "summary", "--period", "2021", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    block = json.loads(r.stdout)["forecast"]
    listed = rows(run(path, "forecast", "--format", "csv").stdout)
    assert block["vehicles"] == len(listed) == 403
    assert block["value_12m"] == pytest.approx(sum(float(x["value_12m"]) for x in listed), abs=0.05)
    bands = block["p_alive_bands"]
    assert list(bands) == ["x0", "[0,0.2)", "[0.2,0.5)", "[0.5,0.8)", "[0.8,1]"]
    assert bands["x0"] == sum(x["x"] == "0" for x in listed)
    assert bands["[0,0.2)"] == sum(x["x"] != "0" and float(x["p_alive"]) < 0.2 for x in listed)
    assert bands["[0.8,1]"] == sum(x["x"] != "0" and float(x["p_alive"]) >= 0.8 for x in listed)
    assert sum(bands.values()) == 403
    # per tier the same bands; value per status (at_risk + lost = the value at risk)
    by_tier = block["p_alive_bands_by_tier"]
    assert list(by_tier) == ["A", "B", "C", "D"]
    assert by_tier["A"]["x0"] == sum(x["x"] == "0" and x["tier"] == "A" for x in listed)
    assert sum(sum(b.values()) for b in by_tier.values()) == 403
    lost = block["value_12m_by_status"]["lost"]
    assert lost == pytest.approx(
        sum(float(x["value_12m"]) for x in listed if x["status"] == "lost"), abs=0.05
    )
    assert lost > 0  # MONTHLY at least
    assert set(block["parameters"]) == {
        "r",
        "alpha",
        "a",
        "b",
        "p",
        "q",
        "gamma",
        "ll_bgnbd",
        "ll_gamma_gamma",
        "converged",
    }


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Two cars with one paid visit each: nothing to learn drop-out or pace from."""
    path = tmp_path / "tiny.duckdb"
    con = db.connect(path)
    for vin, d in (("V1", date(2021, 5, 1)), ("V2", date(2021, 9, 1))):
        insert_ro(
            con,
            vin,
            d,
            dealer_code="D001",
            ro_type="maintenance",
            payer="customer",
            total_amount=400.0,
        )
    con.close()
    return path


def test_no_fit_is_a_clear_error(tiny):
    for args in (("forecast",), ("segment", "--forecast"), ("forecast", "--params")):
        r = run(tiny, *args)
        assert r.exit_code == 1
        # the last line: a stale-data warning may come first (docs/rules.md §18)
        assert r.stderr.splitlines()[-1] == (
            "crmtool: error: forecast: BG/NBD needs vehicles "
            "with a repeat paid visit; 2 vehicle(s), 0 with one"
        )
    r = runner.invoke(
        app_(), ["--db", str(tiny), "summary", "--period", "2021", "--format", "json"]
    )
    assert r.exit_code == 0
    assert json.loads(r.stdout)["forecast"] == {
        "error": "forecast: BG/NBD needs vehicles with a repeat paid visit; "
        "2 vehicle(s), 0 with one"
    }


def test_visits_summary_nets_reversals(con):
    # paid days up to 2021-12-31:
    #   01-10 customer 500                                  → paid, 500 (the first)
    #   04-10 customer 300 and a reversal −100              → paid, 200
    #   07-10 warranty 900 only                             → not paid
    #   08-10 customer 400 and its reversal −400            → net 0: fully reversed, not paid
    #   10-10 pds customer 999 (no visit type), maint. 600  → paid, 600
    #   11-10 customer 700 at another dealer                → not ours
    # x = 2; t_x = 01-10 … 10-10 = 273; T = 01-10 … 12-31 = 355; mean_paid = (200 + 600)/2
    for d, total, payer, kind, dealer in (
        ("2021-01-10", 500, "customer", "maintenance", "D001"),
        ("2021-04-10", 300, "customer", "repair", "D001"),
        ("2021-04-10", -100, "customer", "repair", "D001"),
        ("2021-07-10", 900, "warranty", "warranty", "D001"),
        ("2021-08-10", 400, "customer", "repair", "D001"),
        ("2021-08-10", -400, "customer", "repair", "D001"),
        ("2021-10-10", 999, "customer", "pds", "D001"),
        ("2021-10-10", 600, "customer", "maintenance", "D001"),
        ("2021-11-10", 700, "customer", "repair", "D009"),
    ):
        insert_ro(
            con,
            "V1",
            date.fromisoformat(d),
            total_amount=total,
            payer=payer,
            ro_type=kind,
            dealer_code=dealer,
        )
    facts.install(con, Config())
    got = forecast.visit_summary(con, AS_OF).to_dicts()
    assert got == [
        {
            "vin": "V1",
            "x": 2,
            "t_x": 273,
            "T": 355,
            "mean_paid": 400.0,
            "first_paid": date(2021, 1, 10),
            "last_paid": date(2021, 10, 10),
        }
    ]


def test_fit_is_computed_once_per_snapshot(store, monkeypatch):
    path, _ = store
    calls = []
    real = fm.fit_bgnbd
    monkeypatch.setattr(fm, "fit_bgnbd", lambda *a: calls.append(1) or real(*a))
    con = db.connect(path, read_only=True)
    facts.install(con, Config(), snapshot=True)
    first = forecast.forecast_list(con, Config(), AS_OF).frame
    again = forecast.forecast_list(con, Config(), AS_OF).frame
    forecast.summary_block(con, Config(), AS_OF)
    assert len(calls) == 1 and first.equals(again)
    facts.install(con, Config(), snapshot=True)  # a new snapshot: fitted again
    forecast.forecast_list(con, Config(), AS_OF)
    assert len(calls) == 2
    con.close()


def test_report_has_the_forecast_section(store, tmp_path):
    path, _ = store
    r = run(path, "report", "--period", "2021-12", "--out", str(tmp_path), "-q")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "crmtool-report-2021-12.html").read_text(encoding="utf-8")
    section = html[html.index('id="forecast"') :]
    assert "价值预测" in section and "仍在本店概率分布（按价值等级）" in section
    block = json.loads(
        runner.invoke(
            app_(), ["--db", str(path), "summary", "--period", "2021-12", "--format", "json"]
        ).stdout
    )["forecast"]
    # the tiles: the 12-month value and the value at risk (at_risk + lost), whole yuan
    risk = block["value_12m_by_status"]["at_risk"] + block["value_12m_by_status"]["lost"]
    assert f"{block['value_12m']:,.0f}" in section and f"{risk:,.0f}" in section
    # the band table: tier A's x = 0 count in its row
    assert f">{block['p_alive_bands_by_tier']['A']['x0']:,}<" in section


def test_report_without_a_forecast_has_no_section(tiny, tmp_path):
    r = run(tiny, "report", "--period", "2021-09", "--out", str(tmp_path), "-q", as_of="2021-09-30")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "crmtool-report-2021-09.html").read_text(encoding="utf-8")
    assert 'id="tiers"' in html and 'id="forecast"' not in html
