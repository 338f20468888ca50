"""`crmtool inspect`: what `crmtool load` would do with some files, without writing anything
(docs/rules.md "Inspect before loading").

How it stays true to the load: the real `ingest.load` runs, file by file in name order, on a
scratch in-memory database that holds a copy of the current data (the real database is only
ATTACHed READ_ONLY, so its file is never opened for writing). The counts, rejects and flags
shown are that load's. The per-sheet details (header row, detection, header mapping, code
values) come from the same reader, header mapping, detection and staging SQL the load calls.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from .. import db, schema
from ..config import Config
from ..errors import CrmError, DatabaseLocked
from ..sqltext import ident, literal
from . import detect, ingest, parsers, readers
from .detect import Detection

# Tables of the real database the load never reads: not copied into the scratch database.
# tables a load only appends to (history: the versions an undo restores, crmtool.load.history)
NOT_READ_BY_LOAD = ("rejects", "flags", *(f"history_{t}" for t in schema.TABLES))
EXAMPLES = 3  # example lines per failure or reject reason
MAX_VALUES = 200  # raw values listed per code field (the rest are counted)
CANDIDATE_SHARE = 0.9  # a header could fill a field when this share of its cells parse as it


@dataclass
class Column:
    """One header of the sheet and the field it maps to in the detected table."""

    header: str
    index: int  # 0-based column
    field: str | None  # a field of the table, or table.field of a table the file also feeds
    source: str  # built-in | config | profile | none
    used: bool  # False: another column of the same field wins
    overrides: str | None = None  # the built-in field a config / profile mapping took it from


@dataclass
class Candidate:
    """A header whose cells would fill a missing field."""

    header: str
    mapped_to: str | None  # the field it maps to now, if any
    parsed: int  # cells that parse as the missing field
    cells: int  # non-blank cells


@dataclass
class Missing:
    field: str
    # dataclasses.field by its full name: the attribute `field` above shadows it here
    candidates: list[Candidate] = dataclasses.field(default_factory=list)


@dataclass
class CodeValue:
    raw: str
    count: int
    maps_to: str | None  # canonical code, 'other', or None (kept empty)
    known: bool  # False: not a configured value (flagged unknown_code by the load)


@dataclass
class SheetReport:
    sheet: str | None
    header_line: int
    encoding: str | None
    kind: str | None
    detection: Detection  # detect.detect_kind: evidence, runner-up, ambiguity
    columns: list[Column]
    missing: list[Missing]
    codes: dict[str, list[CodeValue]]
    more_values: dict[str, int]  # code field -> distinct raw values not listed
    notes: list[str] = field(default_factory=list)  # the load's notes and warnings
    counts: dict[str, int] | None = None  # read, loaded, duplicates, rejected (the load's)
    earlier: dict[str, int] | None = None  # the same, as recorded when it was loaded before
    fed: dict[str, int] = field(default_factory=dict)
    dealers: dict[str, int] = field(default_factory=dict)  # repair orders: rows per dealer


@dataclass
class Finding:
    """A flag (parse failure) or a reject reason of the load, with example lines."""

    kind: str
    field: str | None  # flags: the field; rejects: None
    what: str  # flags: the flag (bad_date, unknown_code ...); rejects: the reason
    count: int
    examples: list[tuple[int, str]]  # (line, the raw value / the full reason)


@dataclass
class FileReport:
    file: str
    sheets: list[SheetReport] = field(default_factory=list)
    error: str | None = None  # the file cannot be read (no header, not a table ...)
    skipped: str | None = None  # the load would skip it ('already loaded')
    load_error: str | None = None  # the load would fail on this file (nothing is loaded)
    flags: list[Finding] = field(default_factory=list)
    rejects: list[Finding] = field(default_factory=list)
    earlier: dict[str, Any] | None = None  # already loaded: {load_id, file} of that load
    alone: bool = False  # the load of all files fails: these counts are the file's own load

    @property
    def ok(self) -> bool:
        return self.error is None and self.load_error is None


@dataclass
class Report:
    database: str
    database_exists: bool
    files: list[FileReport]
    own_dealers: list[str]
    own_orders: int  # repair orders of own dealers after the load (database + files)
    load_error: str | None = None  # the load of all the files would fail with this
    notices: list[str] = field(default_factory=list)  # the load's warnings (own dealers …)

    @property
    def ok(self) -> bool:
        return self.load_error is None and all(f.ok for f in self.files)

    def foreign_dealers(self) -> dict[str, int]:
        """The files' repair-order rows per dealer when none of them, and no repair order in
        the database, is an own dealer's (every figure would be 0); else {}."""
        dealers: dict[str, int] = {}
        for f in self.files:
            for s in f.sheets:
                for d, n in s.dealers.items():
                    dealers[d] = dealers.get(d, 0) + n
        if self.own_orders or any(d in self.own_dealers for d in dealers):
            return {}
        return dict(sorted(dealers.items(), key=lambda kv: (-kv[1], kv[0])))

    def total(self) -> dict[str, int]:
        out = dict.fromkeys(("read", "loaded", "duplicates", "rejected"), 0)
        for f in self.files:
            for s in f.sheets:
                for k in out:
                    out[k] += (s.counts or {}).get(k, 0)
        return out


# ---------------------------------------------------------------- the scratch database


def scratch(
    path: str | os.PathLike[str] | None, wait: float = 0.0
) -> tuple[duckdb.DuckDBPyConnection, str, bool]:
    """An in-memory store with a copy of the database's tables (but rejects and flags) and
    sequences. The database file stays ATTACHed READ_ONLY as crm_live (the rejects and flags
    of files loaded before are read there): nothing is written to it. Returns (connection,
    database path, whether it exists)."""
    target = db.db_path(path)
    con = db.connect(":memory:")
    if not target.exists():
        return con, str(target), False
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            con.execute(f"ATTACH {literal(str(target))} AS crm_live (READ_ONLY)")
            break
        except duckdb.Error as e:
            text = str(e).lower()
            if "lock" not in text:
                con.close()
                raise CrmError(f"cannot open database {target}: {str(e).splitlines()[0]}") from None
            if time.monotonic() >= deadline:
                con.close()
                raise DatabaseLocked(
                    f"database {target} is in use by another crmtool process; "
                    "try again later or pass --wait SECONDS"
                ) from None
            time.sleep(0.2)
    try:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = "
            "'crm_live' AND schema_name = 'main' ORDER BY 1"
        ).fetchall()
        mine = {
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory'"
            ).fetchall()
        }
        for (t,) in tables:
            if t in NOT_READ_BY_LOAD:
                continue
            if t in mine:
                con.execute(
                    f"INSERT INTO memory.main.{ident(t)} BY NAME "
                    f"SELECT * FROM crm_live.main.{ident(t)}"
                )
            else:
                con.execute(
                    f"CREATE TABLE memory.main.{ident(t)} AS SELECT * FROM crm_live.main.{ident(t)}"
                )
        for name, last in con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() "
            "WHERE database_name = 'crm_live'"
        ).fetchall():
            if last is not None:
                con.execute(
                    f"CREATE OR REPLACE SEQUENCE memory.main.{ident(name)} START {int(last) + 1}"
                )
    except BaseException:
        con.close()
        raise
    return con, str(target), True


# ---------------------------------------------------------------- per sheet


def columns(headers: list[Any], table: str, config: Config | None) -> list[Column]:
    """Each header -> field of `table` and where that mapping comes from (detect.map_columns);
    a header of another table the file also feeds (a combined file, docs/rules.md §15) shows
    as table.field."""
    fed: dict[int, tuple[str, str]] = {}
    for other, fields in detect.feed_fields(table, headers, config).items():
        sources = {c.index: c.source for c in detect.map_columns(headers, other, config)}
        for name, cols in fields.items():
            for i in cols:
                fed.setdefault(i, (f"{other}.{name}", sources[i]))
    out = []
    for c in detect.map_columns(headers, table, config):
        if c.field is None and c.index in fed:
            out.append(Column(c.header, c.index, fed[c.index][0], fed[c.index][1], True))
        else:
            out.append(Column(c.header, c.index, c.field, c.source, c.used, c.overrides))
    return out


def _plausible(f: schema.Field, raw: str) -> str:
    """SQL: the raw cell would be a good value of field f."""
    if f.parser == "vin":
        return f"length(crm_vin({raw})) = 17"
    if f.parser is None:
        return f"{raw} IS NOT NULL"
    return f"{ingest._parse_expr(f, raw)} IS NOT NULL"


def candidates(
    con: duckdb.DuckDBPyConnection, sheet: Any, table: str, cols: list[Column], name: str
) -> list[Candidate]:
    """Headers of the sheet whose cells would fill field `name`: unmapped headers, or headers
    of a field with the same parser, where at least CANDIDATE_SHARE of the non-blank cells
    parse (a field without parser: unique values). Unmapped first, then most parsed."""
    f = next(x for x in schema.TABLES[table] if x.name == name)
    parser_of = {x.name: x.parser for x in schema.TABLES[table]}
    out = []
    for c in cols:
        if not c.header.strip() or c.field == name:
            continue
        if c.field is not None and (f.parser is None or parser_of.get(c.field) != f.parser):
            continue
        raw = f"crm_text(c{c.index})"
        cells, parsed, distinct = db.first_row(
            con,
            f"SELECT count({raw}), count(*) FILTER (WHERE {_plausible(f, raw)}), "
            f"count(DISTINCT {raw}) FROM {sheet.table}",
        )
        if f.parser is None:
            parsed = distinct if distinct == cells else 0
        if cells and parsed >= CANDIDATE_SHARE * cells:
            out.append(Candidate(c.header, c.field, int(parsed), int(cells)))
    return sorted(out, key=lambda c: (c.mapped_to is not None, -c.parsed))


def code_values(
    con: duckdb.DuckDBPyConnection, source: str, table: str, fields: dict[str, list[int]]
) -> tuple[dict[str, list[CodeValue]], dict[str, int]]:
    """Raw values of each code field with counts and what the load's staging makes of them
    (the staged table _crm_inspect joined by line to the raw sheet table `source`)."""
    codes: dict[str, list[CodeValue]] = {}
    more: dict[str, int] = {}
    for f in schema.TABLES[table]:
        if f.parser != "code" or f.name not in fields:
            continue
        flagged = f"b_{f.name} IS NOT NULL" if f.name not in schema.REQUIRED[table] else "FALSE"
        raw = ingest._raw_expr(fields[f.name], f.parser)
        rows = con.execute(
            f"SELECT raw, any_value(v), count(*), bool_or(bad) FROM (SELECT {raw} AS raw, "
            f"i.{ident(f.name)} AS v, {flagged} AS bad FROM {source} "
            f"JOIN _crm_inspect i USING (_line)) WHERE raw IS NOT NULL GROUP BY 1 "
            f"ORDER BY 3 DESC, 1"
        ).fetchall()
        codes[f.name] = [
            CodeValue(str(r), int(n), v, not bad) for r, v, n, bad in rows[:MAX_VALUES]
        ]
        if len(rows) > MAX_VALUES:
            more[f.name] = len(rows) - MAX_VALUES
    return codes, more


def sheet_report(
    con: duckdb.DuckDBPyConnection, sheet: Any, config: Config, kind: str | None
) -> SheetReport:
    """What the load makes of one raw sheet, up to (not including) its upsert."""
    det = detect.detect_kind(sheet.headers, config, kind)
    table = det.kind
    report = SheetReport(
        sheet.sheet, int(sheet.header_line), sheet.encoding, table, det, [], [], {}, {}
    )
    if table is None:
        report.columns = [
            Column("" if h is None else str(h), i, None, "none", False)
            for i, h in enumerate(sheet.headers)
        ]
        return report
    report.columns = columns(sheet.headers, table, config)
    fields = ingest.map_headers(sheet.headers, table, config)
    for name in ingest.missing_required(fields, table):
        report.missing.append(Missing(name, candidates(con, sheet, table, report.columns, name)))
    con.execute(ingest.stage_sql(sheet.table, table, fields, config, target="_crm_inspect"))
    report.codes, report.more_values = code_values(con, sheet.table, table, fields)
    if table == "repair_orders":  # staged: a missing dealer column gives the load's dealer
        report.dealers = {
            str(d): int(n)
            for d, n in con.execute(
                "SELECT dealer_code, count(*) FROM _crm_inspect GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
        }
    con.execute("DROP TABLE _crm_inspect")
    return report


# ---------------------------------------------------------------- per file


def _findings(
    con: duckdb.DuckDBPyConnection, load_id: int, file: str, catalog: str = ""
) -> tuple[list[Finding], list[Finding]]:
    """The flags and reject reasons a load recorded for a file, grouped, with examples (from
    the tables of database `catalog`, e.g. "crm_live."). Reject reasons that quote a value
    ("settle_date is not a date: 'x'") group without it."""
    flags = [
        Finding(k, fld, flag, int(n), [(int(ln), str(r)) for ln, r in ex])
        for k, fld, flag, n, ex in con.execute(
            f"SELECT kind, field, flag, count(*), list((line, coalesce(raw, '')) "
            f"ORDER BY line)[1:{EXAMPLES}] FROM {catalog}flags WHERE load_id = ? AND file = ? "
            "GROUP BY ALL ORDER BY kind, field, flag",
            [load_id, file],
        ).fetchall()
    ]
    rejects = [
        Finding(k, None, why, int(n), [(int(ln), str(r)) for ln, r in ex])
        for k, why, n, ex in con.execute(
            f"SELECT kind, regexp_replace(reason, ': ''.*$', '') AS why, count(*), "
            f"list((line, reason) ORDER BY line)[1:{EXAMPLES}] FROM {catalog}rejects "
            "WHERE load_id = ? AND file = ? GROUP BY ALL ORDER BY 3 DESC, 2",
            [load_id, file],
        ).fetchall()
    ]
    return flags, rejects


def _apply(con: duckdb.DuckDBPyConnection, result: Any, report: FileReport) -> None:
    """A load's results for one file (its SheetResults, flags and rejects) into its report."""
    results = [r for r in result.sheets if r.file == report.file]
    if len(results) == 1 and results[0].skipped:
        report.skipped = results[0].skipped
        _earlier(con, Path(report.file), report)
        return
    for sheet, res in zip(report.sheets, results, strict=False):
        sheet.counts = {
            "read": res.read,
            "loaded": res.loaded,
            "duplicates": res.duplicates,
            "rejected": res.rejected,
        }
        sheet.fed = dict(res.fed)
        sheet.notes = list(res.notes) + list(res.warnings)
    report.flags, report.rejects = _findings(con, result.load_id, report.file)


def _load(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    config: Config,
    kind: str | None,
    force: bool,
    as_of: date | None,
    reports: list[FileReport],
) -> tuple[str | None, list[str]]:
    """The real load of the files, as one `crmtool load` would run it, into the scratch
    database. When it fails (it would write nothing), each file is then loaded on its own, in
    order, so every file still shows what it holds. Returns (the load's error, its notices)."""
    try:
        result = ingest.load(con, files, config, kind=kind, force=force, as_of=as_of)
    except CrmError as e:
        error = str(e)
    else:
        for report in reports:
            _apply(con, result, report)
        return None, list(result.notices)
    notices: list[str] = []
    for path, report in zip(files, reports, strict=True):
        try:
            alone = ingest.load(con, [path], config, kind=kind, force=force, as_of=as_of)
        except CrmError as e:
            report.load_error = str(e)
            continue
        report.alone = len(files) > 1
        _apply(con, alone, report)
        notices += alone.notices
    return error, notices


def _earlier(con: duckdb.DuckDBPyConnection, path: Path, report: FileReport) -> None:
    """A file whose bytes were loaded before: the counts, flags and rejects recorded then."""
    rows = con.execute(
        "SELECT load_id, file, sheet, read, loaded, duplicates, rejected "
        "FROM loads WHERE sha256 = ? ORDER BY load_id, file",
        [ingest.sha256(path)],
    ).fetchall()
    if not rows or not _attached(con):
        return
    load_id, file = rows[0][0], rows[0][1]
    report.earlier = {"load_id": int(load_id), "file": str(file)}
    for sheet, row in zip(report.sheets, rows, strict=False):
        sheet.earlier = dict(
            zip(("read", "loaded", "duplicates", "rejected"), map(int, row[3:]), strict=True)
        )
    report.flags, report.rejects = _findings(con, load_id, file, "crm_live.")


def _attached(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        ingest._count(
            con, "SELECT count(*) FROM duckdb_databases() WHERE database_name = 'crm_live'"
        )
    )


def inspect(
    paths: Iterable[str | os.PathLike[str]],
    config: Config,
    *,
    database: str | os.PathLike[str] | None = None,
    kind: str | None = None,
    force: bool = False,
    as_of: date | None = None,
    wait: float = 0.0,
) -> Report:
    """Inspect files and folders as `crmtool load` would take them; writes nothing."""
    if kind is not None and kind not in schema.TABLES:
        raise CrmError(f"unknown kind '{kind}'; one of: {', '.join(schema.TABLES)}")
    files = ingest.expand(paths)
    con, target, exists = scratch(database, wait)
    try:
        recognise = ingest.recogniser(config, kind)
        out = []
        for path in files:
            report = FileReport(str(path))
            parsers.install(con, config)
            try:
                sheets = readers.read_file(con, path, recognise=recognise, strict=False)
                for sheet in sheets:
                    if isinstance(sheet, readers.Unread):  # the load line says what happens
                        con.execute(f"DROP TABLE IF EXISTS {sheet.table}")
                        if all(isinstance(s, readers.Unread) for s in sheets):
                            report.error = f"{path}: {sheet.message}"
                        continue
                    try:
                        report.sheets.append(sheet_report(con, sheet, config, kind))
                    finally:
                        con.execute(f"DROP TABLE IF EXISTS {sheet.table}")
            except CrmError as e:
                report.error = str(e)
            except duckdb.InterruptException:
                raise KeyboardInterrupt from None
            except duckdb.Error as e:
                report.error = f"{path}: {str(e).splitlines()[0]}"
            out.append(report)
        error, notices = _load(con, files, config, kind, force, as_of, out)
        own = ", ".join(literal(d) for d in config.dealer_group)
        own_orders = ingest._count(
            con, f"SELECT count(*) FROM repair_orders WHERE dealer_code IN ({own})"
        )
    finally:
        if _attached(con):
            con.execute("DETACH crm_live")
        con.close()
    return Report(target, exists, out, list(config.dealer_group), own_orders, error, notices)
