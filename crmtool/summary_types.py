"""The summary's shape (docs/rules.md §11 "Summary"), written once: built by crmtool/summary.py,
written as JSON and as terminal tables by `crmtool summary`, read by the HTML and Excel report
(crmtool/report/). The contract's blocks are always there; the report's extras may be left out
(NotRequired), and the renderers skip a missing one.

Types only: no import beyond typing.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

Counts = dict[str, int]  # a count per code: tiers A–D, statuses (crmtool/codes.py)
Rows = list[dict[str, Any]]


class Span(TypedDict):
    start: str  # ISO dates
    end: str


class MixRow(TypedDict):
    """One ro_type of the service mix."""

    count: int
    share: float
    revenue: float


class Leakage(TypedDict):
    retained: int
    cross_shop: int
    defected: int
    out_of_channel: int
    cross_shop_by_own_visits: Counts  # "1" … "4", "5+"
    cross_shop_region: Counts  # same, other, unknown


class NewCarDefection(TypedDict):
    sold: int
    defected: int
    direct: int


class Outlet(TypedDict):
    outlet: str
    sold: int
    returned_paid: int
    revenue: float
    no_paid: int
    no_ro: int


class SecondaryNetwork(TypedDict):
    sold: int
    returned_paid: int
    revenue: float
    no_paid: int
    no_ro: int
    by_outlet: list[Outlet]


class DealerFigures(TypedDict):
    """One own dealer's figures in a dealer group's summary (`by_dealer`)."""

    tiers: Counts
    status: Counts
    service_mix: dict[str, MixRow]
    never_returned: int


class KpiSummary(TypedDict):
    """The blocks the report's KPI tiles compare with the previous period."""

    as_of: str
    period: Span
    tiers: Counts
    status: Counts
    leakage: Leakage
    never_returned: int
    service_mix: dict[str, MixRow]
    leads: dict[str, Any] | None  # None on Spark (the store's own table)


class Summary(KpiSummary):
    """`crmtool summary --format json` and the report's data."""

    new_car_defection: NewCarDefection
    secondary_network: SecondaryNetwork
    data_quality: Counts | None  # None on Spark (the loads table is the store's)
    retention: NotRequired[dict[str, Any]]
    # the report's extras
    maintenance_due: NotRequired[dict[str, Any]]
    tiers_by_series: NotRequired[Rows]
    defected_by_dealer: NotRequired[Rows]
    rejects_by_reason: NotRequired[Rows]
    flags_by_kind: NotRequired[Rows]
    leads_by_source: NotRequired[Rows]
    leads_by_consultant: NotRequired[Rows]
    care: NotRequired[dict[str, Any]]
    forecast: NotRequired[dict[str, Any]]
    by_dealer: NotRequired[dict[str, DealerFigures]]
    retention_detail: NotRequired[dict[str, Any]]
