"""`crmtool validate`: data-quality checks over the loaded store (docs/rules.md §1 "Values", §17 "Loading").

Each check is one SQL query returning (example text, weight); count = sum of weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from ..config import Config
from ..schema import FUTURE_OK, TABLES
from . import parsers

EXAMPLES = 5


@dataclass
class Check:
    name: str
    count: int
    examples: list[str] = field(default_factory=list)
    description: str = ""


def _future_sql() -> str:
    parts = []
    for table, flds in TABLES.items():
        key = "concat_ws('/', dealer_code, ro_id)" if table == "repair_orders" else flds[0].name
        for f in flds:
            if f.type == "DATE" and f.stored and (table, f.name) not in FUTURE_OK:
                text = f"format('{{}} {{}} {{}}: {{}}', '{table}', {key}, '{f.name}', {f.name})"
                parts.append(f"SELECT {text}, 1 FROM {table} WHERE {f.name} > $as_of")
    return " UNION ALL ".join(parts)


CHECKS: list[tuple[str, str, str]] = [
    (
        "vin_check_digit",
        "VINs whose check digit (position 9) is wrong",
        """SELECT vin, 1 FROM (SELECT vin FROM vehicles UNION SELECT vin FROM repair_orders)
        WHERE crm_vin_flag(vin) = 'vin_check_digit' ORDER BY vin""",
    ),
    (
        "vin_format",
        "VINs that are not 17 characters or contain I, O, Q",
        """SELECT vin, 1 FROM (SELECT vin FROM vehicles UNION SELECT vin FROM repair_orders)
        WHERE crm_vin_flag(vin) IN ('vin_length', 'vin_chars') ORDER BY vin""",
    ),
    (
        "odd_phones",
        "phones that are not 11 digits starting with 1",
        """SELECT phone, 1 FROM (SELECT phone FROM customers UNION SELECT phone FROM vehicles
                             UNION SELECT phone FROM leads)
        WHERE crm_phone_flag(phone) = 'phone_odd' ORDER BY phone""",
    ),
    ("future_dates", "dates after as_of (warranty ends excepted)", ""),  # see _future_sql
    (
        "negative_totals",
        "repair orders with a negative total",
        """SELECT format('{}/{} {}', dealer_code, ro_id, total_amount), 1 FROM repair_orders
        WHERE total_amount < 0 ORDER BY dealer_code, ro_id""",
    ),
    (
        "unknown_ro_type",
        "ro_type raw values that fell to other (value: rows)",
        """SELECT format('{}: {}', raw, count(DISTINCT key)), count(DISTINCT key) FROM flags
        WHERE kind = 'repair_orders' AND field = 'ro_type' AND flag = 'unknown_code'
        GROUP BY raw ORDER BY count(DISTINCT key) DESC, raw""",
    ),
    (
        "unknown_payer",
        "payer raw values that fell to other (value: rows)",
        """SELECT format('{}: {}', raw, count(DISTINCT key)), count(DISTINCT key) FROM flags
        WHERE kind = 'repair_orders' AND field = 'payer' AND flag = 'unknown_code'
        GROUP BY raw ORDER BY count(DISTINCT key) DESC, raw""",
    ),
    (
        "payer_inferred",
        "repair orders whose payer was inferred from the type (no payer in "
        "the export; [defaults.payer_by_ro_type]) (type: rows)",
        """SELECT format('{}: {}', coalesce(raw, '(none)'), count(DISTINCT key)),
               count(DISTINCT key) FROM flags
        WHERE kind = 'repair_orders' AND field = 'payer' AND flag = 'payer_inferred'
          AND key IN (SELECT concat_ws('/', dealer_code, ro_id) FROM repair_orders)
        GROUP BY raw ORDER BY count(DISTINCT key) DESC, raw""",
    ),
    (
        "vin_from_plate",
        "repair orders whose blank VIN was taken from the plate",
        """SELECT DISTINCT key, 1 FROM flags WHERE kind = 'repair_orders'
          AND flag = 'vin_from_plate' ORDER BY key""",
    ),
    (
        "out_of_range",
        "mileage or amounts beyond belief, dropped ([defaults] max_mileage_km, max_amount)",
        """SELECT format('{} {}: {}', key, field, raw), 1 FROM flags
        WHERE flag = 'out_of_range' ORDER BY key, field""",
    ),
    (
        "vehicles_without_owner",
        "vehicles whose owner is not among the customers",
        """SELECT vin, 1 FROM vehicles v WHERE v.customer_id IS NULL OR NOT EXISTS
        (SELECT 1 FROM customers c WHERE c.customer_id = v.customer_id) ORDER BY vin""",
    ),
    (
        "ro_vin_without_vehicle",
        "VINs of repair orders without a vehicle record",
        """SELECT DISTINCT vin, 1 FROM repair_orders r WHERE NOT EXISTS
        (SELECT 1 FROM vehicles v WHERE v.vin = r.vin) ORDER BY vin""",
    ),
    (
        "mileage_backwards",
        "mileage readings below an earlier reading of the same vehicle",
        """SELECT format('{} {}: {} km < {} km', vin, settle_date, mileage_km, prev), 1 FROM (
            SELECT vin, settle_date, mileage_km, ro_id,
                   max(mileage_km) OVER (PARTITION BY vin ORDER BY settle_date, ro_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
            FROM repair_orders WHERE mileage_km IS NOT NULL)
        WHERE mileage_km < prev ORDER BY vin, settle_date, ro_id""",
    ),
]


def validate(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: date | None = None
) -> list[Check]:
    """Run every check; examples are the first few offenders."""
    parsers.install(con, config)
    out = []
    for name, description, sql in CHECKS:
        sql = sql or _future_sql()
        params = {"as_of": as_of or date.today()} if "$as_of" in sql else None
        rows = con.execute(sql, params).fetchall()
        out.append(
            Check(
                name,
                int(sum(w for _, w in rows)),
                [str(e) for e, _ in rows[:EXAMPLES]],
                description,
            )
        )
    return out
