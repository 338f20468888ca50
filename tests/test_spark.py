"""The rules on Spark equal the rules on DuckDB (issue 19; rulebook §16 "Speed and Spark").

One local Spark session for the run (tests/spark_session.py: local[2], UI off, 2 shuffle
partitions); the demo store is loaded into DuckDB once and its canonical tables staged once
for Spark as Parquet (`crmtool export --parquet`, phones shown so the lists compare). Every rule entry point runs
on both engines at two as_of dates; rows and types must be equal exactly, types compared
through the mapping of rules §16 (integers of any width → integer, DECIMAL/DOUBLE → number).
Every compared result is non-empty. Without pyspark or Java the module is skipped, unless
CI=true: then it must run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
import pytest
from spark_session import SparkDemo, skip_without_spark

from crmtool import campaigns, churn, facts, retention, segment, service_mix, summary, value_tiers
from crmtool.config import load_config
from crmtool.db import connect
from crmtool.period import Period, month_of, parse_period
from crmtool.sample import bundled_sample_dir

skip_without_spark()

DAYS = (date(2021, 12, 31), date(2021, 6, 30))


@pytest.fixture(scope="module")
def engines(spark_demo: SparkDemo) -> Any:
    """(duckdb connection, spark engine, config): the demo on both, facts installed."""
    from crmtool.spark_engine import SparkEngine

    cfg = load_config(bundled_sample_dir() / "crmtool.toml")
    con = connect(spark_demo.folder / "demo.duckdb")
    eng = SparkEngine(spark_demo.spark)
    eng.use_parquet(spark_demo.parquet, cache=True)
    facts.install(con, cfg, snapshot=True)
    facts.install(eng, cfg, snapshot=True)
    yield con, eng, cfg
    for table in ("repair_orders", "vehicles", "customers", "dealers"):
        spark_demo.spark.catalog.uncacheTable(table)
    con.close()


def _year(as_of: date) -> Period:
    return parse_period(f"{as_of.year}H{1 if as_of.month <= 6 else 2}")


Entry = Callable[[Any, Any, date], Any]
# Every rule entry point but those the summary calls with the same arguments (tier_counts,
# status_counts and never_returned_count at as_of, maintenance_return_rate for as_of's month):
# test_summary_equal_on_spark compares them, block by block, at the same two dates.
ENTRIES: dict[str, Entry] = {
    "vehicle_tiers": lambda c, cfg, d: value_tiers.vehicle_tiers(c, cfg, d),
    "customer_tiers": lambda c, cfg, d: value_tiers.customer_tiers(c, cfg, d),
    "tier_table": lambda c, cfg, d: value_tiers.tier_table(c, cfg, d),
    "daily_rates": lambda c, cfg, d: segment.daily_rates(c, cfg, d),
    "segment_list": lambda c, cfg, d: segment.segment_list(c, cfg, d),
    "vehicle_status": lambda c, cfg, d: churn.vehicle_status(c, cfg, d),
    "churn_list": lambda c, cfg, d: churn.churn_list(c, cfg, d),
    "leakage": lambda c, cfg, d: churn.leakage(c, cfg, _year(d)),
    "leakage_list": lambda c, cfg, d: churn.leakage_list(c, cfg, _year(d)),
    "leakage_summary": lambda c, cfg, d: churn.leakage_summary(c, cfg, _year(d)),
    "defected_by_dealer": lambda c, cfg, d: churn.defected_by_dealer(c, cfg, _year(d)),
    "new_car_defection": lambda c, cfg, d: churn.new_car_defection(c, cfg, _year(d), d),
    "secondary_network": lambda c, cfg, d: churn.secondary_network(c, cfg, _year(d), d),
    "never_returned": lambda c, cfg, d: churn.never_returned(c, cfg, d),
    "service_mix": lambda c, cfg, d: service_mix.service_mix(c, cfg, _year(d)),
    "maintenance_due": lambda c, cfg, d: campaigns.maintenance_due(c, cfg, month_of(d, 1), d),
    "warranty_expiring": lambda c, cfg, d: campaigns.warranty_expiring(c, cfg, d),
    "insurance_renewal": lambda c, cfg, d: campaigns.insurance_renewal(c, cfg, d, 180),
    "loyal_reward": lambda c, cfg, d: campaigns.loyal_reward(c, cfg, _year(d)),
    "winback": lambda c, cfg, d: campaigns.winback(c, cfg, d),
    "retention": lambda c, cfg, d: retention.compute(c, cfg, [d, month_of(d, -3).end]),
    "first_service_missing": lambda c, cfg, d: retention.first_service_missing(c, cfg, d),
    "milestone_stalled": lambda c, cfg, d: retention.milestone_stalled(c, cfg, d),
}
# summary blocks whose inputs only the embedded store has (rules §16: null on Spark)
LOCAL_BLOCKS = {"leads", "data_quality", "rejects_by_reason", "flags_by_kind", "care", "forecast"}


def _kind(dtype: pl.DataType) -> str:
    """The type mapping of rules §16. DuckDB's HUGEINT (a sum of counts) arrives as
    Decimal(38, 0): an integer."""
    if dtype.is_integer() or (isinstance(dtype, pl.Decimal) and dtype.scale == 0):
        return "integer"
    if dtype.is_float() or dtype.is_decimal():
        return "number"
    return str(dtype.base_type())


def _comparable(result: Any) -> Any:
    """A frame as (columns, mapped types, rows); a ListResult with its left-out count; a
    dict or number as JSON."""
    if isinstance(result, retention.Retention):
        return {k: _comparable(v) for k, v in vars(result).items()}
    if hasattr(result, "frame"):
        extra = {k: v for k, v in vars(result).items() if k != "frame"}
        return (_comparable(result.frame), json.dumps(extra, sort_keys=True, default=str))
    if isinstance(result, pl.DataFrame):
        assert result.height > 0, "an empty result compares nothing"
        kinds = [_kind(t) for t in result.dtypes]
        return (result.columns, kinds, result.rows())
    text = json.dumps(result, sort_keys=True, default=str)
    assert text not in ("{}", "[]", "null"), "an empty result compares nothing"
    return text


@pytest.mark.parametrize("as_of", DAYS, ids=str)
@pytest.mark.parametrize("name", list(ENTRIES))
def test_rule_equal_on_spark(engines: Any, name: str, as_of: date) -> None:
    con, eng, cfg = engines
    on_duckdb = _comparable(ENTRIES[name](con, cfg, as_of))
    on_spark = _comparable(ENTRIES[name](eng, cfg, as_of))
    assert on_spark == on_duckdb


@pytest.mark.parametrize("as_of", DAYS, ids=str)
def test_summary_equal_on_spark(engines: Any, as_of: date) -> None:
    """Key for key; the blocks without inputs on Spark are null there (rules §16)."""
    con, eng, cfg = engines
    period = month_of(as_of)
    on_duckdb = summary.build_summary(con, cfg, period, as_of)
    on_spark = summary.build_summary(eng, cfg, period, as_of)
    assert list(on_spark) == list(on_duckdb)
    assert {k for k, v in on_spark.items() if v is None} == LOCAL_BLOCKS
    for key, value in on_spark.items():
        if key not in LOCAL_BLOCKS:
            assert _comparable(value) == _comparable(on_duckdb[key]), key
