"""The data of the monthly report: the period's summary, the previous period's and the call
lists. The rule modules are imported lazily, so the renderer works (and is tested) on its own."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from .errors import CrmError
from .period import Period, add_months, parse_period

LISTS = {"due": "maintenance_due", "warranty": "warranty_expiring",
         "insurance": "insurance_renewal", "loyal": "loyal_reward", "winback": "winback"}


def _frame(result: Any) -> pl.DataFrame:
    frame = getattr(result, "frame", result)
    if isinstance(frame, duckdb.DuckDBPyRelation):
        frame = frame.pl()
    if not isinstance(frame, pl.DataFrame):
        raise CrmError(f"report: a call list came back as {type(frame).__name__}, not a frame")
    return frame


def _call(fn: Callable[..., Any], args: dict[str, Any]) -> Any:
    """Call a list function with the arguments it names (con, cfg, as_of, month, period)."""
    params = inspect.signature(fn).parameters
    kwargs = {n: args[n] for n, p in params.items()
              if n in args and (p.default is inspect.Parameter.empty or n == "as_of")}
    missing = [n for n, p in params.items()
               if p.default is inspect.Parameter.empty and n not in kwargs]
    if missing:
        raise CrmError(f"report: cannot call {fn.__name__}: no value for {', '.join(missing)}")
    return fn(**kwargs)


def collect_report_data(con: duckdb.DuckDBPyConnection, cfg: Any, period: Period,
                        as_of: date | None = None
                        ) -> tuple[dict, dict | None, dict[str, pl.DataFrame]]:
    """(summary, previous summary, call lists) for `period`; as_of defaults to its end.

    Lists: maintenance due in the month after as_of, warranties ending in the next days,
    insurance repairs of the last days, loyal vehicles of the half-year ending on as_of,
    win-back as of as_of.
    """
    as_of = as_of or period.end
    try:
        from . import campaigns
        from .summary import build_summary
    except ImportError as e:
        raise CrmError(f"report needs the summary and campaign modules ({e})") from None
    summary = build_summary(con, cfg, period, as_of)
    prev = period.previous()
    previous = build_summary(con, cfg, prev, min(as_of, prev.end))
    next_month = parse_period(f"{(as_of.replace(day=1) + timedelta(days=32)):%Y-%m}")
    half = Period(add_months(as_of, -6) + timedelta(days=1), as_of, "half")
    args = {"con": con, "cfg": cfg, "config": cfg, "as_of": as_of, "month": next_month,
            "period": half}
    lists: dict[str, pl.DataFrame] = {}
    for key, name in LISTS.items():
        fn = getattr(campaigns, name, None)
        if fn is None:
            raise CrmError(f"report needs crmtool.campaigns.{name}")
        lists[key] = _frame(_call(fn, args))
    return summary, previous, lists
