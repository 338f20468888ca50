"""Shared by the HTML and Excel report: the by-dealer table, list keys, masking; the words
themselves live in the label table (crmtool/output/labels.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import polars as pl

from ..codes import STATUSES, TIERS
from ..output.formats import mask_pii
from ..output.labels import words
from ..summary_types import DealerFigures, Summary

NOT_PEOPLE = ("other_dealer_name", "dealer_name")  # *_name columns that name no person


def by_dealer_rows(
    summary: Summary, t: Mapping[str, str]
) -> tuple[list[str], list[tuple[str, str, list[float | None]]]] | None:
    """The "by dealer" table of a dealer group's report, from the summary's `by_dealer`:
    (column headers, rows of (label, kind int|money, one value per dealer then the group's)).
    None when the summary has no by_dealer (a single own dealer, or --dealer)."""
    by = summary.get("by_dealer")
    if not by:
        return None
    blocks: list[DealerFigures] = [*by.values(), summary]  # the group's own figures last

    def mix_total(block: DealerFigures, what: Literal["count", "revenue"]) -> float | None:
        return float(sum(r[what] for r in block["service_mix"].values()))

    rows: list[tuple[str, str, list[float | None]]] = []
    rows += [(f"{t['tier']} {k}", "int", [float(b["tiers"][k]) for b in blocks]) for k in TIERS]
    rows += [(t[f"st_{k}"], "int", [float(b["status"][k]) for b in blocks]) for k in STATUSES]
    rows.append((t["bd_orders"], "int", [mix_total(b, "count") for b in blocks]))
    rows.append((t["kpi_revenue"], "money", [mix_total(b, "revenue") for b in blocks]))
    rows.append((t["never_returned"], "int", [float(b["never_returned"]) for b in blocks]))
    return [t["item"], *map(str, by), t["group"]], rows


def period_kind(period: Mapping[str, Any] | None) -> str:
    """month, quarter, half, year or other, from a summary's {"start", "end"}."""
    from datetime import date

    from ..period import add_months

    if not period:
        return "month"
    start, end = (date.fromisoformat(str(period[k])) for k in ("start", "end"))
    for kind, months, starts in (
        ("month", 1, range(1, 13)),
        ("quarter", 3, (1, 4, 7, 10)),
        ("half", 6, (1, 7)),
        ("year", 12, (1,)),
    ):
        if (
            start.day == 1
            and start.month in starts
            and add_months(start, months).toordinal() - 1 == end.toordinal()
        ):
            return kind
    return "other"


def labels(lang: str, period: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The report's words of one language ('zh' or 'en'), from the label table; the title
    and the list heading follow the period's kind (季报, 年报 …; a month keeps 月报 / 本月)."""
    t = words(lang)
    kind = period_kind(period)
    if kind == "month":
        return t
    return {**t, "title": t[f"title_{kind}"], "lists": t[f"lists_{kind}"]}


def mask_people(frame: pl.DataFrame) -> pl.DataFrame:
    """output.mask_pii, but dealer names (not people) stay readable."""
    keep = [c for c in NOT_PEOPLE if c in frame.columns]
    return mask_pii(frame).with_columns(frame.select(keep)) if keep else mask_pii(frame)


def forecast_notes(fc: Mapping[str, Any], t: Mapping[str, str]) -> list[str]:
    """The forecast's warnings (summary block `note_codes`) in the report's language."""
    return [
        t[f"fc_note_{n['code']}"].format(value=n.get("value", ""))
        for n in fc.get("note_codes") or []
        if isinstance(n, Mapping) and f"fc_note_{n.get('code')}" in t
    ]
