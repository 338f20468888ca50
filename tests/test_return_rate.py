"""Maintenance return rate 定期保养入库率 (docs/rules.md §9 "Maintenance return rate") on a hand-built July, via the summary."""

from __future__ import annotations

from datetime import date

from builders import insert_ro

from crmtool import db
from crmtool.config import Config
from crmtool.period import parse_period
from crmtool.summary import build_summary


def test_return_rate_of_a_month():
    con = db.connect(":memory:")

    def vehicle(vin, sale, channel="other", status=None):
        con.execute(
            "INSERT INTO vehicles (vin, sale_date, sale_channel, vehicle_status)"
            " VALUES (?, ?, ?, ?)",
            [vin, date.fromisoformat(sale), channel, status],
        )

    def ro(vin, day, ro_type="maintenance"):
        insert_ro(
            con,
            vin,
            date.fromisoformat(day),
            dealer_code="D001",
            ro_type=ro_type,
            payer="customer",
            total_amount=100,
        )

    # Intervals: 6 months, no km readings, so every due date is by time; history up to 06-30.
    for vin in "ABCDSO":
        vehicle(vin, "2020-01-01", status="scrapped" if vin == "S" else None)
    ro("A", "2022-01-31")  # due 07-31; back 07-01 = 30 days before → returned
    ro("A", "2022-07-01")
    ro("B", "2022-01-31")  # due 07-31; only a repair 07-01 → not returned
    ro("B", "2022-07-01", "repair")
    ro("C", "2022-01-05")  # due 07-05; back 09-03 = 60 days after → returned
    ro("C", "2022-09-03")
    ro("D", "2022-01-05")  # due 07-05; back 09-04 = 61 days after → not
    ro("D", "2022-09-04")
    # E: sold by us 02-15, no reading: 5000 km at the default 35 km/day = ceil(142.9) = 143
    #    days → 07-08, before the time date 08-15; first service done 07-08 → returned
    vehicle("E", "2022-02-15", "own")
    ro("E", "2022-07-08", "first_service")
    ro("S", "2022-01-10")  # due 07-10 but scrapped: not counted
    ro("O", "2021-12-15")  # due 06-15: overdue in July, not due in it
    s = build_summary(con, Config(), parse_period("2022-07"), date(2022, 7, 31))
    # due A B C D E = 5, returned A C E = 3
    assert s["maintenance_due"] == {"due": 5, "returned": 3, "rate": 0.6}
    con.close()
