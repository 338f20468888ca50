"""The output flags every list command shares, and the object that applies them.

A list command takes them all by being decorated with :func:`list_command`, and gets them
as one ``output`` argument::

    @app.command("segment")
    @list_command
    def segment_cmd(ctx: typer.Context, output: ListOutput, tier: str | None = None) -> None:
        output.write(segment_list(con, cfg, as_of).frame, sheet="segment")
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UsageError
from .lazy import lazy

if TYPE_CHECKING:
    import polars as pl

outputs = lazy("crmtool.output.formats")


def split_csv(value: str | None) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c']; None or '' -> []."""
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        metavar="table|csv|json|parquet|xlsx",
        help="Output format (default: from -o's suffix; table on a terminal, csv in a pipe).",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="Write to this file (replaced atomically) instead of stdout; with --engine spark "
        "a folder or *.parquet is written by Spark.",
    ),
]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where",
        metavar="CONDITION",
        help="Keep rows matching an SQL condition over the list's columns, "
        "e.g. \"tier = 'A' AND days_since > 180\".",
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option("--columns", metavar="a,b,c", help="Only these columns, in this order."),
]
SortOpt = Annotated[
    str | None,
    typer.Option(
        "--sort", metavar="col,-col", help="Sort by columns; '-col' descending; nulls last."
    ),
]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", metavar="N", min=0, help="At most N rows.")
]
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        metavar="zh|en",
        help="Labels of table and xlsx output (default: the config's lang, zh); csv, json and "
        "parquet always keep snake_case names and codes.",
    ),
]
MaskOpt = Annotated[
    bool, typer.Option("--mask-pii", help="Mask phones (138****5678) and names (张*).")
]
SafeCsvOpt = Annotated[
    bool,
    typer.Option(
        "--safe-csv", help="Quote CSV cells starting with = + - @ so spreadsheets do not run them."
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        metavar="utf-8|gbk|gb18030",
        help="CSV text encoding (default UTF-8; with BOM in files).",
    ),
]
WideOpt = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Table on a terminal: every column (through a pager when wider than the "
        "terminal) instead of the ones that fit.",
    ),
]
SplitByOpt = Annotated[
    str | None,
    typer.Option(
        "--split-by", metavar="COLUMN", help="xlsx: one sheet per value of COLUMN, e.g. advisor."
    ),
]
SparkTableOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-table",
        metavar="NAME",
        help="With --engine spark: write the list to this catalog table (replaced), by Spark.",
    ),
]
PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period", "-p", help="2021 | 2021-10 | 2021Q3 | 2021H2 (default: last full month)."
    ),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="Period start (YYYY-MM-DD).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Period end (YYYY-MM-DD).")]
MonthOpt = Annotated[
    str | None,
    typer.Option("--month", "-m", help="YYYY-MM (default: the month after --as-of / today)."),
]
IncludeRecentOpt = Annotated[
    bool,
    typer.Option(
        "--include-recent",
        help="Keep customers contacted in the last care.recent_days days "
        "(left off by default, counted on stderr).",
    ),
]
PerVehicleOpt = Annotated[
    bool, typer.Option("--per-vehicle", help="One row per vehicle instead of one per customer.")
]


@dataclass
class ListOutput:
    """The output flags of one list command; ``write`` shapes a frame and emits it."""

    fmt: str | None = None
    out: Path | None = None
    where: str | None = None
    columns: str | None = None
    sort: str | None = None
    limit: int | None = None
    lang: str | None = None
    mask_pii: bool = False
    safe_csv: bool = False
    encoding: str | None = None
    split_by: str | None = None
    wide: bool = False
    spark_table: str | None = None
    # not an option: where "wrote N rows to FILE" goes (State.say: silent with -q)
    say: Callable[[str], None] | None = field(
        default=None, repr=False, compare=False, metadata={"option": False}
    )
    # not an option: the command's context, for the config's lang
    ctx: typer.Context | None = field(
        default=None, repr=False, compare=False, metadata={"option": False}
    )

    def write(self, frame: pl.DataFrame, sheet: str = "list") -> None:
        """Apply --where/--sort/--columns/--limit, then write in the chosen format; with -o,
        say how many rows went to which file."""
        if self.spark_table:
            raise UsageError("--spark-table needs --engine spark and a list Spark writes")
        shaped = outputs.shape(
            frame,
            where=self.where,
            columns=split_csv(self.columns) or None,
            sort=split_csv(self.sort) or None,
            limit=self.limit,
        )
        lang = self.lang or config_lang(self.ctx)
        outputs.emit(
            shaped,
            fmt=self.fmt,
            out=self.out,
            lang=lang,
            mask=self.mask_pii,
            sheet=sheet,
            split_by=self.split_by,
            encoding=self.encoding,
            safe_csv=self.safe_csv,
            wide=self.wide,
        )
        if self.out is not None and self.say is not None and str(self.out) != "-":
            self.say(
                f"wrote {shaped.height:,} {'row' if shaped.height == 1 else 'rows'} to {self.out}"
            )


def config_lang(ctx: typer.Context | None) -> str:
    """The `lang` of the config in force for a command's context (docs/rules.md §11)."""
    from .app import state

    return state(ctx).config.lang if ctx is not None else "zh"


# ListOutput's fields as command-line options, in the order --help shows them.
_OPTION_TYPES = {
    "fmt": FormatOpt,
    "out": OutOpt,
    "where": WhereOpt,
    "columns": ColumnsOpt,
    "sort": SortOpt,
    "limit": LimitOpt,
    "lang": LangOpt,
    "mask_pii": MaskOpt,
    "safe_csv": SafeCsvOpt,
    "encoding": EncodingOpt,
    "split_by": SplitByOpt,
    "wide": WideOpt,
    "spark_table": SparkTableOpt,
}


def _option_fields() -> list[Field[Any]]:
    return [f for f in fields(ListOutput) if f.metadata.get("option", True)]


def list_command(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared output flags; it receives them as `output: ListOutput`."""
    sig = inspect.signature(func, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name != "output"]
    extra = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_OPTION_TYPES[f.name],
            default=f.default,
        )
        for f in _option_fields()
    ]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> None:
        from .app import state

        output = ListOutput(**{f.name: kwargs.pop(f.name) for f in _option_fields()})
        if output.where and output.where.strip():  # a broken condition: refused before the
            from ..output import where  # list is computed (its columns are checked after)

            where.parse(output.where)
        ctx = kwargs.get("ctx")
        output.ctx = ctx
        if ctx is not None:
            output.say = state(ctx).say
        return func(*args, output=output, **kwargs)

    # inspect reads __signature__ off a function; typeshed's FunctionType does not declare it
    command.__signature__ = sig.replace(parameters=own + extra)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in own + extra}
    del command.__wrapped__  # Typer must see the new signature, not the wrapped one
    return command
