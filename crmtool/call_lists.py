"""The call lists, declared once: what each is (rows per vehicle, order, customer …), how it is
built with its command's defaults, which columns it carries and how the monthly report shows
it. Read by the list commands, `contacts export --list`, the report data and the report
layout. Adding a list = one `CallList` in LISTS (or `register`) + its test (docs/DEVELOPING.md).

Imports nothing heavy at module level: `crmtool --help` reads the names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .codes import AT_RISK
from .segment_registry import LIST_COLUMNS

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from .config import Config

    Con = duckdb.DuckDBPyConnection

Per = Literal["vehicle", "order", "visit", "customer", "complaint"]
Builder = Callable[["Con", "Config", date], "pl.DataFrame"]


@dataclass(frozen=True)
class CallList:
    """One call list.

    name:    the key (`contacts export --list NAME`, the report's sheet key, labels.sheet_label)
    build:   its rows at as_of with its command's defaults, before suppression
    per:     what one row is: a vehicle, a repair order, a visit, a customer, a complaint
    columns: the columns `build` gives, in order (each has a label in crmtool/labels.py)
    command: the command that makes it with options (for help texts)
    report:  its rows in the monthly report workbook, else None (not in the report)
    export:  the arguments of the command that exports the report's whole list at as_of (the
             report's campaign lists keep recently contacted customers, its care lists do
             not, as `care` does by default)
    best:    for --per-customer, the sort that picks a customer's row ((column, descending)…);
             None keeps the list's own order (the most urgent vehicle first)
    """

    name: str
    build: Builder
    per: Per
    columns: tuple[str, ...]
    command: str
    report: Builder | None = None
    export: Callable[[date], str] | None = None
    best: tuple[tuple[str, bool], ...] | None = None


# -- builders (imports inside: the rule modules are heavy) ------------------------------------


def _next_month(as_of: date):  # noqa: ANN202 - Period
    from .period import month_of

    return month_of(as_of, 1)


def _due(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .campaigns import maintenance_due

    return maintenance_due(con, cfg, _next_month(as_of), as_of).frame


def _warranty(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .campaigns import warranty_expiring

    return warranty_expiring(con, cfg, as_of).frame


def _insurance(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .campaigns import insurance_renewal

    return insurance_renewal(con, cfg, as_of).frame


def _loyal(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .campaigns import loyal_reward
    from .period import last_full_half

    return loyal_reward(con, cfg, last_full_half(as_of)).frame


def _report_half(as_of: date):  # noqa: ANN202 - Period
    """The report's loyal half year: the six months ending on as_of."""
    from .period import Period, add_months

    return Period(add_months(as_of, -6) + timedelta(days=1), as_of, "half")


def _loyal_report(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    """The report's loyal list: the half-year ending on as_of."""
    from .campaigns import loyal_reward

    return loyal_reward(con, cfg, _report_half(as_of)).frame


def _loyal_export(as_of: date) -> str:
    """`campaign loyal` with the report's half year: --half for a calendar half, else
    --from/--to."""
    from .period import add_months

    start = _report_half(as_of).start
    calendar_half = (
        start.day == 1 and start.month in (1, 7) and add_months(start, 6) == as_of + timedelta(1)
    )
    half = (
        f"--half {start.year}H{1 if start.month == 1 else 2}"
        if calendar_half
        else f"--from {start.isoformat()} --to {as_of.isoformat()}"
    )
    return f"campaign loyal {half} --include-recent"


def _winback(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .campaigns import winback

    return winback(con, cfg, as_of).frame


def _churn(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .churn import churn_list

    return churn_list(con, cfg, as_of, AT_RISK).frame


def _segment(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .segment import segment_list

    return segment_list(con, cfg, as_of).frame


def _callbacks(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .care import callbacks

    return callbacks(con, cfg, as_of).frame


def _birthdays(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .care import birthdays

    return birthdays(con, cfg, _next_month(as_of), as_of)


def _complaints(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
    from .care import complaints

    return complaints(con, cfg, as_of)


def _suppressed(
    build: Builder, then: Callable[[pl.DataFrame], pl.DataFrame] | None = None, recent: bool = False
) -> Builder:
    """A report builder: the list as its `care` command prints it (suppression applied)."""

    def report(con: Con, cfg: Config, as_of: date) -> pl.DataFrame:
        from .care import ensure_contacts
        from .suppression import apply_suppression

        ensure_contacts(con)
        frame = apply_suppression(con, cfg, build(con, cfg, as_of), as_of, include_recent=recent)[0]
        return then(frame) if then else frame

    return report


def _one_per_customer(frame: pl.DataFrame) -> pl.DataFrame:
    from .suppression import one_per_customer

    return one_per_customer(frame)


def _complaints_per_customer(frame: pl.DataFrame) -> pl.DataFrame:
    from .care import complaints_per_customer

    return complaints_per_customer(frame)


_CONTACT = ("vin", "customer_id", "name", "phone", "series")
_STATUS = ("status", "days_since", "last_own_visit", "own_visits_12m", "risk_ratio", "warn")
_REASON = ("reason", "other_dealer", "other_dealer_name", "last_other_visit", "lifetime_paid")

# The order is the report workbook's order of sheets.
LISTS: dict[str, CallList] = {
    e.name: e
    for e in (
        CallList(
            "due",
            _due,
            "vehicle",
            (
                *_CONTACT,
                "due_service",
                "last_service_date",
                "last_service_km",
                "due_date",
                "due_by",
                "overdue",
                "days_overdue",
                "last_advisor",
            ),
            "crmtool due",
            report=_due,
            export=lambda as_of: f"due --month {_next_month(as_of).label} --include-recent",
        ),
        CallList(
            "warranty",
            _warranty,
            "vehicle",
            (
                *_CONTACT,
                "sale_date",
                "warranty_end",
                "ends_by",
                "days_left",
                "est_mileage",
                "last_advisor",
            ),
            "crmtool campaign warranty",
            report=_warranty,
            export=lambda as_of: "campaign warranty --include-recent",
        ),
        CallList(
            "insurance",
            _insurance,
            "order",
            (
                *_CONTACT,
                "ro_id",
                "settle_date",
                "ro_type",
                "total_amount",
                "band",
                "band_label",
                "gift",
                "advisor",
            ),
            "crmtool campaign insurance",
            report=_insurance,
            export=lambda as_of: "campaign insurance --include-recent",
        ),
        CallList(
            "loyal",
            _loyal,
            "vehicle",
            (*_CONTACT, "own_visits", "paid_amount", "tier", "gift", "last_advisor"),
            "crmtool campaign loyal",
            report=_loyal_report,
            export=_loyal_export,
        ),
        CallList(
            "winback",
            _winback,
            "vehicle",
            (*_CONTACT, *_STATUS[:3], *_REASON, "gift", "last_advisor"),
            "crmtool campaign winback",
            report=_winback,
            export=lambda as_of: "campaign winback --include-recent",
        ),
        CallList(
            "churn",
            _churn,
            "vehicle",
            (*_CONTACT, *_STATUS, *_REASON, "last_advisor"),
            "crmtool churn",
        ),
        CallList(
            "segment",
            _segment,
            "vehicle",
            LIST_COLUMNS,
            "crmtool segment",
            best=(("tier", False), ("ticket", True), ("visits_12m", True), ("vin", False)),
        ),
        CallList(
            "birthdays",
            _birthdays,
            "customer",
            (
                "customer_id",
                "name",
                "phone",
                "birth_date",
                "birthday",
                "age",
                "vehicles",
                "series",
                "last_advisor",
            ),
            "crmtool care birthdays",
            report=_suppressed(_birthdays),
            export=lambda as_of: f"care birthdays --month {_next_month(as_of).label}",
        ),
        CallList(
            "callbacks",
            _callbacks,
            "visit",
            (*_CONTACT, "callback", "event_date", "ro_id", "ro_type", "advisor", "last_advisor"),
            "crmtool care callbacks",
            report=_suppressed(_callbacks, _one_per_customer),
            export=lambda as_of: "care callbacks",
        ),
        CallList(
            "complaints",
            _complaints,
            "complaint",
            (
                "complaint_date",
                "days_open",
                "customer_id",
                "name",
                "phone",
                "vin",
                "purpose",
                "result",
                "note",
                "ro_id",
                "settle_date",
                "advisor",
                "contact_id",
            ),
            "crmtool care complaints",
            report=_suppressed(_complaints, _complaints_per_customer, recent=True),
            export=lambda as_of: "care complaints",
        ),
    )
}


def names() -> tuple[str, ...]:
    """Every list's name, in the registry's order."""
    return tuple(LISTS)


def get(name: str) -> CallList:
    """The list called `name`; an unknown name is a usage error that names the choices."""
    if name not in LISTS:
        from .errors import UsageError

        raise UsageError(f"--list must be one of {', '.join(LISTS)}; got {name!r}")
    return LISTS[name]


def report_order(keys: list[str] | tuple[str, ...]) -> list[str]:
    """The report's lists in the registry's order; keys it does not know come last, sorted."""
    return [k for k in LISTS if k in keys] + sorted(k for k in keys if k not in LISTS)


def report_lists(con: Con, cfg: Config, as_of: date) -> dict[str, pl.DataFrame]:
    """The rows of every list the report shows, at as_of (the report data's lists)."""
    return {e.name: e.report(con, cfg, as_of) for e in LISTS.values() if e.report is not None}


@contextmanager
def registered(entry: CallList) -> Iterator[CallList]:
    """`entry` in the registry for the duration of a with block (tests, plug-ins)."""
    old = LISTS.get(entry.name)
    LISTS[entry.name] = entry
    try:
        yield entry
    finally:
        if old is None:
            del LISTS[entry.name]
        else:
            LISTS[entry.name] = old


# -- one row per customer ---------------------------------------------------------------------


def per_customer(
    frame: pl.DataFrame, best: tuple[tuple[str, bool], ...] | None = None
) -> pl.DataFrame:
    """One row per customer (rules §13 --per-customer) with `vehicles` = how many of their rows
    were in the frame; rows without a customer_id stay one each. The row kept is the first in
    the `best` sort ((column, descending)…, nulls last) or, without it, the first in the
    frame's order (the most urgent vehicle). The frame's order is kept."""
    import polars as pl

    key = pl.coalesce(pl.col("customer_id"), pl.lit("\0") + pl.col("vin"))
    ranked = (
        frame.with_row_index("_row")
        .with_columns(_key=key)
        .with_columns(vehicles=pl.len().over("_key").cast(pl.Int64))
    )
    if best:
        ranked = ranked.sort([c for c, _ in best], descending=[d for _, d in best], nulls_last=True)
    kept = ranked.unique(subset="_key", keep="first", maintain_order=True)
    return kept.sort("_row").drop("_row", "_key")


# -- a list written earlier -------------------------------------------------------------------


def read_list(path: Path) -> pl.DataFrame:
    """A list written earlier (csv, xlsx, parquet, json); Chinese headers read back."""
    import polars as pl

    from .errors import CrmError
    from .output.labels import column_from_label

    suffix = path.suffix.lower()
    if not path.is_file():
        raise CrmError(f"{path}: no such file")
    if suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif suffix == ".json":
        frame = pl.read_json(path)
    elif suffix in (".xlsx", ".xls"):
        frame = pl.read_excel(path)
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        frame = pl.read_csv(text.encode(), infer_schema=False)
    back = {c: column_from_label(c) for c in frame.columns}
    frame = frame.rename(
        {c: en for c, en in back.items() if en and en != c and en not in frame.columns}
    )
    if not {"customer_id", "phone", "vin"} & set(frame.columns):
        raise CrmError("no customer_id, phone or vin column", file=str(path))
    return frame
