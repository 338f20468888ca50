"""Loads you can see and undo (docs/rules.md 'Loads and unload'): `crmtool loads` and
`crmtool unload`.

Before a load changes or deletes rows that were there before it, ingest calls `keep()`: one
INSERT … SELECT copies those rows, as they were before this load, into `history_<table>` with the
load's id in `_replaced_by` (once per key and load; rows the load wrote itself need no copy).
Undoing load L then is exact: delete every row L wrote (`_load_id = L`) or changed (a key kept
for L), insert back the versions kept for L, and delete L's rejects, flags and loads rows.
`forget` purges the person from these tables too, so an undo never brings them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from .. import schema
from ..errors import UsageError
from ..sqltext import ident

TABLES = tuple(schema.TABLES)  # the canonical tables a load writes


def columns(table: str) -> list[str]:
    """The stored columns of a canonical table with its provenance columns."""
    return [f.name for f in schema.stored_fields(table)] + ["_file", "_line", "_load_id"]


def _key_match(table: str, a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in schema.KEYS[table])


def keep(con: duckdb.DuckDBPyConnection, table: str, load_id: int, where: str) -> None:
    """Before load `load_id` changes or deletes the rows of `table` that match `where` (SQL
    over the alias `t`, without parameters): keep their present versions for an undo. Rows
    this load wrote, and keys already kept for it, are skipped (the version from before the
    load is kept once)."""
    cols = columns(table)
    names = ", ".join(ident(c) for c in cols)
    sel = ", ".join(f"t.{ident(c)}" for c in cols)
    con.execute(
        f"INSERT INTO history_{table} ({names}, _replaced_by) SELECT {sel}, $load FROM {table} t "
        f"WHERE ({where}) AND t._load_id IS DISTINCT FROM $load AND NOT EXISTS (SELECT 1 FROM "
        f"history_{table} h WHERE h._replaced_by = $load AND {_key_match(table, 'h', 't')})",
        {"load": load_id},
    )


# ---------------------------------------------------------------- listing


LOADS_SQL = """
    SELECT load_id, strftime(min(loaded_at), '%Y-%m-%d %H:%M:%S') AS loaded_at,
           string_agg(DISTINCT file, ', ' ORDER BY file) AS files,
           string_agg(DISTINCT kind, ', ' ORDER BY kind) AS kinds,
           sum(read) AS read, sum(loaded) AS loaded, sum(duplicates) AS duplicates,
           sum(rejected) AS rejected
    FROM loads GROUP BY load_id ORDER BY load_id"""

FILES_SQL = """
    SELECT load_id, strftime(loaded_at, '%Y-%m-%d %H:%M:%S') AS loaded_at, file, sheet,
           kind, read, loaded, duplicates, rejected
    FROM loads ORDER BY load_id, file, sheet"""


def load_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The ids of the recorded loads, oldest first."""
    return [
        int(r[0]) for r in con.execute("SELECT DISTINCT load_id FROM loads ORDER BY 1").fetchall()
    ]


# ---------------------------------------------------------------- undo


@dataclass
class Undone:
    """What an unload did: per undone load (newest first), rows removed and restored."""

    load_ids: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    removed: int = 0  # rows the loads had added
    restored: int = 0  # rows they had replaced or changed, back as they were
    rejects: int = 0
    flags: int = 0

    def describe(self) -> str:
        ids = ", ".join(map(str, self.load_ids))
        return (
            f"unloaded load {ids} ({len(self.files)} file(s)): removed {self.removed} "
            f"row(s) it added, restored {self.restored} row(s) it replaced; "
            f"{self.rejects} reject(s) and {self.flags} flag(s) removed"
        )


def plan(con: duckdb.DuckDBPyConnection, load_id: int, *, and_later: bool) -> list[int]:
    """The loads `unload load_id` undoes, newest first. Usage errors (exit 2): no such load;
    a load made before history was kept; later loads without `and_later`."""
    ids = load_ids(con)
    if load_id not in ids:
        known = f"loads are {ids[0]}…{ids[-1]}" if ids else "nothing has been loaded"
        raise UsageError(f"no load {load_id}; {known} (`crmtool loads` lists them)")
    later = [i for i in ids if i > load_id]
    if later and not and_later:
        them = "them" if len(later) > 1 else "it"
        raise UsageError(
            f"load {load_id} is not the latest: load {', '.join(map(str, later))} "
            f"came after it; pass --and-later to undo {them} too"
        )
    since = con.execute("SELECT min(load_id) FROM undo_since").fetchall()[0][0]
    if since is not None and load_id < since:
        raise UsageError(
            f"load {load_id} was made before crmtool kept what loads replace "
            f"(loads from {since} on can be undone); it cannot be undone exactly"
        )
    return sorted([load_id, *later], reverse=True)


def unload(con: duckdb.DuckDBPyConnection, load_id: int, *, and_later: bool = False) -> Undone:
    """Undo load `load_id` (and, with `and_later`, every later one) in one transaction."""
    todo = plan(con, load_id, and_later=and_later)
    out = Undone(load_ids=todo)
    con.execute("BEGIN TRANSACTION")
    try:
        for lid in todo:
            _undo_one(con, lid, out)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return out


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict) -> int:
    return int(con.execute(sql, params).fetchall()[0][0])


def _undo_one(con: duckdb.DuckDBPyConnection, lid: int, out: Undone) -> None:
    out.files += [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT file FROM loads WHERE load_id = ? ORDER BY 1", [lid]
        ).fetchall()
    ]
    for t in TABLES:
        hist = f"history_{t}"
        kept = (
            f"EXISTS (SELECT 1 FROM {hist} h WHERE h._replaced_by = $l AND {_key_match(t, 'h', t)})"
        )
        restored = _count(con, f"SELECT count(*) FROM {hist} WHERE _replaced_by = ?", [lid])
        added = _count(
            con, f"SELECT count(*) FROM {t} WHERE _load_id = $l AND NOT {kept}", {"l": lid}
        )
        con.execute(f"DELETE FROM {t} WHERE _load_id = $l OR {kept}", {"l": lid})
        names = ", ".join(ident(c) for c in columns(t))
        con.execute(
            f"INSERT INTO {t} ({names}) SELECT {names} FROM {hist} WHERE _replaced_by = ?", [lid]
        )
        con.execute(f"DELETE FROM {hist} WHERE _replaced_by = ?", [lid])
        out.removed += added
        out.restored += restored
    for t in ("rejects", "flags"):
        n = _count(con, f"SELECT count(*) FROM {t} WHERE load_id = ?", [lid])
        setattr(out, t, getattr(out, t) + n)
        con.execute(f"DELETE FROM {t} WHERE load_id = ?", [lid])
    con.execute("DELETE FROM loads WHERE load_id = ?", [lid])
