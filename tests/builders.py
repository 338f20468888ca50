"""Row builders for the hand-built datasets of the tests."""

from __future__ import annotations

from datetime import date
from itertools import count

_ro_ids = count(1)


def insert_ro(con, vin: str, day: date, **columns) -> str:
    """One repair order of `vin` settled on `day` with the given columns; returns its ro_id
    (R1, R2, … unique within the test run)."""
    row = {"ro_id": f"R{next(_ro_ids)}", "vin": vin, "settle_date": day, **columns}
    con.execute(
        f"INSERT INTO repair_orders ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return row["ro_id"]
