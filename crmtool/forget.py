"""Deleting a person on request (PIPL; docs/rules.md 'Forget'): `crmtool forget`.

Deleted: the person's customer rows, their contacts, leads, and the rejects and flags whose
raw text names them; their vehicles stay (with their repair orders, the dealer's accounting)
but lose plate, phone and owner. The versions an `unload` would restore (history tables) are
purged the same way. The table `forgotten` keeps only keyed hashes (HMAC-SHA256 with a secret
created in the database at first use) of the normalised phone and the customer_id, so a later
load of an old export drops their rows as 'forgotten person (PIPL)', while a leaked marker
cannot be reversed by hashing guessed phones without the database. The CLI then rebuilds the
database file (db.rebuild) so that the deleted bytes are gone from disk.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date

import duckdb

from .errors import CrmError, UsageError
from .load.parsers import normalise_phone
from .sqltext import literal

REASON = "forgotten person (PIPL)"
HMAC = "hmac-sha256"  # forgotten.scheme of keyed markers; NULL: an old unsalted SHA-256
# raw text split into fields: an id, a name or a plate matches a whole field, never a substring
_SPLIT = "string_split_regex(coalesce(raw, ''), '[,\\t;|]')"
_FIELDS = f"list_transform({_SPLIT}, lambda x: trim(x, ' \"'))"
# a phone matches a field whose digits contain it (+86 138-0013-8000, 138 0013 8000)
_DIGITS = f"list_transform({_SPLIT}, lambda x: regexp_replace(x, '[^0-9]', '', 'g'))"


def _secret(con: duckdb.DuckDBPyConnection, *, create: bool) -> bytes | None:
    rows = con.execute("SELECT value FROM secret WHERE name = 'forget'").fetchall()
    if rows:
        return bytes.fromhex(rows[0][0])
    if not create:
        return None
    key = secrets.token_bytes(32)
    con.execute("INSERT INTO secret VALUES ('forget', ?)", [key.hex()])
    return key


def digest(key: bytes, text: str) -> str:
    """The marker kept in `forgotten`: HMAC-SHA256 of the text under the database's secret
    (crm_hmac() in SQL gives the same)."""
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def marker(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """The marker of a text under this database's secret (None before any forget)."""
    key = _secret(con, create=False)
    return digest(key, text) if key else None


def install(con: duckdb.DuckDBPyConnection) -> bool:
    """crm_hmac(text) as a temp macro with this database's secret (HMAC = H(K^opad ||
    H(K^ipad || m))); False when nothing has been forgotten (no check needed)."""
    if not con.execute("SELECT count(*) FROM (SELECT 1 FROM forgotten LIMIT 1)").fetchall()[0][0]:
        return False
    key = (_secret(con, create=False) or b"").ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in key).hex()
    opad = bytes(b ^ 0x5C for b in key).hex()
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO crm_hmac(x) AS sha256(unhex('{opad}') || "
        f"unhex(sha256(unhex('{ipad}') || encode(x::VARCHAR))))"
    )
    return True


def is_forgotten_sql(kind: str, expr: str, *, legacy: bool = True) -> str:
    """SQL: the value `expr` (a phone or customer_id) is a forgotten person's (needs
    install()). Old unsalted markers (`legacy`) still match until the person is met again."""
    keyed = (
        f"crm_hmac({expr}) IN (SELECT hash FROM forgotten WHERE kind = '{kind}' "
        f"AND scheme = '{HMAC}')"
    )
    if not legacy:
        return f"({keyed})"
    return (
        f"({keyed} OR sha256({expr}) IN (SELECT hash FROM forgotten "
        f"WHERE kind = '{kind}' AND scheme IS NULL))"
    )


def upgrade_markers(con: duckdb.DuckDBPyConnection, kind: str, values: str) -> None:
    """An old unsalted marker whose person shows up again (SELECT `values` gives their
    phones or ids) becomes a keyed one: the plain value is at hand only now."""
    if not con.execute(
        "SELECT count(*) FROM forgotten WHERE scheme IS NULL AND kind = ?", [kind]
    ).fetchall()[0][0]:
        return
    _secret(con, create=True)
    install(con)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _crm_old AS
        SELECT DISTINCT f.hash, crm_hmac(v) AS keyed, f.forgotten_on
        FROM (SELECT DISTINCT v FROM ({values}) s(v) WHERE v IS NOT NULL) x
        JOIN forgotten f ON f.kind = '{kind}' AND f.scheme IS NULL AND f.hash = sha256(x.v)""")
    con.execute(
        f"INSERT INTO forgotten SELECT '{kind}', keyed, forgotten_on, '{HMAC}' FROM _crm_old"
    )
    con.execute(
        f"DELETE FROM forgotten WHERE kind = '{kind}' AND scheme IS NULL "
        "AND hash IN (SELECT hash FROM _crm_old)"
    )
    con.execute("DROP TABLE _crm_old")


def scrub_raw(
    con: duckdb.DuckDBPyConnection,
    table: str,
    reason: str,
    raw: str,
    line: str,
    where: str = "TRUE",
    keyed_prefix: str | None = None,
) -> int:
    """Rejected lines (any table, malformed ones too) that carry a forgotten person's phone
    or customer_id in one of their fields: reason REASON, raw text dropped. Returns how many.
    `keyed_prefix` ('D002/'): a bare id in the line also stands for that store's keyed id."""
    if not install(con):
        return 0
    ids = "trim(f, ' \"')"
    keyed = (
        f" OR {is_forgotten_sql('customer_id', literal(keyed_prefix) + ' || ' + ids)}"
        if keyed_prefix
        else ""
    )
    hit = f"""
        SELECT DISTINCT {line} AS l FROM (
            SELECT {line}, unnest(string_split_regex({raw}, '[,\\t;|]')) AS f
            FROM {table} WHERE ({where}) AND {raw} IS NOT NULL)
        WHERE {is_forgotten_sql("phone", "crm_phone(f)")}
           OR {is_forgotten_sql("customer_id", ids)}{keyed}"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _crm_scrub AS {hit}")
    n = int(con.execute("SELECT count(*) FROM _crm_scrub").fetchall()[0][0])
    if n:
        con.execute(
            f"UPDATE {table} SET {reason} = ?, {raw} = NULL "
            f"WHERE {line} IN (SELECT l FROM _crm_scrub)",
            [REASON],
        )
    con.execute("DROP TABLE _crm_scrub")
    return n


@dataclass
class Person:
    """Whom to forget: their customer ids, phones and names, and their vehicles' plates."""

    customer_ids: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    plates: list[str] = field(default_factory=list)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    ]


def check_phone(con: duckdb.DuckDBPyConnection, phone: str) -> str:
    """--phone: a full phone, i.e. 11 digits once normalised as the loader does, or a phone
    stored exactly so (a landline); anything else is a usage error (exit 2)."""
    p = normalise_phone(phone)
    if p and len(p) == 11 and p.isdigit():
        return p
    if p and any(
        con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {t} WHERE phone = ? LIMIT 1)", [p]
        ).fetchall()[0][0]
        for t in ("customers", "vehicles", "leads")
    ):
        return p
    raise UsageError(
        f"--phone {phone!r} is not a full phone number (11 digits, or a phone "
        "exactly as stored); give the whole number or --customer ID"
    )


def resolve(
    con: duckdb.DuckDBPyConnection, *, phone: str | None = None, customer_id: str | None = None
) -> Person:
    """The person named by a full phone (any written form) or an existing customer_id, with
    every customer row that shares that phone or id, and their vehicles' plates."""
    ids: set[str] = set()
    phones: set[str] = set()
    if phone is not None:
        phones.add(check_phone(con, phone))
    if customer_id is not None:
        ids.add(_existing_id(con, customer_id.strip()))
    rows = con.execute(
        """
        SELECT customer_id, phone, name FROM customers
        WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))
           OR phone IN (SELECT unnest(?::VARCHAR[]))""",
        [sorted(ids), sorted(phones)],
    ).fetchall()
    ids |= {r[0] for r in rows}
    phones |= {r[1] for r in rows if r[1]}
    names = sorted({r[2] for r in rows if r[2] and len(r[2]) >= 2})
    person = Person(sorted(ids), sorted(phones), names)
    person.plates = sorted({v["plate"] for v in vehicles(con, person) if v["plate"]})
    return person


def _existing_id(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """The customer id --customer names (see _one_customer_id); one that no customer,
    vehicle or contact carries is a usage error (exit 2)."""
    cid = _one_customer_id(con, text)
    tables = ["customers", "vehicles"] + (
        ["contacts"] if "customer_id" in _columns(con, "contacts") else []
    )
    if not any(
        con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {t} WHERE customer_id = ? LIMIT 1)", [cid]
        ).fetchall()[0][0]
        for t in tables
    ):
        raise UsageError(f"--customer: no customer has the id {text!r}")
    return cid


def _one_customer_id(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """The customer id --customer names: the id itself, else the one store's id a bare id
    stands for in a dealer group (C0001 -> D002/C0001). A bare id that several stores use is
    a usage error listing their ids."""
    from .find import customer_ids_named

    named = customer_ids_named(con, text)
    if text in named or not named:
        return text
    if len(named) > 1:
        raise UsageError(
            f"customer_id {text!r} is used by several stores: {', '.join(named)}; give one of them"
        )
    return named[0]


def who(con: duckdb.DuckDBPyConnection, person: Person) -> list[dict]:
    """The person's customer rows (id, name, phone), for the confirmation."""
    cur = con.execute(
        """
        SELECT customer_id, name, phone FROM customers
        WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))
           OR phone IN (SELECT unnest(?::VARCHAR[])) ORDER BY customer_id""",
        [person.customer_ids, person.phones],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def vehicles(con: duckdb.DuckDBPyConnection, person: Person) -> list[dict]:
    """The person's vehicles (vin, plate, series, model), for the confirmation."""
    where, params = _where(person, ["customer_id", "phone"])
    cur = con.execute(
        f"SELECT vin, plate, series, model FROM vehicles WHERE {where} ORDER BY vin", params
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


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
    """A rejects / flags row whose raw text names the person: a field equal to an id, a name
    or a plate, or a field whose digits contain one of their (full) phones."""
    return (
        f"(list_has_any({_FIELDS}, ?::VARCHAR[]) "
        f"OR list_has_any({_FIELDS}, ?::VARCHAR[]) "
        f"OR list_has_any({_FIELDS}, ?::VARCHAR[]) "
        f"OR len(list_filter({_DIGITS}, lambda d: len(list_filter(?::VARCHAR[], "
        "lambda p: contains(d, p))) > 0)) > 0)"
    )


def counts(con: duckdb.DuckDBPyConnection, person: Person) -> dict[str, int]:
    """What forgetting would remove, per table (nothing is changed)."""
    return _run(con, person, dry=True)


def forget(con: duckdb.DuckDBPyConnection, person: Person, today: date) -> dict[str, int]:
    """Remove the person (in one transaction) and record the keyed markers; returns the
    counts. The caller then rebuilds the database file (db.rebuild)."""
    con.execute("BEGIN TRANSACTION")
    try:
        out = _run(con, person, dry=False)
        key = _secret(con, create=True)
        assert key is not None
        marks = [("customer_id", c) for c in person.customer_ids] + [
            ("phone", p) for p in person.phones
        ]
        # their old unsalted markers, if any, are replaced by keyed ones
        con.executemany(
            "DELETE FROM forgotten WHERE kind = ? AND scheme IS NULL AND hash = ?",
            [[k, hashlib.sha256(v.encode()).hexdigest()] for k, v in marks],
        )
        con.executemany(
            "DELETE FROM forgotten WHERE kind = ? AND hash = ?",
            [[k, digest(key, v)] for k, v in marks],
        )
        con.executemany(
            "INSERT INTO forgotten (kind, hash, forgotten_on, scheme) VALUES (?, ?, ?, ?)",
            [[k, digest(key, v), today, HMAC] for k, v in marks],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return out


def _run(con: duckdb.DuckDBPyConnection, person: Person, *, dry: bool) -> dict[str, int]:
    out: dict[str, int] = {}

    def apply(
        label: str | None, table: str, where: str, params: list, *, unlink: bool = False
    ) -> None:
        n = int(con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchall()[0][0])
        if label:
            out[label] = out.get(label, 0) + n
        if n and not dry:
            change = (
                "UPDATE {t} SET customer_id = NULL, phone = NULL, plate = NULL"
                if unlink
                else "DELETE FROM {t}"
            ).format(t=table)
            con.execute(f"{change} WHERE {where}", params)

    history = "undo history"
    for prefix, label in (("", "customers"), ("history_", history)):
        where, params = _where(person, ["customer_id", "phone"])
        apply(label, prefix + "customers", where, params)
    for prefix, label in (("", "vehicles unlinked"), ("history_", history)):
        apply(label, prefix + "vehicles", where, params, unlink=True)
    where, params = _where(person, ["phone"])
    for prefix, label in (("", "leads"), ("history_", history)):
        apply(label, prefix + "leads", where, params)
    cols = _columns(con, "contacts")
    if cols:
        where, params = _where(person, cols)
        for prefix, label in (("", "contacts"), ("history_", history)):
            apply(label, prefix + "contacts", where, params)
    # raw text carries ids as the export wrote them: keyed ids are also matched bare
    raw = [
        person.customer_ids + _bare(person.customer_ids),
        person.names,
        person.plates,
        person.phones,
    ]
    apply("rejects", "rejects", _raw_match(), raw)
    apply(
        "flags",
        "flags",
        f"(kind = 'customers' AND key IN (SELECT unnest(?::VARCHAR[]))) OR {_raw_match()}",
        [person.customer_ids, *raw],
    )
    out[history] = out.pop(history)  # printed last
    return out


def require_found(counts_: dict[str, int], what: str) -> None:
    """Nothing at all to remove: an error (exit 1)."""
    if not any(counts_.values()):
        raise CrmError(f"nobody with {what} is in the database")
