"""Value tier A–D (rules §3): hand-built vehicles, the expected grades worked out in comments.

as_of = 2021-12-31, so the 365-day window is 2021-01-01 … 2021-12-31.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
from builders import insert_ro

from crmtool import facts
from crmtool.config import Config, config_from_dict
from crmtool.value_tiers import (
    _cut_between,
    customer_tiers,
    score_sql,
    suggest,
    tier_counts,
    tier_counts_by_series,
    vehicle_tiers,
)

AS_OF = date(2021, 12, 31)


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def car(con, vin, series="Polo", sale_date=date(2020, 6, 1), channel="own", customer_id=None):
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel) "
        "VALUES (?, ?, ?, ?, ?)",
        [vin, customer_id, series, sale_date, channel],
    )


def ro(con, vin, day, total=100.0, ro_type="maintenance", payer="customer", dealer="D001"):
    insert_ro(con, vin, day, dealer_code=dealer, ro_type=ro_type, payer=payer, total_amount=total)


def tiers(con, cfg: Config | None = None) -> dict[str, dict]:
    cfg = cfg or Config()
    facts.install(con, cfg)
    return {r["vin"]: r for r in vehicle_tiers(con, cfg, AS_OF).to_dicts()}


def test_ticket_boundary_group_a(con):
    # two paid visits each: 1400 / 2 = 700 → A; 1399.98 / 2 = 699.99 → B (group A: 700/550/400)
    car(con, "T700")
    car(con, "T699")
    for vin, half in (("T700", 700.0), ("T699", 699.99)):
        ro(con, vin, date(2021, 10, 1), half)
        ro(con, vin, date(2021, 11, 1), half)
    t = tiers(con)
    assert (t["T700"]["ticket"], t["T700"]["ticket_grade"]) == (700.0, "A")
    assert (t["T699"]["ticket"], t["T699"]["ticket_grade"]) == (699.99, "B")
    assert t["T700"]["tier_group"] == "A"


def test_visits_three_and_four(con):
    # 3 paid visits → B, 4 → A (visits cut points 4 / 2 / 1)
    car(con, "V3")
    car(con, "V4")
    for i in range(3):
        ro(con, "V3", date(2021, 9, 1) + timedelta(days=30 * i), 800.0)
    for i in range(4):
        ro(con, "V4", date(2021, 9, 1) + timedelta(days=30 * i), 800.0)
    t = tiers(con)
    assert (t["V3"]["visits_12m"], t["V3"]["visits_grade"]) == (3, "B")
    assert (t["V4"]["visits_12m"], t["V4"]["visits_grade"]) == (4, "A")
    # V4: 4 visits 30 days apart → cycle 30 (A), ticket 800 (A) → tier A; V3 → B
    assert (t["V4"]["cycle_days"], t["V4"]["tier"], t["V3"]["tier"]) == (30.0, "A", "B")


def test_cycle_90_91_and_mean_90_5(con):
    start = date(2021, 3, 1)
    car(con, "C90")
    car(con, "C91")
    car(con, "C905")
    ro(con, "C90", start, 800.0)
    ro(con, "C90", start + timedelta(days=90), 800.0)
    ro(con, "C91", start, 800.0)
    ro(con, "C91", start + timedelta(days=91), 800.0)
    # gaps 90 and 91 → mean 90.5 → B (grades use the unrounded value)
    ro(con, "C905", start, 800.0)
    ro(con, "C905", start + timedelta(days=90), 800.0)
    ro(con, "C905", start + timedelta(days=181), 800.0)
    t = tiers(con)
    assert (t["C90"]["cycle_days"], t["C90"]["cycle_grade"]) == (90.0, "A")
    assert (t["C91"]["cycle_days"], t["C91"]["cycle_grade"]) == (91.0, "B")
    assert (t["C905"]["cycle_days"], t["C905"]["cycle_grade"]) == (90.5, "B")


def test_single_paid_visit_cycle_is_days_since(con):
    # one paid visit 90 days before as_of (2021-10-02) → cycle 90 → A; 800 → A; 1 visit → C
    car(con, "ONE")
    ro(con, "ONE", ago(90), 800.0)
    t = tiers(con)["ONE"]
    assert (t["ticket"], t["visits_12m"], t["cycle_days"]) == (800.0, 1, 90.0)
    assert (t["ticket_grade"], t["visits_grade"], t["cycle_grade"], t["tier"]) == (
        "A",
        "C",
        "A",
        "C",
    )


def test_no_paid_visit_ever_warranty_and_insurance_only(con):
    # warranty and insurance visits make the vehicle ours but are not paid: all D
    car(con, "FREE", sale_date=None, channel="other")
    ro(con, "FREE", date(2021, 5, 1), 900.0, payer="warranty")
    ro(con, "FREE", date(2021, 6, 1), 3000.0, ro_type="body_paint", payer="insurance")
    t = tiers(con)["FREE"]
    assert (t["ticket"], t["visits_12m"], t["cycle_days"]) == (None, 0, None)
    assert (t["paid_amount_12m"], t["lifetime_paid"]) == (0.0, 0.0)
    assert (t["ticket_grade"], t["visits_grade"], t["cycle_grade"], t["tier"]) == (
        "D",
        "D",
        "D",
        "D",
    )


def test_what_counts_as_a_paid_visit(con):
    car(con, "MIX")
    day = date(2021, 12, 1)
    # two customer-paid orders on one day: one visit of 300 + 500 = 800
    ro(con, "MIX", day, 300.0)
    ro(con, "MIX", day, 500.0, ro_type="repair")
    # not visits: pds and internal orders, even customer-paid
    ro(con, "MIX", date(2021, 11, 1), 999.0, ro_type="pds")
    ro(con, "MIX", date(2021, 11, 2), 999.0, ro_type="internal")
    # another dealer's paid visit does not count
    ro(con, "MIX", date(2021, 11, 3), 999.0, dealer="D002")
    # a zero-total customer order is not paid
    ro(con, "MIX", date(2021, 11, 4), 0.0)
    t = tiers(con)["MIX"]
    # visits 1, ticket 800, cycle = 2021-12-01 → 2021-12-31 = 30 days
    assert (t["visits_12m"], t["ticket"], t["cycle_days"], t["paid_amount_12m"]) == (
        1,
        800.0,
        30.0,
        800.0,
    )


def test_visit_outside_the_window(con):
    car(con, "OLD")
    ro(con, "OLD", ago(365), 1000.0)  # 2020-12-31: one day before the window
    ro(con, "OLD", date(2021, 3, 1), 600.0)
    t = tiers(con)["OLD"]
    # in window: 1 visit of 600; cycle = days since 2021-03-01 = 305 → C; lifetime 1600
    assert (t["visits_12m"], t["ticket"], t["cycle_days"]) == (1, 600.0, 305.0)
    assert (t["paid_amount_12m"], t["lifetime_paid"], t["cycle_grade"]) == (600.0, 1600.0, "C")
    car(con, "GONE")
    ro(con, "GONE", ago(365), 1000.0)
    g = tiers(con)["GONE"]
    # nothing in the window: ticket D, visits D; cycle = 365 days → C; strict tier D
    assert (g["visits_12m"], g["ticket"], g["cycle_days"], g["cycle_grade"], g["tier"]) == (
        0,
        None,
        365.0,
        "C",
        "D",
    )


def test_series_groups_default_and_override(con):
    cfg = config_from_dict(
        {
            "tiers": {
                "series_groups": {"A": ["速腾"], "B": ["朗逸"], "C": ["迈腾", "途观L"]},
                "series_ticket": {"途观L": [600, 500, 300]},
            }
        }
    )
    for vin, series in (
        ("SA", "速腾"),
        ("SB", "朗逸"),
        ("SC", "迈腾"),
        ("SX", "Polo"),
        ("SO", "途观L"),
        ("SN", None),
    ):
        car(con, vin, series=series)
        ro(con, vin, date(2021, 12, 1), 600.0)
    t = tiers(con, cfg)
    # ticket 600 → group A (700/550/400): B; B (400/250/200): A; C (1000/700/550): C;
    # Polo unlisted → default A: B; 途观L override (600/500/300): A; no series → default A: B
    got = {v: (t[v]["tier_group"], t[v]["ticket_grade"]) for v in t}
    assert got == {
        "SA": ("A", "B"),
        "SB": ("B", "A"),
        "SC": ("C", "C"),
        "SX": ("A", "B"),
        "SO": ("C", "A"),
        "SN": ("A", "B"),
    }


def test_strict_and_score(con):
    car(con, "S1")
    ro(con, "S1", ago(100), 800.0)
    # ticket 800 → A (4), 1 visit → C (2), cycle 100 → B (3)
    # strict: lowest = C; score: (4 + 2 + 3) / 3 = 3 → B
    assert tiers(con)["S1"]["tier"] == "C"
    assert tiers(con, config_from_dict({"tiers": {"combine": "score"}}))["S1"]["tier"] == "B"


def test_score_rounds_half_up():
    con = duckdb.connect()
    # A, B, C, D = 4, 3, 2, 1 → mean 2.5 → rounds half up to 3 = B; A, A, B, C → 3.25 → B;
    # A, A, A, B → 3.75 → A; C, D, D, D → 1.25 → D
    cases = {
        ("A", "B", "C", "D"): "B",
        ("A", "A", "B", "C"): "B",
        ("A", "A", "A", "B"): "A",
        ("C", "D", "D", "D"): "D",
    }
    for grades, want in cases.items():
        sql = "SELECT " + score_sql([f"'{g}'" for g in grades])
        assert con.execute(sql).fetchone()[0] == want


def test_score_mode_without_paid_visit_in_window_is_d(con):
    # a 30-day window: the paid visit 60 days ago is outside it, but cycle 60 ≤ 90 → A;
    # grades D, D, A → mean 2 → C, yet score mode says D without a paid visit in the window
    cfg = config_from_dict({"tiers": {"combine": "score", "window_days": 30}})
    car(con, "W")
    ro(con, "W", ago(60), 800.0)
    t = tiers(con, cfg)["W"]
    assert (t["ticket_grade"], t["visits_grade"], t["cycle_grade"], t["tier"]) == (
        "D",
        "D",
        "A",
        "D",
    )


def test_ours_boundary_and_customer_tier(con):
    # ours: latest sale by us or own visit no more than 1096 days before as_of
    car(con, "IN", sale_date=ago(1096), customer_id="C1")
    car(con, "OUT", sale_date=ago(1097), customer_id="C1")
    car(con, "THEIRS", sale_date=ago(10), channel="other")
    # C1's second vehicle: one paid visit 30 days ago, ticket 800 → grades A, C, A → C
    car(con, "BEST", customer_id="C1")
    ro(con, "BEST", ago(30), 800.0)
    t = tiers(con)
    assert sorted(t) == ["BEST", "IN"]
    assert (t["IN"]["tier"], t["BEST"]["tier"]) == ("D", "C")
    assert customer_tiers(con, Config(), AS_OF).to_dicts() == [{"customer_id": "C1", "tier": "C"}]
    assert tier_counts(con, Config(), AS_OF) == {"A": 0, "B": 0, "C": 1, "D": 1}
    assert tier_counts_by_series(con, Config(), AS_OF) == [
        {"series": "Polo", "A": 0, "B": 0, "C": 1, "D": 1}
    ]


def test_suggest_cut_points(con):
    # 朗逸 (group C): ten vehicles with one paid visit each of 100, 200, …, 1000 and one
    # without a paid visit (ours by sale): n = 11.
    # mix 20/30/30/20 → A: round(0.2·11 = 2.2) = 2 → between 900 and 800 → 850
    #   A+B: round(0.5·11 = 5.5) = 6 (half up) → between 500 and 400 → 450
    #   A+B+C: round(0.8·11 = 8.8) = 9 → between 200 and 100 → 150
    # ticket grades: A 1000, 900 | B 800 … 500 | C 400 … 200 | D 100 and the unpaid one
    cfg = config_from_dict({"tiers": {"series_groups": {"C": ["朗逸"]}}})
    for i in range(1, 11):
        car(con, f"L{i:02d}", series="朗逸")
        ro(con, f"L{i:02d}", ago(30), 100.0 * i)
    car(con, "L11", series="朗逸")
    facts.install(con, cfg)
    s = suggest(con, cfg, AS_OF)
    assert s.series_ticket == {"朗逸": [850.0, 450.0, 150.0]}
    assert s.toml() == '[tiers.series_ticket]\n"朗逸" = [850, 450, 150]\n'
    # one paid visit each → visits grade C, so strict tiers top out at C:
    # before (group C 1000/700/550): 600…1000 → C (5); 100…500 and unpaid → D (6)
    # after (850/450/150): 200…1000 → C (9); 100 and unpaid → D (2)
    assert s.before == {"A": 0, "B": 0, "C": 5, "D": 6}
    assert s.after == {"A": 0, "B": 0, "C": 9, "D": 2}
    assert s.by_series["ticket_a"].to_list() == [850.0]


def test_cut_between_rounds_to_ten_yuan():
    # halfway between 1005 and 893 = 949 → 950; none above: just over the top; all: under
    assert _cut_between([1005.0, 893.0], 1) == 950.0
    assert _cut_between([1005.0, 893.0], 0) == 1010.0
    assert _cut_between([1005.0, 893.0], 2) == 890.0


def test_snapshot_computes_tiers_once_and_follows_a_reinstall(con):
    # V1: 3 paid visits of 800 → ticket A, visits B (2-3), cycle 100 days → B: tier B.
    car(con, "V1")
    for d in (200, 100, 0):
        ro(con, "V1", ago(d), total=800.0)
    cfg = Config()
    facts.install(con, cfg, snapshot=True)
    assert tier_counts(con, cfg, AS_OF) == {"A": 0, "B": 1, "C": 0, "D": 0}
    # a new paid visit does not change the snapshot: its tiers table is reused
    ro(con, "V1", ago(50), total=800.0)
    assert tier_counts(con, cfg, AS_OF) == {"A": 0, "B": 1, "C": 0, "D": 0}
    # 4 paid visits, cycle 66.7 days → A; a reinstall drops the shared results
    facts.install(con, cfg, snapshot=True)
    assert tier_counts(con, cfg, AS_OF) == {"A": 1, "B": 0, "C": 0, "D": 0}
    facts.install(con, cfg)  # views again: follows the data
    assert tier_counts(con, cfg, AS_OF) == {"A": 1, "B": 0, "C": 0, "D": 0}
