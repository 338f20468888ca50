"""The retention KPIs of the SQL against a plain-Python reading of the same definitions
(docs/rules.md §19), on the bundled sample: two independent computations must agree."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import date, timedelta

import pytest

from crmtool import db, facts, retention
from crmtool.config import load_config
from crmtool.period import add_months
from crmtool.sample import generate


def _window_end(d: date) -> date:
    return add_months(d, 12) - timedelta(days=1)


def oracle(vehicles, orders, own: set[str], excludes: set[str], as_of: date) -> dict:
    sale = {v: s for v, s, _ in vehicles}
    sold_channel = {v: c for v, _, c in vehicles}
    visits: dict[str, set[date]] = defaultdict(set)
    service: dict[str, set[date]] = defaultdict(set)
    first_settle = min(d for _, d, dealer, _ in orders if dealer is None or dealer in own)
    for vin, day, dealer, ro_type in orders:
        if not (dealer is None or dealer in own) or ro_type in excludes:
            continue
        if sale.get(vin) is not None and day <= sale[vin]:
            continue
        visits[vin].add(day)
        if ro_type in ("first_service", "maintenance"):
            service[vin].add(day)
    sold = {
        v: s
        for v, s in sale.items()
        if s is not None and sold_channel[v] in ("own", "secondary") and s >= first_settle
    }
    out: dict = {}
    # first service: the 12 latest closed sale months
    last = as_of.replace(day=1)
    while _window_end(add_months(last, 1) - timedelta(days=1)) > as_of:
        last = add_months(last, -1)
    first = add_months(last, -11)
    cohort = [v for v, s in sold.items() if first <= s.replace(day=1) <= last]
    back = [v for v in cohort if service[v] and min(service[v]) <= _window_end(sold[v])]
    out["first_service"] = (len(cohort), len(back))
    # milestones
    ms = []
    for k in range(1, 6):
        reached = eligible = nxt = 0
        for v in sold:
            days = sorted(service[v])
            if len(days) < k or days[k - 1] > as_of:
                continue
            reached += 1
            end = _window_end(days[k - 1])
            if end <= as_of:
                eligible += 1
                nxt += len(days) > k and days[k] <= end
        ms.append((reached, eligible, nxt))
    out["milestones"] = ms
    # 12/24
    base = [
        v
        for v, ds in visits.items()
        if any(as_of - timedelta(729) <= d <= as_of - timedelta(365) for d in ds)
    ]
    kept = [v for v in base if any(as_of - timedelta(364) <= d <= as_of for d in visits[v])]
    out["r1224"] = (len(base), len(kept))
    # return after N
    nxt_day = as_of + timedelta(days=1)
    m_end = as_of if nxt_day.day == 1 else as_of.replace(day=1) - timedelta(days=1)
    for n in (6, 13):
        mon = add_months(m_end.replace(day=1), -n)
        mon_end = add_months(mon, 1) - timedelta(days=1)
        cars = [v for v, ds in visits.items() if any(mon <= d <= mon_end for d in ds)]
        ret = [
            v
            for v in cars
            if any(max(d for d in visits[v] if mon <= d <= mon_end) < d <= m_end for d in visits[v])
        ]
        out[f"back{n}"] = (len(cars), len(ret))
    # Kaplan–Meier median
    spells = []
    for ds in visits.values():
        s = sorted(ds)
        for i, d in enumerate(s):
            if as_of - timedelta(729) <= d <= as_of:
                later = s[i + 1] if i + 1 < len(s) else None
                if later is not None and later <= as_of:
                    spells.append(((later - d).days, 1))
                else:
                    spells.append(((as_of - d).days, 0))
    times = sorted({t for t, e in spells if e})
    durations = sorted(t for t, _ in spells)
    s_t, median = 1.0, None
    for t in times:
        at_risk = len(durations) - bisect.bisect_left(durations, t)
        events = sum(1 for u, e in spells if e and u == t)
        s_t *= 1 - events / at_risk
        if median is None and s_t <= 0.5:
            median = t
    out["median"] = median
    return out


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("oracle")
    generate(root / "data", "small", 7, "utf-8")
    from crmtool.load import ingest

    path = root / "s.duckdb"
    con = db.connect(path)
    cfg = load_config(root / "data" / "crmtool.toml")
    ingest.load(con, [root / "data"], cfg)
    con.close()
    return path, cfg


@pytest.mark.parametrize("as_of", [date(2021, 12, 31), date(2021, 6, 15), date(2020, 3, 1)])
def test_sql_agrees_with_a_plain_python_reading(sample_store, as_of):
    path, cfg = sample_store
    con = db.connect(path, read_only=True)
    vehicles = con.execute("SELECT vin, sale_date, sale_channel FROM vehicles").fetchall()
    orders = con.execute(
        "SELECT vin, settle_date, dealer_code, ro_type FROM repair_orders "
        "WHERE vin IS NOT NULL AND settle_date IS NOT NULL"
    ).fetchall()
    want = oracle(vehicles, orders, set(cfg.own_dealers), set(cfg.visit_excludes), as_of)
    facts.install(con, cfg)
    got = retention.block(retention.compute(con, cfg, [as_of], cohorts=False), cfg, as_of)
    con.close()
    assert (got["first_service"]["sold"], got["first_service"]["returned"]) == want["first_service"]
    assert [(m["reached"], m["eligible"], m["next"]) for m in got["milestones"]] == want[
        "milestones"
    ]
    assert (got["retention_12_24"]["base"], got["retention_12_24"]["retained"]) == want["r1224"]
    for n in (6, 13):
        b = got["return_after"][str(n)]
        assert (b["vehicles"], b["returned"]) == want[f"back{n}"]
    assert got["median_days_to_return"] == want["median"]
    assert want["r1224"][0] > 0 and want["first_service"][0] > 0  # the comparison has data


@pytest.mark.parametrize("by", [None, "series"])
def test_fast_paths_equal_the_row_per_car_paths(sample_store, monkeypatch, by):
    """12/24 retention from intervals and Kaplan–Meier from (day, next day) pairs give the
    row-per-car answers, for a trend of month ends."""
    path, cfg = sample_store
    con = db.connect(path, read_only=True)
    facts.install(con, cfg)
    days = retention.trend_days(date(2021, 12, 31), 6)
    fast = retention.compute(con, cfg, days, by, cohorts=False)
    monkeypatch.setattr(retention, "STATIC", ())
    slow = retention.compute(con, cfg, days, by, cohorts=False)
    con.close()
    assert fast.retention_12_24.sort(["as_of", "group"]).equals(
        slow.retention_12_24.sort(["as_of", "group"])
    )
    key = ["as_of", "group", "t"]
    assert fast.curve.sort(key).drop("s").equals(slow.curve.sort(key).drop("s"))
    assert fast.time_to_return.sort(["as_of", "group"]).equals(
        slow.time_to_return.sort(["as_of", "group"])
    )
    assert fast.retention_12_24.height >= 6
