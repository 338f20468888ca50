"""What the loaded data covers: the span of own repair orders, so the CLI can say when an
answer is empty or stale because of the data rather than the rules (docs/rules.md §18)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from . import engine
from .config import Config
from .period import Period

if TYPE_CHECKING:
    import duckdb


def own_orders_span(con: duckdb.DuckDBPyConnection, cfg: Config) -> tuple[date | None, date | None]:
    """The first and last settle_date of the own dealers' repair orders (None, None: none)."""
    rows = engine.of(con).rows(
        "SELECT min(settle_date) AS first_day, max(settle_date) AS last_day FROM repair_orders "
        "WHERE list_contains($own, dealer_code)",
        {"own": list(cfg.own_dealers)},
    )
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def has_own_orders(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> bool:
    """A period has data when an own repair order is settled in it (docs/rules.md §18 "No silent empty answers")."""
    rows = engine.of(con).rows(
        "SELECT count(*) AS n FROM repair_orders WHERE list_contains($own, dealer_code) "
        "AND settle_date BETWEEN $start AND $end",
        {"own": list(cfg.own_dealers), "start": period.start, "end": period.end},
    )
    return bool(rows and rows[0][0])
