"""Deleting a person on request (PIPL, rules §13): `crmtool forget`.

The person's customer rows go; their vehicles stay (with their repair orders) but lose the
owner; their leads, contact history and the rejects / flags whose raw text names them go.
The table `forgotten` keeps only SHA-256 hashes of the normalised phone and of the
customer_id, so a later load of an old export skips them (ingest: 'forgotten person (PIPL)').
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import duckdb

from .errors import CrmError, UsageError
from .parsers import normalise_phone

REASON = "forgotten person (PIPL)"
# raw text split into fields: an id or a name matches a whole field, never a substring
_FIELDS = "list_transform(string_split_regex(raw, '[,\\t;|]'), lambda x: trim(x, ' \"'))"
_DIGITS = "regexp_replace(coalesce(raw, ''), '[^0-9]', '', 'g')"


def digest(text: str) -> str:
    """The SHA-256 hex digest kept in `forgotten` (DuckDB's sha256() gives the same)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Person:
    """Whom to forget: their customer ids, phones and names."""

    customer_ids: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
        [table]).fetchall()]


def resolve(con: duckdb.DuckDBPyConnection, *, phone: str | None = None,
            customer_id: str | None = None) -> Person:
    """The person named by a phone (any written form) or a customer_id, with every customer
    row that shares that phone or id."""
    ids: set[str] = set()
    phones: set[str] = set()
    if phone is not None:
        p = normalise_phone(phone)
        if not p:
            raise CrmError(f"not a phone number: {phone!r}")
        phones.add(p)
    if customer_id is not None:
        ids.add(_one_customer_id(con, customer_id.strip()))
    rows = con.execute("""
        SELECT customer_id, phone, name FROM customers
        WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))
           OR phone IN (SELECT unnest(?::VARCHAR[]))""", [sorted(ids), sorted(phones)]).fetchall()
    ids |= {r[0] for r in rows}
    phones |= {r[1] for r in rows if r[1]}
    names = sorted({r[2] for r in rows if r[2] and len(r[2]) >= 2})
    return Person(sorted(ids), sorted(phones), names)


def _one_customer_id(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """The customer id --customer names: the id itself, else the one store's id a bare id
    stands for in a dealer group (C0001 -> D002/C0001). A bare id that several stores use is
    a usage error listing their ids."""
    from .find import customer_ids_named

    named = customer_ids_named(con, text)
    if text in named or not named:
        return text
    if len(named) > 1:
        raise UsageError(f"customer_id {text!r} is used by several stores: {', '.join(named)}; "
                         "give one of them")
    return named[0]


def _bare(ids: list[str]) -> list[str]:
    """Ids keyed with the store (D002/C0001) as the exports write them (C0001)."""
    return sorted({i.split("/", 1)[1] for i in ids if "/" in i} - set(ids))


def _where(person: Person, cols: list[str]) -> tuple[str, list[list[str]]]:
    conds, params = [], []
    if "customer_id" in cols:
        conds.append("customer_id IN (SELECT unnest(?::VARCHAR[]))")
        params.append(person.customer_ids)
    if "phone" in cols:
        conds.append("phone IN (SELECT unnest(?::VARCHAR[]))")
        params.append(person.phones)
    return " OR ".join(conds) or "FALSE", params


def _raw_match() -> str:
    """A rejects / flags row whose raw text names the person: a field equal to an id or a
    name, or the digits of the text containing a phone."""
    return (f"(list_has_any({_FIELDS}, ?::VARCHAR[]) "
            f"OR list_has_any({_FIELDS}, ?::VARCHAR[]) "
            f"OR len(list_filter(?::VARCHAR[], lambda p: contains({_DIGITS}, p))) > 0)")


def counts(con: duckdb.DuckDBPyConnection, person: Person) -> dict[str, int]:
    """What forgetting would remove, per table (nothing is changed)."""
    return _run(con, person, dry=True)


def forget(con: duckdb.DuckDBPyConnection, person: Person, today: date) -> dict[str, int]:
    """Remove the person (in one transaction) and record the hashes; returns the counts."""
    con.execute("BEGIN TRANSACTION")
    try:
        out = _run(con, person, dry=False)
        con.executemany("INSERT INTO forgotten VALUES (?, ?, ?)",
                        [["customer_id", digest(c), today] for c in person.customer_ids]
                        + [["phone", digest(p), today] for p in person.phones])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return out


def _run(con: duckdb.DuckDBPyConnection, person: Person, *, dry: bool) -> dict[str, int]:
    out: dict[str, int] = {}

    def apply(label: str, table: str, where: str, params: list, *, unlink: bool = False) -> None:
        n = int(con.execute(f"SELECT count(*) FROM {table} WHERE {where}",
                            params).fetchall()[0][0])
        out[label] = n
        if n and not dry:
            change = ("UPDATE {t} SET customer_id = NULL, phone = NULL" if unlink
                      else "DELETE FROM {t}").format(t=table)
            con.execute(f"{change} WHERE {where}", params)

    where, params = _where(person, ["customer_id", "phone"])
    apply("customers", "customers", where, params)
    apply("vehicles unlinked", "vehicles", where, params, unlink=True)
    where, params = _where(person, ["phone"])
    apply("leads", "leads", where, params)
    cols = _has_table(con, "contacts")
    if cols:
        where, params = _where(person, cols)
        apply("contacts", "contacts", where, params)
    # raw text carries ids as the export wrote them: keyed ids are also matched bare
    raw = [person.customer_ids + _bare(person.customer_ids), person.names, person.phones]
    apply("rejects", "rejects", _raw_match(), raw)
    apply("flags", "flags",
          f"(kind = 'customers' AND key IN (SELECT unnest(?::VARCHAR[]))) OR {_raw_match()}",
          [person.customer_ids, *raw])
    return out
