"""Which table a file holds, and which header feeds which field (docs/rules.md §1 "Detection").

The public API (stable; `crmtool inspect` shows it):

- ``map_columns(headers, table, config)`` -> one :class:`ColumnMap` per header: the field it
  feeds, where that mapping comes from (``config`` / ``profile`` / ``built-in`` / ``none``),
  whether it is used (an earlier name of the same field wins) and the built-in field a user's
  mapping took it from (``overrides``).
- ``map_fields(headers, table, config)`` -> field -> column indexes (best first): what the load
  reads.
- ``detect_kind(headers, config, kind=None)`` -> :class:`Detection`: the kind, its evidence and
  score, the runner-up's, whether the two are too close to choose (``ambiguous``) and the other
  tables the file also feeds (``feeds``, a combined file).

Rules (docs/rules.md §1 "Real exports", §17 "Loading"): a table is a candidate when its identifying header is present; a
repair-order file is recognised by a ro_id header, or a settle date + VIN + a type, amount or
mileage header. The evidence of a table is the fields only it reads from the file (not the
VIN, phone or customer id that several tables share, not the store tag, not a weak header such
as 出厂日期). A ro_id header makes repair orders win over vehicles and customers (the owner
columns of a repair-order export feed them). Otherwise the most evidence wins; a tie is
ambiguous: the load stops and asks for ``--kind``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import schema
from ..config import Config

# Tables in the order a tie is listed (the more specific key first).
ORDER = ("repair_orders", "vehicles", "leads", "contacts", "dealers", "customers")
# A table is a candidate only when one of these fields is among the headers
# (repair_orders: see _ro_recognised).
IDENTIFIERS = {
    "customers": ("customer_id", "phone"),
    "vehicles": ("vin",),
    "repair_orders": ("ro_id",),
    "leads": ("lead_id",),
    "dealers": ("dealer_code",),
    "contacts": ("contact_id", "result"),  # 回访编号 or 回访结果
}
# Fields that are no evidence of their table: links several tables carry, the store tag.
NEUTRAL = {
    "customers": ("customer_id", "phone", "dealer_code"),
    "vehicles": ("vin", "customer_id", "phone", "dealer_code"),
    "repair_orders": ("vin", "dealer_code", "plate"),
    "leads": ("phone", "dealer_code"),
    "dealers": ("dealer_code",),
    "contacts": ("phone", "vin", "customer_id", "ro_id", "dealer_code"),
}
# Headers of a repair-order file besides a settle date and a VIN (docs/rules.md §1 "Which table").
RO_SUPPORT = ("ro_type", "labor_amount", "parts_amount", "total_amount", "mileage_km")
# Combined files (docs/rules.md §15): a file of one table that also carries another's fields.
FEEDS = {
    "repair_orders": ("customers", "vehicles"),
    "customers": ("vehicles",),
    "vehicles": ("customers",),
}


@dataclass(frozen=True)
class ColumnMap:
    """One header of a file and what it feeds."""

    index: int
    header: str
    field: str | None  # None: no field of the table
    source: str  # "config" | "profile" | "built-in" | "none"
    used: bool  # False: another header of the same field wins (or a fallback not needed)
    overrides: str | None = None  # the built-in field a user's / profile's mapping took it from


@dataclass(frozen=True)
class Detection:
    """What a header row says about its table."""

    kind: str | None  # None: no table recognised
    score: int = 0  # fields only this table reads from the file
    evidence: tuple[str, ...] = ()  # those fields
    reason: str = ""  # why, in words: "ro_id header 工单号", "6 fields of vehicles"
    runner_up: str | None = None
    runner_up_score: int = 0
    runner_up_evidence: tuple[str, ...] = ()
    ambiguous: bool = False  # the two are too close: the load stops and asks for --kind
    forced: bool = False  # --kind given
    feeds: tuple[str, ...] = ()  # other tables this file also feeds (a combined file)
    candidates: dict[str, int] = field(default_factory=dict)  # table -> score

    def hint(self) -> str:
        """The one-line advice for an ambiguous file."""
        both = [t for t in (self.kind, self.runner_up) if t]
        return (
            "cannot tell whether this file holds "
            + " or ".join(both)
            + " ("
            + ", ".join(f"{t}: {_n(self.candidates.get(t, 0))}" for t in both)
            + "); pass "
            + " or ".join(f"--kind {t}" for t in both)
        )


def _n(count: int) -> str:
    return f"{count} field" + ("" if count == 1 else "s")


def _norm(h: Any) -> str:
    return "" if h is None else schema.normalise_header(h)


def map_columns(headers: list[Any], table: str, config: Config | None) -> list[ColumnMap]:
    """Each header of a file -> the field of `table` it feeds and where that comes from."""
    sources = schema.header_sources(table, config)
    builtin = schema.header_sources(table, None)
    hits: list[tuple[int, str, str | None, int, str, str | None]] = []
    for i, h in enumerate(headers):
        key = _norm(h)
        hit = sources.get(key) if key else None
        if hit is None:
            hits.append((i, str(h or ""), None, 0, "none", None))
            continue
        field, rank, source = hit
        base = builtin.get(key)
        over = base[0] if source != "built-in" and base and base[0] != field else None
        hits.append((i, str(h), field, rank, source, over))
    fallback = {schema.normalise_header(h) for h in schema.FALLBACK_HEADERS}
    firm = {f for _, h, f, *_ in hits if f is not None and _norm(h) not in fallback}
    dropped = {i for i, h, f, *_ in hits if f in firm and _norm(h) in fallback}
    best: dict[str, tuple[int, int]] = {}
    for i, _, fname, rank, _, _ in hits:
        if fname is not None and i not in dropped:
            best[fname] = min(best.get(fname, (rank, i)), (rank, i))
    out = []
    for i, h, fname, _, source, over in hits:
        # phones coalesce over their columns (docs/rules.md §1); others read their best column
        used = fname is not None and i not in dropped and (fname == "phone" or best[fname][1] == i)
        out.append(ColumnMap(i, h, fname, source, used, over))
    return out


def map_fields(headers: list[Any], table: str, config: Config | None) -> dict[str, list[int]]:
    """field -> column indexes carrying it, best header name first (then leftmost). Phones keep
    every used column (they coalesce); other fields their best column first."""
    cols = map_columns(headers, table, config)
    sources = schema.header_sources(table, config)
    found: dict[str, list[tuple[int, int]]] = {}
    fallback = {schema.normalise_header(h) for h in schema.FALLBACK_HEADERS}
    for c in cols:
        if c.field is None or (not c.used and _norm(c.header) in fallback):
            continue
        found.setdefault(c.field, []).append((sources[_norm(c.header)][1], c.index))
    return {f: [i for _, i in sorted(v)] for f, v in found.items()}


def _evidence(table: str, fields: dict[str, list[int]], headers: list[Any]) -> tuple[str, ...]:
    weak = {schema.normalise_header(h) for h in schema.WEAK_HEADERS}
    out = []
    for f, cols in fields.items():
        if f in NEUTRAL[table]:
            continue
        if all(_norm(headers[i]) in weak for i in cols):
            continue
        out.append(f)
    return tuple(sorted(out, key=[x.name for x in schema.TABLES[table]].index))


def _ro_recognised(fields: dict[str, list[int]]) -> bool:
    return "ro_id" in fields or (
        "settle_date" in fields and "vin" in fields and any(f in fields for f in RO_SUPPORT)
    )


def candidates(headers: list[Any], config: Config | None) -> dict[str, dict[str, list[int]]]:
    """table -> its field map, for every table whose identifying header is present."""
    out = {}
    for table in ORDER:
        fields = map_fields(headers, table, config)
        ok = (
            _ro_recognised(fields)
            if table == "repair_orders"
            else any(f in fields for f in IDENTIFIERS[table])
        )
        if ok:
            out[table] = fields
    return out


# The owner fields a repair-order export may carry (a date there is the order's, never a sale's)
FED_FIELDS = {
    "customers": ("customer_id", "name", "phone", "gender"),
    "vehicles": ("vin", "plate", "customer_id", "phone", "brand", "series", "model"),
}
TAG = "dealer_code"  # keys customer ids in a dealer group; no evidence of anything


def feed_fields(
    table: str, headers: list[Any], config: Config | None
) -> dict[str, dict[str, list[int]]]:
    """The other tables a file of `table` also feeds (a combined file, docs/rules.md §15), each
    with the field map to stage it by: a repair-order export feeds its owner columns to
    customers (an id or phone + one more field) and vehicles (VIN + one more field); a
    vehicles file with the owner's name feeds customers; a customer list with VINs feeds
    vehicles."""
    out: dict[str, dict[str, list[int]]] = {}
    for other in FEEDS.get(table, ()):
        fields = map_fields(headers, other, config)
        if table == "repair_orders":
            fields = {f: c for f, c in fields.items() if f in FED_FIELDS[other] + (TAG,)}
        own = set(fields) - {TAG}
        if other == "customers":
            ok = bool(own & {"customer_id", "phone"}) and (
                len(own) >= 2 if table == "repair_orders" else "name" in own
            )
        else:
            ok = "vin" in own and (
                table == "customers" or bool(own - {"vin", "phone", "customer_id"})
            )
        if ok:
            out[other] = fields
    return out


def detect_kind(headers: list[Any], config: Config | None, kind: str | None = None) -> Detection:
    """The table of a header row, with its evidence and the runner-up (module docstring)."""
    cands = candidates(headers, config)
    ev = {t: _evidence(t, f, headers) for t, f in cands.items()}
    scores = {t: len(e) for t, e in ev.items()}
    if kind:
        fields = map_fields(headers, kind, config)
        e = _evidence(kind, fields, headers)
        return Detection(
            kind,
            len(e),
            e,
            "--kind",
            forced=True,
            feeds=tuple(feed_fields(kind, headers, config)),
            candidates=scores,
        )
    if not cands:
        return Detection(None, candidates=scores)
    ranked = sorted(cands, key=lambda t: (-scores[t], ORDER.index(t)))
    ro_key = "repair_orders" in cands and "ro_id" in cands["repair_orders"]
    rivals = [t for t in ranked if t not in ("repair_orders", "vehicles", "customers")]
    if ro_key and not (rivals and scores[rivals[0]] > scores["repair_orders"]):
        # a repair-order key: the owner columns feed vehicles and customers
        top = "repair_orders"
        ambiguous = bool(rivals) and scores[rivals[0]] >= scores[top]
        hdr = headers[cands[top]["ro_id"][0]]
        reason = f"ro_id header {hdr}"
        second = rivals[0] if ambiguous else next((t for t in ranked if t != top), None)
    else:
        top = ranked[0]
        second = ranked[1] if len(ranked) > 1 else None
        ambiguous = second is not None and scores[second] >= scores[top]
        pair = {"customers", "vehicles"}
        if {top, second} == pair and second in feed_fields(top, headers, config):
            # a combined customer / vehicle file feeds both tables: the table whose key
            # column comes first is the file's own (客户编号 … VIN号: a customer list)
            first = {
                t: min(i for f in IDENTIFIERS[t] for i in cands[t].get(f, [999])) for t in pair
            }
            top, second = sorted(pair, key=lambda t: (first[t], ORDER.index(t)))
            ambiguous = False
            key = headers[first[top]]
            return Detection(
                top,
                scores[top],
                ev[top],
                f"key column {key} comes first (a combined file)",
                runner_up=second,
                runner_up_score=scores[second],
                runner_up_evidence=ev[second],
                feeds=tuple(feed_fields(top, headers, config)),
                candidates=scores,
            )
        if top == "repair_orders":
            f = cands[top]
            support = [headers[f[x][0]] for x in RO_SUPPORT if x in f]
            reason = (
                f"settle date {headers[f['settle_date'][0]]} + VIN "
                f"{headers[f['vin'][0]]} + {', '.join(map(str, support))}"
            )
        else:
            reason = f"{_n(scores[top])} of {top}"
    return Detection(
        top,
        scores[top],
        ev[top],
        reason,
        runner_up=second,
        runner_up_score=scores.get(second, 0) if second else 0,
        runner_up_evidence=ev.get(second, ()) if second else (),
        ambiguous=ambiguous,
        feeds=tuple(feed_fields(top, headers, config)),
        candidates=scores,
    )


def is_header(cells: list[Any], config: Config | None, kind: str | None = None) -> bool:
    """Whether a row is a header: at least two cells name fields of one table, the table
    being a candidate (its identifying header present). With `kind`, that table's
    identifying field alone or any two of its fields will do."""
    if kind:
        fields = map_fields(list(cells), kind, config)
        ident = (
            _ro_recognised(fields) or "ro_id" in fields
            if kind == "repair_orders"
            else any(f in fields for f in IDENTIFIERS[kind])
        )
        return ident or len(fields) >= 2
    return any(len(f) >= 2 for f in candidates(list(cells), config).values())
