"""The one way to put a value into SQL text: literals, identifiers and IN lists.

Values a user types at run time go in as bind parameters ($as_of, ?), never through here;
these are for the config's values and the project's own codes, which shape a rule's text
(a series name in a VALUES table, the own dealers in an IN list).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

Value = str | int | float | bool | date | None


def literal(value: Value) -> str:
    """A SQL literal: 'text' (quotes doubled), numbers as they are, TRUE/FALSE, NULL,
    DATE 'yyyy-mm-dd'."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A double-quoted identifier (inner quotes doubled): any table or column name."""
    return '"' + name.replace('"', '""') + '"'


def in_list(values: Iterable[Value]) -> str:
    """The parenthesised list after IN: ('a', 'b'); an empty list is (NULL), which matches
    nothing (x IN (NULL) is NULL, so wrap it in coalesce where a boolean is needed)."""
    items = [literal(v) for v in values]
    return f"({', '.join(items)})" if items else "(NULL)"


def cte(sql: str, name: str) -> str:
    """The query `sql` cut at its step `name`: its WITH steps up to that one, then
    `SELECT * FROM name` (to test or read one step of a rule, as dbt tests a model's CTE).
    The text is re-rendered by sqlglot in DuckDB's dialect."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With) or name not in [c.alias for c in with_.expressions]:
        raise ValueError(f"no step {name!r} in the query")
    out = exp.select("*").from_(name)
    out.set("with_", with_.copy())
    return out.sql(dialect="duckdb")
