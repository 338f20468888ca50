"""The service desk's lookup (docs/rules.md §12): a plate, phone, VIN or name -> customer cards.

A card is a JSON-ready dict: the person, their vehicles (with tier and loyalty status), their
visits at every dealer (newest first), open reminders and the last contact. Every user value
is a bound SQL parameter.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import duckdb

from . import campaigns, churn, db, facts, value_tiers
from .config import Config
from .load import parsers
from .period import month_of

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
            "SELECT customer_id FROM customers WHERE customer_id = $id OR (suffix(customer_id, "
            "'/' || $id) AND substr(customer_id, strpos(customer_id, '/') + 1) = $id) "
            "ORDER BY customer_id",
            {"id": text},
        ).fetchall()
    ]


def _normalised(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str | None, str | None]:
    """The phone and the plate `text` normalises to, by the loader's own rules (the parser
    macros crm_phone and crm_plate, load/parsers.py; as its normalise_phone / normalise_plate
    give them), installed on `con` with the macros they call and no other: the desk does not
    wait for every code table's macro."""
    wanted = {"crm_phone", "crm_plate"}
    defs = {
        m.group(1): stmt
        for stmt in parsers.macros(None)
        if (m := re.search(r"MACRO (\w+)", stmt)) is not None
    }
    todo, need = list(wanted), set()
    while todo:
        name = todo.pop()
        if name in need:
            continue
        need.add(name)
        todo += [n for n in defs if n not in need and re.search(rf"\b{n}\(", defs[name])]
    for name in defs:  # in the loader's order: a macro after those it calls
        if name in need:
            con.execute(defs[name])
    row = db.first_row(
        con, "SELECT crm_phone(?::VARCHAR), crm_plate(?::VARCHAR)", [text.replace("\x00", "")] * 2
    )
    return (row[0], row[1]) if row else (None, None)


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
    phone, plate = _normalised(con, text)
    if _PHONE_CHARS.fullmatch(text) and len(digits) >= 7:
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
    keys = sorted(vins)
    owner = dict(
        con.execute(
            "SELECT vin, customer_id FROM vehicles WHERE "
            + facts.keyed("vehicles", "vin", len(keys)),
            keys,
        ).fetchall()
    )
    ids = sorted({c for c in owner.values() if c is not None})
    known = (
        {
            r[0]
            for r in con.execute(
                "SELECT customer_id FROM customers WHERE "
                + facts.keyed("customers", "customer_id", len(ids)),
                ids,
            ).fetchall()
        }
        if ids
        else set()
    )
    return {v: owner[v] if owner.get(v) in known else None for v in keys}


def _reminders(con: duckdb.DuckDBPyConnection, cfg: Config, as_of: date) -> list[dict[str, Any]]:
    """Open reminders of the vehicles of the facts installed, in the lists' order: maintenance
    due this or next month (or overdue), warranty ending within the horizon, the win-back
    reason of a lost / at-risk vehicle."""
    out: list[dict[str, Any]] = []
    due = [
        campaigns.maintenance_due_query(cfg, m, as_of)
        for m in (month_of(as_of), month_of(as_of, 1))
    ]
    lists: dict[str, list[dict[str, Any]]] = {}
    for i, (sql, params, order, _) in enumerate(due):  # the queries compute the km rates
        lists[f"due{i}"] = churn.call_list_rows(con, sql, params, order, advisor_until=None)
    lists["warranty"] = churn.call_list_rows(con, *campaigns.warranty_query(cfg, as_of))
    seen: set[str] = set()
    for r in lists["due0"] + lists["due1"]:
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
    rows = lists["warranty"]
    for r in rows:
        out.append(
            {
                "vin": r["vin"],
                "kind": "warranty",
                "detail": f"warranty ends {r['warranty_end']} ({r['days_left']} days)",
                "warranty_end": r["warranty_end"],
                "days_left": r["days_left"],
            }
        )
    for r in churn.call_list_rows(con, *churn.churn_list_query(cfg, as_of, ("lost", "at_risk"))):
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


class _Contacts:
    """The newest row of the `contacts` table for a person, if that table exists (its
    columns are read once per lookup)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'contacts' ORDER BY ordinal_position"
            ).fetchall()
        ]

    def last(self, customer_id: str | None, phone: str | None) -> dict[str, Any] | None:
        cols = self.cols
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
                for c in (
                    "contacted_at",
                    "contact_date",
                    "contacted_on",
                    "day",
                    "date",
                    "created_at",
                )
                if c in cols
            ),
            cols[0],
        )
        rows = _rows(
            self.con,
            f"SELECT * FROM contacts WHERE {' OR '.join(conds)} "
            f'ORDER BY "{day}" DESC NULLS LAST LIMIT 1',
            params,
        )
        return rows[0] if rows else None


def find(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    query: str,
    as_of: date,
    visits_shown: int = VISITS_SHOWN,
    *,
    scoped: bool = True,
    restore: bool = True,
) -> list[dict[str, Any]]:
    """One card per matching customer (a vehicle without a known owner gets its own card),
    ordered by customer_id. The lookups are keyed; `scoped`: the rules see only the matched
    vehicles' facts (the same cards at a fraction of the cost; tests compare both). With
    `restore`, the facts are installed for the fleet again before returning (not needed by
    a caller that closes the connection next)."""
    ids, vins = matching_vehicles_and_people(con, query)
    owners = _owners(con, vins) if vins else {}
    ids |= {c for c in owners.values() if c}
    keys: list[tuple[str | None, list[str]]] = [(c, []) for c in sorted(ids)]
    keys += [(None, [v]) for v, c in sorted(owners.items()) if c is None]
    if not keys:
        return []
    people = {
        p["customer_id"]: p
        for p in _rows(
            con,
            f"SELECT {', '.join(_PERSON_COLS)} FROM customers WHERE "
            + facts.keyed("customers", "customer_id", len(ids)),
            sorted(ids),
        )
    }
    owned: dict[str, list[str]] = {c: [] for c in ids}
    for c, v in con.execute(
        "SELECT customer_id, vin FROM vehicles WHERE "
        + facts.keyed("vehicles", "customer_id", len(ids))
        + " ORDER BY customer_id, sale_date, vin",
        sorted(ids),
    ).fetchall():
        owned[c].append(v)
    # the card's rules need these vehicles' facts only, not the fleet's
    scope = set(vins) | {v for vs in owned.values() for v in vs}
    facts.install(con, cfg, vins=sorted(scope) if scoped else None)
    try:
        cards: list[tuple[dict[str, Any] | None, list[str]]] = [
            (people[c], owned[c]) if c is not None else (None, own_vins) for c, own_vins in keys
        ]
        return _cards(con, cfg, as_of, cards, visits_shown)
    finally:
        if restore:
            facts.install(con, cfg)


def _cards(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    as_of: date,
    cards: list[tuple[dict[str, Any] | None, list[str]]],
    visits_shown: int,
) -> list[dict[str, Any]]:
    """The cards of (person, their vehicles) from the facts installed."""
    params = {"as_of": as_of}
    tier_of = dict(
        con.execute(f"SELECT vin, tier FROM ({value_tiers.tiers_sql(cfg)})", params).fetchall()
    )
    status_of = dict(
        con.execute(f"SELECT vin, status FROM ({churn.status_sql(cfg)})", params).fetchall()
    )
    reminders = _reminders(con, cfg, as_of)
    contacts = _Contacts(con)
    out = []
    for person, vins in cards:
        vehicles = _rows(
            con,
            f"""
            SELECT {", ".join("v." + c for c in _VEHICLE_COLS)}
            FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(vin, i) JOIN vehicles v USING (vin)
            ORDER BY t.i""",
            [vins],
        )
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
        out.append(
            {
                "customer": person,
                "tier": min(grades) if grades else None,  # the customer's best vehicle (rules §3)
                "vehicles": vehicles,
                "visits_total": len(visits),
                "visits": visits[:visits_shown],
                "reminders": [r for r in reminders if r["vin"] in set(vins)],
                "last_contact": contacts.last(person["customer_id"], person["phone"])
                if person
                else None,
            }
        )
    return out
