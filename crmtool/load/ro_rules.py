"""Repair-order rules of a load that real exports need (docs/rules.md §1 "Repair-order
exports"): VIN by plate, the synthetic key of exports without an order number,
a first service by maintenance count, the payer inferred from the order type, voided orders
and line-item exports.

Each rule is SQL over the staged rows (ingest.stage_sql chains the CTEs built here).
"""

from __future__ import annotations

import duckdb

from ..config import Config
from ..db import first_row
from ..sqltext import literal

VOIDED = ("作废", "已作废", "撤销")
PAYERS = ("customer", "warranty", "insurance", "internal", "other")


def payer_by_type_sql(config: Config, ro_type: str = "ro_type") -> str:
    """The payer of an order whose export says none: by its type ([defaults.payer_by_ro_type],
    types not listed are customer)."""
    arms = " ".join(
        f"WHEN {literal(t)} THEN {literal(p)}" for t, p in config.defaults.payer_by_ro_type.items()
    )
    return f"CASE {ro_type} {arms} ELSE 'customer' END" if arms else "'customer'"


def ctes(
    config: Config, *, load_id: int, synthetic: bool, plates: bool = True, prev: str = "d"
) -> tuple[str, str]:
    """(CTE text, name of the last CTE) applying the rules to the rows of CTE `prev`:

    - a blank VIN whose plate maps to exactly one VIN (this file's rows, or vehicles loaded
      before this load) takes it: _vin_from_plate;
    - no ro_id column (`synthetic`): ro_id = ~VIN/settle/open/type/n, n numbering equal keys
      in line order, so the same export loads to the same keys;
    - 单据保养次数 = 1 on a maintenance order: first_service;
    - no payer (no column or a blank cell): by type, _payer_inferred.
    """
    # only the plates of rows without a VIN are looked up (a file without a plate column: none)
    wanted = f"(SELECT plate FROM {prev} WHERE vin IS NULL AND plate IS NOT NULL)"
    plate = (
        f"pm AS (SELECT plate, min(vin) AS pvin, count(DISTINCT vin) AS n FROM ("
        f"SELECT plate, vin FROM {prev} WHERE vin IS NOT NULL AND plate IN {wanted} "
        f"UNION ALL SELECT plate, vin FROM vehicles WHERE vin IS NOT NULL "
        f"AND _load_id < {int(load_id)} AND plate IN {wanted}) GROUP BY plate), "
        f"e AS (SELECT {prev}.* REPLACE (coalesce({prev}.vin, CASE WHEN pm.n = 1 "
        f"THEN pm.pvin END) AS vin), ({prev}.vin IS NULL AND pm.n = 1) AS _vin_from_plate "
        f"FROM {prev} LEFT JOIN pm ON {prev}.vin IS NULL AND {prev}.plate = pm.plate), "
        if plates
        else f"e AS (SELECT *, FALSE AS _vin_from_plate FROM {prev}), "
    )
    rtype = "coalesce(crm_norm_code(r_ro_type), '')"
    key = (
        "k AS (SELECT * REPLACE (CASE WHEN vin IS NOT NULL AND settle_date IS NOT NULL THEN "
        "concat_ws('/', '~' || vin, settle_date, coalesce(CAST(open_date AS VARCHAR), ''), "
        f"{rtype}, row_number() OVER (PARTITION BY dealer_code, vin, settle_date, open_date, "
        f"{rtype} ORDER BY _line)) END AS ro_id) FROM e), "
        if synthetic
        else "k AS (SELECT * FROM e), "
    )
    types = (
        "t AS (SELECT * REPLACE (CASE WHEN ro_type = 'maintenance' AND TRY_CAST("
        "crm_text(maintenance_count) AS DOUBLE) = 1 THEN 'first_service' ELSE ro_type END "
        "AS ro_type) FROM k), "
    )
    payer = (
        f"i AS (SELECT * REPLACE (coalesce(payer, {payer_by_type_sql(config)}) AS payer), "
        "payer IS NULL AS _payer_inferred FROM t)"
    )
    return plate + key + types + payer, "i"


def reject_parts(synthetic: bool) -> list[str]:
    """The reasons a staged repair order is rejected (SQL CASE expressions)."""
    voided = ", ".join(literal(v) for v in VOIDED)
    parts = [f"CASE WHEN crm_norm_code(ro_status) IN ({voided}) THEN 'voided order' END"]
    if not synthetic:
        parts.append("CASE WHEN ro_id IS NULL AND r_ro_id IS NULL THEN 'missing ro_id' END")
    parts += [
        "CASE WHEN vin IS NULL THEN 'missing vin' END",
        "CASE WHEN settle_date IS NULL AND r_settle_date IS NULL THEN 'missing settle_date' END",
        "CASE WHEN settle_date IS NULL AND r_settle_date IS NOT NULL THEN "
        "printf('settle_date is not a date: ''%s''', r_settle_date) END",
    ]
    return parts


def sum_line_items(con: duckdb.DuckDBPyConnection, stage: str = "_crm_stage") -> tuple[int, int]:
    """Line-item exports: kept rows of one order (dealer + ro_id) that differ in columns no
    field reads (项目名称, 配件编码 …) are items of that order: each row gets the order's summed
    labor, parts and total, so the row that stays carries the order's amounts. Returns (item
    rows, orders)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _crm_items AS
        SELECT dealer_code, ro_id, count(*) AS n, sum(labor_amount) AS l,
               sum(parts_amount) AS p, sum(total_amount) AS t
        FROM {stage} WHERE _reject IS NULL
        GROUP BY dealer_code, ro_id HAVING count(DISTINCT _item) > 1""")
    rows, orders = first_row(con, "SELECT coalesce(sum(n), 0), count(*) FROM _crm_items")
    if orders:
        con.execute(f"""
            UPDATE {stage} s SET labor_amount = i.l, parts_amount = i.p, total_amount = i.t
            FROM _crm_items i WHERE s.dealer_code = i.dealer_code AND s.ro_id = i.ro_id
              AND s._reject IS NULL""")
    con.execute("DROP TABLE _crm_items")
    return int(rows), int(orders)
