"""What the loaded data covers: the span of own repair orders, so the CLI can say when an
answer is empty or stale because of the data rather than the rules (docs/rules.md §18)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from .config import Config
from .period import Period

if TYPE_CHECKING:
    import duckdb


def own_orders_span(con: duckdb.DuckDBPyConnection, cfg: Config) -> tuple[date | None, date | None]:
    """The first and last settle_date of the own dealers' repair orders (None, None: none)."""
    rows = con.execute(
        "SELECT min(settle_date), max(settle_date) FROM repair_orders "
        "WHERE list_contains(?, dealer_code)",
        [cfg.own_dealers],
    ).fetchall()
    return rows[0] if rows else (None, None)


def has_own_orders(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> bool:
    """A period has data when an own repair order is settled in it (docs/rules.md §18 "No silent empty answers")."""
    rows = con.execute(
        "SELECT count(*) FROM repair_orders WHERE list_contains(?, dealer_code) "
        "AND settle_date BETWEEN ? AND ?",
        [cfg.own_dealers, period.start, period.end],
    ).fetchall()
    return bool(rows and rows[0][0])
