"""crmtool's rule SQL (DuckDB) as Spark SQL: one mechanical rewrite on the pinned sqlglot
(docs/rules.md §22 "Spark"; rulebook §16 "Speed and Spark").

The rules are written in the subset both engines run after this rewrite: date differences
with date_diff, ordered lists by sorting structs, no macros, every output column named,
unique CTE names, money rounded as DECIMAL (facts.round_exact). The rewrite then:

- puts the parameters in as typed literals ($as_of → DATE '2021-12-31', lists → ARRAY(…));
- list_reduce(l, lambda, init) → aggregate(l, init, lambda);
- d + to_months(n) / to_years(n) → add_months(d, n) / add_months(d, 12 n);
- regexp_full_match(s, p) → s RLIKE '^(?:p)$';
- arg_max_null → max_by (Spark keeps a NULL argument, as arg_max_null does);
- the rest (struct literals, list indexes, FILTER, DIV …) is sqlglot's DuckDB → Spark.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlglot
from sqlglot import exp

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class NotPortable(ValueError):
    """Rule SQL that has no Spark form (a DuckDB-only construct)."""


def literal(value: Any) -> str:
    """A parameter as a typed DuckDB literal (the rewrite's input dialect)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise NotPortable(f"parameter of type {type(value).__name__} has no literal")


def bind(sql: str, params: Mapping[str, Any] | None) -> str:
    """`sql` with each $name replaced by the literal of params[name]."""
    params = params or {}

    def one(m: re.Match[str]) -> str:
        if m[1] not in params:
            raise NotPortable(f"no value for parameter ${m[1]}")
        return literal(params[m[1]])

    return PARAM.sub(one, sql)


def _months(node: exp.Expression) -> exp.Expression | None:
    """n months of to_months(n) / to_years(n), else None."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("to_months", "to_years"):
        (n,) = node.expressions
        if node.name.lower() == "to_years":
            return exp.Mul(this=exp.Paren(this=n.copy()), expression=exp.Literal.number(12))
        return n.copy()
    return None


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.Add, exp.Sub)):
        n = _months(node.expression)
        if n is not None:
            if isinstance(node, exp.Sub):
                n = exp.Neg(this=exp.Paren(this=n))
            return exp.Anonymous(this="ADD_MONTHS", expressions=[node.this.copy(), n])
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "list_reduce":
            lst, fn, init = node.expressions
            return exp.Anonymous(this="AGGREGATE", expressions=[lst, init, fn])
        if name == "arg_max_null":
            return exp.Anonymous(this="MAX_BY", expressions=node.expressions)
        if name in ("to_months", "to_years"):
            raise NotPortable(f"{name} outside `date ± {name}(n)`")
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        if not isinstance(pattern, exp.Literal):
            raise NotPortable("regexp_full_match with a pattern that is not a literal")
        return exp.RegexpLike(
            this=node.this, expression=exp.Literal.string(f"^(?:{pattern.name})$")
        )
    return node


def to_spark(sql: str, params: Mapping[str, Any] | None = None) -> str:
    """The Spark SQL of a rule query (DuckDB dialect) with its parameters bound."""
    tree = sqlglot.parse_one(bind(sql, params), read="duckdb")
    for node in tree.find_all(exp.Anonymous):
        if node.name.lower() in ("ours", "counted"):
            raise NotPortable(f"table macro {node.name}() in rule SQL")
    tree = tree.transform(_rewrite)
    return tree.sql(dialect="spark")
