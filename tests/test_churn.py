"""Loyalty status, warning, leakage, sales follow-through, service mix (rules §5–§8).

Every dataset is hand-built; the expected figures are worked out in the comments.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from builders import insert_ro

from crmtool import churn, db, facts, service_mix
from crmtool.codes import RO_TYPES
from crmtool.config import Config
from crmtool.period import parse_period

AS_OF = date(2022, 6, 30)
H1 = parse_period("2022H1")  # 2022-01-01 … 2022-06-30, base day 2021-12-31


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def d(text: str) -> date:
    return date.fromisoformat(text)


def vehicle(
    con,
    vin,
    sale_date=None,
    channel="own",
    *,
    outlet=None,
    status=None,
    customer_id=None,
    series="迈腾",
):
    con.execute(
        "INSERT INTO vehicles (vin, customer_id, series, sale_date, sale_channel, outlet,"
        " vehicle_status) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [vin, customer_id, series, sale_date, channel, outlet, status],
    )


def ro(con, vin, day, dealer="D001", ro_type="maintenance", payer="customer", total=100.0):
    insert_ro(con, vin, day, dealer_code=dealer, ro_type=ro_type, payer=payer, total_amount=total)


@pytest.fixture
def con():
    c = db.connect(":memory:")
    c.execute(
        "INSERT INTO dealers VALUES ('D001', '本店', '杭州', NULL, NULL, NULL),"
        " ('D002', '杭州二店', '杭州', NULL, NULL, NULL),"
        " ('D003', '宁波店', '宁波', NULL, NULL, NULL)"
    )
    yield c
    c.close()


CFG = Config(own_region="杭州")


def install(c):
    facts.install(c, CFG)
    return c


# -- §5 status --------------------------------------------------------------------------------


def test_status_boundaries_and_warning(con):
    ro(con, "V180", ago(180))  # days_since 180: not > 180 → general
    ro(con, "V181", ago(181))  # 181 > 180 → at_risk
    ro(con, "V365", ago(365))  # 365: not > 365 → at_risk
    ro(con, "V366", ago(366))  # 366 > 365 → lost
    vehicle(con, "N180", ago(180))  # no visit, sold 180 days ago → new
    vehicle(con, "N181", ago(181))  # no visit, sold 181 days ago: days_since 181 → at_risk
    for days in (364, 100, 10):  # 3 own visits in window (as_of−364 … as_of) → loyal
        ro(con, "L3", ago(days))
    for days in (365, 100, 10):  # as_of−365 is outside the window: 2 → general
        ro(con, "L2", ago(days))
    # 5 own visits, gaps 10, 20, 30, 40 → median of an even count = (20 + 30) / 2 = 25;
    # last visit 90 days ago: risk_ratio = 90 / 25 = 3.6, days_since ≥ 90 → warn
    for days in (190, 180, 160, 130, 90):
        ro(con, "W5", ago(days))
    for days in (189, 179, 159, 129, 89):  # same gaps, days_since 89 < 90 → no warn
        ro(con, "W89", ago(days))
    for days in (210, 160, 90):  # gaps 50, 70 → median 60; 90 / 60 = 1.5 → warn
        ro(con, "W3", ago(days))
    for days in (110, 100):  # only 2 own visits ever → no ratio
        ro(con, "W2", ago(days))
    ro(con, "X", ago(10), dealer="D003")  # only other-dealer visits, not sold by us: not ours
    ro(con, "P", ago(10), ro_type="pds")  # a PDS order is no visit: not ours
    df = churn.vehicle_status(install(con), CFG, AS_OF)
    got = {r["vin"]: r for r in df.iter_rows(named=True)}
    assert {v: r["status"] for v, r in got.items()} == {
        "V180": "general",
        "V181": "at_risk",
        "V365": "at_risk",
        "V366": "lost",
        "N180": "new",
        "N181": "at_risk",
        "L3": "loyal",
        "L2": "general",
        "W5": "loyal",
        "W89": "loyal",
        "W3": "loyal",
        "W2": "general",
    }
    assert got["N181"]["days_since"] == 181 and got["N181"]["last_own_visit"] is None
    assert (got["W5"]["median_gap"], got["W5"]["risk_ratio"], got["W5"]["warn"]) == (25, 3.6, True)
    assert (got["W89"]["risk_ratio"], got["W89"]["warn"]) == (3.56, False)  # 89 / 25 = 3.56
    assert (got["W3"]["risk_ratio"], got["W3"]["warn"]) == (1.5, True)
    assert (got["W2"]["risk_ratio"], got["W2"]["warn"]) == (None, False)
    assert (got["L3"]["own_visits_12m"], got["L2"]["own_visits_12m"]) == (3, 2)
    assert (got["L2"]["own_visits_total"]) == 3
    assert churn.status_counts(con, CFG, AS_OF) == {
        "new": 1,
        "loyal": 4,
        "general": 3,
        "at_risk": 3,
        "lost": 1,
    }


def test_churn_list_reason_precedence(con):
    # sold 400 days ago, never back, went to D003: never_returned comes first
    vehicle(con, "NR", ago(400))
    ro(con, "NR", ago(300), dealer="D003")
    # lost; after the last own visit it went to D002 twice and D003 once → defected to D002
    ro(con, "DF", ago(500))  # paid 100.00 (the helper's default)
    for days in (450, 440):
        ro(con, "DF", ago(days), dealer="D002")
    ro(con, "DF", ago(430), dealer="D003")
    # at_risk; its other-dealer visit was before the last own visit → out_of_channel
    ro(con, "OC", ago(300), dealer="D002")
    ro(con, "OC", ago(200), total=800.0)
    ro(con, "OK", ago(20))  # general: not asked for
    vehicle(con, "SC", ago(400), status="scrapped")  # never returned but scrapped: left out
    res = churn.churn_list(install(con), CFG, AS_OF, ("lost", "at_risk"))
    assert res.left_out == 1
    rows = res.frame.select(
        "vin", "status", "reason", "other_dealer", "last_other_visit", "lifetime_paid"
    ).rows()
    # highest lifetime paid first: OC 800, DF 100, NR 0
    assert rows == [
        ("OC", "at_risk", "out_of_channel", None, None, 800.0),
        ("DF", "lost", "defected", "D002", ago(440), 100.0),
        ("NR", "lost", "never_returned", "D003", ago(300), 0.0),
    ]
    assert res.frame.columns[:5] == ["vin", "customer_id", "name", "phone", "series"]
    assert res.frame.columns[-1] == "last_advisor"


# -- §6 where customers go --------------------------------------------------------------------


def test_leakage_classes_region_and_ties(con):
    before = d("2021-06-01")  # an own visit before the period makes each vehicle "base"
    for vin in ("RET", "CROSS", "DEF", "OUT", "TIE", "MOST", "UNK"):
        ro(con, vin, before)
    ro(con, "RET", d("2022-02-01"))  # own only → retained
    ro(con, "CROSS", d("2022-02-01"))  # 2 own + D002 → cross_shop, same
    ro(con, "CROSS", d("2022-03-01"))
    ro(con, "CROSS", d("2022-04-01"), dealer="D002")
    ro(con, "DEF", d("2022-02-01"), dealer="D003")  # other only → defected, other
    ro(con, "TIE", d("2022-01-10"))  # 1 own; D002 and D003 one day each:
    ro(con, "TIE", d("2022-02-01"), dealer="D002")  # tie → D003, visited latest
    ro(con, "TIE", d("2022-03-01"), dealer="D003")
    for day in (3, 4, 5, 6, 7):  # 5 own visits → "5+"
        ro(con, "MOST", date(2022, 1, day))
    ro(con, "MOST", d("2022-02-01"), dealer="D002")  # D002 on 2 days beats D003 on 1
    ro(con, "MOST", d("2022-02-02"), dealer="D002")
    ro(con, "MOST", d("2022-03-01"), dealer="D003")
    ro(con, "UNK", d("2022-05-01"))  # dealer D009 has no region → unknown
    ro(con, "UNK", d("2022-05-02"), dealer="D009")
    vehicle(con, "NEW", d("2022-01-15"))  # sold in the period: not base
    ro(con, "NEW", d("2022-03-01"))
    ro(con, "OLD", d("2018-12-30"))  # 1097 days before base day: not ours
    ro(con, "OLD", d("2022-03-01"))
    df = churn.leakage(install(con), CFG, H1)
    got = {
        r[0]: r[1:]
        for r in df.select("vin", "leakage", "own_visits", "other_dealer", "region").rows()
    }
    assert got == {
        "RET": ("retained", 1, None, None),
        "CROSS": ("cross_shop", 2, "D002", "same"),
        "DEF": ("defected", 0, "D003", "other"),
        "OUT": ("out_of_channel", 0, None, None),
        "TIE": ("cross_shop", 1, "D003", "other"),
        "MOST": ("cross_shop", 5, "D002", "same"),
        "UNK": ("cross_shop", 1, "D009", "unknown"),
    }
    assert churn.leakage_summary(con, CFG, H1) == {
        "retained": 1,
        "cross_shop": 4,
        "defected": 1,
        "out_of_channel": 1,
        "cross_shop_by_own_visits": {"1": 2, "2": 1, "3": 0, "4": 0, "5+": 1},
        "cross_shop_region": {"same": 2, "other": 1, "unknown": 1},
    }


def test_own_region_falls_back_to_dealers_table(con):
    ro(con, "A", d("2021-06-01"))
    ro(con, "A", d("2022-02-01"), dealer="D002")
    facts.install(con, Config())  # no own_region: D001's region 杭州 from the dealers table
    assert churn.leakage(con, Config(), H1)["region"].to_list() == ["same"]


# -- §7 sales follow-through ------------------------------------------------------------------


def test_new_car_defection_direct(con):
    sale = d("2022-02-01")
    vehicle(con, "S1", sale)  # other first → defected, direct
    ro(con, "S1", d("2022-03-01"), dealer="D002")
    vehicle(con, "S2", sale, "secondary")  # own before other → not direct
    ro(con, "S2", d("2022-02-15"))
    ro(con, "S2", d("2022-03-01"), dealer="D002")
    vehicle(con, "S3", sale)  # own and other on one day: own is
    ro(con, "S3", d("2022-03-01"))  # not strictly before → direct
    ro(con, "S3", d("2022-03-01"), dealer="D002")
    vehicle(con, "S4", sale)  # no visit: sold only
    vehicle(con, "S6", d("2022-03-01"))  # other visit before the sale only
    ro(con, "S6", d("2022-02-20"), dealer="D002")
    vehicle(con, "S5", d("2021-12-01"))  # sold before the period
    ro(con, "S5", d("2022-03-01"), dealer="D002")
    vehicle(con, "S7", sale, "other")  # not sold by us
    ro(con, "S7", d("2022-03-01"), dealer="D002")
    vehicle(con, "S8", sale)  # other visit after as_of
    ro(con, "S8", d("2022-07-01"), dealer="D002")
    # sold: S1 S2 S3 S4 S6 S8 = 6; defected S1 S2 S3 = 3; direct S1 S3 = 2
    assert churn.new_car_defection(install(con), CFG, H1, AS_OF) == {
        "sold": 6,
        "defected": 3,
        "direct": 2,
    }


def test_secondary_network(con):
    jan = d("2022-01-10")
    vehicle(con, "X1", jan, "secondary", outlet="A网点")  # paid 300 + 200.50 → 500.50
    ro(con, "X1", d("2022-03-01"), total=300.0)
    ro(con, "X1", d("2022-05-01"), total=200.5)
    vehicle(con, "X2", jan, "secondary", outlet="A网点")  # PDS only: an RO, not paid
    ro(con, "X2", d("2022-01-09"), ro_type="pds", payer="internal", total=0.0)
    vehicle(con, "X3", d("2022-02-10"), "secondary", outlet="A网点")  # nothing: no_ro
    vehicle(con, "X4", d("2022-03-10"), "secondary", outlet="B网点")  # warranty-paid only
    ro(con, "X4", d("2022-04-01"), ro_type="warranty", payer="warranty", total=900.0)
    ro(con, "X4", d("2022-04-02"), dealer="D002", total=700.0)  # paid, but elsewhere
    vehicle(con, "X5", d("2022-03-10"), "secondary", outlet="B网点")  # paid after as_of only
    ro(con, "X5", d("2022-07-05"), total=400.0)
    vehicle(con, "X6", d("2021-12-31"), "secondary", outlet="A网点")  # sold before the period
    vehicle(con, "X7", jan, "own")  # own channel
    # A: sold 3 (X1 X2 X3), returned 1, revenue 500.5, no_paid 2, no_ro 1 (X3)
    # B: sold 2 (X4 X5), returned 0, revenue 0, no_paid 2, no_ro 1 (X5)
    assert churn.secondary_network(install(con), CFG, H1, AS_OF) == {
        "sold": 5,
        "returned_paid": 1,
        "revenue": 500.5,
        "no_paid": 4,
        "no_ro": 2,
        "by_outlet": [
            {
                "outlet": "A网点",
                "sold": 3,
                "returned_paid": 1,
                "revenue": 500.5,
                "no_paid": 2,
                "no_ro": 1,
            },
            {
                "outlet": "B网点",
                "sold": 2,
                "returned_paid": 0,
                "revenue": 0.0,
                "no_paid": 2,
                "no_ro": 1,
            },
        ],
    }


def test_never_returned_180_181(con):
    vehicle(con, "N180", ago(180))  # 180 days: not more than 180
    vehicle(con, "N181", ago(181))  # 181 > 180, never back → listed
    vehicle(con, "BACK", ago(181))  # came back once
    ro(con, "BACK", ago(100))
    vehicle(con, "PDS", ago(181))  # a PDS order is not a visit → listed
    ro(con, "PDS", ago(182), ro_type="pds", payer="internal", total=0.0)
    vehicle(con, "ELSE", ago(200))  # only elsewhere → listed
    ro(con, "ELSE", ago(100), dealer="D002")
    vehicle(con, "SCR", ago(300), status="scrapped")  # counted, but left off the list
    vehicle(con, "OLD", ago(1097))  # not ours any more
    install(con)
    assert churn.never_returned_count(con, CFG, AS_OF) == 4
    res = churn.never_returned(con, CFG, AS_OF)
    assert res.left_out == 1
    assert res.frame.select("vin", "days_since_sale").rows() == [
        ("ELSE", 200),
        ("N181", 181),
        ("PDS", 181),
    ]


# -- §8 service mix ---------------------------------------------------------------------------


def test_service_mix_zeros_and_shares(con):
    ro(con, "A", d("2022-02-01"), total=300.0)  # maintenance
    ro(con, "A", d("2022-03-01"), total=200.25)  # maintenance
    ro(con, "B", d("2022-02-01"), ro_type="body_paint", payer="insurance", total=6000.0)
    ro(con, "C", d("2022-01-05"), ro_type="pds", payer="internal", total=0.0)
    ro(con, "D", d("2022-02-01"), ro_type="repair", dealer="D002", total=999.0)  # not own
    ro(con, "E", d("2021-12-31"), ro_type="repair", total=999.0)  # before period
    mix = service_mix.service_mix(install(con), CFG, H1)
    # 4 own orders in the period: maintenance 2/4, body_paint 1/4, pds 1/4
    assert list(mix) == list(RO_TYPES)
    assert mix["maintenance"] == {"count": 2, "share": 0.5, "revenue": 500.25}
    assert mix["body_paint"] == {"count": 1, "share": 0.25, "revenue": 6000.0}
    assert mix["pds"] == {"count": 1, "share": 0.25, "revenue": 0.0}
    for t in ("first_service", "repair", "warranty", "internal", "other"):
        assert mix[t] == {"count": 0, "share": 0.0, "revenue": 0.0}
    assert sum(v["share"] for v in mix.values()) == 1.0


def test_service_mix_empty_period(con):
    mix = service_mix.service_mix(install(con), CFG, H1)
    assert all(v == {"count": 0, "share": 0.0, "revenue": 0.0} for v in mix.values())
