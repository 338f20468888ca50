"""The shared facts every rule builds on (rules §2), as DuckDB temp views and table macros.

- ro:            repair orders with is_own (dealer is ours) and is_visit_type (not pds/internal)
- visits:        one row per (vin, day, is_own): a visit; own rows carry is_paid and paid_amount
                 (DECIMAL: money is summed exactly, to the fen, whatever the order of the sum)
- other_visits:  one row per (vin, day, dealer_code) at another dealer
- sold_by_us:    vehicles sold by us (channel own or secondary) with their sale_date
- ours(x):       vehicles ours at day x (latest sale by us or own visit ≤ x and no more than
                 `ours_days` before x): `ours_sql(cfg, "$as_of")` in rule SQL (portable), the
                 table macro ours(x) on DuckDB for other queries
- counted(x):    the vehicles counted at day x (tiers, status, summary, report, segment --by):
                 ours(x) without the scrapped and transferred ones (GONE): `counted_sql`

Call install(con, config) once per connection (a DuckDB connection or an engine.Engine)
before running any rule.
"""

from __future__ import annotations

import hashlib
import itertools
import weakref
from typing import Any

import duckdb

from . import engine
from .codes import GONE
from .config import Config
from .sqltext import in_list


def _replace(
    con: duckdb.DuckDBPyConnection, name: str, query: str, kind: str, params: list | None = None
) -> None:
    """CREATE OR REPLACE TEMP VIEW or TABLE `name`, whichever kind stood there before."""
    _drop_temp(con, name)
    con.execute(f"CREATE TEMP {kind} {name} AS {query}", params)


def keyed(table: str, key: str, n: int) -> str:
    """A condition on `table`'s rows whose `key` is one of n values (n `?` parameters),
    through their row ids: the inner scan reads the key column alone and skips the row groups
    whose key range holds none of the values (min/max statistics), the outer one fetches only
    the row groups that hold a match (a few vehicles' rows out of millions, no index)."""
    marks = ", ".join("?" * n) or "NULL"
    return f"rowid IN (SELECT rowid FROM {table} WHERE {key} IN ({marks}))"


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temp view or table `name`, if there is one."""
    for (old,) in con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? UNION ALL "
        "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [name, name],
    ).fetchall():
        con.execute(f"DROP {old} temp.{name}")


def round_exact(expr: str, places: int = 2) -> str:
    """`expr` rounded half up to `places` decimals through DECIMAL, as DOUBLE: the one place
    money and other shown figures are rounded, so DuckDB and Spark agree to the fen. (Their
    round() of a DOUBLE differ at half cents: DuckDB rounds the binary value, 629.005 →
    629.00, Spark its shortest decimal form, → 629.01; docs/rules.md §22 "Spark".)"""
    return f"CAST(round(CAST({expr} AS DECIMAL(38, 6)), {int(places)}) AS DOUBLE)"


def ours_sql(config: Config, day: str, vins: str | None = None) -> str:
    """The vehicles ours at `day` (a parameter such as $as_of) as a query (vin, last_event);
    `vins`: a query of vins, only those (a vehicle's own events decide), as rates_sql."""
    only = f" AND vin IN ({vins})" if vins else ""
    return f"""
        SELECT vin, last_event FROM (
            SELECT vin, max(day) AS last_event FROM (
                SELECT vin, sale_date AS day FROM sold_by_us WHERE sale_date <= {day}{only}
                UNION ALL
                SELECT vin, day FROM visits WHERE is_own AND day <= {day}{only}) ours_events
            GROUP BY vin) ours_last
        WHERE last_event >= {day} - {int(config.ours_days)}"""


# The condition that keeps the counted vehicles among rows that are the vehicles ours at a
# day (a rule's result per vehicle ours: tiers, status, forecast scores), without computing
# ours a second time: not scrapped or transferred.
NOT_GONE = f"""vin IS NOT NULL AND vin NOT IN (SELECT vin FROM vehicles
              WHERE vehicle_status IN {in_list(GONE)} AND vin IS NOT NULL)"""


def counted_sql(config: Config, day: str) -> str:
    """The vehicles counted at `day`: ours without the scrapped and transferred ones."""
    return f"""
        SELECT vin, last_event FROM ({ours_sql(config, day)}) ours_at WHERE {NOT_GONE}"""


def is_snapshot(con: duckdb.DuckDBPyConnection) -> bool:
    """Facts are installed as a snapshot (temp tables) on this connection."""
    return _snapshot(con)


def _snapshot(con: duckdb.DuckDBPyConnection) -> bool:
    if engine.is_spark(con):
        return bool(getattr(con, "snapshot", False))
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'visits' "
            "AND (temporary OR database_name = ?)",
            [_snapshot_db(con)],
        ).fetchall()[0][0]
    )


_SNAPSHOT_NAMES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_SNAPSHOT_COUNT = itertools.count(1)


def _snapshot_db(con: duckdb.DuckDBPyConnection) -> str:
    """The name of this connection's snapshot database: an attached database is seen by every
    connection of the DuckDB instance (two connections to one file in a process share it),
    while the temp views reading it belong to one connection, so each has its own."""
    name = _SNAPSHOT_NAMES.get(con)
    if name is None:
        name = _SNAPSHOT_NAMES[con] = f"crm_snapshot_{next(_SNAPSHOT_COUNT)}"
    return name


ROWS_PER_PART = 3_000_000  # repair orders aggregated at a time into the snapshot


def _snapshot_tables(con: duckdb.DuckDBPyConnection) -> None:
    """visits and other_visits computed once for the run, as tables of an in-memory database
    that DuckDB compresses (about a quarter of an uncompressed temp table: at 10M repair
    orders 116 MB instead of 480 MB), built a slice of the vehicles at a time so that the
    aggregation never holds the whole fleet's hash table; temp views of the same names
    read them."""
    snap = _snapshot_db(con)
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {snap} (COMPRESS, READ_WRITE)")
    rows = con.execute("SELECT count(*) FROM repair_orders").fetchall()[0][0]
    parts = max(1, -(-rows // ROWS_PER_PART))
    for name, sql in (("visits", VISITS_SQL), ("other_visits", OTHER_VISITS_SQL)):
        _drop_temp(con, name)
        target = f"{snap}.main.{name}"
        con.execute(f"DROP TABLE IF EXISTS {target}")
        for part in range(parts):  # VISITS_SQL and OTHER_VISITS_SQL read `FROM ro` once
            sliced = f"SELECT * FROM ro WHERE hash(vin) % {parts} = {part}"
            query = sql.replace("FROM ro", f"FROM ({sliced}) ro_part")
            verb = f"CREATE TABLE {target} AS" if part == 0 else f"INSERT INTO {target}"
            con.execute(f"{verb} {query}")
            con.execute(f"CHECKPOINT {snap}")  # compressed now: memory for the next slice
        con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {target}")


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Let go of the snapshot's tables and the rules' results kept with it, for a command
    whose analyses are done and whose list is still to be filtered and written (their memory
    goes back before the list's copies are made); the facts are views again."""
    if engine.is_spark(con):
        return
    _drop_rule_results(con)
    _drop_snapshot(con)
    _replace(con, "visits", VISITS_SQL, "VIEW")
    _replace(con, "other_visits", OTHER_VISITS_SQL, "VIEW")
    evict(con)


def evict(con: duckdb.DuckDBPyConnection) -> None:
    """Give back the blocks DuckDB keeps cached from earlier queries (base tables read, spilled
    and freed buffers) before a step whose peak counts (a list's last join and its copies):
    lowering the limit evicts them; the limit is restored, and a buffer that cannot go yet
    just stays. At 10M orders the forecast's peak falls from 1.58 to about 1.4 GB."""
    if engine.is_spark(con):
        return
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    try:
        con.execute("SET memory_limit = '64MB'")
    except duckdb.Error:
        pass
    finally:
        con.execute(f"SET memory_limit = '{limit}'")


def _drop_rule_results(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the rules' results kept under a snapshot (`rule_source`, the forecast's fit)."""
    for database, schema, name in con.execute(
        "SELECT database_name, schema_name, table_name FROM duckdb_tables() "
        "WHERE (temporary OR database_name = ?) AND starts_with(table_name, '_rule_')",
        [_snapshot_db(con)],
    ).fetchall():
        con.execute(f'DROP TABLE "{database}"."{schema}"."{name}"')


def _drop_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the snapshot of an earlier install on this connection, with its memory."""
    con.execute(f"DETACH DATABASE IF EXISTS {_snapshot_db(con)}")


def rule_source(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """A rule's query (e.g. the tiers at as_of) as a FROM item with the parameters the outer
    query needs. Under a snapshot it is computed once into a table of the snapshot's
    database (compressed), shared by every analysis of the run; else it is the query itself,
    recomputed each time."""
    if not _snapshot(con):
        return f"({sql})", params
    key = hashlib.sha1((sql + repr(sorted(params.items()))).encode()).hexdigest()[:16]
    name = f"_rule_{key}"
    if engine.is_spark(con):
        eng = engine.of(con)
        if not eng.exists(name):
            eng.stage(name, sql, params, table=True)
        return name, {}
    snap = _snapshot_db(con)
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
        [snap, name],
    ).fetchall()[0][0]:
        con.execute(f"CREATE TABLE {snap}.main.{name} AS {sql}", params)
        con.execute(f"CHECKPOINT {snap}")
    return f"{snap}.main.{name}", {}


def last_advisor_sql(until: str | None = "as_of") -> str:
    """Per vehicle, the service advisor of its latest own repair order (settled up to the
    bind parameter named `until`, $as_of by default; None: every order; same day: the highest
    ro_id), with that order's (day, ro_id) as `latest`, to compare the vehicles of one
    customer."""
    upto = f"AND settle_date <= ${until}" if until else ""
    return f"""
        SELECT vin, max({{'d': settle_date, 'id': ro_id}}) AS latest,
               arg_max(advisor, {{'d': settle_date, 'id': ro_id}}) AS last_advisor
        FROM ro WHERE is_own AND advisor IS NOT NULL {upto}
        GROUP BY vin
    """


def install(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    snapshot: bool = False,
    vins: list[str] | None = None,
) -> None:
    """Create the facts on a connection. With snapshot, visits and other_visits are computed
    once into temp tables (for a run of many analyses over data that does not change, such as
    the summary and the report), and so are the rules' results (`rule_source`); else they are
    views that follow the data. With `vins`, the facts hold only those vehicles' repair orders
    and sales: every per-vehicle rule then answers for them alone, at the cost of their rows
    instead of the fleet's (the customer card of `find`); `vehicles` and `customers` then
    hold those vehicles and their owners."""
    if engine.is_spark(con):
        _install_engine(engine.of(con), config, snapshot)
        return
    kind = "TABLE" if snapshot else "VIEW"
    _drop_rule_results(con)
    scope = ""
    for shadowed in ("vehicles", "customers"):
        _drop_temp(con, shadowed)
    keys = sorted(set(vins or ()))
    if vins is not None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _scope AS SELECT DISTINCT unnest(?::VARCHAR[]) AS vin",
            [keys],
        )
        scope = "WHERE vin IN (SELECT vin FROM _scope)"
        # the rules read `vehicles` and `customers` by name: in the temp schema, searched
        # first, they are the scoped vehicles and their owners until the next install (each
        # read once, not scanned per rule)
        store = con.execute("SELECT current_database()").fetchall()[0][0]
        vehicles = f'"{store}".main.vehicles'
        con.execute(
            f"CREATE TEMP TABLE vehicles AS SELECT * FROM {vehicles} "
            f"WHERE {keyed(vehicles, 'vin', len(keys))}",
            keys,
        )
        owners = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT customer_id FROM temp.vehicles WHERE customer_id IS NOT NULL "
                "ORDER BY 1"
            ).fetchall()
        ]
        customers = f'"{store}".main.customers'
        con.execute(
            f"CREATE TEMP TABLE customers AS SELECT * FROM {customers} "
            f"WHERE {keyed(customers, 'customer_id', len(owners))}",
            owners,
        )
    # scoped: the few vehicles' orders are read once into a table, not scanned per rule
    _replace(
        con,
        "ro",
        f"""{_ro_sql(config)}
        {"WHERE r." + keyed("repair_orders", "vin", len(keys)) if scope else ""}
    """,
        "TABLE" if scope else "VIEW",
        keys if scope else None,
    )
    if snapshot and not scope:
        _snapshot_tables(con)
    else:
        _drop_snapshot(con)
        _replace(con, "visits", VISITS_SQL, kind)
        _replace(con, "other_visits", OTHER_VISITS_SQL, kind)
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW sold_by_us AS {SOLD_BY_US_SQL}
              {scope.replace("WHERE", "AND")}
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO ours(x) AS TABLE
        WITH events AS (
            SELECT vin, sale_date AS day FROM sold_by_us WHERE sale_date <= x
            UNION ALL
            SELECT vin, day FROM visits WHERE is_own AND day <= x
        )
        SELECT * FROM (SELECT vin, max(day) AS last_event FROM events GROUP BY vin)
        WHERE last_event >= CAST(x AS DATE) - {int(config.ours_days)}
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO counted(x) AS TABLE
        SELECT * FROM ours(x)
        WHERE vin NOT IN (SELECT vin FROM vehicles WHERE vehicle_status IN {in_list(GONE)})
    """)


def _ro_sql(config: Config) -> str:
    own, excludes = in_list(config.own_dealers), in_list(config.visit_excludes)
    return f"""
        SELECT r.*,
               coalesce(r.dealer_code IN {own}, true) AS is_own,
               coalesce(r.ro_type NOT IN {excludes}, true) AS is_visit_type,
               (r.payer = 'customer' AND r.total_amount > 0) AS is_customer_paid
        FROM repair_orders r"""


VISITS_SQL = """
    SELECT vin, settle_date AS day, is_own,
           is_own AND bool_or(is_customer_paid) AS is_paid,
           CAST(CASE WHEN is_own THEN sum(CASE WHEN is_customer_paid
                                           THEN CAST(total_amount AS DECIMAL(18, 2)) ELSE 0 END)
                     ELSE 0 END AS DECIMAL(18, 2)) AS paid_amount,
           CAST(CASE WHEN is_own THEN sum(CASE WHEN payer = 'customer'
                                           THEN CAST(total_amount AS DECIMAL(18, 2)) END)
                     END AS DECIMAL(18, 2)) AS paid_net
    FROM ro
    WHERE is_visit_type
    GROUP BY vin, settle_date, is_own"""

OTHER_VISITS_SQL = """
    SELECT DISTINCT vin, settle_date AS day, dealer_code
    FROM ro
    WHERE is_visit_type AND NOT is_own"""

SOLD_BY_US_SQL = """
    SELECT vin, sale_date, sale_channel, outlet
    FROM vehicles
    WHERE sale_channel IN ('own', 'secondary') AND sale_date IS NOT NULL"""


def _install_engine(eng: engine.Engine, config: Config, snapshot: bool) -> None:
    """The facts on an engine other than the embedded store (Spark): views over the maker's
    tables; with snapshot, visits and other_visits cached once for the run."""
    for name in eng.temp_names("_rule_"):
        eng.drop(name)
    eng.stage("ro", _ro_sql(config))
    eng.stage("visits", VISITS_SQL, table=snapshot)
    eng.stage("other_visits", OTHER_VISITS_SQL, table=snapshot)
    eng.stage("sold_by_us", SOLD_BY_US_SQL)
    eng.snapshot = snapshot  # type: ignore[attr-defined]
