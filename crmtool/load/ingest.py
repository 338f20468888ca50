"""The load (docs/rules.md §1 "Loading", §17 "Loading"): files -> canonical tables, with rejects, flags,
upsert by natural key and per-file counts (read = loaded + duplicates + rejected).

Each sheet is parsed in one SQL statement through the macros of `parsers.install`; rejects,
flags and the upsert are set-based SQL over that staged table. One transaction per `load()`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from .. import forget as forgetting
from .. import schema
from ..config import Config
from ..db import first_row
from ..errors import CrmError, MappingError
from ..sqltext import ident, literal
from . import detect as detection
from . import history, ro_rules, scratch
from .detect import Detection, detect_kind, feed_fields, is_header, map_fields

EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
# Detection lives in crmtool.load.detect; these names stay for the modules that read them.
DETECT_ORDER = detection.ORDER
IDENTIFIERS = detection.IDENTIFIERS
FED_FIELDS = detection.FED_FIELDS
TAGS = {t: (detection.TAG,) for t in ("customers", "vehicles", "leads", "contacts")}
# Flag name for an optional field whose text did not parse, by parser.
BAD = {
    "date": "bad_date",
    "amount": "bad_amount",
    "mileage": "bad_mileage",
    "year": "bad_year",
    "bool": "bad_bool",
    "code": "unknown_code",
}

# Parsers of low-cardinality values (dates, codes, VINs repeat massively): stage_sql parses
# each distinct cell once and joins the result back.
LOOKUP = ("date", "code", "bool", "year", "mileage", "vin")

Progress = Callable[[str, int, int], None]  # (file, files done, files total)


@dataclass
class SheetResult:
    """Counts of one file (or one sheet of a workbook)."""

    file: str
    sheet: str | None = None
    kind: str | None = None
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    totals: int = 0
    skipped: str | None = None  # 'already loaded', or why a file in a folder was not read
    loaded_in: int | None = None  # skipped: the load that has these bytes
    unread: str | None = None  # 'no header': every row rejected (docs/rules.md §17 "Loading")
    repeated: list[int] = field(default_factory=list)  # lines that repeat the header
    forgotten: int = 0  # rows of people deleted on request (PIPL), counted as rejected
    fed: dict[str, int] = field(default_factory=dict)  # combined file: new rows per table
    detection: Detection | None = None  # why this kind (detect.detect_kind)
    notes: list[str] = field(default_factory=list)  # added to the per-file line
    warnings: list[str] = field(default_factory=list)  # one line each: what looks off

    @property
    def label(self) -> str:
        return f"{self.file} [{self.sheet}]" if self.sheet else self.file

    def describe(self) -> str:
        """The line `crmtool load` prints for this file."""
        if self.skipped:
            hint = f" in load {self.loaded_in}; --force loads it again" if self.loaded_in else ""
            return f"{self.label}: skipped: {self.skipped}{hint}"
        if self.unread:
            return f"{self.label}: read {self.read} = rejected {self.rejected}: {self.unread}"
        line = (
            f"{self.label}: read {self.read} = loaded {self.loaded} + duplicates "
            f"{self.duplicates} + rejected {self.rejected} ({self.kind})"
        )
        if self.forgotten:
            line += f"; forgotten: {self.forgotten} rows not loaded"
        if self.repeated:
            shown = ", ".join(map(str, self.repeated[:5])) + (
                ", …" if len(self.repeated) > 5 else ""
            )
            line += f"; header repeated on line {shown} (rejected)"
        if self.fed:
            line += "; also fed: " + ", ".join(f"{t} +{n}" for t, n in self.fed.items())
        for note in self.notes:
            line += f"; {note}"
        return line


@dataclass
class LoadResult:
    load_id: int
    sheets: list[SheetResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # warnings about the load as a whole

    @property
    def warnings(self) -> list[str]:
        """Every warning of the load: per file, then about the whole load."""
        return [w for s in self.sheets for w in s.warnings] + self.notices

    def total(self, what: str) -> int:
        return sum(getattr(s, what) for s in self.sheets if not s.skipped)

    @property
    def read(self) -> int:
        return self.total("read")

    @property
    def loaded(self) -> int:
        return self.total("loaded")

    @property
    def duplicates(self) -> int:
        return self.total("duplicates")

    @property
    def rejected(self) -> int:
        return self.total("rejected")

    def describe(self) -> str:
        return (
            f"total: read {self.read} = loaded {self.loaded} + duplicates "
            f"{self.duplicates} + rejected {self.rejected}"
        )


# ---------------------------------------------------------------- files and headers


def expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files to load: files as given; folders recursively, in name order (hidden and
    Office lock files `~$…` skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = [
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix.lower() in EXTENSIONS
                and not any(part.startswith((".", "~$")) for part in f.relative_to(p).parts)
            ]
            out += sorted(found, key=lambda f: f.relative_to(p).as_posix())
        elif p.is_file():
            out.append(p)
        else:
            raise CrmError(f"{p}: no such file or folder")
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def map_headers(headers: list[Any], table: str, config: Config | None) -> dict[str, list[int]]:
    """field -> column indexes carrying it, best header name first (then leftmost);
    detect.map_fields (the user's [columns] win over built-in names)."""
    return map_fields(headers, table, config)


def detect(headers: list[Any], config: Config | None, kind: str | None = None) -> str | None:
    """The table a header row belongs to (detect.detect_kind; None: none or ambiguous)."""
    d = detect_kind(headers, config, kind)
    return None if d.ambiguous else d.kind


def recogniser(config: Config | None, kind: str | None = None) -> Callable[[list[Any]], bool]:
    """recognise(cells) for the reader (detect.is_header)."""
    return lambda cells: is_header(list(cells), config, kind)


def missing_required(fields: dict[str, list[int]], table: str) -> list[str]:
    """The required fields of `table` that no column carries (customers: customer_id when
    neither customer_id nor phone is there)."""
    need = list(schema.REQUIRED[table])
    if (
        table == "repair_orders"
    ):  # no order-number column: the synthetic key (docs/rules.md §1 "No order-number column")
        need.remove("ro_id")
    if table == "customers" and "customer_id" not in fields and "phone" not in fields:
        need = ["customer_id"]
    return [name for name in need if name not in fields]


def check_required(
    fields: dict[str, list[int]], table: str, file: str, config: Config | None
) -> None:
    """A missing required column fails the file with the header names it accepts."""
    for name in missing_required(fields, table):
        f = next(f for f in schema.TABLES[table] if f.name == name)
        extra = config.columns.get(table, {}).get(name, []) if config else []
        names = ", ".join(list(f.headers) + list(extra))
        raise MappingError(f"no column for {table}.{name}; accepted headers: {names}", file=file)


# ---------------------------------------------------------------- SQL building


def _raw_expr(cols: list[int], parser: str | None) -> str:
    """The raw text of a field: its best column; phones coalesce over their columns."""
    if parser == "phone" and len(cols) > 1:
        good = [f"CASE WHEN crm_phone(c{i}) IS NOT NULL THEN crm_text(c{i}) END" for i in cols]
        return "coalesce(" + ", ".join(good + [f"crm_text(c{i})" for i in cols]) + ")"
    return f"crm_text(c{cols[0]})"


def _parse_expr(f: schema.Field, raw: str) -> str:
    p = f.parser
    if p is None:
        return raw
    if p == "code":
        return f"crm_code_{f.name}({raw})"
    return f"crm_{p}({raw})"


def _known_other(kind: str, config: Config | None) -> list[str]:
    """Normalised raw values configured to mean 'other' (not reported as unknown)."""
    return [k for k, v in schema.code_map(kind, config).items() if v == "other"]


def _reject_sql(table: str, synthetic: bool = False) -> str:
    """The reasons a parsed row is rejected, as one SQL expression (NULL = keep)."""
    if table == "repair_orders":
        parts = ro_rules.reject_parts(synthetic)
    elif table == "vehicles":
        parts = ["CASE WHEN vin IS NULL THEN 'missing vin' END"]
    elif table == "customers":
        parts = [
            "CASE WHEN customer_id IS NULL AND phone IS NULL "
            "THEN 'missing customer_id and phone' END"
        ]
    else:
        key = schema.KEYS[table][0]
        parts = [f"CASE WHEN {key} IS NULL THEN 'missing {key}' END"]
    return "nullif(concat_ws('; ', " + ", ".join(parts) + "), '')"


def stage_sql(
    source: str,
    table: str,
    fields: dict[str, list[int]],
    config: Config,
    target: str = "_crm_stage",
    *,
    load_id: int = 0,
    item_cols: list[int] | None = None,
) -> str:
    """One statement: raw sheet table -> typed canonical columns, reject reason, the raw
    text of every value that did not parse (b_*), out of range (o_*), VIN/phone flags (f_*);
    _raw stays NULL (fill_raw gives the rejected rows theirs).
    Repair orders also get the rules of ro_rules (VIN by plate, synthetic key when the file
    has no ro_id column, payer by type) and _item: the cells of `item_cols` (line items)."""
    flds = schema.TABLES[table]
    ro = table == "repair_orders"
    synthetic = ro and "ro_id" not in fields
    items = ", ".join(f"c{i}" for i in item_cols or [])
    # _raw (the source line) is filled in for rejected rows only, by fill_raw: computing it
    # for every row (a concat of every cell) cost more than the parse of several columns
    raw_cols = ["_line", "CAST(NULL AS VARCHAR) AS _raw"] + (
        [f"hash(list_value({items})) AS _item" if items else "0 AS _item"] if ro else []
    )
    parsed = ["_line", "_raw"] + (["_item"] if ro else [])
    lookups: list[str] = []  # CTEs: each distinct cell of a column parsed once
    joins = ""
    for f in flds:
        if f.name in fields and f.parser in LOOKUP and len(fields[f.name]) == 1:
            m, c = f"m_{f.name}", f"c{fields[f.name][0]}"
            lookups.append(
                f"{m} AS (SELECT k, r, {_parse_expr(f, 'r')} AS v FROM (SELECT k, "
                f"crm_text(k) AS r FROM (SELECT DISTINCT {c} AS k FROM {source})))"
            )
            joins += f" LEFT JOIN {m} ON {source}.{c} = {m}.k"
            raw_cols += [f"{m}.r AS r_{f.name}", f"{m}.v AS v_{f.name}"]
            parsed.append(f"r_{f.name}")
            expr = f"v_{f.name}"
        elif f.name in fields:
            raw_cols.append(f"{_raw_expr(fields[f.name], f.parser)} AS r_{f.name}")
            parsed.append(f"r_{f.name}")
            expr = _parse_expr(f, f"r_{f.name}")
        else:
            raw_cols.append(f"CAST(NULL AS VARCHAR) AS r_{f.name}")
            parsed.append(f"r_{f.name}")
            expr = f"CAST(NULL AS {f.type})"
        if f.name == "dealer_code" and table != "dealers":  # missing: the load's dealer
            expr = f"coalesce({expr}, {literal(config.own_dealer)})"
        parsed.append(f"CAST({expr} AS {f.type}) AS {ident(f.name)}")
        if f.parser == "phone":
            parsed.append(f"crm_phone_flag(r_{f.name}) AS f_{f.name}")
    # readings beyond belief are dropped (flagged out_of_range)
    bounds = {"amount": config.defaults.max_amount, "mileage": config.defaults.max_mileage_km}
    bounded = [(f.name, bounds[f.parser]) for f in flds if f.parser in bounds]
    limit = ", ".join(
        f"CASE WHEN abs({ident(n)}) > {m!r} THEN NULL ELSE {ident(n)} END AS {ident(n)}"
        for n, m in bounded
    )
    over = "".join(
        f", CASE WHEN abs({ident(n)}) > {m!r} THEN r_{n} END AS o_{n}" for n, m in bounded
    )
    # derived values
    derived = []
    if table == "repair_orders":
        derived.append(
            "coalesce(total_amount, CASE WHEN labor_amount IS NOT NULL OR parts_amount IS NOT "
            "NULL THEN coalesce(labor_amount, 0) + coalesce(parts_amount, 0) END) AS total_amount"
        )
    qualified = _qualified_ids(table, config)
    if table == "customers":  # a phone-derived id needs no dealer
        derived.append(
            f"coalesce({qualified.pop('customer_id', 'customer_id')}, 'P' || phone) AS customer_id"
        )
    derived += [f"{expr} AS {name}" for name, expr in qualified.items()]
    if table == "contacts":  # no 回访编号: date/phone-or-vin/purpose, e.g. 2021-10-05/138…/callback
        derived.append(
            "coalesce(contact_id, CASE WHEN contact_date IS NOT NULL AND coalesce("
            "phone, vin) IS NOT NULL THEN concat_ws('/', contact_date, "
            "coalesce(phone, vin), purpose) END) AS contact_id"
        )
    out = ["_line", "_reject", "_raw"]
    if ro:
        out += ["_item", "_vin_from_plate", "_payer_inferred", "r_ro_type", "r_plate"]
    for f in flds:
        out.append(ident(f.name))
        if f.parser in bounds:
            out.append(f"o_{f.name}")
        if f.parser in BAD and f.name not in schema.REQUIRED[table]:
            cond = f"{ident(f.name)} IS NULL"
            if f.parser in bounds:
                cond += f" AND o_{f.name} IS NULL"
            if f.parser == "code" and schema.CODE_FALLBACK.get(f.name) == "other":
                known = ", ".join(literal(v) for v in _known_other(f.name, config))
                known = f" AND crm_norm_code(r_{f.name}) NOT IN ({known})" if known else ""
                cond = f"{ident(f.name)} IS NULL OR ({ident(f.name)} = 'other'{known})"
            out.append(
                f"CASE WHEN r_{f.name} IS NOT NULL AND ({cond}) THEN r_{f.name} END AS b_{f.name}"
            )
        if f.parser == "phone":
            out.append(
                f"f_{f.name}, CASE WHEN f_{f.name} IS NOT NULL THEN r_{f.name} END AS fr_{f.name}"
            )
        if f.type == "DATE" and (table, f.name) not in schema.FUTURE_OK:
            out.append(
                f"CASE WHEN {ident(f.name)} > current_date THEN r_{f.name} END AS future_{f.name}"
            )
    replace = f" REPLACE ({', '.join(derived)})" if derived else ""
    last, rules = "d", ""
    if ro:
        rules, last = ro_rules.ctes(
            config, load_id=load_id, synthetic=synthetic, plates="plate" in fields
        )
        rules += ", "
    limited = f" REPLACE ({limit})" if limit else ""
    return (
        f"CREATE OR REPLACE TEMP TABLE {target} AS "
        f"WITH {''.join(m + ', ' for m in lookups)}"
        f"r AS (SELECT {', '.join(raw_cols)} FROM {source}{joins}), "
        f"p AS (SELECT {', '.join(parsed)} FROM r), "
        f"b AS (SELECT *{limited}{over} FROM p), "
        f"d AS (SELECT *{replace} FROM b), {rules}"
        f"j AS (SELECT *, {_reject_sql(table, synthetic)} AS _reject FROM {last}) "
        f"SELECT {', '.join(out)} FROM j"
    )


# Ids that two stores of a dealer group may both use (rules §14): keyed with the dealer.
GROUP_KEYED = {
    "customers": "customer_id",
    "vehicles": "customer_id",
    "contacts": "customer_id",
    "leads": "lead_id",
}


def _qualified_ids(table: str, config: Config) -> dict[str, str]:
    """In a dealer group (several own dealers configured), field -> SQL of the id keyed with
    the row's dealer (its dealer-code column, else the load's dealer): D002/C0001. An id that
    already starts with its dealer and '/' is kept. Nothing with a single own dealer."""
    name = GROUP_KEYED.get(table)
    if not config.is_group or name is None:
        return {}
    prefix = "dealer_code || '/'"
    return {
        name: f"CASE WHEN starts_with({name}, {prefix}) THEN {name} ELSE {prefix} || {name} END"
    }


def key_expr(table: str, alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    keys = schema.KEYS[table]
    if len(keys) == 1:
        return f"{a}{keys[0]}"
    return "concat_ws('/', " + ", ".join(f"{a}{k}" for k in keys) + ")"


# The VIN flags of a staged sheet, computed once per distinct VIN (the check digit is costly).
# Two statements: a `WHERE flag IS NOT NULL` would be pushed below the DISTINCT by the
# optimizer, computing the flag for every row instead of every distinct VIN.
VIN_FLAGS_SQL = """CREATE OR REPLACE TEMP TABLE _crm_vin_flags AS
    SELECT vin, _crm_vin_flag_n(vin) AS flag
    FROM (SELECT DISTINCT vin FROM _crm_stage WHERE vin IS NOT NULL);
    DELETE FROM _crm_vin_flags WHERE flag IS NULL"""


def flags_sql(table: str, stage: str = "_crm_stage") -> str:
    """INSERT of the flags of the kept rows of a staged sheet; parameters: load_id, file."""
    parts: list[tuple[str, str, str, str]] = []  # field, flag, raw, FROM … WHERE …
    for f in schema.TABLES[table]:
        n = f.name
        if f.parser in BAD and n not in schema.REQUIRED[table]:
            parts.append((n, literal(BAD[f.parser]), f"b_{n}", f"FROM s WHERE b_{n} IS NOT NULL"))
        if f.parser == "phone":
            parts.append((n, f"f_{n}", f"fr_{n}", f"FROM s WHERE f_{n} IS NOT NULL"))
        if f.parser == "vin":  # checked once per distinct VIN: the check digit is costly
            parts.append((n, "v.flag", "s.vin", "FROM s JOIN _crm_vin_flags v ON s.vin = v.vin"))
        if f.type == "DATE" and (table, n) not in schema.FUTURE_OK:
            parts.append(
                (n, "'future_date'", f"future_{n}", f"FROM s WHERE future_{n} IS NOT NULL")
            )
        if f.parser in ("amount", "mileage"):
            parts.append((n, "'out_of_range'", f"o_{n}", f"FROM s WHERE o_{n} IS NOT NULL"))
    if table == "repair_orders":
        parts.append(
            (
                "total_amount",
                "'negative_total'",
                "CAST(total_amount AS VARCHAR)",
                "FROM s WHERE total_amount < 0",
            )
        )
        parts.append(("vin", "'vin_from_plate'", "r_plate", "FROM s WHERE _vin_from_plate"))
        parts.append(
            (
                "payer",
                "'payer_inferred'",
                "coalesce(r_ro_type, ro_type)",
                "FROM s WHERE _payer_inferred",
            )
        )
    if not parts:
        return ""
    key = key_expr(table, "s")
    union = " UNION ALL ".join(
        f"SELECT s._line, {key} AS key, {literal(n)} AS field, {flag} AS flag, {raw} AS raw {tail}"
        for n, flag, raw, tail in parts
    )
    return (
        f"INSERT INTO flags (load_id, file, line, kind, key, field, flag, raw) "
        f"WITH s AS (SELECT * FROM {stage} WHERE _reject IS NULL) "
        f"SELECT ?, ?, _line, {literal(table)}, key, field, flag, raw FROM ({union})"
    )


# ---------------------------------------------------------------- upsert


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    return int(first_row(con, sql, params)[0])


def _columns(table: str) -> list[str]:
    return [f.name for f in schema.stored_fields(table)]


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    file: str,
    load_id: int,
    config: Config,
    stage: str = "_crm_stage",
    *,
    defer: bool = False,
) -> tuple[int, int]:
    """Kept rows of the staged sheet into the table: the last line of a key wins; a key
    already in the table is replaced (a duplicate), a new key is loaded.
    Returns (loaded, duplicates). `defer` (repair orders in a load of several files): the
    rows go to a temporary table that flush_deferred() writes at the end of the load."""
    valid = _count(con, f"SELECT count(*) FROM {stage} WHERE _reject IS NULL")
    if valid == 0:
        return 0, 0
    part = ", ".join(schema.KEYS[table])
    select = ", ".join(ident(c) for c in _columns(table))
    empty = _count(con, f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)") == 0
    # the last line of each key (a staged _line is unique): a hash aggregate, not a window sort
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _crm_last AS SELECT max(_line) AS _line "
        f"FROM {stage} WHERE _reject IS NULL GROUP BY {part}"
    )
    distinct = _count(con, "SELECT count(*) FROM _crm_last")
    dedupe = "" if distinct == valid else " AND _line IN (SELECT _line FROM _crm_last)"
    win = f"SELECT {select}, _line FROM {stage} WHERE _reject IS NULL{dedupe}"
    if defer and table in DEFERRED:
        acc = _deferred(con, table)
        empty = empty and _count(con, f"SELECT count(*) FROM (SELECT 1 FROM {acc} LIMIT 1)") == 0
    else:
        acc = None
    counts = _upsert(con, table, win, valid, distinct, empty, file, load_id, config, acc)
    con.execute("DROP TABLE _crm_last")
    return counts


# Tables whose new rows a load of several files keeps in a temporary table until its end:
# a later file that replaces rows an earlier file of the same load wrote then deletes them
# there, not in the database (DuckDB rewrites, at COMMIT, every freshly written row group
# that had a row deleted: 2.2 s of CPU for 1M repair orders; more than the extra copy).
DEFERRED = ("repair_orders",)


def _deferred(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The temporary table holding this load's new rows of `table` (created empty)."""
    name = f"_crm_new_{table}"
    cols = ", ".join(ident(c) for c in _columns(table))
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} AS "
        f"SELECT {cols}, _file, _line, _load_id FROM {table} LIMIT 0"
    )
    return name


def flush_deferred(con: duckdb.DuckDBPyConnection) -> None:
    """The rows kept back by upsert(defer=True) into their tables, in one INSERT each."""
    for table in DEFERRED:
        name = f"_crm_new_{table}"
        if _count(con, f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{name}'"):
            cols = ", ".join([*(ident(c) for c in _columns(table)), "_file", "_line", "_load_id"])
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
            con.execute(f"DROP TABLE {name}")


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    win: str,
    valid: int,
    distinct: int,
    empty: bool,
    file: str,
    load_id: int,
    config: Config,
    acc: str | None = None,
) -> tuple[int, int]:
    """upsert of the rows of `win` (one per key): (loaded, duplicates). `acc`: the temporary
    table of this load's new rows (upsert `defer`), written instead of the table."""
    cols = _columns(table)
    keys = schema.KEYS[table]
    select = ", ".join(ident(c) for c in cols)
    if table == "customers":
        return _upsert_customers(con, win, valid, file, load_id, config)
    insert = (
        f"INSERT INTO {acc or table} ({select}, _file, _line, _load_id) "
        f"SELECT {select}, ?, _line, ? FROM "
    )
    if empty:  # first load: a plain insert of the parsed rows
        con.execute(insert + f"({win})", [file, load_id])
        return distinct, valid - distinct
    con.execute(f"CREATE OR REPLACE TEMP TABLE _crm_win AS {win}")
    on = " AND ".join(f"t.{k} = w.{k}" for k in keys)
    # the table's rows this sheet replaces, found once by key (the table may hold ten million
    # rows; only its key columns are read): the history copy and the delete go by rowid.
    # (Reading the replaced rows whole in this join instead cost more than the second scan.)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _crm_hit AS SELECT t.rowid AS rid, w._line "
        f"FROM {table} t JOIN _crm_win w ON {on}"
    )
    if _count(con, "SELECT count(*) FROM _crm_hit"):  # kept for an undo (history), deleted
        hit = "t.rowid IN (SELECT rid FROM _crm_hit)"
        history.keep(con, table, load_id, hit)
        con.execute(f"DELETE FROM {table} t WHERE {hit}")
    lines = "SELECT _line FROM _crm_hit"
    if acc:  # rows an earlier file of this load wrote: no history (the load wrote them)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _crm_hit_new AS SELECT t.rowid AS rid, w._line "
            f"FROM {acc} t JOIN _crm_win w ON {on}"
        )
        con.execute(f"DELETE FROM {acc} WHERE rowid IN (SELECT rid FROM _crm_hit_new)")
        lines += " UNION ALL SELECT _line FROM _crm_hit_new"
    existing = _count(con, f"SELECT count(DISTINCT _line) FROM ({lines})")
    con.execute(insert + "_crm_win", [file, load_id])
    for t in ("_crm_win", "_crm_hit", "_crm_hit_new" if acc else ""):
        if t:
            con.execute(f"DROP TABLE {t}")
    loaded = distinct - existing
    return loaded, valid - loaded


def _upsert_customers(
    con: duckdb.DuckDBPyConnection, win: str, valid: int, file: str, load_id: int, config: Config
) -> tuple[int, int]:
    """Customers: upsert by customer_id, then merge by normalised phone (§1): a new customer
    whose phone belongs to a customer already known (in the table, or earlier in this sheet)
    becomes that customer: the first customer_id is kept, the newer row's values win where it
    has them. Phones shared by more than `shared_phone_max_ids` ids never merge (flagged)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _crm_win AS {win}")
    cols = _columns("customers")
    fields = [c for c in cols if c != "customer_id"]
    # every id per phone: the table's (in load order), then this sheet's (in line order)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _crm_phones AS
        WITH ids AS (
            SELECT customer_id, phone, 0 AS src, _load_id AS o1, _line AS o2 FROM customers
            WHERE phone IS NOT NULL
            UNION ALL
            SELECT customer_id, phone, 1, 0, _line FROM _crm_win WHERE phone IS NOT NULL)
        SELECT phone, arg_min(customer_id, (src, o1, o2)) AS first_id,
               count(DISTINCT customer_id) AS n_ids
        FROM ids GROUP BY phone""")
    con.execute(
        "INSERT INTO flags (load_id, file, line, kind, key, field, flag, raw) "
        "SELECT ?, ?, w._line, 'customers', w.customer_id, 'phone', 'phone_shared', w.phone "
        "FROM _crm_win w JOIN _crm_phones p USING (phone) WHERE p.n_ids > ?",
        [load_id, file, config.shared_phone_max_ids],
    )
    merge = "TRUE" if config.merge_customers_by_phone else "FALSE"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _crm_final AS
        SELECT w.*, CASE WHEN {merge} AND p.n_ids <= ? AND p.first_id <> w.customer_id
                          AND NOT EXISTS (SELECT 1 FROM customers c
                                          WHERE c.customer_id = w.customer_id)
                     THEN p.first_id END AS merged_into
        FROM _crm_win w LEFT JOIN _crm_phones p USING (phone)""",
        [config.shared_phone_max_ids],
    )
    # table rows that merged rows fold into (unless the sheet replaces them outright); the
    # store (dealer_code) is that of the row whose customer_id is kept
    agg = ", ".join(
        f"arg_max({ident(c)}, ({'kept, ' if c == 'dealer_code' else ''}src, _line)) "
        f"FILTER (WHERE {ident(c)} IS NOT NULL) AS {ident(c)}"
        for c in fields
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _crm_new AS
        WITH rows AS (
            SELECT {", ".join(cols)}, _line, 0 AS src, _file AS f, _load_id AS l,
                   TRUE AS kept FROM customers
            WHERE customer_id IN (SELECT merged_into FROM _crm_final)
              AND customer_id NOT IN (SELECT customer_id FROM _crm_final
                                      WHERE merged_into IS NULL)
            UNION ALL
            SELECT coalesce(merged_into, customer_id), {", ".join(fields)}, _line, 1, ?, ?,
                   merged_into IS NULL
            FROM _crm_final)
        SELECT customer_id, {agg}, arg_max(_line, (src, _line)) AS _line,
               arg_max(f, (src, _line)) AS _file, arg_max(l, (src, _line)) AS _load_id
        FROM rows GROUP BY customer_id""",
        [file, load_id],
    )
    new_ids = _count(
        con,
        "SELECT count(*) FROM _crm_new n WHERE NOT EXISTS "
        "(SELECT 1 FROM customers c WHERE c.customer_id = n.customer_id)",
    )
    history.keep(con, "customers", load_id, "t.customer_id IN (SELECT customer_id FROM _crm_new)")
    con.execute("DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM _crm_new)")
    con.execute(
        f"INSERT INTO customers ({', '.join(cols)}, _file, _line, _load_id) "
        f"SELECT {', '.join(cols)}, _file, _line, _load_id FROM _crm_new"
    )
    # vehicles of a merged customer follow it
    history.keep(
        con,
        "vehicles",
        load_id,
        "t.customer_id IN (SELECT customer_id FROM _crm_final WHERE merged_into IS NOT NULL)",
    )
    con.execute(
        "UPDATE vehicles SET customer_id = m.merged_into FROM _crm_final m "
        "WHERE m.merged_into IS NOT NULL AND vehicles.customer_id = m.customer_id"
    )
    for t in ("_crm_win", "_crm_phones", "_crm_final", "_crm_new"):
        con.execute(f"DROP TABLE {t}")
    return new_ids, valid - new_ids


def link_vehicles(con: duckdb.DuckDBPyConnection, config: Config, load_id: int) -> None:
    """Vehicles without a known owner id but with a phone take the customer of that phone
    (the first customer with it; not for phones shared by too many ids)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _crm_link AS
        SELECT v.vin, p.first_id FROM vehicles v
        JOIN (SELECT phone, arg_min(customer_id, (_load_id, _line)) AS first_id,
                     count(*) AS n FROM customers WHERE phone IS NOT NULL GROUP BY phone) p
          ON v.phone = p.phone
        WHERE p.n <= ? AND (v.customer_id IS NULL OR NOT EXISTS (
               SELECT 1 FROM customers c WHERE c.customer_id = v.customer_id))""",
        [config.shared_phone_max_ids],
    )
    if _count(con, "SELECT count(*) FROM _crm_link"):
        history.keep(con, "vehicles", load_id, "t.vin IN (SELECT vin FROM _crm_link)")
        con.execute(
            "UPDATE vehicles SET customer_id = l.first_id FROM _crm_link l "
            "WHERE vehicles.vin = l.vin"
        )
    con.execute("DROP TABLE _crm_link")


FORGOTTEN = forgetting.REASON


def fill_raw(con: duckdb.DuckDBPyConnection, source: str, stage: str = "_crm_stage") -> None:
    """The source line (_raw) of each rejected staged row, from the raw sheet (one row per
    _line)."""
    if _count(con, f"SELECT count(*) FROM {stage} WHERE _reject IS NOT NULL"):
        con.execute(
            f"UPDATE {stage} s SET _raw = r._raw FROM {source} r "
            "WHERE s._reject IS NOT NULL AND s._line = r._line"
        )


def skip_forgotten(con: duckdb.DuckDBPyConnection, table: str, stage: str = "_crm_stage") -> int:
    """Rows of people deleted on request (`crmtool forget`, matched by the keyed markers of
    their phone or customer_id) become rejects with the reason FORGOTTEN and without their
    raw text. Returns how many."""
    cols = [f.name for f in schema.TABLES[table] if f.name in ("customer_id", "phone")]
    if not cols or table == "repair_orders" or not forgetting.install(con):
        return 0
    for c in cols:
        forgetting.upgrade_markers(con, c, f"SELECT {c} FROM {stage}")
    # old unsalted markers of these values were just made keyed: the keyed ones suffice
    hit = " OR ".join(forgetting.is_forgotten_sql(c, c, legacy=False) for c in cols)
    n = _count(con, f"SELECT count(*) FROM {stage} WHERE {hit}")
    if n:
        con.execute(f"UPDATE {stage} SET _reject = ?, _raw = NULL WHERE {hit}", [FORGOTTEN])
    return n


def scrub_rejects(
    con: duckdb.DuckDBPyConnection, bad: list[tuple[int, str, str, str]], config: Config
) -> tuple[list[tuple[int, str, str, str | None]], int]:
    """Rejected lines that name a forgotten person (their phone or customer_id in a field):
    the staged rejects and the malformed lines (wrong field count …) become FORGOTTEN without
    raw text. Returns the malformed lines as they are to be written, and how many changed."""
    if not forgetting.install(con):
        return list(bad), 0
    prefix = f"{config.own_dealer}/" if config.is_group else None
    n = forgetting.scrub_raw(
        con,
        "_crm_stage",
        "_reject",
        "_raw",
        "_line",
        f"_reject IS NOT NULL AND _reject <> {literal(FORGOTTEN)}",
        prefix,
    )
    if not bad:
        return [], n
    con.execute("CREATE OR REPLACE TEMP TABLE _crm_bad (i BIGINT, reason VARCHAR, raw VARCHAR)")
    con.executemany(
        "INSERT INTO _crm_bad VALUES (?, ?, ?)",
        [[i, reason, raw] for i, (_, _, reason, raw) in enumerate(bad)],
    )
    n += forgetting.scrub_raw(con, "_crm_bad", "reason", "raw", "i", keyed_prefix=prefix)
    rows = con.execute("SELECT reason, raw FROM _crm_bad ORDER BY i").fetchall()
    con.execute("DROP TABLE _crm_bad")
    return [
        (line, kind, reason, raw)
        for (line, kind, _, _), (reason, raw) in zip(bad, rows, strict=True)
    ], n


def feed_owners(
    con: duckdb.DuckDBPyConnection,
    sheet: Any,
    config: Config,
    load_id: int,
    file: str,
    table: str = "repair_orders",
) -> dict[str, int]:
    """A combined file (docs/rules.md §15; detect.feed_fields) also feeds other tables from its kept
    rows: a repair-order export its owner (车主姓名, 车主电话, 车牌号, 车系 …), a customer list
    its vehicles (VIN号, 车型 …), a vehicles file its owners (车主姓名 + phone or id).
    Customers by customer_id, else the customer already known by that phone, else 'P' + phone;
    vehicles by VIN. Known rows only get their empty fields filled. Returns the new rows per
    table (the file's own counts stay those of its own table)."""
    fed: dict[str, int] = {}
    # a repair order's owner comes from its kept rows; a customer list's vehicles (and a
    # vehicles file's owners) from every row: a vehicle needs no owner to be a vehicle
    kept = (
        "_line IN (SELECT _line FROM _crm_stage WHERE _reject IS NULL)"
        if table == "repair_orders"
        else "TRUE"
    )
    for other, fields in feed_fields(table, sheet.headers, config).items():
        con.execute(stage_sql(sheet.table, other, fields, config, target="_crm_feed"))
        skip_forgotten(con, other, "_crm_feed")
        if other == "customers" and "customer_id" not in fields:
            con.execute("""
                UPDATE _crm_feed SET customer_id = p.first_id
                FROM (SELECT phone, arg_min(customer_id, (_load_id, _line)) AS first_id
                      FROM customers WHERE phone IS NOT NULL GROUP BY phone) p
                WHERE _crm_feed.phone = p.phone""")
        fed[other] = _fill_empty(con, other, kept, file, load_id)
    return fed


def _fill_empty(
    con: duckdb.DuckDBPyConnection, table: str, kept: str, file: str, load_id: int
) -> int:
    """Staged _crm_feed rows into `table` (one key column): new keys inserted (each field the
    last value the file has), known keys only get empty fields filled. Returns new keys."""
    (key,) = schema.KEYS[table]
    cols = _columns(table)
    rest = [c for c in cols if c != key]
    agg = ", ".join(
        f"arg_max({ident(c)}, _line) FILTER (WHERE {ident(c)} IS NOT NULL) AS {ident(c)}"
        for c in rest
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _crm_fill AS SELECT {key}, {agg}, "
        f"max(_line) AS _line FROM _crm_feed WHERE _reject IS NULL AND {key} IS NOT NULL "
        f"AND {kept} GROUP BY {key}"
    )
    known = f"EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = f.{key})"
    new = _count(con, f"SELECT count(*) FROM _crm_fill f WHERE NOT {known}")
    sets = ", ".join(f"{ident(c)} = coalesce(t.{ident(c)}, f.{ident(c)})" for c in rest)
    fills = " OR ".join(f"(t.{ident(c)} IS NULL AND f.{ident(c)} IS NOT NULL)" for c in rest)
    history.keep(
        con,
        table,
        load_id,  # only the rows whose empty fields get a value
        f"EXISTS (SELECT 1 FROM _crm_fill f WHERE f.{key} = t.{key} AND ({fills}))",
    )
    con.execute(f"UPDATE {table} t SET {sets} FROM _crm_fill f WHERE t.{key} = f.{key}")
    select = ", ".join(ident(c) for c in cols)
    con.execute(
        f"INSERT INTO {table} ({select}, _file, _line, _load_id) "
        f"SELECT {select}, ?, _line, ? FROM _crm_fill f WHERE NOT {known}",
        [file, load_id],
    )
    con.execute("DROP TABLE _crm_fill")
    con.execute("DROP TABLE _crm_feed")
    return new


# ---------------------------------------------------------------- the load


def _item_columns(headers: list[Any], fields: dict[str, list[int]], config: Config) -> list[int]:
    """The columns of a repair-order file that no field of any table reads: where the rows of
    one order differ in them, they are line items (项目名称, 配件编码 …)."""
    used = {i for cols in fields.values() for i in cols}
    for t in schema.TABLES:
        used |= {i for cols in map_headers(headers, t, config).values() for i in cols}
    return [i for i, h in enumerate(headers) if i not in used and str(h or "").strip()]


def load_sheet(
    con: duckdb.DuckDBPyConnection,
    sheet: Any,
    config: Config,
    load_id: int,
    sha: str,
    *,
    kind: str | None = None,
    file: str | None = None,
    as_of: dt.date | None = None,
    defer: bool = False,
) -> SheetResult:
    """One raw sheet (readers.RawSheet) -> its table, rejects, flags and a row in loads."""
    from . import readers

    file = file or str(sheet.file)
    det = detect_kind(sheet.headers, config, kind)
    table = det.kind
    res = SheetResult(file=file, sheet=sheet.sheet, kind=table, read=int(sheet.read), detection=det)
    label = f"{file} [{sheet.sheet}]" if sheet.sheet else file
    if table is None:
        raise MappingError(
            "cannot tell which table this file is (customers, vehicles, "
            "repair_orders, leads, dealers, contacts); pass --kind",
            file=label,
        )
    if det.ambiguous:
        raise MappingError(det.hint(), file=label)
    fields = map_headers(sheet.headers, table, config)
    check_required(fields, table, file, config)
    ro = table == "repair_orders"
    items = _item_columns(sheet.headers, fields, config) if ro else None
    con.execute(stage_sql(sheet.table, table, fields, config, load_id=load_id, item_cols=items))
    fill_raw(con, sheet.table)
    if not feed_fields(table, sheet.headers, config):  # the raw sheet is not read again: its
        con.execute(f"DROP TABLE {sheet.table}")  # memory is free for the upsert
    res.forgotten = skip_forgotten(con, table)
    bad = [(line, "malformed", reason, raw) for line, raw, reason in sheet.malformed]
    bad, scrubbed = scrub_rejects(con, bad, config)
    res.forgotten += scrubbed
    bad += [(line, "totals", "totals row", raw) for line, raw in sheet.totals]
    bad += [(line, "repeated", readers.REPEATED_HEADER, raw) for line, raw in sheet.repeated]
    if bad:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?)",
            [[load_id, file, line, table, reason, raw] for line, _, reason, raw in bad],
        )
    con.execute(
        "INSERT INTO rejects SELECT ?, ?, _line, ?, _reject, _raw FROM _crm_stage "
        "WHERE _reject IS NOT NULL",
        [load_id, file, table],
    )
    rejected = _count(con, "SELECT count(*) FROM _crm_stage WHERE _reject IS NOT NULL")
    if any(f.parser == "vin" for f in schema.TABLES[table]):
        con.execute(VIN_FLAGS_SQL)
    if sql := flags_sql(table):
        con.execute(sql, [load_id, file])
    if ro:
        res.notes, res.warnings = _ro_notes(con, label, fields, config, as_of)
        # without item columns every _item is 0: no order has items to sum
        item_rows, orders = ro_rules.sum_line_items(con) if items else (0, 0)
        if orders:
            res.notes.append(f"line items: {item_rows} rows summed into {orders} orders")
    res.loaded, res.duplicates = upsert(con, table, file, load_id, config, defer=defer)
    res.fed = feed_owners(con, sheet, config, load_id, file, table)
    res.totals = len(sheet.totals)
    res.repeated = [line for line, _ in sheet.repeated]
    res.rejected = rejected + len(bad)
    if res.read != res.loaded + res.duplicates + res.rejected:  # never lose a row silently
        raise CrmError(
            f"internal count mismatch: read {res.read} = loaded {res.loaded} + "
            f"duplicates {res.duplicates} + rejected {res.rejected}",
            file=file,
        )
    con.execute(
        "INSERT INTO loads VALUES (?, ?, ?, ?, ?, current_timestamp::TIMESTAMP, ?, ?, ?, ?, ?)",
        [
            load_id,
            file,
            sha,
            table,
            sheet.sheet,
            res.read,
            res.loaded,
            res.duplicates,
            res.rejected,
            res.totals,
        ],
    )
    con.execute("DROP TABLE _crm_stage")
    con.execute(f"DROP TABLE IF EXISTS {sheet.table}")
    return res


def _ro_notes(
    con: duckdb.DuckDBPyConnection,
    label: str,
    fields: dict[str, list[int]],
    config: Config,
    as_of: dt.date | None,
) -> tuple[list[str], list[str]]:
    """What the per-file line adds about a staged repair-order sheet (notes), and what is off
    (warnings, one line each): payer inferred, every date after as_of."""
    kept, voided, inferred, plate, future = first_row(
        con,
        """
        SELECT count(*) FILTER (WHERE _reject IS NULL),
               count(*) FILTER (WHERE _reject LIKE 'voided order%'),
               count(*) FILTER (WHERE _reject IS NULL AND _payer_inferred),
               count(*) FILTER (WHERE _reject IS NULL AND _vin_from_plate),
               count(*) FILTER (WHERE _reject IS NULL AND settle_date > ?)
        FROM _crm_stage""",
        [as_of or dt.date.today()],
    )
    notes, warnings = [], []
    if "ro_id" not in fields:
        notes.append("no order number: key = VIN + dates + type")
    if voided:
        notes.append(f"voided: {voided}")
    if plate:
        notes.append(f"VIN from plate: {plate}")
    if inferred:
        why = "no payer column" if "payer" not in fields else "blank payer"
        warnings.append(
            f"{label}: payer missing on {inferred} of {kept} rows ({why}): "
            "inferred from the order type ([defaults.payer_by_ro_type])"
        )
    if kept and future == kept:
        day = (as_of or dt.date.today()).isoformat()
        warnings.append(
            f"{label}: every settle date is after as_of ({day}): check the date column or --as-of"
        )
    return notes, warnings


def own_dealer_warnings(con: duckdb.DuckDBPyConnection, config: Config, load_id: int) -> list[str]:
    """A load whose repair orders belong to no own dealer (every figure would be 0), or own
    dealers that no loaded repair order belongs to: one line each."""
    got = con.execute(
        "SELECT dealer_code, count(*) FROM repair_orders WHERE _load_id = ? "
        "GROUP BY dealer_code ORDER BY count(*) DESC, dealer_code",
        [load_id],
    ).fetchall()
    if not got:
        return []
    own = config.dealer_group
    if not any(d in own for d, _ in got):
        found = ", ".join(f"{d} ({n})" for d, n in got[:5]) + (" …" if len(got) > 5 else "")
        return [
            f"no repair order of this load belongs to own_dealers ({', '.join(own)}); "
            f"dealer codes loaded: {found}; set own_dealers in crmtool.toml"
        ]
    have = {
        d
        for (d,) in con.execute(
            "SELECT DISTINCT dealer_code FROM repair_orders WHERE list_contains(?, dealer_code)",
            [own],
        ).fetchall()
    }
    missing = [d for d in own if d not in have]
    if missing:
        return [
            f"own_dealers {', '.join(missing)} match no loaded repair order; "
            "check own_dealers in crmtool.toml"
        ]
    return []


def load(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | os.PathLike[str]],
    config: Config,
    *,
    kind: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    as_of: dt.date | None = None,
) -> LoadResult:
    """Load files and folders in one transaction: all of it, or (on any error or interrupt)
    nothing. Files whose bytes were loaded before are skipped, unless `force` (the same bytes
    twice in one invocation are still read once)."""
    from . import parsers, readers

    if kind is not None and kind not in schema.TABLES:
        raise CrmError(f"unknown kind '{kind}'; one of: {', '.join(schema.TABLES)}")
    paths = list(paths)
    files = expand(paths)
    explicit = {p for p in map(Path, paths) if not p.is_dir()}  # named, not found in a folder
    recognise = recogniser(config, kind)
    work = scratch.make(scratch.database_folder(con))
    con.execute("BEGIN TRANSACTION")
    try:
        parsers.install(con, config)
        load_id = _count(con, "SELECT nextval('load_seq')")
        result = LoadResult(load_id)
        seen: set[str] = set()
        for n, path in enumerate(files):
            name = str(path)
            if progress:
                progress(name, n, len(files))
            sha = sha256(path)
            before = (
                None
                if force
                else first_row(con, "SELECT min(load_id) FROM loads WHERE sha256 = ?", [sha])[0]
            )
            if sha in seen or before is not None:
                result.sheets.append(
                    SheetResult(file=name, skipped="already loaded", loaded_in=before)
                )
                continue
            seen.add(sha)
            try:
                sheets = readers.read_file(
                    con,
                    path,
                    recognise=recognise,
                    limits=config.limits,
                    work=work,
                    strict=path in explicit,
                )
                for sheet in sheets:
                    if isinstance(sheet, readers.Unread):
                        result.sheets.append(load_unread(con, sheet, load_id, sha, name))
                        continue
                    result.sheets.append(
                        load_sheet(
                            con,
                            sheet,
                            config,
                            load_id,
                            sha,
                            kind=kind,
                            file=name,
                            as_of=as_of,
                            defer=len(files) > 1,
                        )
                    )
            except readers.Unrecognised as e:
                if path in explicit:
                    raise
                why = str(e).removeprefix(f"{path}: ")
                result.sheets.append(SheetResult(file=name, skipped=f"not recognised: {why}"))
            except duckdb.InterruptException:  # Ctrl-C / SIGTERM inside a query
                raise KeyboardInterrupt from None
            except duckdb.Error as e:
                raise CrmError(str(e).splitlines()[0], file=name) from None
        flush_deferred(con)
        if any(not s.skipped for s in result.sheets):
            link_vehicles(con, config, load_id)
        result.notices = own_dealer_warnings(con, config, load_id)
        if progress:
            progress("", len(files), len(files))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        scratch.remove(work)
    return result


def load_unread(
    con: duckdb.DuckDBPyConnection, sheet: Any, load_id: int, sha: str, file: str
) -> SheetResult:
    """A sheet found in a folder without a recognisable header (readers.Unread): every row
    is a reject, recorded like any load so that read = rejected adds up (docs/rules.md §17 "Loading")."""
    res = SheetResult(
        file=file, sheet=sheet.sheet, read=sheet.read, rejected=sheet.read, unread=sheet.reason
    )
    con.execute(
        f"INSERT INTO rejects SELECT ?, ?, _line, NULL, ?, _raw FROM {sheet.table}",
        [load_id, file, sheet.reason],
    )
    con.execute(
        "INSERT INTO loads VALUES (?, ?, ?, NULL, ?, current_timestamp::TIMESTAMP, ?, 0, 0, ?, 0)",
        [load_id, file, sha, sheet.sheet, sheet.read, sheet.read],
    )
    con.execute(f"DROP TABLE IF EXISTS {sheet.table}")
    return res
