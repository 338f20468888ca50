"""Service mix 业务构成 (rules §8): own repair orders settled in the period, by ro_type."""

from __future__ import annotations

import duckdb

from . import engine
from .codes import RO_TYPES
from .config import Config
from .period import Period
from .summary_types import MixRow


def service_mix(con: duckdb.DuckDBPyConnection, cfg: Config, period: Period) -> dict[str, MixRow]:
    """{ro_type: {count, share, revenue}} for every canonical ro_type, zeros included.

    count = own repair orders (台次); share = count / all own repair orders in the period;
    revenue = sum of their total_amount whatever the payer (产值).
    """
    rows = engine.of(con).rows(
        """
        SELECT coalesce(ro_type, 'other') AS ro_type, count(*) AS n,
               coalesce(sum(total_amount), 0) AS revenue
        FROM ro WHERE is_own AND settle_date BETWEEN $start AND $end
        GROUP BY coalesce(ro_type, 'other')
    """,
        {"start": period.start, "end": period.end},
    )
    found = {t: (n, rev) for t, n, rev in rows}
    total = sum(n for n, _ in found.values())
    out: dict[str, MixRow] = {}
    for t in RO_TYPES:
        n, rev = found.get(t, (0, 0.0))
        out[t] = {
            "count": int(n),
            "share": round(n / total, 4) if total else 0.0,
            "revenue": round(float(rev), 2),
        }
    return out
