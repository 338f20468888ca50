"""The rules' SQL is in the portable subset and the rewrite to Spark SQL gives what Spark runs
(issue 19; docs/rules.md §22 "Spark"). No Spark needed: tests/test_spark.py runs the result.

One test per break the issue names: date − date, list(x ORDER BY …), list_reduce, r[2:],
len(list), string indexes, macros and table macros, to_months / to_years, regexp_full_match,
format('{}…'), unnamed columns, a CTE name reused inside a CTE."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from crmtool import campaigns, churn, facts, retention, segment, value_tiers
from crmtool.config import Config
from crmtool.period import parse_period
from crmtool.spark_sql import NotPortable, bind, to_spark

CFG = Config()
AS_OF = date(2021, 12, 31)


def spark(sql: str, **params: object) -> str:
    return to_spark(sql, params)


def test_date_difference_is_datediff_in_days() -> None:
    """date − date is an INTERVAL on Spark: the rules write date_diff('day', a, b)."""
    assert spark("SELECT date_diff('day', a, b) AS d FROM t") == (
        "SELECT DATEDIFF(DAY, a, b) AS d FROM t"
    )


def test_ordered_list_is_a_sorted_list_of_structs() -> None:
    """list(x ORDER BY …) loses its order in COLLECT_LIST: the rules sort structs."""
    out = spark("SELECT list_sort(list({'day': d, 'km': k})) AS r FROM t")
    assert out == "SELECT ARRAY_SORT(COLLECT_LIST(STRUCT(d AS day, k AS km))) AS r FROM t"


def test_list_reduce_is_aggregate_with_the_start_value_second() -> None:
    out = spark("SELECT list_reduce(r, lambda k, x: k + x, 0) AS s FROM t")
    assert out == "SELECT AGGREGATE(r, 0, (k, x) -> k + x) AS s FROM t"


def test_list_index_is_shifted_to_spark_zero_base() -> None:
    """r[1] (1-based in DuckDB) is r[0] on Spark; the rules use no slices (r[2:])."""
    assert spark("SELECT r[1].km AS km FROM t") == "SELECT r[0].km AS km FROM t"


def test_months_and_years_are_add_months() -> None:
    assert spark("SELECT CAST(d + to_months(3) AS DATE) - 1 AS e FROM t") == (
        "SELECT CAST(ADD_MONTHS(d, 3) AS DATE) - 1 AS e FROM t"
    )
    assert spark("SELECT d - to_years(2) AS e FROM t") == (
        "SELECT ADD_MONTHS(d, -((2) * 12)) AS e FROM t"
    )


def test_to_months_elsewhere_is_refused() -> None:
    with pytest.raises(NotPortable, match="to_months"):
        spark("SELECT to_months(3) AS m")


def test_regexp_full_match_is_an_anchored_rlike() -> None:
    assert spark("SELECT regexp_full_match(a, 'x|y') AS m FROM t") == (
        "SELECT a RLIKE '^(?:x|y)$' AS m FROM t"
    )


def test_arg_max_null_is_max_by() -> None:
    assert spark("SELECT arg_max_null(a, b) AS m FROM t") == "SELECT MAX_BY(a, b) AS m FROM t"


def test_table_macros_are_refused() -> None:
    with pytest.raises(NotPortable, match="ours"):
        spark("SELECT vin FROM ours($as_of)", as_of=AS_OF)


def test_parameters_are_typed_literals() -> None:
    assert bind(
        "SELECT $d, $n, $s, $l, $x", {"d": AS_OF, "n": 3, "s": "a'b", "l": ["x"], "x": None}
    ) == ("SELECT DATE '2021-12-31', 3, 'a''b', ['x'], NULL")
    assert spark("SELECT list_contains($l, s) AS c FROM t", l=["lost", "at_risk"]) == (
        "SELECT ARRAY_CONTAINS(ARRAY('lost', 'at_risk'), s) AS c FROM t"
    )
    with pytest.raises(NotPortable, match=r"\$missing"):
        bind("SELECT $missing", {})


# -- every rule's SQL is in the subset ---------------------------------------------------------

PERIOD = parse_period("2021-12")
RULES = {
    "tiers": (value_tiers.tiers_sql(CFG, with_cuts=True), {"as_of": AS_OF}),
    "rates": (segment.rates_sql(CFG), {"as_of": AS_OF}),
    "segments": (segment.segments_sql(CFG), {"as_of": AS_OF}),
    "status": (churn.status_sql(CFG), {"as_of": AS_OF}),
    "churn": churn.churn_list_query(CFG, AS_OF)[:2],
    "leakage": (
        churn._leakage_sql(CFG),
        {"base_day": AS_OF, "start": PERIOD.start, "end": PERIOD.end, "own_region": None},
    ),
    "never_returned": (churn._never_returned_sql(CFG), {"as_of": AS_OF}),
    "due": campaigns.maintenance_due_query(CFG, PERIOD, AS_OF)[:2],
    "warranty": campaigns.warranty_query(CFG, AS_OF)[:2],
    "ours": (facts.counted_sql(CFG, "$as_of"), {"as_of": AS_OF}),
    "advisor": (facts.last_advisor_sql(), {"as_of": AS_OF}),
}


def _tree(name: str) -> exp.Expression:
    sql, params = RULES[name]
    return sqlglot.parse_one(bind(sql, params), read="duckdb")


@pytest.mark.parametrize("name", list(RULES))
def test_rule_sql_rewrites_to_spark(name: str) -> None:
    sql, params = RULES[name]
    out = to_spark(sql, params)
    assert "$" not in out and "TO_MONTHS" not in out and "LIST_REDUCE" not in out


@pytest.mark.parametrize("name", list(RULES))
def test_rule_sql_has_no_construct_spark_misreads(name: str) -> None:
    tree = _tree(name)
    # list(x ORDER BY …), slices, len(), format('{}'), * EXCLUDE / REPLACE, macros
    assert not [a for a in tree.find_all(exp.ArrayAgg) if a.find(exp.Order)], "ordered list()"
    assert not list(tree.find_all(exp.Slice)), "a list slice"
    assert not [f for f in tree.find_all(exp.Length, exp.ArraySize)], "len()"
    assert not [f for f in tree.find_all(exp.Format)], "format()"
    assert not [s for s in tree.find_all(exp.Star) if s.args.get("except") or s.args.get("replace")]
    named = {f.name.lower() for f in tree.find_all(exp.Anonymous)}
    assert not named & {"ours", "counted", "format", "len", "product"}, named


@pytest.mark.parametrize("name", list(RULES))
def test_rule_sql_names_every_column_and_cte_once(name: str) -> None:
    tree = _tree(name)
    for select in tree.find_all(exp.Select):
        for col in select.expressions:
            assert isinstance(col, (exp.Alias, exp.Column, exp.Star)), col.sql()
    ctes = [c.alias for c in tree.find_all(exp.CTE)]
    assert len(ctes) == len(set(ctes)), ctes


def test_retention_sql_needs_no_asof_join() -> None:
    """retention without --by runs on Spark: its SQL has no ASOF join or GROUP BY ALL."""
    import inspect

    for fn in (
        retention._install,
        retention.first_service,
        retention.milestones,
        retention._retention_12_24_by_intervals,
        retention.return_after,
        retention.ownership_years,
        retention.time_to_return,
    ):
        text = inspect.getsource(fn)
        assert "ASOF" not in text and "GROUP BY ALL" not in text and "ORDER BY ALL" not in text


def test_round_exact_rounds_the_exact_half_up() -> None:
    """629.005 (a DOUBLE just below it) is 629.01 on both engines (docs/rules.md §22)."""
    import duckdb

    (got,) = duckdb.sql(
        f"SELECT {facts.round_exact('CAST(1258.01 AS DECIMAL(18, 2)) / 2')} AS t"
    ).fetchall()[0]
    assert got == 629.01
    assert "DECIMAL(38, 6)" in to_spark(f"SELECT {facts.round_exact('x')} AS t FROM v")


class _SparkStub:
    """An engine that says it is Spark and runs nothing (the check comes before any result)."""

    name = "spark"
    snapshot = False

    def stage(self, *args: object, **kw: object) -> None: ...
    def drop(self, name: str) -> None: ...
    def frame(self, *args: object, **kw: object) -> None: ...
    def temp_names(self, prefix: str) -> list[str]:
        return []


@pytest.mark.parametrize("by", ["advisor", "tier"])
def test_retention_by_advisor_or_tier_is_a_usage_error_on_spark(by: str) -> None:
    from crmtool.errors import UsageError

    with pytest.raises(UsageError, match=f"--by {by} is not available with --engine spark"):
        retention.compute(_SparkStub(), CFG, [AS_OF], by=by)
