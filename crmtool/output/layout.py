"""Which columns of a list fit a terminal (docs/rules.md §11, Terminal tables).

On a terminal a list shows the columns that matter for that list first (who to call and why),
as many as fit the width. A phone, VIN, date or number is never cut: a column that does not
fit is left out whole and counted ("+N columns: --columns or --wide"). Only free text (a
gift's wording, a note, a raw line) may be shortened with '…'.
"""

from __future__ import annotations

from collections.abc import Sequence

# Who to call, then why: the columns each list shows first (the list's sheet name is the key).
PEOPLE = ("plate", "name", "phone")
PRIORITY: dict[str, tuple[str, ...]] = {
    "segment": (
        *PEOPLE,
        "tier",
        "status",
        "days_since",
        "series",
        "last_visit",
        "visits_12m",
        "ticket",
        "last_advisor",
    ),
    "churn": (
        *PEOPLE,
        "status",
        "reason",
        "days_since",
        "last_own_visit",
        "other_dealer_name",
        "lifetime_paid",
        "warn",
        "series",
        "last_advisor",
    ),
    "due": (
        *PEOPLE,
        "due_service",
        "due_date",
        "overdue",
        "days_overdue",
        "due_by",
        "series",
        "last_service_date",
        "last_advisor",
    ),
    "warranty": (
        *PEOPLE,
        "warranty_end",
        "days_left",
        "ends_by",
        "series",
        "est_mileage",
        "last_advisor",
    ),
    "insurance": (
        *PEOPLE,
        "settle_date",
        "total_amount",
        "band_label",
        "gift",
        "series",
        "advisor",
    ),
    "loyal": (*PEOPLE, "tier", "own_visits", "paid_amount", "gift", "series", "last_advisor"),
    "winback": (
        *PEOPLE,
        "status",
        "reason",
        "days_since",
        "lifetime_paid",
        "other_dealer_name",
        "gift",
        "series",
        "last_advisor",
    ),
    "forecast": (
        *PEOPLE,
        "p_alive",
        "value_12m",
        "expected_visits_12m",
        "expected_ticket",
        "tier",
        "status",
        "days_since",
        "series",
    ),
    "callbacks": (*PEOPLE, "callback", "event_date", "ro_type", "advisor", "series"),
    "birthdays": (*PEOPLE, "birthday", "age", "series", "last_advisor"),
    "greetings": (*PEOPLE, "holiday", "holiday_date", "series", "last_advisor"),
    "complaints": (*PEOPLE, "complaint_date", "days_open", "result", "note", "advisor"),
    "find": (
        "settle_date",
        "vin",
        "plate",
        "ro_type",
        "total_amount",
        "is_own",
        "payer",
        "series",
        "sale_date",
        "tier",
        "status",
        "mileage_km",
        "advisor",
        "dealer_code",
        "sale_channel",
        "vehicle_status",
    ),
}
# Free text: may be shortened to FREE_MIN cells; everything else keeps its full width.
FREE_TEXT = frozenset(
    {
        "gift",
        "note",
        "raw",
        "model",
        "file",
        "address",
        "occupation",
        "other_dealer_name",
        "defeat_reason",
        "detail",
    }
)
FREE_MIN = 12


def table_width(widths: Sequence[int]) -> int:
    """Width of a boxed table whose columns hold `widths` cells (padding 1 + a rule each)."""
    return sum(widths) + 3 * len(widths) + 1


def fit(
    columns: Sequence[str], widths: Sequence[int], width: int, context: str | None = None
) -> tuple[list[int], dict[int, int]]:
    """(indices of the columns shown, in the order shown; {index: width} of shortened free
    text). The list's own columns come first, then the rest in their order; a column that
    does not fit is skipped whole and the next ones are still tried."""
    first = [c for c in PRIORITY.get(context or "", ()) if c in columns]
    order = [columns.index(c) for c in first]
    order += [i for i, c in enumerate(columns) if c not in first]
    shown: list[int] = []
    used = 1
    for i in order:
        need = min(widths[i], FREE_MIN) if columns[i] in FREE_TEXT else widths[i]
        if used + need + 3 <= width:
            shown.append(i)
            used += need + 3
    if not shown and order:  # not even one column fits: show the first, the terminal wraps
        shown = [order[0]]
        used += widths[order[0]] + 3
    short: dict[int, int] = {}
    spare = width - used
    for i in shown:
        if columns[i] in FREE_TEXT and widths[i] > FREE_MIN:
            extra = min(widths[i] - FREE_MIN, max(spare, 0))
            spare -= extra
            if FREE_MIN + extra < widths[i]:
                short[i] = FREE_MIN + extra
    return shown, short
