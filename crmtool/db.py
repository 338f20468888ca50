"""The embedded DuckDB store: where it is, opening it (with a clear message when another
process holds it), and its tables."""

from __future__ import annotations

import os
import time
from contextlib import suppress
from pathlib import Path

import duckdb

from .errors import CrmError, DatabaseLocked
from .schema import ddl

DEFAULT_DB = "crmtool.duckdb"


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--db PATH, else $CRMTOOL_DB, else ./crmtool.duckdb."""
    return Path(explicit or os.environ.get("CRMTOOL_DB") or DEFAULT_DB)


def _is_lock_error(e: Exception) -> bool:
    text = str(e).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    wait: float = 0.0,
    create: bool = True,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the database (":memory:" for a throwaway one) and make sure its tables exist.

    A database held by another process fails at once with DatabaseLocked, or after
    retrying for `wait` seconds. DuckDB's threads, memory_limit and temp_directory come from
    the arguments, else $CRMTOOL_THREADS, $CRMTOOL_MEMORY_LIMIT, $CRMTOOL_TEMP_DIRECTORY.
    """
    target = str(path) if str(path) == ":memory:" else str(db_path(path))
    if target != ":memory:":
        p = Path(target)
        if not p.exists() and (read_only or not create):
            raise CrmError(f"database {target} does not exist; run `crmtool load` first")
        if p.parent and not p.parent.exists():
            raise CrmError(f"folder of database {target} does not exist")
    config: dict[str, str | bool | int | float | list[str]] = {}
    threads = threads or int(os.environ.get("CRMTOOL_THREADS") or 0)
    memory_limit = memory_limit or os.environ.get("CRMTOOL_MEMORY_LIMIT")
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    if temp := os.environ.get("CRMTOOL_TEMP_DIRECTORY"):
        config["temp_directory"] = temp
    con = _open(target, read_only, config, wait)
    # DuckDB draws its progress bar on stdout for queries over 2 s: it would corrupt CSV output
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        for stmt in ddl():
            con.execute(stmt)
        if target != ":memory:":
            _clear_rebuilds(Path(target))
    return con


def _open(
    target: str,
    read_only: bool,
    config: dict[str, str | bool | int | float | list[str]],
    wait: float,
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, retrying for `wait` seconds while another process holds the file."""
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return duckdb.connect(target, read_only=read_only, config=config)
        except duckdb.Error as e:
            if not _is_lock_error(e):
                raise CrmError(f"cannot open database {target}: {str(e).splitlines()[0]}") from None
            if time.monotonic() >= deadline:
                raise DatabaseLocked(
                    f"database {target} is in use by another crmtool process; "
                    "try again later or pass --wait SECONDS"
                ) from None
            time.sleep(0.2)


def hold(path: str | os.PathLike[str], *, wait: float = 0.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection that only holds the database: other processes may read it, no
    process may write it until it is closed (load.swap)."""
    return _open(str(path), True, {}, wait)


REBUILD = ".{name}.rebuild-"  # the new file of a rebuild, beside the database


def _clear_rebuilds(path: Path) -> None:
    """Remove what a killed rebuild left (we hold the database's lock, so none is running)."""
    for leftover in path.parent.glob(REBUILD.format(name=path.name) + "*"):
        with suppress(OSError):
            leftover.unlink()


def rebuild(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str]) -> None:
    """Rewrite the database file from its live data and swap it in; closes `con`.

    Deleted rows stay in the bytes of a DuckDB file (freed blocks are reused, not wiped, and
    CHECKPOINT or VACUUM do not change that). `forget` needs them gone: CHECKPOINT (so no
    .wal is left), COPY FROM DATABASE into a new file in the same folder, fsync it, then
    os.replace it over the old one while `con` still holds the old file's lock, so no other
    crmtool opens the old file meanwhile; the old file is gone once `con` closes.
    """
    target = Path(path)
    new = target.with_name(REBUILD.format(name=target.name) + str(os.getpid()))
    try:
        con.execute("CHECKPOINT")
        with suppress(FileNotFoundError):
            new.unlink()
        (name,) = first_row(con, "SELECT current_database()")
        con.execute(f"ATTACH '{_sql_path(new)}' AS crm_rebuild")
        try:
            con.execute(f'COPY FROM DATABASE "{name}" TO crm_rebuild')
        finally:
            con.execute("DETACH crm_rebuild")
        fsync(new)
        if Path(str(new) + ".wal").exists():
            raise CrmError(f"rebuild of {target} left a .wal; the old file is kept")
        os.replace(new, target)
        fsync(target.parent)
    except BaseException:
        with suppress(OSError):
            new.unlink()
        raise
    finally:
        con.close()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple:
    """The first row of a query, with the result consumed (DuckDB 2 keeps a result open after
    fetchone(), and the connection refuses other work until it is finished)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else ()


def data_quality(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """read / loaded / duplicates / rejected summed over every recorded load (the summary's
    data_quality block)."""
    row = first_row(
        con,
        "SELECT coalesce(sum(read), 0), coalesce(sum(loaded), 0), "
        "coalesce(sum(duplicates), 0), coalesce(sum(rejected), 0) FROM loads",
    )
    return dict(zip(("read", "loaded", "duplicates", "rejected"), map(int, row), strict=True))
