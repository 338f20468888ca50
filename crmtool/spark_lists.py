"""Call lists written by Spark itself (docs/rules.md §22 "Spark lists"; issue 19).

With `--engine spark` a list bound for Parquet (`-o DIR`, `--format parquet`) or a catalog
table (`--spark-table`) never reaches the driver: the list's query (engine.ListQuery) is
filtered, suppressed (a SQL anti-join on the contacts staged from the DuckDB store), shaped
(--where/--sort/--columns/--limit, in that order, as crmtool/output/formats.shape does),
masked and written by the SparkSession. Rows, columns and order are those of the DuckDB list:
the kept rows sorted by --sort (nulls last), ties in the list's own order.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from .engine import ListQuery
from .errors import CrmError, UsageError
from .output import where as where_mod
from .output.atomic import held_signals
from .output.pii import is_name_column, is_phone_column

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from .spark_engine import SparkEngine

CONTACTS_VIEW = "_crm_contacts"
# the contact columns suppression reads (crmtool/suppression.py), with their Spark types
CONTACT_COLUMNS = (
    ("contact_id", "STRING"),
    ("contact_date", "DATE"),
    ("customer_id", "STRING"),
    ("phone", "STRING"),
    ("vin", "STRING"),
    ("do_not_contact", "BOOLEAN"),
    ("result", "STRING"),
)
REASONS = ("do_not_contact", "wrong_number", "recent")
_ID_COLUMNS = {"vin", "plate", "engine_no", "dealer_code", "customer_id", "id"}
_ID_SUFFIXES = ("_id", "_vin", "_plate", "_code", "_no")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Target:
    """Where the list goes: a Parquet folder (a local path or a URL such as hdfs://, s3a://)
    or a catalog table (saveAsTable)."""

    path: str | None = None
    table: str | None = None

    def __str__(self) -> str:
        return self.path if self.path is not None else f"table {self.table}"


@dataclass(frozen=True)
class Shape:
    """The output flags of a list (as in crmtool/cli/options.ListOutput)."""

    where: str | None = None
    columns: Sequence[str] = ()
    sort: Sequence[str] = ()
    limit: int | None = None
    mask: bool = False


@dataclass
class Written:
    """What a Spark-written list held: its rows, the vehicles left out (scrapped /
    transferred) and the rows suppressed per reason."""

    rows: int
    left_out: int
    suppressed: dict[str, int] = field(default_factory=dict)


def q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def spark_order(order_by: str) -> str:
    """The list's ORDER BY (DuckDB, qualifiers l./c. naming its columns) as Spark SQL over the
    list's own column names, DuckDB's NULLS LAST made explicit."""
    tree = sqlglot.parse_one(f"SELECT 1 FROM _l ORDER BY {order_by}", read="duckdb")
    for col in tree.find_all(exp.Column):
        col.set("table", None)
    order = tree.args["order"]
    return sqlglot.transpile(f"SELECT 1 FROM _l {order.sql('duckdb')}", "duckdb", "spark")[0].split(
        " ORDER BY ", 1
    )[1]


def stage_contacts(eng: SparkEngine, rows: Sequence[tuple[Any, ...]]) -> None:
    """The store's contacts (small: calls and visits of the dealers' staff) as a temp view of
    the session, for the anti-join."""
    schema = ", ".join(f"{n} {t}" for n, t in CONTACT_COLUMNS)
    eng.spark.createDataFrame(list(rows), schema).createOrReplaceTempView(CONTACTS_VIEW)


def _reasons_sql(cols: set[str], as_of: date, recent_from: date, include_recent: bool) -> str:
    """Per (customer_id, phone, vin) of the list, the reason it is suppressed — the rule of
    crmtool/suppression.py (latest do-not-contact answer, latest result of the phone, a contact
    since recent_from), written in Spark SQL."""

    def col(name: str) -> str:
        return f"CAST({q(name)} AS STRING)" if name in cols else "CAST(NULL AS STRING)"

    recent = "NULL" if include_recent else "'recent'"
    picks = " UNION ".join(
        f"SELECT k.customer_id AS kc, k.phone AS kp, k.vin AS kv, c.contact_id, c.d, "
        f"c.do_not_contact FROM _k k JOIN _c c ON k.{key} = c.{key}"
        for key in ("customer_id", "phone", "vin")
    )
    return f"""
        WITH _k AS (SELECT DISTINCT {col("customer_id")} AS customer_id, {col("phone")} AS phone,
                           {col("vin")} AS vin FROM _crm_kept),
        _c AS (SELECT *, coalesce(contact_date, DATE '1900-01-01') AS d FROM {CONTACTS_VIEW}
               WHERE contact_date IS NULL OR contact_date <= DATE '{as_of.isoformat()}'),
        _m AS ({picks}),
        _per AS (SELECT kc, kp, kv,
                        max_by(do_not_contact, struct(d, contact_id))
                            FILTER (WHERE do_not_contact IS NOT NULL) AS dnc,
                        max(d) AS last_contact
                 FROM _m GROUP BY kc, kp, kv),
        _w AS (SELECT phone, max_by(result, struct(d, contact_id)) AS last_result
               FROM _c WHERE result IS NOT NULL AND phone IS NOT NULL GROUP BY phone)
        SELECT _k.customer_id AS _sk_c, _k.phone AS _sk_p, _k.vin AS _sk_v, CASE
            WHEN coalesce(_per.dnc, false) THEN 'do_not_contact'
            WHEN _w.last_result = 'wrong_number' THEN 'wrong_number'
            WHEN _per.last_contact >= DATE '{recent_from.isoformat()}' THEN {recent} END
            AS _reason
        FROM _k LEFT JOIN _per
            ON _k.customer_id <=> _per.kc AND _k.phone <=> _per.kp AND _k.vin <=> _per.kv
        LEFT JOIN _w ON _k.phone = _w.phone
    """


def _unknown(flag: str, name: str, cols: Sequence[str]) -> UsageError:
    return UsageError(f"{flag}: unknown column '{name}'; columns are: {', '.join(cols)}")


def _shaped_sql(cols: list[str], order: str, shape: Shape) -> tuple[str, list[str]]:
    """The --where/--sort/--columns/--limit of a list over _crm_listed, and its columns."""
    lower = {c.lower() for c in cols}
    sql = f"SELECT {', '.join(q(c) for c in cols)} FROM _crm_listed"
    if shape.where and shape.where.strip():
        cond = where_mod.parse(shape.where)
        for name in cond.columns:
            if name.lower() not in lower:
                raise _unknown("--where", name, cols)
        sql += f" WHERE {where_mod.render_sql(cond, 'spark')}"
    keys = []
    for item in shape.sort:
        name = item.strip()
        desc = name.startswith("-")
        name = name.lstrip("-+").strip()
        if name not in cols:
            raise _unknown("--sort", name, cols)
        keys.append(f"{q(name)} {'DESC' if desc else 'ASC'} NULLS LAST")
    sql += f" ORDER BY {', '.join([*keys, order])}"
    chosen = cols
    if shape.columns:
        for name in shape.columns:
            if name not in cols:
                raise _unknown("--columns", name, cols)
        chosen = list(dict.fromkeys(shape.columns))
    if shape.limit is not None:
        if shape.limit < 0:
            raise UsageError("--limit must be 0 or more")
        sql += f" LIMIT {int(shape.limit)}"
    return f"SELECT {', '.join(q(c) for c in chosen)} FROM ({sql}) _crm_shaped", chosen


def _masked(eng: SparkEngine, df: DataFrame) -> DataFrame:
    """--mask-pii by crmtool's own masks (crmtool/output/pii.py) as Python UDFs: phone and name
    columns, and mobile numbers inside other text (executors need crmtool installed)."""
    from pyspark.sql import functions as F

    from .output import pii

    def udf(mask: Any) -> Any:  # plain pickled UDFs: no pandas needed on the executors
        return F.udf(lambda v: mask(v), "string", useArrow=False)  # noqa: PLW0108 - untyped

    phone, name, text = udf(pii.mask_phone), udf(pii.mask_name), udf(pii.mask_phones_in)
    out = []
    for col, kind in df.dtypes:
        c = F.col(q(col))
        if is_phone_column(col):
            out.append(phone(c.cast("string")).alias(col))
        elif is_name_column(col):
            out.append(name(c.cast("string")).alias(col))
        elif kind == "string" and col not in _ID_COLUMNS and not col.endswith(_ID_SUFFIXES):
            out.append(text(c).alias(col))
        else:
            out.append(c)
    return df.select(*out)


def _is_local(eng: SparkEngine, path: str) -> bool:
    """A path on this machine's disk: a file: URL, or a plain path with a local master."""
    if path.startswith("file:"):
        return True
    return not _SCHEME.match(path) and eng.spark.sparkContext.master.startswith("local")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _write_local(df: DataFrame, final: Path) -> None:
    """Write to a sibling temp folder, then swap it in: a reader sees the old list or the new
    one, never a half-written folder; a failure leaves the old list as it was."""
    final = final.absolute()
    if not final.parent.is_dir():
        raise CrmError(f"output folder does not exist: {final.parent}")
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = final.parent / f".{final.name}.crmtool-{tag}"
    old = final.parent / f".{final.name}.crmtool-{tag}.old"
    try:
        df.write.mode("overwrite").parquet(tmp.as_uri())
        with held_signals():
            if final.exists() or final.is_symlink():
                final.rename(old)
            tmp.rename(final)
    finally:
        with held_signals():
            if old.exists() and not final.exists():  # the swap failed half way: undo it
                old.rename(final)
            for leftover in (tmp, old):
                if leftover.exists():
                    _remove(leftover)


def write_list(
    eng: SparkEngine,
    query: ListQuery,
    target: Target,
    *,
    filters: Sequence[str] = (),
    shape: Shape = Shape(),
    suppress: bool = False,
    as_of: date | None = None,
    recent_days: int = 7,
    include_recent: bool = False,
) -> Written:
    """Write the list of `query` (its rows with _gone false, `filters` — DuckDB conditions over
    its columns — applied) to `target`; with `suppress`, rows the contacts staged by
    stage_contacts suppress are left out and counted per reason."""
    spark = eng.spark
    base = eng.sql(query.sql, query.params)
    cols = [c for c in base.columns if c != "_gone"]
    cached = [base.persist()]  # counted, judged and written: run the rule query once
    try:
        base.createOrReplaceTempView("_crm_all")
        left_out = int(spark.sql("SELECT count(*) FROM _crm_all WHERE _gone").collect()[0][0])
        conds = ["NOT _gone"] + [
            sqlglot.transpile(f, read="duckdb", write="spark")[0] for f in filters
        ]
        spark.sql(
            f"SELECT {', '.join(q(c) for c in cols)} FROM _crm_all WHERE "
            + " AND ".join(f"({c})" for c in conds)
        ).createOrReplaceTempView("_crm_kept")
        suppressed = {r: 0 for r in REASONS}
        if suppress:
            day = as_of or date.today()
            recent_from = day - timedelta(days=max(recent_days, 0) - 1)
            reasons = _reasons_sql(set(cols), day, recent_from, include_recent)

            def key(c: str) -> str:
                return f"CAST(l.{q(c)} AS STRING)" if c in cols else "CAST(NULL AS STRING)"

            judged = spark.sql(
                f"SELECT l.*, r._reason FROM _crm_kept l LEFT JOIN ({reasons}) r "
                f"ON {key('customer_id')} <=> r._sk_c AND {key('phone')} <=> r._sk_p "
                f"AND {key('vin')} <=> r._sk_v"
            ).persist()  # counted and written
            cached.append(judged)
            judged.createOrReplaceTempView("_crm_judged")
            for reason, n in spark.sql(
                "SELECT _reason, count(*) FROM _crm_judged WHERE _reason IS NOT NULL "
                "GROUP BY _reason"
            ).collect():
                suppressed[reason] = int(n)
            listed = (
                f"SELECT {', '.join(q(c) for c in cols)} FROM _crm_judged WHERE _reason IS NULL"
            )
        else:
            listed = "SELECT * FROM _crm_kept"
        spark.sql(listed).createOrReplaceTempView("_crm_listed")
        sql, _ = _shaped_sql(cols, spark_order(query.order_by), shape)
        out = spark.sql(sql)
        if shape.mask:
            out = _masked(eng, out)
        rows = _write(eng, out, target)
    finally:
        for view in ("_crm_judged", "_crm_listed", "_crm_kept", "_crm_all"):
            if spark.catalog.tableExists(view):
                spark.catalog.dropTempView(view)
        for df in cached:
            df.unpersist()
    return Written(rows, left_out, suppressed)


def _write(eng: SparkEngine, df: DataFrame, target: Target) -> int:
    """Write `df` to `target` (replacing what is there) and count its rows from what was
    written (Parquet footers: no second run of the query)."""
    spark = eng.spark
    if target.table is not None:
        df.write.mode("overwrite").saveAsTable(target.table)
        return int(spark.table(target.table).count())
    path = target.path or ""
    if _is_local(eng, path):
        final = Path(path.removeprefix("file://").removeprefix("file:"))
        _write_local(df, final)
        return int(spark.read.parquet(final.absolute().as_uri()).count())
    df.write.mode("overwrite").parquet(path)  # the file system's commit (docs/scale.md)
    return int(spark.read.parquet(path).count())


def contact_rows(con: Any) -> list[tuple[Any, ...]]:
    """The store's contacts in CONTACT_COLUMNS order (a DuckDB connection)."""
    cols = ", ".join(
        f"CAST({n} AS {'VARCHAR' if t == 'STRING' else t})" for n, t in CONTACT_COLUMNS
    )
    return [tuple(r) for r in con.execute(f"SELECT {cols} FROM contacts").fetchall()]


def filters_in(values: Mapping[str, Sequence[str]]) -> list[str]:
    """`column IN ('a', 'b')` conditions (DuckDB) for the list commands' value filters."""
    from .sqltext import in_list

    return [f'"{col}" IN {in_list(list(v))}' for col, v in values.items()]
