"""``--where``: a condition over a list's columns that cannot reach anything else.

The text is parsed once with sqlglot into a tree and checked against an allow-list (docs/rules.md
"--where"; docs/rules.md §21): column references, literals, comparisons, AND/OR/NOT, + - * /,
IN (list), BETWEEN, LIKE/ILIKE, IS [NOT] NULL, lower, upper, substr, length, abs, round,
coalesce, year, month, day and CAST to date/number/text; at most 4 KB and 100 levels. Anything
else is refused with one line naming the construct. The checked tree is then *rendered* for the
engine that holds the list: :func:`render_polars` builds a Polars expression (today's lists are
Polars frames, so no second SQL parser ever sees the text); :func:`render_sql` writes the same
tree as SQL for a DuckDB or Spark list. The user's text itself is never executed anywhere.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from ..errors import UsageError

MAX_BYTES = 4096
MAX_DEPTH = 100
DIALECT = "duckdb"  # how the text is read: the project's SQL (ILIKE, ::casts)

_CMP = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)
_ARITH = (exp.Add, exp.Sub, exp.Mul, exp.Div)
_FUNCS = (
    exp.Lower,
    exp.Upper,
    exp.Substring,
    exp.Length,
    exp.Abs,
    exp.Round,
    exp.Coalesce,
    exp.Year,
    exp.Month,
    exp.Day,
)
# each allowed node and the arguments it may carry (any other argument is refused)
_ARGS: dict[type, set[str]] = {
    exp.Column: {"this"},
    exp.Identifier: {"this", "quoted"},
    exp.Literal: {"this", "is_string"},
    exp.Boolean: {"this"},
    exp.Null: set(),
    exp.Paren: {"this"},
    exp.Not: {"this"},
    exp.And: {"this", "expression"},
    exp.Or: {"this", "expression"},
    exp.Neg: {"this"},
    **{c: {"this", "expression"} for c in _CMP},
    **{c: {"this", "expression"} for c in _ARITH},
    exp.In: {"this", "expressions"},
    exp.Between: {"this", "low", "high"},
    exp.Like: {"this", "expression", "negate"},
    exp.ILike: {"this", "expression", "negate"},
    exp.Is: {"this", "expression", "negate"},
    exp.Lower: {"this"},
    exp.Upper: {"this"},
    exp.Length: {"this"},
    exp.Abs: {"this"},
    exp.Substring: {"this", "start", "length"},
    exp.Round: {"this", "decimals"},
    exp.Coalesce: {"this", "expressions"},
    exp.Year: {"this"},
    exp.Month: {"this"},
    exp.Day: {"this"},
    exp.Cast: {"this", "to"},
    exp.DataType: {"this", "nested", "expressions"},
    exp.DataTypeParam: {"this"},
}
_DATE = {exp.DataType.Type.DATE}
_NUMBER = set(exp.DataType.NUMERIC_TYPES)
_TEXT = set(exp.DataType.TEXT_TYPES)
_LEAVES = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.DataType,
    exp.DataTypeParam,
)
_SUBQUERY = (exp.Query, exp.Subquery, exp.Exists)
_ODD_STRINGS = {
    exp.RawString: "dollar-quoted string ($$…$$)",
    exp.ByteString: "escape string (E'…')",
    exp.HexString: "hex string",
    exp.BitString: "bit string",
    exp.National: "national string (N'…')",
    exp.UnicodeString: "unicode escape string (U&'…')",
}
_OPERATORS = {
    exp.DPipe: "operator ||",
    exp.Mod: "operator %",
    exp.Pow: "operator ^",
    exp.BitwiseAnd: "operator &",
    exp.BitwiseOr: "operator |",
    exp.BitwiseXor: "operator #",
    exp.Placeholder: "parameter (? or $n)",
    exp.Star: "*",
    exp.Collate: "COLLATE",
    exp.Dot: "qualified name",
    exp.Bracket: "subscript [ ]",
    exp.Case: "CASE",
    exp.If: "IF",
}


@dataclass(frozen=True)
class Condition:
    """A checked ``--where`` tree; render it with :func:`render_polars` or :func:`render_sql`."""

    text: str
    tree: exp.Expression

    @property
    def columns(self) -> list[str]:
        """The column names the condition refers to, in order of appearance."""
        return list(dict.fromkeys(c.name for c in self.tree.find_all(exp.Column)))


def _refuse(what: str) -> UsageError:
    return UsageError(f"--where: {what} is not allowed")


# --- parse and check -----------------------------------------------------------------------


def _precheck(text: str) -> None:
    """Size, statements, comments and a nesting bound, on tokens (before the recursive parser)."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise UsageError(f"--where: the condition is longer than {MAX_BYTES} bytes")
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text)
    except TokenError as e:
        raise _token_error(e) from None
    depth = run = 0
    for tok in tokens:
        if tok.comments:
            raise _refuse("a comment (-- or /* */)")
        if tok.token_type == TokenType.SEMICOLON:
            raise _refuse("';' (a second statement)")
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
        run = run + 1 if tok.token_type in (TokenType.NOT, TokenType.DASH, TokenType.PLUS) else 0
        if depth + run > MAX_DEPTH:
            raise UsageError(f"--where: the condition is nested more than {MAX_DEPTH} levels")


def _token_error(e: TokenError) -> UsageError:
    """'Missing ' from 1:6' (the tokenizer's cause) reads better than its own message."""
    m = re.match(r"Missing (\S+) from (\d+):(\d+)", str(e.__cause__ or ""))
    if m:
        return UsageError(
            f"--where: unterminated {m.group(1)} (opened at column {int(m.group(3)) + 1})"
        )
    return UsageError("--where: cannot read the condition (an unterminated quote or comment?)")


def _children(node: exp.Expression) -> Iterator[exp.Expression]:
    for value in node.args.values():
        items = value if isinstance(value, list) else [value]
        yield from (v for v in items if isinstance(v, exp.Expression))


def _name(node: exp.Expression) -> str:
    """How the refusal names a construct the user wrote."""
    for cls, label in (*_ODD_STRINGS.items(), *_OPERATORS.items()):
        if isinstance(node, cls):
            return label
    if isinstance(node, _SUBQUERY) or isinstance(node, exp.In) and node.args.get("query"):
        return "a subquery (SELECT)"
    if isinstance(node, exp.Anonymous):
        return f"function {str(node.this).lower()}"
    if isinstance(node, exp.Column):
        return f"qualified column name {node.sql(DIALECT)}"
    if isinstance(node, exp.TryCast):
        return "TRY_CAST"
    if isinstance(node, exp.Func):
        try:
            text = node.sql(DIALECT)
        except Exception:  # noqa: BLE001 - only for naming
            text = node.key
        head = text.split("(", 1)[0].strip().lower() or node.key
        return f"function {head}"
    if isinstance(node, exp.DataType):
        return f"type {node.sql(DIALECT)}"
    if not isinstance(node, exp.Condition | exp.Identifier):  # statements: SET, PRAGMA, ATTACH…
        return f"statement {node.key.upper()}"
    return node.key.upper()


def _check_node(node: exp.Expression, parent: exp.Expression | None) -> None:
    cls = type(node)
    allowed = _ARGS.get(cls)
    if (
        allowed is None
        or (cls is exp.Identifier and not isinstance(parent, exp.Column))
        or (cls is exp.DataType and not isinstance(parent, exp.Cast))
        or (cls is exp.DataTypeParam and not isinstance(parent, exp.DataType))
    ):
        raise _refuse(_name(node))
    extra = [k for k, v in node.args.items() if k not in allowed and v not in (None, False, [])]
    if extra:
        if cls is exp.In and "query" in extra:
            raise _refuse("a subquery (SELECT)")
        raise _refuse(
            _name(node) if cls is not exp.Column else f"qualified column name {node.sql(DIALECT)}"
        )
    if cls is exp.Is and not isinstance(node.expression, exp.Null):
        raise _refuse(f"IS {node.expression.sql(DIALECT)} (only IS [NOT] NULL)")
    if cls in (exp.Like, exp.ILike) and not (
        isinstance(node.expression, exp.Literal) and node.expression.is_string
    ):
        raise UsageError("--where: a LIKE pattern must be a quoted text, e.g. name LIKE '张%'")
    if isinstance(node, exp.Cast) and _cast_kind(node.to) is None:  # TryCast was refused above
        raise _refuse(f"CAST to {node.to.sql(DIALECT)} (date, number or text only)")
    if cls is exp.DataType and node.expressions and node.this not in _NUMBER | _TEXT:
        raise _refuse(f"type {node.sql(DIALECT)}")


def _cast_kind(to: exp.DataType) -> str | None:
    if to.this in _DATE:
        return "date"
    if to.this in _NUMBER:
        return "number"
    if to.this in _TEXT:
        return "text"
    return None


def _level(node: exp.Expression, parent: exp.Expression | None) -> int:
    """Operators nest; names and literals do not, and a run of one AND (or OR) is one level:
    'a AND b AND c' is not nesting."""
    if isinstance(node, _LEAVES):
        return 0
    return 0 if isinstance(node, exp.And | exp.Or) and type(parent) is type(node) else 1


def _check(tree: exp.Expression) -> None:
    """Walk the tree (no recursion): every node on the allow-list, depth ≤ MAX_DEPTH."""
    stack: list[tuple[exp.Expression, exp.Expression | None, int]] = [(tree, None, 1)]
    while stack:
        node, parent, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UsageError(f"--where: the condition is nested more than {MAX_DEPTH} levels")
        _check_node(node, parent)
        stack.extend(
            (child, node, depth + _level(child, node)) for child in reversed(list(_children(node)))
        )


def parse(text: str) -> Condition:
    """Parse and check a ``--where`` text (UsageError naming the first refused construct)."""
    if not text or not text.strip():
        raise UsageError("--where: the condition is empty")
    _precheck(text)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 6000))  # the parser recurses ~25 frames per level
    try:
        trees = sqlglot.parse(text, read=DIALECT)
    except ParseError as e:
        err = (e.errors or [{}])[0]
        what = str(err.get("description") or "cannot parse").rstrip(".")
        if what.startswith("Required keyword"):  # sqlglot's words for an unfinished operator
            what = "something is missing"
        col = err.get("col")
        at = f" near column {col}" if col else ""
        raise UsageError(f"--where: invalid condition{at}: {what}") from None
    except RecursionError:
        raise UsageError(f"--where: the condition is nested more than {MAX_DEPTH} levels") from None
    except TokenError as e:
        raise _token_error(e) from None
    finally:
        sys.setrecursionlimit(limit)
    found = [t for t in trees if t is not None]
    if len(found) != 1:
        raise _refuse("more than one statement")
    tree = found[0]
    if not isinstance(tree, exp.Expression):  # every concrete sqlglot node is one
        raise _refuse(f"statement {type(tree).__name__}")
    _check(tree)
    return Condition(text, tree)


# --- render: SQL (DuckDB / Spark) -----------------------------------------------------------


def render_sql(cond: Condition, dialect: str = "duckdb") -> str:
    """The checked tree as SQL text for an engine that holds the list as a table (DuckDB,
    Spark); literals are re-quoted by sqlglot, never copied from the user's text."""
    return cond.tree.sql(dialect=dialect)


# --- render: Polars -------------------------------------------------------------------------


def _unknown(name: str, schema: pl.Schema) -> UsageError:
    return UsageError(f"--where: unknown column '{name}'; columns are: {', '.join(schema)}")


class _Polars:
    """Renders a checked tree as one Polars expression over a frame of ``schema``."""

    def __init__(self, schema: pl.Schema) -> None:
        self.schema = schema
        self.empty = pl.LazyFrame(schema=schema)
        self.lower = {c.lower(): c for c in schema}

    def dtype(self, e: pl.Expr) -> pl.DataType:
        try:
            return self.empty.select(e.alias("_x")).collect_schema()["_x"]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # noqa: BLE001 - a type error is the user's condition
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise UsageError(f"--where: {first}") from None

    def __call__(self, node: exp.Expression) -> pl.Expr:
        method: Callable[[exp.Expression], pl.Expr] = getattr(self, f"_{type(node).__name__}")
        return method(node)

    # leaves
    def _Column(self, node: exp.Column) -> pl.Expr:
        name = node.name
        if name not in self.schema:
            if name.lower() not in self.lower or node.this.quoted:
                raise _unknown(name, self.schema)
            name = self.lower[name.lower()]
        return pl.col(name)

    def _Literal(self, node: exp.Literal) -> pl.Expr:
        if node.is_string:
            return pl.lit(node.this, pl.String)
        return pl.lit(_number(node.this))

    def _Boolean(self, node: exp.Boolean) -> pl.Expr:
        return pl.lit(bool(node.this), pl.Boolean)

    def _Null(self, node: exp.Null) -> pl.Expr:
        return pl.lit(None)

    def _Paren(self, node: exp.Paren) -> pl.Expr:
        return self(node.this)

    # logic
    def _flat(self, node: exp.Expression) -> list[exp.Expression]:
        out, stack = [], [node]
        while stack:
            n = stack.pop()
            if type(n) is type(node):
                stack.extend((n.expression, n.this))
            else:
                out.append(n)
        return out

    def _bool(self, node: exp.Expression, op: str) -> pl.Expr:
        e = self(node)
        dt = self.dtype(e)
        if dt not in (pl.Boolean, pl.Null):
            raise UsageError(
                f"--where: {op} needs conditions on both sides, got "
                f"{node.sql(DIALECT)!r} ({_kind(dt)})"
            )
        return e

    def _And(self, node: exp.And) -> pl.Expr:
        return _balanced([self._bool(n, "AND") for n in self._flat(node)], "and")

    def _Or(self, node: exp.Or) -> pl.Expr:
        return _balanced([self._bool(n, "OR") for n in self._flat(node)], "or")

    def _Not(self, node: exp.Not) -> pl.Expr:
        return ~self._bool(node.this, "NOT")

    # comparisons
    def _compare(
        self, op: type[exp.Expression], left: exp.Expression, right: exp.Expression
    ) -> pl.Expr:
        a, b = self._coerce(left, right)
        ops: dict[type[exp.Expression], Callable[[Any], pl.Expr]] = {
            exp.EQ: a.eq,
            exp.NEQ: a.ne,
            exp.LT: a.lt,
            exp.LTE: a.le,
            exp.GT: a.gt,
            exp.GTE: a.ge,
        }
        return ops[op](b)

    def _coerce(self, left: exp.Expression, right: exp.Expression) -> tuple[pl.Expr, pl.Expr]:
        """Make two sides comparable as SQL would: a quoted literal beside a date or number
        is read as one (or refused); a text column beside a date or number is read as one
        (values that are not become NULL)."""
        a, b = self(left), self(right)
        ta, tb = self.dtype(a), self.dtype(b)
        return self._fit(a, ta, left, tb), self._fit(b, tb, right, ta)

    @staticmethod
    def _fit(e: pl.Expr, t: pl.DataType, node: exp.Expression, to: pl.DataType) -> pl.Expr:
        if t != pl.String or not (to.is_temporal() or to.is_numeric()):
            return e
        kind = "number" if to.is_numeric() else "date"
        if isinstance(node, exp.Literal) and node.is_string:
            return pl.lit(_literal_as(node.this, kind)).cast(to if kind == "date" else pl.Float64)
        if kind == "number":
            return e.cast(pl.Float64, strict=False)
        return e.str.to_date(strict=False).cast(to)

    def _EQ(self, node: exp.Expression) -> pl.Expr:
        return self._compare(type(node), node.this, node.expression)

    _NEQ = _LT = _LTE = _GT = _GTE = _EQ

    def _Between(self, node: exp.Between) -> pl.Expr:
        return self._compare(exp.GTE, node.this, node.args["low"]) & self._compare(
            exp.LTE, node.this, node.args["high"]
        )

    def _In(self, node: exp.In) -> pl.Expr:
        items = [self._compare(exp.EQ, node.this, item) for item in node.expressions]
        return _balanced(items, "or") if items else pl.lit(False)

    def _Is(self, node: exp.Is) -> pl.Expr:
        return self(node.this).is_null()

    def _Like(self, node: exp.Like) -> pl.Expr:
        pattern = _like_regex(node.expression.this, insensitive=isinstance(node, exp.ILike))
        e = self._text(node.this).str.contains(pattern)
        return ~e if node.args.get("negate") else e

    _ILike = _Like

    # arithmetic
    def _num(self, node: exp.Expression) -> pl.Expr:
        e = self(node)
        dt = self.dtype(e)
        if dt == pl.String:
            return e.cast(pl.Float64, strict=False)
        if not (dt.is_numeric() or dt == pl.Null):
            raise UsageError(f"--where: {node.sql(DIALECT)!r} is not a number ({_kind(dt)})")
        return e

    def _Add(self, node: exp.Expression) -> pl.Expr:
        a, b = self._num(node.this), self._num(node.expression)
        ops: dict[type[exp.Expression], Callable[[Any], pl.Expr]] = {
            exp.Add: a.add,
            exp.Sub: a.sub,
            exp.Mul: a.mul,
            exp.Div: a.truediv,
        }
        return ops[type(node)](b)

    _Sub = _Mul = _Div = _Add

    def _Neg(self, node: exp.Neg) -> pl.Expr:
        return -self._num(node.this)

    # functions
    def _text(self, node: exp.Expression) -> pl.Expr:
        e = self(node)
        return e if self.dtype(e) == pl.String else e.cast(pl.String)

    def _date(self, node: exp.Expression) -> pl.Expr:
        e = self(node)
        dt = self.dtype(e)
        if dt == pl.String:
            return e.str.to_date(strict=False)
        if not dt.is_temporal():
            raise UsageError(f"--where: {node.sql(DIALECT)!r} is not a date ({_kind(dt)})")
        return e

    def _Lower(self, node: exp.Lower) -> pl.Expr:
        return self._text(node.this).str.to_lowercase()

    def _Upper(self, node: exp.Upper) -> pl.Expr:
        return self._text(node.this).str.to_uppercase()

    def _Length(self, node: exp.Length) -> pl.Expr:
        return self._text(node.this).str.len_chars()

    def _Substring(self, node: exp.Substring) -> pl.Expr:
        start = _whole(node.args.get("start"), "substr's start")
        length = node.args.get("length")
        n = _whole(length, "substr's length") if length is not None else None
        if n is not None and n < 0:
            raise UsageError("--where: substr's length must be 0 or more")
        begin = max(start, 1) - 1  # SQL counts from 1; positions before 1 take nothing
        if n is not None and start < 1:
            n = max(0, n - (1 - start))
        return self._text(node.this).str.slice(begin, n)

    def _Abs(self, node: exp.Abs) -> pl.Expr:
        return self._num(node.this).abs()

    def _Round(self, node: exp.Round) -> pl.Expr:
        d = node.args.get("decimals")
        digits = _whole(d, "round's decimals") if d is not None else 0
        if not 0 <= digits <= 15:
            raise UsageError("--where: round's decimals must be 0 to 15")
        return self._num(node.this).cast(pl.Float64).round(digits)

    def _Coalesce(self, node: exp.Coalesce) -> pl.Expr:
        return pl.coalesce([self(node.this), *(self(e) for e in node.expressions)])

    def _Year(self, node: exp.Expression) -> pl.Expr:
        e = self._date(node.this)
        parts: dict[type[exp.Expression], Callable[[], pl.Expr]] = {
            exp.Year: e.dt.year,
            exp.Month: e.dt.month,
            exp.Day: e.dt.day,
        }
        part = parts[type(node)]
        return part().cast(pl.Int64)

    _Month = _Day = _Year

    def _Cast(self, node: exp.Cast) -> pl.Expr:
        kind = _cast_kind(node.to)
        if isinstance(node.this, exp.Literal) and node.this.is_string and kind != "text":
            return pl.lit(_literal_as(node.this.this, kind))
        e = self(node.this)
        dt = self.dtype(e)
        if kind == "text":
            return e.cast(pl.String)
        if kind == "number":
            return e.cast(pl.Float64, strict=False)
        if dt == pl.String:
            return e.str.to_date(strict=False)
        if dt.is_temporal():
            return e.cast(pl.Date)
        raise UsageError(f"--where: {node.this.sql(DIALECT)!r} cannot become a date ({_kind(dt)})")


def _balanced(items: list[pl.Expr], op: str) -> pl.Expr:
    """a & b & c … as a balanced tree (shallow even for hundreds of terms)."""
    while len(items) > 1:
        pairs = [
            items[i] & items[i + 1] if op == "and" else items[i] | items[i + 1]
            for i in range(0, len(items) - 1, 2)
        ]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


def _number(text: str) -> int | float:
    try:
        value = int(text)
        if -(2**63) <= value < 2**63:
            return value
    except ValueError:
        pass
    try:
        return float(text)
    except (ValueError, OverflowError):
        raise UsageError(f"--where: {text[:40]!r} is not a number") from None


def _whole(node: exp.Expression | None, what: str) -> int:
    sign = 1
    if isinstance(node, exp.Neg):
        sign, node = -1, node.this
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d{1,9}", node.this):
        return sign * int(node.this)
    raise UsageError(f"--where: {what} must be a whole number written in the condition")


def _literal_as(text: str, kind: str | None) -> object:
    if kind == "number":
        try:
            return float(text.strip())
        except ValueError:
            raise UsageError(f"--where: {text[:40]!r} is not a number") from None
    try:
        return (
            date.fromisoformat(text.strip()[:10])
            if len(text.strip()) <= 10
            else datetime.fromisoformat(text.strip()).date()
        )
    except ValueError:
        raise UsageError(f"--where: {text[:40]!r} is not a date (YYYY-MM-DD)") from None


def _like_regex(pattern: str, *, insensitive: bool) -> str:
    """SQL LIKE pattern -> anchored regex: % any run, _ one character, the rest literal."""
    body = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return f"(?s{'i' if insensitive else ''})^{body}$"


def _kind(dt: pl.DataType) -> str:
    if dt == pl.String:
        return "text"
    if dt.is_numeric():
        return "number"
    if dt.is_temporal():
        return "date"
    if dt == pl.Boolean:
        return "true/false"
    return str(dt)


def render_polars(cond: Condition, schema: pl.Schema) -> pl.Expr:
    """The condition as a Polars expression over a frame with ``schema`` (UsageError for an
    unknown column or a condition that is not true/false)."""
    for name in cond.columns:  # name every unknown column before any type error
        if name not in schema and name.lower() not in {c.lower() for c in schema}:
            raise _unknown(name, schema)
    render = _Polars(schema)
    e = render(cond.tree)
    dt = render.dtype(e)
    if dt not in (pl.Boolean, pl.Null):
        raise UsageError(
            f"--where: the condition must be true or false (e.g. days_since > "
            f"180), not a {_kind(dt)}"
        )
    return e


def apply(frame: pl.DataFrame, where: str | Condition) -> pl.DataFrame:
    """Keep the rows of ``frame`` where the condition is true (NULL counts as false)."""
    cond = where if isinstance(where, Condition) else parse(where)
    e = render_polars(cond, frame.schema)
    try:
        return frame.filter(e)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 - polars errors, even a Rust panic, are one line
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UsageError(f"--where: cannot apply the condition: {first}") from None
