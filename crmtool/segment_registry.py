"""The segments of `crmtool segment`, declared once (rules §4; docs/DEVELOPING.md, "Adding a
segment"). Each entry is a column of the segment list: its SQL from the config, its values,
the filter option and `--by` key that select it, its help. `segment.segments_sql` builds the
columns from here; the CLI derives its filter options, `--by` keys and `--by` sort order.

Imports nothing heavy at module level: `crmtool --help` reads the options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .codes import AGE_STAGES, AREA_TYPES, STATUSES, TIERS, USAGES

if TYPE_CHECKING:
    from .config import Config

Label = tuple[str, str]  # (zh, en), as in crmtool/labels.py


@dataclass(frozen=True)
class Segment:
    """One segment column.

    name:    the column of the list
    sql:     its SQL expression from the config, over the columns of the list's `seg` step
             (vin, customer_id, tier, ticket, visits_12m, cycle_days, est_mileage,
             own_visits_12m, last_visit, days_since, …) and the `needs` it names
    needs:   source columns the expression reads, as alias.column: v (vehicles),
             c (customers), t (tiers), r (mileage rates); each is in `seg` as its column name
    values:  the values it takes, from the config (None: free text, e.g. series)
    ordered: the values' order is the `--by` sort order (else alphabetical)
    flag:    the filter option (--stage); None: no filter, `--by` and `--where` still work
    by:      its short key for `--by` (stage); the column name is always accepted
    metavar, help: for the filter option's --help
    label, value_labels: its header and its values' words for a column the label table
             (crmtool/labels.py) does not know yet; they are added to that table
    """

    name: str
    sql: Callable[[Config], str]
    needs: tuple[str, ...] = ()
    values: Callable[[Config], tuple[str, ...]] | None = None
    ordered: bool = False
    flag: str | None = None
    by: str | None = None
    metavar: str = "VALUES"
    help: str = ""
    label: Label | None = None
    value_labels: dict[str, Label] | None = None

    def allowed(self, cfg: Config) -> tuple[str, ...] | None:
        """The values a filter accepts (None: any)."""
        return self.values(cfg) if self.values else None


def _km(x: float) -> str:
    return f"{x / 1000:g}k"


def mileage_labels(cfg: Config) -> list[str]:
    """'<10k', '10k-30k', …, '100k+' from cfg.segments.mileage_bands_km."""
    cuts = cfg.segments.mileage_bands_km
    return (
        [f"<{_km(cuts[0])}"]
        + [f"{_km(lo)}-{_km(hi)}" for lo, hi in zip(cuts, cuts[1:], strict=False)]
        + [f"{_km(cuts[-1])}+"]
    )


def frequency_labels(cfg: Config) -> list[str]:
    """'0', '1', '2-3', '4+' from cfg.segments.frequency_bands (lower bounds)."""
    lows = [int(x) for x in cfg.segments.frequency_bands]
    out = []
    for lo, nxt in zip(lows, lows[1:], strict=False):
        out.append(str(lo) if nxt - 1 == lo else f"{lo}-{nxt - 1}")
    return out + [f"{lows[-1]}+"]


def _rule(name: str) -> Callable[..., str]:
    """A SQL builder of crmtool/segment.py or churn.py, imported when the SQL is built."""

    def call(*args: object) -> str:
        import importlib

        module, func = name.rsplit(".", 1)
        return str(getattr(importlib.import_module(f"crmtool.{module}"), func)(*args))

    return call


def _column(name: str) -> Callable[[Config], str]:
    return lambda cfg: name


# The order is the order of the filter options in --help.
SEGMENTS: dict[str, Segment] = {
    s.name: s
    for s in (
        Segment(
            "tier",
            _column("tier"),
            values=lambda cfg: TIERS,
            ordered=True,
            flag="--tier",
            by="tier",
            metavar="A,B",
            help="Value tiers to keep (A, B, C, D).",
        ),
        Segment(
            "age_stage",
            lambda cfg: _rule("segment.age_stage_sql")(cfg, "sale_date"),
            needs=("v.sale_date",),
            values=lambda cfg: AGE_STAGES,
            ordered=True,
            flag="--stage",
            by="stage",
            metavar="new,mid",
            help="Age stages to keep: new (<3 years), mid (3–6), old (6+), unknown.",
        ),
        Segment(
            "mileage_band",
            lambda cfg: _rule("segment.mileage_band_sql")(cfg),
            values=lambda cfg: (*mileage_labels(cfg), "unknown"),
            ordered=True,
            flag="--mileage-band",
            by="mileage",
            metavar="BANDS",
            help="Mileage bands to keep: <10k, 10k-30k, 30k-60k, 60k-100k, 100k+, unknown.",
        ),
        Segment(
            "frequency_band",
            lambda cfg: _rule("segment.frequency_band_sql")(cfg),
            values=lambda cfg: tuple(frequency_labels(cfg)),
            ordered=True,
            flag="--frequency",
            by="frequency",
            metavar="BANDS",
            help="Own visits in the last 12 months: 0, 1, 2-3, 4+.",
        ),
        Segment(
            "series",
            _column("series"),
            needs=("t.series",),
            flag="--series",
            metavar="S1,S2",
            help="Series to keep, e.g. 迈腾,朗逸.",
        ),
        Segment(
            "usage",
            _column("usage"),
            needs=("v.usage",),
            values=lambda cfg: USAGES,
            flag="--usage",
            metavar="U",
            help="private, official, commercial.",
        ),
        Segment(
            "area_type",
            _column("area_type"),
            needs=("c.area_type",),
            values=lambda cfg: AREA_TYPES,
            flag="--area",
            by="area",
            metavar="A",
            help="city, county, township.",
        ),
        Segment(
            "status",
            lambda cfg: _rule("churn.status_case_sql")(
                cfg, "last_visit", "days_since", "own_visits_12m"
            ),
            values=lambda cfg: STATUSES,
            flag="--status",
            metavar="S",
            help="Loyalty status: new, loyal, general, at_risk, lost.",
        ),
        Segment(
            "birth_decade",
            lambda cfg: _rule("segment.birth_decade_sql")("birth_date", "birth_year"),
            needs=("c.birth_date", "c.birth_year"),
            by="decade",
        ),
        Segment("model", _column("model"), needs=("v.model",)),
        Segment("occupation", _column("occupation"), needs=("c.occupation",)),
    )
}


# The segment list's columns in order; a segment not named here goes before last_visit.
LIST_COLUMNS = (
    "vin",
    "plate",
    "customer_id",
    "name",
    "phone",
    "series",
    "model",
    "tier",
    "ticket",
    "visits_12m",
    "cycle_days",
    "age_stage",
    "est_mileage",
    "mileage_band",
    "frequency_band",
    "usage",
    "area_type",
    "birth_decade",
    "occupation",
    "last_visit",
    "last_advisor",
    "status",
    "days_since",
)


def list_columns() -> list[str]:
    """The columns of the segment list with every registered segment."""
    extra = [name for name in SEGMENTS if name not in LIST_COLUMNS]
    at = LIST_COLUMNS.index("last_visit")
    return [*LIST_COLUMNS[:at], *extra, *LIST_COLUMNS[at:]]


def needs() -> dict[str, str]:
    """The source columns the segments read, as {column: alias.column}, first need first."""
    out: dict[str, str] = {}
    for seg in SEGMENTS.values():
        for need in seg.needs:
            out.setdefault(need.split(".", 1)[1], need)
    return out


def by_keys() -> dict[str, str]:
    """The short `--by` keys and the columns they name (stage → age_stage)."""
    return {s.by: s.name for s in SEGMENTS.values() if s.by}


def orders(cfg: Config) -> dict[str, list[str]]:
    """The natural order of the banded columns (for the rows of `--by`)."""
    return {
        s.name: list(s.allowed(cfg) or ())
        for s in SEGMENTS.values()
        if s.ordered and s.values is not None
    }


def _add_labels(seg: Segment) -> None:
    """A new column's words go into THE label table."""
    from .output import labels

    if seg.label is not None:
        labels.COLUMNS.setdefault(seg.name, seg.label)
    if seg.value_labels:
        labels.VALUES.setdefault(seg.name, dict(seg.value_labels))
        labels.VALUE_COLUMNS.setdefault(seg.name, seg.name)


def register(seg: Segment) -> Segment:
    """Add (or replace) a segment; its labels join the label table."""
    SEGMENTS[seg.name] = seg
    _add_labels(seg)
    return seg


@contextmanager
def registered(seg: Segment) -> Iterator[Segment]:
    """`seg` in the registry (and its words in the label table) for a with block (tests)."""
    from .output import labels

    old = SEGMENTS.get(seg.name)
    had = (
        seg.name in labels.COLUMNS,
        seg.name in labels.VALUES,
        seg.name in labels.VALUE_COLUMNS,
    )
    register(seg)
    try:
        yield seg
    finally:
        if old is None:
            del SEGMENTS[seg.name]
        else:
            SEGMENTS[seg.name] = old
        for table, there in zip(
            (labels.COLUMNS, labels.VALUES, labels.VALUE_COLUMNS), had, strict=True
        ):
            if not there:
                table.pop(seg.name, None)  # type: ignore[attr-defined]  # three dict types
