"""Lists Spark writes itself and the maker's catalog tables (issue 19 deliverables 3 and 4;
docs/rules.md §22 "Spark lists").

With `--engine spark`, `-o DIR.parquet` and `--spark-table NAME` make Spark write the list; it
must be the DuckDB list exactly: the same rows in the same order, the same columns, types
equal through the mapping of rules §16, the same stderr counts (left-out vehicles, suppressed
contacts). `--catalog spark_catalog --spark-database d` reads tables saved in a local warehouse
and gives what the Parquet folder gives. The session is the run's one local session
(tests/spark_session.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from builders import assert_error, invoke
from click.testing import Result
from spark_session import SparkDemo, skip_without_spark

from crmtool.sample import bundled_sample_dir
from crmtool.spark_engine import to_arrow

skip_without_spark()

AS_OF = "2021-12-31"
TABLES = ("repair_orders", "vehicles", "customers", "dealers")


def _kind(dtype: pl.DataType) -> str:
    """rules §16: integers of any width → integer, DECIMAL / DOUBLE → number."""
    if dtype.is_integer() or (isinstance(dtype, pl.Decimal) and dtype.scale == 0):
        return "integer"
    if dtype.is_float() or dtype.is_decimal():
        return "number"
    return str(dtype.base_type())


def _comparable(frame: pl.DataFrame) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
    assert frame.height > 0, "an empty list compares nothing"
    return frame.columns, [_kind(t) for t in frame.dtypes], frame.rows()


def _read_folder(folder: Path) -> pl.DataFrame:
    """A Parquet folder Spark wrote, its part files in name order (the list's order)."""
    assert (folder / "_SUCCESS").exists()
    parts = sorted(folder.glob("part-*.parquet"))
    return pl.concat([pl.read_parquet(p) for p in parts])


@pytest.fixture(scope="module")
def cli(spark_demo: SparkDemo) -> Any:
    """invoke(engine, *args): crmtool on the demo store (DuckDB) or its Parquet folder (Spark)
    at AS_OF, with the demo's config plus a [spark] table."""
    config = spark_demo.folder / "spark.toml"
    config.write_text(
        (bundled_sample_dir() / "crmtool.toml").read_text(encoding="utf-8")
        + f'\n[spark]\nparquet = "{spark_demo.parquet}"\nmaster = "local[2]"\n',
        encoding="utf-8",
    )

    def run(engine: str, *args: str, db: Path | None = None) -> Result:
        return invoke("--engine", engine, *args, db=db or spark_demo.db, config=config, as_of=AS_OF)

    return run


@pytest.fixture(scope="module")
def catalog(spark_demo: SparkDemo) -> str:
    """The demo's four tables saved in database crm_demo of spark_catalog (the local warehouse
    the session was started with)."""
    spark = spark_demo.spark
    spark.sql("CREATE DATABASE IF NOT EXISTS crm_demo")
    for table in TABLES:
        spark.read.parquet(str(spark_demo.parquet / table)).write.mode("overwrite").saveAsTable(
            f"crm_demo.{table}"
        )
    return "crm_demo"


def test_due_list_written_by_spark_is_the_duckdb_list(cli: Any, tmp_path: Path) -> None:
    """`due -o DIR.parquet`: Spark writes the folder; rows, order, columns, types and the
    stderr counts (13 left out, 7 suppressed as recently contacted) are DuckDB's."""
    duck = cli("duckdb", "due", "-o", str(tmp_path / "due.parquet"))
    spark = cli("spark", "due", "-o", str(tmp_path / "due_spark.parquet"))
    assert duck.exit_code == 0 and spark.exit_code == 0, spark.stderr
    on_duckdb = pl.read_parquet(tmp_path / "due.parquet")
    on_spark = _read_folder(tmp_path / "due_spark.parquet")
    assert _comparable(on_spark) == _comparable(on_duckdb)
    assert sorted(spark.stderr.replace("due_spark", "due").splitlines()) == sorted(
        duck.stderr.splitlines()
    )
    assert "13 scrapped or transferred vehicle(s) left out of the list" in spark.stderr
    assert "7 row(s) suppressed: 7 recent" in spark.stderr


def test_churn_list_with_where_sort_limit_and_masks(cli: Any, tmp_path: Path) -> None:
    """--reason, --where, --sort (ties in the list's order), --columns, --limit and --mask-pii
    are applied by Spark as crmtool applies them to a frame."""
    flags = [
        "churn",
        "--status",
        "lost,at_risk",
        "--where",
        "days_since > 200",
        "--sort",
        "-days_since",
        "--columns",
        "vin,name,phone,status,reason,days_since,lifetime_paid",
        "--limit",
        "40",
        "--mask-pii",
        "--format",
        "parquet",
    ]
    duck = cli("duckdb", *flags, "-o", str(tmp_path / "churn.parquet"))
    spark = cli("spark", *flags, "-o", str(tmp_path / "churn_spark"))
    assert duck.exit_code == 0 and spark.exit_code == 0, spark.stderr
    on_duckdb = pl.read_parquet(tmp_path / "churn.parquet")
    on_spark = _read_folder(tmp_path / "churn_spark")
    assert on_duckdb.height == 40
    assert on_duckdb["phone"].str.contains(r"^1\d\d\*\*\*\*\d{4}$").all()
    assert _comparable(on_spark) == _comparable(on_duckdb)


def test_segment_list_to_a_catalog_table_read_through_catalog(
    cli: Any, catalog: str, spark_demo: SparkDemo, tmp_path: Path
) -> None:
    """`--catalog spark_catalog --spark-database crm_demo` reads the saved tables; `--tier A,B
    --spark-table` writes the segment list to a table: DuckDB's rows (a table has no order)."""
    duck = cli("duckdb", "segment", "--tier", "A,B", "-o", str(tmp_path / "seg.parquet"))
    spark = cli(
        "spark",
        "--catalog",
        "spark_catalog",
        "--spark-database",
        catalog,
        "segment",
        "--tier",
        "A,B",
        "--spark-table",
        "crm_demo.segment_ab",
    )
    assert duck.exit_code == 0 and spark.exit_code == 0, spark.stderr
    on_duckdb = pl.read_parquet(tmp_path / "seg.parquet")
    on_spark = pl.from_arrow(to_arrow(spark_demo.spark.table("crm_demo.segment_ab")))
    assert isinstance(on_spark, pl.DataFrame)
    columns, kinds, rows = _comparable(on_spark)
    assert (columns, kinds) == _comparable(on_duckdb)[:2]
    assert sorted(rows, key=str) == sorted(on_duckdb.rows(), key=str)
    assert set(on_spark["tier"]) == {"A", "B"}
    assert f"wrote {on_spark.height:,} rows to table crm_demo.segment_ab" in spark.stderr


def test_catalog_tables_are_the_parquet_folder(spark_demo: SparkDemo, catalog: str) -> None:
    """The four tables read through the catalog are those of the Parquet folder, row for row."""
    from crmtool.spark_engine import SparkEngine

    on_catalog, on_parquet = SparkEngine(spark_demo.spark), SparkEngine(spark_demo.spark)
    got = {}
    on_catalog.use_tables({}, catalog, "spark_catalog")
    for table in TABLES:
        got[table] = sorted(on_catalog.rows(f"SELECT * FROM {table}"), key=str)
    on_parquet.use_parquet(spark_demo.parquet)
    for table in TABLES:
        rows = sorted(on_parquet.rows(f"SELECT * FROM {table}"), key=str)
        same = bool(rows) and got[table] == rows  # (no diff of 10,000 rows on a failure)
        assert same, table


@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (
            ["--catalog", "nope", "--spark-database", "d"],
            2,
            "--catalog nope: Spark knows no such catalog (set spark.sql.catalog.nope; ",
        ),
        (
            ["--catalog", "spark_catalog", "--spark-database", "no_such_db"],
            2,
            "--spark-database no_such_db: no such database in catalog spark_catalog",
        ),
        (
            ["--catalog", "spark_catalog"],
            2,
            "--catalog spark_catalog needs --spark-database (the database in the catalog)",
        ),
        (
            ["--catalog", "spark_catalog", "--spark-database", "default"],
            1,
            "spark table spark_catalog.default.repair_orders (repair_orders) does not exist",
        ),
    ],
)
def test_unknown_catalog_database_or_table_is_one_line(
    spark_demo: SparkDemo, flags: list[str], code: int, message: str, tmp_path: Path
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("", encoding="utf-8")
    got = invoke("--engine", "spark", *flags, "due", config=config, db=spark_demo.db)
    if message.endswith("; "):  # Spark's own words follow
        assert got.exit_code == code and got.stderr.startswith(f"crmtool: error: {message}")
        assert len(got.stderr.splitlines()) == 1, got.stderr
    else:
        assert_error(got, code, message)


def test_spark_only_steps_are_usage_errors(cli: Any, tmp_path: Path) -> None:
    """--spark-table without --engine spark, and the driver-only steps on a Spark-written
    list, are refused in one line before anything is written."""
    assert_error(
        cli("duckdb", "due", "--spark-table", "t"),
        2,
        "--spark-table needs --engine spark",
    )
    out = tmp_path / "c.parquet"
    assert_error(
        cli("spark", "churn", "--per-customer", "-o", str(out)),
        2,
        f"--per-customer is not available when Spark writes the list ({out})",
    )
    assert not out.exists()


def test_no_store_is_warned_not_skipped_silently(tmp_path: Path) -> None:
    """Without the DuckDB store that holds the contacts, a Spark list cannot be suppressed:
    one warning says so."""
    from crmtool.cli.app import State
    from crmtool.cli.lists import _store

    warned: list[str] = []
    st = State(db=str(tmp_path / "none.duckdb"), engine="spark")
    st.warn = warned.append  # type: ignore[method-assign]
    assert _store(st) is None
    assert warned == [
        f"{tmp_path / 'none.duckdb'}: no store with contacts, so this list is not suppressed "
        "(do-not-contact, wrong numbers, recently contacted); give --db STORE"
    ]


def test_suppression_on_spark_is_the_store_rule(spark_demo: SparkDemo, tmp_path: Path) -> None:
    """The anti-join on Spark suppresses what crmtool/suppression.py suppresses on DuckDB, by
    customer, phone or vin, the latest answer winning; a _gone row is left out and counted.
    as_of 2021-12-31, care.recent_days 7: contacts from 2021-12-25 are recent. The second list
    replaces the first in the same folder, leaving nothing of it or of its temp sibling."""
    from datetime import date

    from builders import insert

    from crmtool import db, suppression
    from crmtool.config import Config
    from crmtool.engine import ListQuery
    from crmtool.spark_engine import SparkEngine
    from crmtool.spark_lists import Target, contact_rows, stage_contacts, write_list

    def contact(cid: str, day: str, **more: Any) -> dict[str, Any]:
        return {"contact_id": cid, "contact_date": date.fromisoformat(day), **more}

    con = db.connect(":memory:")
    insert(
        con,
        "contacts",
        contact("k1", "2021-10-01", customer_id="C1", do_not_contact=True),
        contact("k2", "2021-11-01", customer_id="C1", do_not_contact=False),  # later: no
        contact("k3", "2021-10-01", customer_id="C2", do_not_contact=False),
        contact("k4", "2021-11-01", customer_id="C2", do_not_contact=True),  # later: yes
        contact("k5", "2021-09-01", phone="13800000003", result="wrong_number"),
        contact("k6", "2021-09-01", phone="13800000004", result="wrong_number"),
        contact("k7", "2021-10-01", phone="13800000004", result="answered"),  # later: fine
        contact("k8", "2021-12-28", vin="V5", result="answered"),  # within 7 days
        contact("k9", "2022-01-05", customer_id="C7", do_not_contact=True),  # after as_of
    )
    rows = [
        ("V1", "C1", "13800000001", False),
        ("V2", "C2", "13800000002", False),
        ("V3", "C3", "13800000003", False),
        ("V4", "C4", "13800000004", False),
        ("V5", "C5", "13800000005", False),
        ("V6", "C6", "13800000006", True),  # scrapped: left out
        ("V7", "C7", "13800000007", False),
    ]
    values = ", ".join(f"('{v}', '{c}', '{p}', {str(g).lower()})" for v, c, p, g in rows)
    query = ListQuery(
        f"SELECT * FROM (VALUES {values}) AS t(vin, customer_id, phone, _gone)", {}, "vin"
    )
    cfg, as_of = Config(), date(2021, 12, 31)
    eng = SparkEngine(spark_demo.spark)
    stage_contacts(eng, contact_rows(con))
    frame = pl.DataFrame(
        [r[:3] for r in rows if not r[3]], schema=["vin", "customer_id", "phone"], orient="row"
    )
    for include_recent, kept_vins in (
        (False, ["V1", "V4", "V7"]),
        (True, ["V1", "V4", "V5", "V7"]),
    ):
        out = tmp_path / "list"
        got = write_list(
            eng,
            query,
            Target(path=str(out)),
            suppress=True,
            as_of=as_of,
            recent_days=cfg.care.recent_days,
            include_recent=include_recent,
        )
        kept, dropped = suppression.apply_suppression(con, cfg, frame, as_of, include_recent)
        assert kept["vin"].to_list() == kept_vins
        assert _read_folder(out).rows() == kept.rows()
        assert (got.rows, got.left_out) == (len(kept_vins), 1)
        recent = 0 if include_recent else 1
        assert (
            got.suppressed
            == dropped
            == {
                "do_not_contact": 1,
                "wrong_number": 1,
                "recent": recent,
            }
        )
        assert [p.name for p in tmp_path.iterdir()] == ["list"]
    con.close()
