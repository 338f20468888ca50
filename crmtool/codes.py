"""The canonical codes, defined once (docs/rules.md, Labels): what CSV, JSON and Parquet carry
and what the label table (crmtool/labels.py) gives words to. Constants only: the report layer
and the CLI read them without importing a rule module."""

from __future__ import annotations

TIERS = ("A", "B", "C", "D")  # value tier, best first (rules §3)
STATUSES = ("new", "loyal", "general", "at_risk", "lost")  # loyalty status (§5)
AT_RISK = ("lost", "at_risk")  # the statuses of the churn and win-back call lists
LEAKAGE = ("retained", "cross_shop", "defected", "out_of_channel")  # where they go (§6)
REASONS = ("never_returned", "defected", "out_of_channel")  # why lost / at_risk (§13)
AGE_STAGES = ("new", "mid", "old", "unknown")  # vehicle age stage (§4)
USAGES = ("private", "official", "commercial")  # vehicle usage
AREA_TYPES = ("city", "county", "township")  # customer area type
REGIONS = ("same", "other", "unknown")  # the other dealer's region vs ours
RO_TYPES = (
    "first_service",
    "maintenance",
    "repair",
    "body_paint",
    "warranty",
    "pds",
    "internal",
    "other",
)
SERVICE_TYPES = ("first_service", "maintenance")  # the orders that reset a maintenance due date
# vehicle_status values never on a call list and never counted (docs/rules.md §9, §17 "Tiers and
# segments")
GONE = ("scrapped", "transferred")
