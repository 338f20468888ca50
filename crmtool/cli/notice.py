"""Warnings for answers that are empty or stale because of the data (issue 15 item 4,
docs/rules.md §18): an as_of far after the newest own repair order, a period without data,
no vehicle counted. Each is said once per command, on stderr,
also with -q (a warning is what cron should mail)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ..coverage import has_own_orders, own_orders_span
from ..errors import CrmError
from ..period import Period
from .app import State

if TYPE_CHECKING:
    import duckdb

STALE_DAYS = 90  # as_of this many days after the newest own repair order: warn


def check_as_of(st: State, con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Warn when as_of is long after the newest own repair order (a database without any is
    said by the period and vehicle warnings where it matters)."""
    _, last = own_orders_span(con, st.config)
    if last is not None and (as_of - last).days > STALE_DAYS:
        st.warn(
            f"as_of {as_of} is {(as_of - last).days} days after the newest repair order "
            f"({last}): vehicles without a visit since count as lost; pass --as-of {last} "
            "to see the data at its end"
        )


def check_period(
    st: State, con: duckdb.DuckDBPyConnection, period: Period, *, fail: bool = False
) -> bool:
    """False (and a warning, or with `fail` an error) when no own repair order is settled in
    the period."""
    if has_own_orders(con, st.config, period):
        return True
    first, last = own_orders_span(con, st.config)
    span = f"the data runs {first} … {last}" if last else "no repair order is loaded"
    message = (
        f"period {period.label} has no data: no own repair order settled from "
        f"{period.start} to {period.end} ({span})"
    )
    if fail:
        raise CrmError(message + "; pass --allow-empty to write the report anyway")
    st.warn(message)
    return False


def check_vehicles(st: State, counted: int, as_of: date) -> None:
    """Warn when no vehicle is counted at as_of."""
    if counted == 0:
        st.warn(
            f"no vehicle is ours at as_of {as_of} (a sale or own visit in the "
            f"{st.config.ours_days} days before): every count is 0"
        )
