"""The customer card as `crmtool find` computed it before issue 18 (commit bd0e7ce): every
rule over the fleet, the reminders filtered from the full call lists (polars frames). Kept as
the reference the keyed lookup is compared with (tests/test_find_cards.py); not product code.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import duckdb
import polars as pl

from crmtool import campaigns, churn, facts, value_tiers
from crmtool.config import Config
from crmtool.load.parsers import normalise_phone, normalise_plate
from crmtool.period import month_of

VISITS_SHOWN = 20
_CJK = re.compile(r"[\u3400-\u9fff]")
_PHONE_CHARS = re.compile(r"[\d\s()+\-]+")
_VEHICLE_COLS = ("vin", "plate", "series", "model", "sale_date", "sale_channel", "vehicle_status")
_PERSON_COLS = ("customer_id", "name", "phone", "gender", "birth_date", "birth_year", "area_type")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict) -> list[dict[str, Any]]:
    rel = con.sql(sql, params=params)
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def customer_ids_named(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The customer ids `text` names: the id itself, or (a bare id in a dealer group, where ids
    are keyed with the store: D002/C0001) every store's id whose part after the dealer is it."""
    text = text.strip()
    if not text:
        return []
    return [
        r[0]
        for r in con.execute(
            "SELECT customer_id FROM customers WHERE customer_id = $id OR (strpos(customer_id, '/') "
            "> 0 AND substr(customer_id, strpos(customer_id, '/') + 1) = $id) ORDER BY customer_id",
            {"id": text},
        ).fetchall()
    ]


def matching_vehicles_and_people(
    con: duckdb.DuckDBPyConnection, query: str
) -> tuple[set[str], set[str]]:
    """(customer_ids, vins) the query names: a customer id (keyed with the store or bare), a
    phone (any written form), a plate (with or without the province, or its tail), a VIN (or
    its last 6–8 characters), or a name (exact, else prefix)."""
    text = query.strip()
    ids: set[str] = set()
    vins: set[str] = set()
    if not text:
        return ids, vins
    ids |= set(customer_ids_named(con, text))
    compact = re.sub(r"[\s·.\-]", "", text).upper()
    digits = re.sub(r"\D", "", text)
    if _PHONE_CHARS.fullmatch(text) and len(digits) >= 7:
        phone = normalise_phone(text)
        if phone:
            ids |= {
                r[0]
                for r in con.execute(
                    "SELECT customer_id FROM customers WHERE phone = ?", [phone]
                ).fetchall()
            }
            vins |= {
                r[0]
                for r in con.execute("SELECT vin FROM vehicles WHERE phone = ?", [phone]).fetchall()
            }
    plate = normalise_plate(text)
    if plate and 5 <= len(plate) <= 9 and re.fullmatch(r"[\u3400-\u9fff]?[A-Z0-9]+", plate):
        sql = (
            "SELECT vin FROM vehicles WHERE plate = ?"
            if _CJK.match(plate)
            else "SELECT vin FROM vehicles WHERE suffix(plate, ?)"
        )
        vins |= {r[0] for r in con.execute(sql, [plate]).fetchall()}
    if re.fullmatch(r"[A-Z0-9]{17}", compact):
        vins |= {
            r[0]
            for r in con.execute(
                "SELECT vin FROM vehicles WHERE vin = ? UNION SELECT vin FROM repair_orders "
                "WHERE vin = ?",
                [compact, compact],
            ).fetchall()
        }
    elif re.fullmatch(r"[A-Z0-9]{6,8}", compact):
        vins |= {
            r[0]
            for r in con.execute(
                "SELECT vin FROM vehicles WHERE suffix(vin, ?)", [compact]
            ).fetchall()
        }
    if not re.search(r"\d", text):
        found = {
            r[0]
            for r in con.execute(
                "SELECT customer_id FROM customers WHERE name = ?", [text]
            ).fetchall()
        }
        if not found:
            found = {
                r[0]
                for r in con.execute(
                    "SELECT customer_id FROM customers WHERE starts_with(name, ?)", [text]
                ).fetchall()
            }
        ids |= found
    return ids, vins


def _owners(con: duckdb.DuckDBPyConnection, vins: set[str]) -> dict[str, str | None]:
    """vin -> its owner's customer_id (None when the vehicle has no known owner)."""
    rows = con.execute(
        """
        SELECT t.vin, c.customer_id FROM unnest(?::VARCHAR[]) t(vin)
        LEFT JOIN vehicles v USING (vin) LEFT JOIN customers c ON c.customer_id = v.customer_id
    """,
        [sorted(vins)],
    ).fetchall()
    return dict(rows)


def _reminders(
    con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date, vins: list[str]
) -> list[dict[str, Any]]:
    """Open reminders of these vehicles: maintenance due this or next month (or overdue),
    warranty ending within the horizon, the win-back reason of a lost / at-risk vehicle."""
    out: list[dict[str, Any]] = []
    if not vins:
        return out
    seen: set[str] = set()
    for month in (month_of(as_of), month_of(as_of, 1)):
        frame = campaigns.maintenance_due(con, cfg, month, as_of).frame
        for r in frame.filter(pl.col("vin").is_in(vins)).iter_rows(named=True):
            if r["vin"] in seen:
                continue
            seen.add(r["vin"])
            what = "overdue" if r["overdue"] else "due"
            out.append(
                {
                    "vin": r["vin"],
                    "kind": "maintenance",
                    "detail": f"{r['due_service']} {what} {r['due_date']} (by {r['due_by']})",
                    "due_service": r["due_service"],
                    "overdue": r["overdue"],
                    "due_date": r["due_date"],
                    "due_by": r["due_by"],
                }
            )
    frame = campaigns.warranty_expiring(con, cfg, as_of).frame
    for r in frame.filter(pl.col("vin").is_in(vins)).iter_rows(named=True):
        out.append(
            {
                "vin": r["vin"],
                "kind": "warranty",
                "detail": f"warranty ends {r['warranty_end']} ({r['days_left']} days)",
                "warranty_end": r["warranty_end"],
                "days_left": r["days_left"],
            }
        )
    frame = churn.churn_list(con, cfg, as_of, ("lost", "at_risk")).frame
    for r in frame.filter(pl.col("vin").is_in(vins)).iter_rows(named=True):
        where = f" to {r['other_dealer_name'] or r['other_dealer']}" if r["other_dealer"] else ""
        out.append(
            {
                "vin": r["vin"],
                "kind": "winback",
                "detail": f"{r['status']}: {r['reason']}{where}",
                "status": r["status"],
                "reason": r["reason"],
                "other_dealer_name": r["other_dealer_name"] or r["other_dealer"],
            }
        )
    return out


def _last_contact(
    con: duckdb.DuckDBPyConnection, customer_id: str | None, phone: str | None
) -> dict[str, Any] | None:
    """The newest row of the `contacts` table for this person, if that table exists."""
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'contacts' "
            "ORDER BY ordinal_position"
        ).fetchall()
    ]
    if not cols:
        return None
    conds, params = [], []
    if "customer_id" in cols and customer_id:
        conds.append('"customer_id" = ?')
        params.append(customer_id)
    if "phone" in cols and phone:
        conds.append('"phone" = ?')
        params.append(phone)
    if not conds:
        return None
    day = next(
        (
            c
            for c in ("contacted_at", "contact_date", "contacted_on", "day", "date", "created_at")
            if c in cols
        ),
        cols[0],
    )
    rows = _rows(
        con,
        f"SELECT * FROM contacts WHERE {' OR '.join(conds)} "
        f'ORDER BY "{day}" DESC NULLS LAST LIMIT 1',
        params,
    )
    return rows[0] if rows else None


def reference_find(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    query: str,
    as_of: date,
    visits_shown: int = VISITS_SHOWN,
    *,
    scoped: bool = False,
    restore: bool = True,
) -> list[dict[str, Any]]:
    """One card per matching customer (a vehicle without a known owner gets its own card),
    ordered by customer_id. `scoped`: the rules see only the matched vehicles' facts (the
    same cards at a fraction of the cost; tests compare both). `restore` is the new find's
    keyword (the reference always leaves the fleet's facts)."""
    facts.install(con, cfg)
    ids, vins = matching_vehicles_and_people(con, query)
    owners = _owners(con, vins) if vins else {}
    ids |= {c for c in owners.values() if c}
    keys: list[tuple[str | None, list[str]]] = [(c, []) for c in sorted(ids)]
    keys += [(None, [v]) for v, c in sorted(owners.items()) if c is None]
    if not keys:
        return []
    # the card's rules need these vehicles' facts only, not the fleet's
    scope = set(vins) | {
        r[0]
        for r in con.execute(
            "SELECT vin FROM vehicles WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(ids)],
        ).fetchall()
    }
    facts.install(con, cfg, vins=sorted(scope) if scoped else None)
    try:
        return _cards(con, cfg, as_of, keys, visits_shown)
    finally:
        facts.install(con, cfg)


def _cards(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    as_of: date,
    keys: list[tuple[str | None, list[str]]],
    visits_shown: int,
) -> list[dict[str, Any]]:
    tiers = value_tiers.vehicle_tiers(con, cfg, as_of)
    status = churn.vehicle_status(con, cfg, as_of)
    cards = []
    for customer_id, own_vins in keys:
        person = None
        if customer_id is not None:
            person = _rows(
                con,
                f"SELECT {', '.join(_PERSON_COLS)} FROM customers WHERE customer_id = ?",
                [customer_id],
            )[0]
            own_vins = [
                r[0]
                for r in con.execute(
                    "SELECT vin FROM vehicles WHERE customer_id = ? ORDER BY sale_date, vin",
                    [customer_id],
                ).fetchall()
            ]
        cards.append(_card(con, cfg, as_of, person, own_vins, tiers, status, visits_shown))
    return cards


def _card(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    as_of: date,
    person: dict[str, Any] | None,
    vins: list[str],
    tiers: pl.DataFrame,
    status: pl.DataFrame,
    visits_shown: int,
) -> dict[str, Any]:
    vehicles = _rows(
        con,
        f"""
        SELECT {", ".join("v." + c for c in _VEHICLE_COLS)}
        FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(vin, i) JOIN vehicles v USING (vin)
        ORDER BY t.i""",
        [vins],
    )
    tier_of = dict(tiers.select("vin", "tier").iter_rows())
    status_of = dict(status.select("vin", "status").iter_rows())
    for v in vehicles:
        v["tier"] = tier_of.get(v["vin"])
        v["status"] = status_of.get(v["vin"])
    visits = _rows(
        con,
        """
        SELECT r.settle_date, r.vin, r.dealer_code, d.name AS dealer_name, r.is_own,
               r.ro_type, r.payer, r.total_amount, r.mileage_km, r.advisor
        FROM ro r LEFT JOIN dealers d USING (dealer_code)
        WHERE r.vin IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY r.settle_date DESC, r.ro_id DESC""",
        [vins],
    )
    grades = [v["tier"] for v in vehicles if v["tier"]]
    return {
        "customer": person,
        "tier": min(grades) if grades else None,  # the customer's best vehicle (rules §3)
        "vehicles": vehicles,
        "visits_total": len(visits),
        "visits": visits[:visits_shown],
        "reminders": _reminders(con, cfg, as_of, vins),
        "last_contact": _last_contact(
            con, person and person["customer_id"], person and person["phone"]
        ),
    }
