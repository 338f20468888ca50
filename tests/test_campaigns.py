"""Campaign lists (docs/rules.md §9) on hand-built data; expected dates worked out in comments."""

from __future__ import annotations

from datetime import date

from builders import insert_ro

from crmtool import campaigns, facts
from crmtool.config import config_from_dict
from crmtool.period import parse_period

AS_OF = date(2022, 6, 30)
JULY = parse_period("2022-07")
CFG = config_from_dict({"maintenance": {"series": {"迈腾": {"interval_months": 12}}}})


def d(text: str) -> date:
    return date.fromisoformat(text)


def vehicle(
    con, vin, sale_date=None, channel="own", *, series="朗逸", status=None, warranty_end=None
):
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel,"
        " vehicle_status, warranty_end) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [vin, f"C-{vin}", series, sale_date, channel, status, warranty_end],
    )


def ro(
    con,
    vin,
    day,
    ro_type="maintenance",
    *,
    km=None,
    dealer="D001",
    payer="customer",
    total=100.0,
    advisor=None,
):
    insert_ro(
        con,
        vin,
        day,
        dealer_code=dealer,
        mileage_km=km,
        ro_type=ro_type,
        payer=payer,
        total_amount=total,
        advisor=advisor,
    )


def test_maintenance_due_month_overdue_and_km(con):
    # F1: sold 2022-01-15, one reading 600 km 60 days after the sale → 10 km/day;
    #     first service by time 2022-07-15 (km: 4400 / 10 = 440 days later, far)
    vehicle(con, "F1", d("2022-01-15"))
    ro(con, "F1", d("2022-03-16"), "repair", km=600)
    # M1: service 2022-01-20 at 10000 km, a year after 5000 km (13.7 km/day) → time 2022-07-20
    ro(con, "M1", d("2021-01-20"), km=5000)
    ro(con, "M1", d("2022-01-20"), km=10000)
    # K1: 17000 → 20000 km in 30 days = 100 km/day; +5000 km = 50 days after 2022-03-01
    #     = 2022-04-20 (time: 2022-09-01): due by km, 2022-07-01 − 2022-04-20 = 72 days late
    ro(con, "K1", d("2022-01-30"), "repair", km=17000)
    ro(con, "K1", d("2022-03-01"), km=20000)
    # K2: 28000 → 29500 km in 30 days = 50 km/day; +5000 km = 100 days after 2022-04-01
    #     = 2022-07-10, earlier than the time date 2022-10-01
    ro(con, "K2", d("2022-03-02"), "repair", km=28000)
    ro(con, "K2", d("2022-04-01"), km=29500)
    # M2: last service at another dealer 2022-01-25 (no km) → 2022-07-25; ours by an own visit
    ro(con, "M2", d("2022-01-25"), dealer="D002")
    ro(con, "M2", d("2022-02-01"), "repair")
    # M3: series 迈腾 has a 12-month interval: 2021-07-10 → 2022-07-10
    vehicle(con, "M3", d("2020-01-01"), "other", series="迈腾")
    ro(con, "M3", d("2021-07-10"))
    # O2: due 2022-01-02, 180 days late on 2022-07-01 → listed; O1: due 2022-01-01, 181 → not
    ro(con, "O2", d("2021-07-02"))
    ro(con, "O1", d("2021-07-01"))
    # S1 is due 2022-07-05 but scrapped: left out; NS: not sold by us, never serviced: no basis
    vehicle(con, "S1", d("2020-01-01"), status="scrapped")
    ro(con, "S1", d("2022-01-05"))
    vehicle(con, "NS", d("2022-01-01"), "other")
    ro(con, "NS", d("2022-02-01"), "repair")
    facts.install(con, CFG)
    res = campaigns.maintenance_due(con, CFG, JULY, AS_OF)
    assert res.left_out == 1
    assert res.frame.select(
        "vin", "due_service", "last_service_km", "due_date", "due_by", "overdue", "days_overdue"
    ).rows() == [
        ("O2", "maintenance", None, d("2022-01-02"), "time", True, 180),
        ("K1", "maintenance", 20000.0, d("2022-04-20"), "km", True, 72),
        ("K2", "maintenance", 29500.0, d("2022-07-10"), "km", False, 0),
        ("M3", "maintenance", None, d("2022-07-10"), "time", False, 0),
        ("F1", "first_service", None, d("2022-07-15"), "time", False, 0),
        ("M1", "maintenance", 10000.0, d("2022-07-20"), "time", False, 0),
        ("M2", "maintenance", None, d("2022-07-25"), "time", False, 0),
    ]
    assert res.frame.columns[:5] == ["vin", "customer_id", "name", "phone", "series"]

    # Return rate of July: due in July (not overdue) K2 M3 F1 M1 M2 = 5; M1 back 26 days after
    # its due date (within 60) → returned; M3 back 62 days after → not; M2 back at D002 → not
    ro(con, "M1", d("2022-08-15"))
    ro(con, "M3", d("2022-09-10"))
    ro(con, "M2", d("2022-07-26"), dealer="D002")
    assert campaigns.maintenance_return_rate(con, CFG, JULY) == {
        "due": 5,
        "returned": 1,
        "rate": 0.2,
    }


def test_first_service_month_end_clamp(con):
    # sold 2021-08-31: + 6 months = 2022-02-28 (clamped); 300 km after 60 days = 5 km/day,
    # so 5000 km is 940 days away and the time date wins
    vehicle(con, "C1", d("2021-08-31"))
    ro(con, "C1", d("2021-10-30"), "repair", km=300)
    facts.install(con, CFG)
    res = campaigns.maintenance_due(con, CFG, parse_period("2022-02"), d("2022-01-31"))
    assert res.frame.select("vin", "due_service", "due_date", "due_by", "overdue").rows() == [
        ("C1", "first_service", d("2022-02-28"), "time", False)
    ]


def test_warranty_expiring_by_date_and_km(con):
    # WD: sold 2019-08-01 → ends 2022-08-01 by date (35 km/day: 100000 km is 2858 days away)
    vehicle(con, "WD", d("2019-08-01"))
    # WK: 80000 → 98000 km in 365 days = 49.315 km/day; 2000 km left → ceil(40.56) = 41 days
    #     after 2022-06-01 = 2022-07-12, before its date end 2023-01-01
    vehicle(con, "WK", d("2020-01-01"))
    ro(con, "WK", d("2021-06-01"), "repair", km=80000)
    ro(con, "WK", d("2022-06-01"), "repair", km=98000)
    # WE: warranty_end 2022-09-28 = as_of + 90 → listed; WX: 2022-09-29 = as_of + 91 → not
    for vin, end in (("WE", "2022-09-28"), ("WX", "2022-09-29")):
        vehicle(con, vin, d("2018-01-01"), warranty_end=d(end))
        ro(con, vin, d("2022-01-01"), "repair")
    vehicle(con, "WP", d("2019-01-01"))  # ended 2022-01-01: already out of warranty
    facts.install(con, CFG)
    res = campaigns.warranty_expiring(con, CFG, AS_OF)
    assert res.frame.select("vin", "warranty_end", "ends_by", "days_left").rows() == [
        ("WK", d("2022-07-12"), "km", 12),
        ("WD", d("2022-08-01"), "date", 32),
        ("WE", d("2022-09-28"), "date", 90),
    ]
    assert campaigns.warranty_expiring(con, CFG, AS_OF, days=31).frame["vin"].to_list() == ["WK"]


def test_insurance_bands(con):
    amounts = {
        "I1": 4999.99,
        "I2": 5000.0,
        "I3": 9999.99,
        "I4": 10000.0,
        "I5": 20000.0,
        "I6": 20000.01,
    }
    for i, (vin, total) in enumerate(amounts.items()):
        ro(
            con,
            vin,
            date(2022, 6, 10 + i),
            "body_paint",
            payer="insurance",
            total=total,
            advisor="王五",
        )
    ro(con, "I7", d("2022-06-01"), "body_paint", payer="insurance", total=6000.0)  # as_of − 29
    ro(con, "I8", d("2022-05-31"), "body_paint", payer="insurance", total=8000.0)  # as_of − 30
    ro(
        con, "I9", d("2022-06-20"), "body_paint", payer="insurance", total=8000.0, dealer="D002"
    )  # not own
    ro(con, "I0", d("2022-06-20"), "body_paint", payer="customer", total=8000.0)  # not insurance
    facts.install(con, CFG)
    res = campaigns.insurance_renewal(con, CFG, AS_OF)
    gifts = CFG.insurance.gifts
    assert res.frame.select("vin", "total_amount", "band", "gift").rows() == [
        ("I6", 20000.01, 3, gifts[2]),
        ("I5", 20000.0, 2, gifts[1]),
        ("I4", 10000.0, 2, gifts[1]),
        ("I3", 9999.99, 1, gifts[0]),
        ("I2", 5000.0, 1, gifts[0]),
        ("I7", 6000.0, 1, gifts[0]),
    ]
    assert res.frame["advisor"].to_list()[:5] == ["王五"] * 5


def test_loyal_reward_tiers_first(con, monkeypatch):
    visits = {"LA": 3, "LB": 2, "LC": 2, "LD": 1, "LE": 5}
    for vin, n in visits.items():
        for i in range(n):
            ro(con, vin, date(2022, 2, 1 + i))
    # the tiers are joined in SQL (no Python round trip, issue 19): give them as a query
    monkeypatch.setattr(
        campaigns,
        "tiers_sql",
        lambda cfg: (
            "SELECT vin, tier FROM (VALUES ('LA', 'C'), ('LB', 'A'), ('LC', 'B'), "
            "('LD', 'A'), ('LE', 'D')) t(vin, tier) WHERE $as_of IS NOT NULL"
        ),
    )
    facts.install(con, CFG)
    # a half (181 days): ≥ 2 own visits; A/B first (LB, LC: 2 visits, tier A before B),
    # then by visits: LE 5, LA 3; LD has 1 visit
    half = campaigns.loyal_reward(con, CFG, parse_period("2022H1"))
    assert half.frame.select("vin", "own_visits", "tier").rows() == [
        ("LB", 2, "A"),
        ("LC", 2, "B"),
        ("LE", 5, "D"),
        ("LA", 3, "C"),
    ]
    assert half.frame["gift"].to_list() == [CFG.loyal.gift] * 4
    year = campaigns.loyal_reward(con, CFG, parse_period("2022"))  # ≥ 4 in the year
    assert year.frame["vin"].to_list() == ["LE"]


def test_winback_order_and_reasons(con):
    ro(con, "WA", d("2021-01-01"), total=300.0)  # lost 545 days, nothing else
    ro(con, "WE", d("2021-01-02"), total=300.0)  # same value as WA: vin order
    ro(con, "WB", d("2021-12-01"), total=1000.0)  # at_risk (211 days), went to D003
    ro(con, "WB", d("2022-02-01"), "repair", dealer="D003")
    vehicle(con, "WC", d("2021-06-01"))  # sold, never back, went to D003 anyway
    ro(con, "WC", d("2021-09-01"), "repair", dealer="D003")
    ro(con, "WD", d("2022-06-01"))  # general: not listed
    facts.install(con, CFG)
    res = campaigns.winback(con, CFG, AS_OF)
    assert res.frame.select("vin", "status", "lifetime_paid", "reason", "other_dealer").rows() == [
        ("WB", "at_risk", 1000.0, "defected", "D003"),
        ("WA", "lost", 300.0, "out_of_channel", None),
        ("WE", "lost", 300.0, "out_of_channel", None),
        ("WC", "lost", 0.0, "never_returned", "D003"),
    ]
    assert set(res.frame["gift"]) == {CFG.winback.gift}
