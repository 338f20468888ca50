"""Retention KPIs (docs/rules.md "Retention"; rulebook §14, §16) on a hand-built store.

as_of = 2022-06-30, own dealer D001; the store's first own settle date is 2018-01-10 (OLD).
Every figure below is worked out by hand in the comments next to its assertion.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from builders import insert_ro
from typer.testing import CliRunner

from crmtool import db, facts, retention
from crmtool.cli import app
from crmtool.config import Config

AS_OF = date(2022, 6, 30)

# vin: (sale_date, channel)
VEHICLES = {
    "OLD": ("2017-12-01", "own"),  # sold before the store's first settle date: left out
    "F1": ("2021-06-15", "own"),
    "F2": ("2021-06-30", "own"),
    "F3": ("2020-07-01", "secondary"),  # sold by a secondary outlet
    "F4": ("2020-06-30", "own"),
    "F5": ("2021-03-10", "own"),
    "F6": ("2021-01-20", "own"),
    "F7": ("2021-07-01", "own"),
    "F8": ("2020-03-01", "own"),
    "F9": ("2021-04-10", "own"),
    "F10": ("2021-08-15", "own"),
    "F11": ("2021-09-10", "own"),
    "X": ("2021-02-01", "other"),  # not sold by us
    "Y": (None, None),
    "Z": (None, None),
    "W": (None, None),
    "V": (None, None),
    "U": (None, None),
}

# (vin, day, ro_type, dealer)
ORDERS = [
    ("OLD", "2018-01-10", "repair", "D001"),
    ("OLD", "2020-06-30", "repair", "D001"),  # one day before the 12/24 base window
    ("OLD", "2021-06-30", "repair", "D001"),  # last day of the base window
    ("F1", "2022-06-14", "first_service", "D001"),  # last day of F1's 12-month window
    ("F2", "2021-06-30", "first_service", "D001"),  # on the sale day: never counts
    ("F2", "2022-06-30", "maintenance", "D001"),  # one day after F2's window
    ("F3", "2020-07-02", "first_service", "D001"),
    ("F3", "2021-07-01", "maintenance", "D001"),  # last day of milestone 1's window
    ("F3", "2022-07-05", "maintenance", "D001"),  # after as_of
    ("F4", "2020-12-01", "maintenance", "D001"),
    ("F4", "2021-12-02", "maintenance", "D001"),  # one day after milestone 1's window
    ("F5", "2021-05-01", "repair", "D001"),
    ("F5", "2021-08-01", "maintenance", "D001"),  # two orders on one day: one visit
    ("F5", "2021-08-01", "repair", "D001"),
    ("F7", "2022-01-01", "first_service", "D001"),
    ("F8", "2021-03-01", "repair", "D001"),  # sale + 365 days: ownership year 2
    ("F9", "2022-04-10", "first_service", "D001"),  # exactly 12 months after the sale: late
    ("X", "2020-07-01", "maintenance", "D001"),  # before X's sale: never counts
    ("X", "2021-03-01", "maintenance", "D900"),  # another dealer
    ("Y", "2020-07-01", "repair", "D001"),  # first day of the base window
    ("Y", "2022-06-30", "repair", "D001"),  # as_of, last day of the retained window
    ("Z", "2021-12-10", "repair", "D001"),
    ("Z", "2021-12-20", "repair", "D001"),
    ("Z", "2022-07-01", "repair", "D001"),
    ("W", "2021-12-05", "repair", "D001"),
    ("W", "2022-06-30", "repair", "D001"),
    ("V", "2021-05-31", "repair", "D001"),
    ("U", "2021-12-01", "repair", "D001"),
    ("U", "2021-12-15", "repair", "D001"),  # its last visit of the month: none after
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("ret") / "store.duckdb"
    con = db.connect(path)
    for vin, (sale, channel) in VEHICLES.items():
        con.execute(
            "INSERT INTO vehicles (vin, sale_date, sale_channel, series) VALUES (?, ?, ?, ?)",
            [vin, sale and date.fromisoformat(sale), channel, "S"],
        )
    for vin, day, ro_type, dealer in ORDERS:
        insert_ro(
            con,
            vin,
            date.fromisoformat(day),
            dealer_code=dealer,
            ro_type=ro_type,
            payer="customer",
            total_amount=100,
        )
    con.close()
    return path


@pytest.fixture(scope="module")
def result(store):
    con = db.connect(store, read_only=True)
    facts.install(con, Config())
    res = retention.compute(con, Config(), [AS_OF])
    yield res
    con.close()


@pytest.fixture(scope="module")
def block(result):
    return retention.block(result, Config(), AS_OF)


def test_first_service_pools_the_12_closed_sale_months(block):
    # closed: a month whose last day + 12 months − 1 ≤ 2022-06-30 → 2021-06 is the latest
    # (2021-06-30 → 2022-06-29); pool 2020-07 … 2021-06: F1 F2 F3 F5 F6 F9 (F4 2020-06 and
    # F7 2021-07 outside; OLD left out; X not ours).
    # returned: F1 (last day of window), F3, F5 (two orders one day) = 3; F2's only visit in
    # the window is on the sale day; F9 came back exactly 12 months later; F6 never.
    assert block["first_service"] == {"sold": 6, "returned": 3, "rate": 3 / 6}


def test_milestones(block):
    ms = {m["k"]: m for m in block["milestones"]}
    # k=1 reached ≤ as_of: F1 F2 F3 F4 F5 F7 F9 = 7; window closed (m1 + 12m − 1 ≤ as_of):
    # F3 (→2021-07-01), F4 (→2021-11-30) = 2; next inside: F3 (2021-07-01, last day) = 1
    assert ms[1] == {"k": 1, "reached": 7, "eligible": 2, "next": 1, "rate": 1 / 2}
    # k=2: F3 (2021-07-01, window → 2022-06-30: closed on as_of) and F4 (2021-12-02, open);
    # F3's third visit is 2022-07-05, after its window → 0 of 1
    assert ms[2] == {"k": 2, "reached": 2, "eligible": 1, "next": 0, "rate": 0.0}
    assert ms[3] == {"k": 3, "reached": 0, "eligible": 0, "next": 0, "rate": None}
    assert [m["k"] for m in block["milestones"]] == [1, 2, 3, 4, 5]


def test_retention_12_24(block):
    # base: own visit (after the sale day) in 2020-07-01 … 2021-06-30:
    # F3 F4 F5 F8 OLD Y V = 7 (X's own visit is before its sale; F2's on its sale day)
    # retained (visit in 2021-07-01 … 2022-06-30): F3 (07-01) F4 F5 Y (06-30) = 4
    assert block["retention_12_24"] == {"base": 7, "retained": 4, "rate": 4 / 7}


def test_return_after_6_and_13_months(block):
    # M = 2022-06. N=6 → 2021-12: F4 (no later visit), Z (last 12-20, next 2022-07-01: after
    # the end of M), U (12-01 and 12-15, nothing after the last), W (back 2022-06-30) → 1 of
    # 4. N=13 → 2021-05: F5 (back 2021-08-01), V (never) → 1 of 2
    assert block["return_after"] == {
        "6": {"vehicles": 4, "returned": 1, "rate": 1 / 4},
        "13": {"vehicles": 2, "returned": 1, "rate": 1 / 2},
    }


def test_time_to_return_kaplan_meier(block):
    # spells from own visits in 2020-07-01 … 2022-06-30 (21): events at 10 (Z), 14 (U),
    # 92 (F5), 207 (W), 364 (F3), 366 (F4), 729 (Y); censored at 0 ×3 (F2 W Y), 16, 81, 180,
    # 192, 197 (U), 210, 333, 364 (F3's second, at risk at the tie), 365 (OLD), 395, 486.
    s10 = 17 / 18  # 18 at risk after the three censored at 0
    s14 = s10 * 16 / 17
    s92 = s14 * 13 / 14  # 17 − 1 − 2 (16, 81)
    s207 = s92 * 9 / 10  # 14 − 1 − 3 (180, 192, 197)
    s364 = s207 * 6 / 7  # 10 − 1 − 2 (210, 333)
    s366 = s364 * 3 / 4  # 7 − 1 − 2 (364 censored, 365)
    assert block["survival"]["90"] == pytest.approx(s14)
    assert block["survival"]["180"] == pytest.approx(s92)
    assert block["survival"]["365"] == pytest.approx(s364)
    assert s364 > 0.5 >= s366 == pytest.approx(0.4776, abs=1e-4)
    assert block["median_days_to_return"] == 366


def test_ownership_year_cohorts(result):
    cohort = retention.cohort_rows(result, None).to_dicts()
    # 2020: F3 F4 F8; year 1 ended for the cohort (2020-12-31 + 364 = 2021-12-30 ≤ as_of),
    # year 2 not (2022-12-30). Visits in year 1: F3 (07-02), F4 (12-01); F8's 2021-03-01 is
    # sale + 365 days → year 2. 2021: F1 F2 F5 F6 F7 F9 F10 F11, no year ended yet.
    assert cohort[0] == {
        "sale_year": 2020,
        "sold": 3,
        "year_1": 2 / 3,
        "year_2": None,
        "year_3": None,
        "year_4": None,
        "year_5": None,
    }
    assert cohort[1]["sale_year"] == 2021 and cohort[1]["sold"] == 8
    assert all(cohort[1][f"year_{k}"] is None for k in range(1, 6))
    assert len(cohort) == 2


def test_split_by_sale_channel(store):
    con = db.connect(store, read_only=True)
    facts.install(con, Config())
    res = retention.compute(con, Config(), [AS_OF], by="sale_channel")
    own = retention.block(res, Config(), AS_OF, "own")
    secondary = retention.block(res, Config(), AS_OF, "secondary")
    # own: F1 F2 F5 F6 F9 with F1 F5 back; secondary: F3, back
    assert own["first_service"] == {"sold": 5, "returned": 2, "rate": 2 / 5}
    assert secondary["first_service"] == {"sold": 1, "returned": 1, "rate": 1.0}
    con.close()


def test_trend_is_one_pass_and_agrees_with_single_days(store):
    con = db.connect(store, read_only=True)
    cfg = Config()
    facts.install(con, cfg)
    days = retention.trend_days(AS_OF, 3)
    assert days == [date(2022, 4, 30), date(2022, 5, 31), date(2022, 6, 30)]
    trend = retention.compute(con, cfg, days, cohorts=False)
    for d in days:
        one = retention.compute(con, cfg, [d], cohorts=False)
        assert retention.block(trend, cfg, d) == retention.block(one, cfg, d)
    con.close()


def test_month_end_and_windows():
    assert retention.window_end(date(2020, 2, 29)) == date(2021, 2, 27)  # clamped, − 1 day
    assert retention.window_end(date(2021, 6, 15)) == date(2022, 6, 14)
    assert retention.month_end_on_or_before(date(2022, 6, 29)) == date(2022, 5, 31)
    assert retention.month_end_on_or_before(date(2022, 6, 30)) == date(2022, 6, 30)


def _cli(store, *args):
    return CliRunner().invoke(
        app, ["--db", str(store), "--as-of", "2022-06-30", "retention", *args]
    )


def test_cli_kpis_csv(store):
    r = _cli(store, "--format", "csv")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "kpi,step,base,count,rate"
    assert "first_service,12m,6,3,0.5" in lines
    assert "retention_12_24,,7,4,0.5714285714285714" in lines
    assert "median_days_to_return,,21,366," in lines  # 21 spells (the three at 0 included)


def test_cli_lists(store):
    r = _cli(store, "--list", "first_service_missing", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = r.stdout.splitlines()
    # F10: sold 2021-08-15, no service, window ends 2022-08-14 = 45 days after as_of
    # (F11's ends 2022-09-09: beyond 60 days; F6's closed already)
    assert len(rows) == 2 and rows[1].startswith("F10,") and ",2022-08-14,45," in rows[1]
    r = _cli(
        store,
        "--list",
        "milestone_stalled",
        "--format",
        "csv",
        "--columns",
        "vin,milestone,window_end,days_left",
    )
    assert r.stdout.splitlines() == [
        "vin,milestone,window_end,days_left",
        "F3,2,2022-06-30,0",
        "F5,1,2022-07-31,31",
    ]


def test_cli_trend_and_errors(store):
    r = _cli(store, "--trend", "2", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["as_of"] for row in rows] == ["2022-05-31", "2022-06-30"]
    assert rows[1]["retention_12_24_rate"] == pytest.approx(4 / 7)
    r = _cli(store, "--by", "colour")
    assert r.exit_code == 2


def test_summary_json_carries_the_block(store):
    r = CliRunner().invoke(
        app,
        [
            "--db",
            str(store),
            "--as-of",
            "2022-06-30",
            "summary",
            "--period",
            "2022-06",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)["retention"]
    assert got["first_service"] == {"sold": 6, "returned": 3, "rate": 0.5}
    assert got["retention_12_24"] == {"base": 7, "retained": 4, "rate": 4 / 7}
    assert got["return_after"]["13"] == {"vehicles": 2, "returned": 1, "rate": 0.5}
    assert got["milestones"][0] == {"k": 1, "reached": 7, "eligible": 2, "next": 1, "rate": 0.5}
    assert got["median_days_to_return"] == 366


def _report(store, tmp_path):
    r = CliRunner().invoke(
        app,
        [
            "--db",
            str(store),
            "--as-of",
            "2022-06-30",
            "report",
            "--period",
            "2022-06",
            "--out",
            str(tmp_path),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    return tmp_path / "crmtool-report-2022-06.html"


def test_report_has_the_retention_section(store, tmp_path):
    import openpyxl

    html = _report(store, tmp_path).read_text(encoding="utf-8")
    section = html[html.index('id="retention"') :]
    assert "售后保持" in section and "近24个月趋势" in section
    assert "50.0%" in section  # first-service rate 3 / 6
    assert "57.1%" in section  # 12/24 retention 4 / 7
    assert section.count("<polyline") >= 4 + 1  # four trend lines and the survival curve
    wb = openpyxl.load_workbook(tmp_path / "crmtool-report-2022-06.xlsx")
    ws = wb["售后保持"]
    assert len(ws._charts) == 3  # trend, milestone funnel, survival curve
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert ["2022-06", 0.5, 4 / 7, 1 / 4, 0.5] in [row[:5] for row in cells]


@pytest.mark.skipif(
    not __import__("pathlib").Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium"
)
def test_the_browser_draws_the_retention_section(store, tmp_path):
    import subprocess

    page = _report(store, tmp_path)
    dom = subprocess.run(
        [
            "/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=90,
        check=True,
        text=True,
    ).stdout
    assert 'id="retention"' in dom and "车龄保持率" in dom and "回厂间隔" in dom
