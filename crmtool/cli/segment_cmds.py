"""`crmtool segment` (the targeting list, rules §4) and `crmtool tiers` (value tiers, §3)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import call_lists
from .. import segment_registry as registry
from ..codes import TIERS
from ..config import Config
from ..errors import CrmError, UsageError
from . import notice
from .app import State, app, state
from .forecast_cmds import ForecastOpt, with_forecast
from .lazy import lazy
from .lists import defer, suppress, write_spark_list
from .options import IncludeRecentOpt, ListOutput, list_command, split_csv
from .store import rules_store

if TYPE_CHECKING:  # exact types for mypy; polars is imported lazily at run time
    import duckdb
    import polars as pl
else:
    pl = lazy("polars")
churn = lazy("crmtool.churn")
db = lazy("crmtool.db")
facts = lazy("crmtool.facts")
outputs = lazy("crmtool.output.formats")
segment = lazy("crmtool.segment")
spark_lists = lazy("crmtool.spark_lists")
value_tiers = lazy("crmtool.value_tiers")


def _open(st: State) -> duckdb.DuckDBPyConnection:
    # tiers, segments and status share the visits; --engine spark: the maker's tables
    con = rules_store(st, snapshot=True)
    notice.check_as_of(st, con, st.as_of or date.today())
    return con


def _values(
    text: str | None, option: str, allowed: list[str] | tuple[str, ...] | None = None
) -> list[str] | None:
    """The comma-separated values of `text` (None: no filter), checked against `allowed`."""
    values = split_csv(text)
    if text is None:
        return None
    if not values:
        raise UsageError(f"{option} needs at least one value")
    if allowed is not None:
        bad = [v for v in values if v not in allowed]
        if bad:
            raise UsageError(f"{option}: unknown value {bad[0]!r}; use {', '.join(allowed)}")
    return values


def _filter(
    frame: pl.DataFrame,
    column: str,
    text: str | None,
    option: str,
    allowed: list[str] | tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """Keep rows whose `column` is one of the comma-separated values of `text`."""
    values = _values(text, option, allowed)
    return frame if values is None else frame.filter(pl.col(column).is_in(values))


def _counts(frame: pl.DataFrame, by: str, cfg: Config) -> pl.DataFrame:
    """One row per combination of the --by columns: vehicles and share of the list."""
    aliases = registry.by_keys()
    keys = [aliases.get(k, k) for k in split_csv(by)]
    if not keys:
        raise UsageError("--by needs at least one column, e.g. --by tier,stage")
    for k in keys:
        if k not in frame.columns:
            raise UsageError(
                f"--by: unknown column '{k}'; use {', '.join(aliases)} or a column of the list"
            )
    total = frame.height
    counts = frame.group_by(keys).agg(vehicles=pl.len().cast(pl.Int64))
    orders = registry.orders(cfg)
    rank = []
    for k in keys:
        if k in orders:
            rank.append(
                pl.col(k).replace_strict(
                    orders[k], list(range(len(orders[k]))), default=None, return_dtype=pl.Int64
                )
            )
        rank.append(pl.col(k))
    return counts.sort(rank, nulls_last=True).with_columns(
        share=(pl.col("vehicles") / total if total else pl.lit(0.0)).round(4)
    )


def _segment(
    ctx: typer.Context,
    output: ListOutput,
    per_customer: bool = False,
    include_recent: bool = False,
    with_fc: bool = False,
    by: str | None = None,
    filters: dict[str, str | None] | None = None,
) -> None:
    """Segment list (客户分类): one row per vehicle ours at --as-of with its value tier, age
    stage, estimated mileage, visit frequency, owner attributes, last visit and advisor, and
    loyalty status. Scrapped and transferred vehicles are left out (counted on stderr).

    Examples:

      crmtool segment --tier A,B --stage mid --format csv > ab_mid.csv

      crmtool segment --by tier,stage

      crmtool segment --series 迈腾 --mileage-band 30k-60k --where "ticket > 800" -o list.xlsx

      crmtool segment --per-customer --status at_risk --mask-pii

      crmtool segment --tier A,B --forecast --sort -value_12m
    """
    st = state(ctx)
    cfg = st.config
    con = _open(st)
    target = defer(
        st,
        con,
        output,
        ("--forecast", with_fc),
        ("--per-customer", per_customer),
        ("--by", by is not None),
    )
    res = segment.segment_list(con, cfg, st.as_of or date.today())
    if target is not None and res.query is not None:  # Spark writes the list
        chosen = {}
        for name, text in (filters or {}).items():
            seg = registry.SEGMENTS[name]
            if (values := _values(text, seg.flag or name, seg.allowed(cfg))) is not None:
                chosen[name] = values
        write_spark_list(
            st,
            con,
            res.query,
            output,
            target,
            filters=spark_lists.filters_in(chosen),
            include_recent=include_recent,
        )
        _say_left_out(st, res.left_out)
        return
    frame = res.frame
    for name, text in (filters or {}).items():  # in the registry's order
        seg = registry.SEGMENTS[name]
        frame = _filter(frame, name, text, seg.flag or name, seg.allowed(cfg))
    frame = suppress(st, con, frame, include_recent=include_recent)
    if with_fc:
        frame = with_forecast(st, con, frame)
    if per_customer:
        frame = call_lists.per_customer(frame, call_lists.get("segment").best)
    if by:  # --where selects the vehicles that are counted
        frame = _counts(outputs.shape(frame, where=output.where), by, cfg)
        output = replace(output, where=None)
    output.write(frame, sheet="segment")
    _say_left_out(st, res.left_out)


def _say_left_out(st: State, left_out: dict[str, int]) -> None:
    gone = sum(left_out.values())
    if gone:
        why = ", ".join(f"{n} {k}" for k, n in left_out.items() if n)
        st.say(f"{gone} vehicle(s) left out of the list: {why}")


def _by_help() -> str:
    keys = [s.by or s.name for s in registry.SEGMENTS.values() if s.by or s.flag]
    return (
        "Print counts per combination instead of rows, e.g. tier,stage (keys: "
        f"{', '.join(keys)} or any column)."
    )


def _segment_signature() -> inspect.Signature:
    """_segment's options with one filter option per flagged segment of the registry, in
    the registry's order, before the fixed ones."""
    kw = inspect.Parameter.KEYWORD_ONLY
    ctx = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    output = inspect.Parameter("output", kw, annotation=ListOutput)
    filters = [
        inspect.Parameter(
            s.name,
            kw,
            default=None,
            annotation=Annotated[str | None, typer.Option(s.flag, metavar=s.metavar, help=s.help)],
        )
        for s in registry.SEGMENTS.values()
        if s.flag
    ]
    per_customer = Annotated[
        bool, typer.Option("--per-customer", help="One row per customer: their best-tier vehicle.")
    ]
    by = Annotated[str | None, typer.Option("--by", metavar="KEYS", help=_by_help())]
    fixed = [
        inspect.Parameter("per_customer", kw, default=False, annotation=per_customer),
        inspect.Parameter("include_recent", kw, default=False, annotation=IncludeRecentOpt),
        inspect.Parameter("with_fc", kw, default=False, annotation=ForecastOpt),
        inspect.Parameter("by", kw, default=None, annotation=by),
    ]
    return inspect.Signature([ctx, output, *filters, *fixed])


class _SegmentCommand:
    """The `segment` command, made when Typer builds the CLI: its filter options are the
    segment registry's at that moment (a segment registered later shows up)."""

    __name__ = "segment_cmd"
    __qualname__ = "segment_cmd"

    def __init__(self) -> None:
        self.__doc__ = _segment.__doc__
        self._made: tuple[tuple[str, ...], Callable[..., None]] | None = None

    def _command(self) -> Callable[..., None]:
        key = tuple(registry.SEGMENTS)
        if self._made is None or self._made[0] != key:
            sig = _segment_signature()
            names = [p.name for p in sig.parameters.values()]

            def run(**kwargs: Any) -> None:
                filters = {n: kwargs.pop(n) for n in names if n in registry.SEGMENTS}
                _segment(filters=filters, **kwargs)

            # typer reads the options from the signature built from the registry; functions
            # carry __signature__ at run time but their type does not declare it
            run.__signature__ = sig  # type: ignore[attr-defined]
            run.__annotations__ = {p.name: p.annotation for p in sig.parameters.values()}
            self._made = (key, list_command(run))
        return self._made[1]

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._command())

    # a property over the attribute every object has: the built command's annotations
    @property
    def __annotations__(self) -> dict[str, object]:  # type: ignore[override]
        return self._command().__annotations__

    def __call__(self, *args: object, **kwargs: object) -> None:
        self._command()(*args, **kwargs)


segment_cmd = app.command("segment")(_SegmentCommand())


def _mix(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        mix = [float(x) for x in split_csv(text)]
    except ValueError:
        mix = []
    if len(mix) != 4 or any(x < 0 for x in mix) or sum(mix) <= 0:
        raise UsageError(f"--mix takes four percentages for A,B,C,D like 20,30,30,20; got {text!r}")
    return mix


def _distribution(table: pl.DataFrame) -> pl.DataFrame:
    """The per-series table with an '(all)' row first and the shares of A–D."""
    tiers = list(value_tiers.TIERS)
    total = table.select(
        pl.lit("(all)").alias("series"), *[pl.col(k).sum() for k in [*tiers, "vehicles"]]
    )
    frame = pl.concat([total, table], how="diagonal_relaxed")
    return frame.select(
        "series",
        "tier_group",
        "ticket_a",
        "ticket_b",
        "ticket_c",
        *tiers,
        "vehicles",
        *[
            (pl.col(k) / pl.col("vehicles")).fill_nan(0.0).round(4).alias(f"share_{k.lower()}")
            for k in tiers
        ],
    )


def _mix_line(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return " · ".join(f"{k} {n} ({(n / total if total else 0):.1%})" for k, n in counts.items())


@app.command("tiers")
@list_command
def tiers_cmd(
    ctx: typer.Context,
    output: ListOutput,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help="Propose per-series ticket cut points (a [tiers.series_ticket] block "
            "for crmtool.toml, on stdout) that bring the ticket grades near --mix; the tier mix "
            "they give goes to stderr.",
        ),
    ] = False,
    mix: Annotated[
        str | None,
        typer.Option(
            "--mix",
            metavar="A,B,C,D",
            help="Target mix in percent (default tiers.target_mix, 20,30,30,20).",
        ),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="With --suggest: put the cut points into the config file in force "
            "(else ./crmtool.toml), replacing its [tiers.series_ticket] and keeping the rest and "
            "its comments.",
        ),
    ] = False,
) -> None:
    """Value tier distribution (客户价值等级) of the vehicles ours at --as-of: overall (the
    '(all)' row) and per series, with counts, shares and the ticket cut points each series
    uses (ticket_a/b/c: 客单价 at or above for grade A/B/C).

    Examples:

      crmtool tiers

      crmtool tiers --format csv --sort=-vehicles

      crmtool tiers --suggest --write

      crmtool tiers --suggest --mix 10,30,40,20
    """
    st = state(ctx)
    cfg = st.config
    as_of = st.as_of or date.today()
    target = _mix(mix)
    if not suggest and (target is not None or write):
        raise UsageError(f"{'--mix' if target is not None else '--write'} goes with --suggest")
    con = _open(st)
    if not suggest:
        table = value_tiers.tier_table(con, cfg, as_of)
        notice.check_vehicles(st, int(table["vehicles"].sum()), as_of)
        output.write(_distribution(table), sheet="tiers")
        return
    s = value_tiers.suggest(con, cfg, as_of, target)
    if not s.series_ticket:
        raise CrmError(
            "no vehicle with a series and a paid visit in the window: nothing to suggest"
        )
    if write:
        from pathlib import Path

        from ..config import find_config_path
        from ..config_toml import write_series_ticket

        path = find_config_path(st.config_path) or Path("crmtool.toml")
        write_series_ticket(path, s.series_ticket)
        st.say(f"wrote [tiers.series_ticket] ({len(s.series_ticket)} series) to {path}")
    else:
        typer.echo(s.toml(), nl=False)
    st.say(f"target mix: {' · '.join(f'{k} {x:g}%' for k, x in zip(TIERS, s.mix, strict=True))}")
    st.say(f"tiers now:            {_mix_line(s.before)}")
    st.say(f"with these cut points: {_mix_line(s.after)}")
