"""Rules on Spark (docs/rules.md §22 "Spark"): a SparkSession as a crmtool Engine.

The maker's tables (repair_orders, vehicles, customers, dealers in canonical columns) are
temp views of the session: tables of a catalog database, or Parquet folders such as those
`crmtool export --parquet` writes. Each rule query is rewritten to Spark SQL
(crmtool/spark_sql.py) and run there; only results come back, as Arrow.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import Params
from .errors import CrmError, UsageError
from .schema import stored_fields
from .spark_sql import to_spark

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa
    from pyspark.sql import SparkSession

TABLES = ("repair_orders", "vehicles", "customers", "dealers")
LOG4J_ENV = "LOG4J_CONFIGURATION_FILE"  # log4j2's environment variable for its configuration


def session(
    master: str = "local[2]", app_name: str = "crmtool", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A SparkSession for the rules: UI off, few shuffle partitions on a local master, UTC,
    the legacy (non-ANSI) arithmetic of Spark 3.x that DuckDB's NULL on x / 0 matches; `conf`
    adds settings (a new session's JVM options among them)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise CrmError(
            "--engine spark needs pyspark: pip install 'crmtool[spark]' (and Java 17)"
        ) from None
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # stderr carries crmtool's messages
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    if master.startswith("local"):  # one machine: few partitions, no code generation, and
        # no adaptive re-planning (its skew and coalescing pay on a cluster; at one machine's
        # sizes it cost a fifth of the time: docs/scale.md)
        warehouse = tempfile.mkdtemp(prefix="crmtool-spark-")  # not ./spark-warehouse
        atexit.register(shutil.rmtree, warehouse, True)  # empty (temp views only): never left
        builder = (
            builder.config("spark.sql.warehouse.dir", warehouse)
            .config("spark.pyspark.python", sys.executable)  # --mask-pii's UDFs: this Python
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.adaptive.enabled", "false")
        )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    with quiet_java_logs():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def quiet_java_logs() -> Iterator[None]:
    """While a session starts: a Java started now logs errors only, one line each
    (spark_log4j2.properties), unless the user named a log4j2 configuration of their own.
    Spark's defaults print INFO and WARN lines at start-up on the stderr crmtool's messages
    use."""
    if LOG4J_ENV in os.environ:
        yield
        return
    os.environ[LOG4J_ENV] = str(Path(__file__).with_name("spark_log4j2.properties"))
    try:
        yield
    finally:
        os.environ.pop(LOG4J_ENV, None)


def to_arrow(df: Any) -> pa.Table:
    """A Spark DataFrame as an Arrow table: DataFrame.toArrow on Spark 4; on Spark 3.5 (no
    toArrow) the same Arrow batches through _collect_as_arrow, typed by the frame's schema."""
    if hasattr(df, "toArrow"):
        return df.toArrow()
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(df.schema)
    return pa.Table.from_batches(df._collect_as_arrow(), schema=schema)


class SparkEngine:
    """A SparkSession; staged results are temp views, cached when asked for a table."""

    name = "spark"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.snapshot = False  # facts cached (summary) rather than plain views
        self.defer_lists = False  # call lists as queries Spark writes (engine.defers_lists)

    def sql(self, sql: str, params: Params = None) -> Any:
        """The Spark DataFrame of a rule query."""
        return self.spark.sql(to_spark(sql, params))

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        return to_arrow(self.sql(sql, params))

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        import polars as pl

        out = pl.from_arrow(self.arrow(sql, params))
        assert isinstance(out, pl.DataFrame)
        return out

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.sql(sql, params).collect()]

    def records(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        return [r.asDict() for r in self.sql(sql, params).collect()]

    def columns(self, sql: str, params: Params = None) -> list[str]:
        return list(self.sql(sql, params).columns)

    def stage(self, name: str, sql: str, params: Params = None, *, table: bool = False) -> None:
        self.drop(name)
        df = self.sql(sql, params)
        df.createOrReplaceTempView(name)
        if table:
            self.spark.catalog.cacheTable(name)

    def drop(self, name: str) -> None:
        if self.spark.catalog.tableExists(name):
            if self._cached(name):
                self.spark.catalog.uncacheTable(name)
            self.spark.catalog.dropTempView(name)

    def _cached(self, name: str) -> bool:
        try:
            return bool(self.spark.catalog.isCached(name))
        except Exception:  # noqa: BLE001 - a table of the catalog, not a temp view
            return False

    def exists(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name))

    def temp_names(self, prefix: str) -> list[str]:
        """The session's temp views whose name starts with `prefix` (SHOW TABLES: the catalog's
        listTables decodes its rows with generated code, which the tests' session turns off)."""
        return [
            r.tableName
            for r in self.spark.sql("SHOW TABLES").collect()
            if r.isTemporary and r.tableName.startswith(prefix)
        ]

    # -- the maker's tables -----------------------------------------------------------------

    def use_parquet(self, folder: str | Path, *, cache: bool = False) -> None:
        """The canonical tables from a folder of `crmtool export --parquet` (one sub-folder
        per table, partitioned by dealer where the table has one); `cache` keeps them in
        memory (a local run that reads them many times)."""
        root = Path(folder)
        for table in TABLES:
            path = root / table
            if not path.exists():
                raise CrmError(f"{path}: no {table} table (write it with crmtool export --parquet)")
            cols = [f.name for f in stored_fields(table)]
            self.spark.read.parquet(str(path)).select(*cols).createOrReplaceTempView(table)
            if cache:
                self.spark.catalog.cacheTable(table)

    def use_tables(
        self, names: Mapping[str, str], database: str | None = None, catalog: str | None = None
    ) -> None:
        """The canonical tables from the catalog: names maps each canonical table to the
        maker's table ([spark] config), looked up as catalog.database.table (each part when
        given; a name with a dot is taken as it is)."""
        if catalog:
            if not database:
                raise UsageError(
                    f"--catalog {catalog} needs --spark-database (the database in the catalog)"
                )
            self._check_catalog(catalog, database)
        elif database and not self._exists(lambda: self.spark.catalog.databaseExists(database)):
            raise UsageError(f"--spark-database {database}: no such database")
        for table in TABLES:
            source = names.get(table, table)
            if "." not in source:
                source = ".".join(p for p in (catalog, database, source) if p)
            if not self._exists(lambda s=source: self.spark.catalog.tableExists(s)):
                raise CrmError(f"spark table {source} ({table}) does not exist")
            df = self.spark.table(source)
            cols = [f.name for f in stored_fields(table)]
            have = {c.lower() for c in df.columns}
            if missing := [c for c in cols if c.lower() not in have]:
                raise CrmError(
                    f"spark table {source} ({table}) lacks column(s) {', '.join(missing)}"
                )
            df.select(*cols).createOrReplaceTempView(table)  # canonical order (rules §1)

    def _check_catalog(self, catalog: str, database: str) -> None:
        """A usage error in one line for a catalog Spark does not know or a database it lacks."""
        try:
            rows = self.spark.sql(f"SHOW NAMESPACES IN `{catalog}`").collect()
        except Exception as e:  # noqa: BLE001 - AnalysisException, CATALOG_NOT_FOUND
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise UsageError(
                f"--catalog {catalog}: Spark knows no such catalog "
                f"(set spark.sql.catalog.{catalog}; Spark says: {first[:160]})"
            ) from None
        if database.lower() not in {str(r[0]).lower() for r in rows}:
            raise UsageError(f"--spark-database {database}: no such database in catalog {catalog}")

    @staticmethod
    def _exists(check: Any) -> bool:
        try:
            return bool(check())
        except Exception:  # noqa: BLE001 - an unknown catalog or a bad name: not there
            return False
