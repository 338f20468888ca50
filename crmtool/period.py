"""Periods and the as_of day (rules §2): --period 2021 | 2021-10 | 2021Q3 | 2021H2."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import UsageError


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before this one (for change figures)."""
        m = re.fullmatch(r"(\d{4})-(\d{2})", self.label)
        if m:
            y, mo = int(m[1]), int(m[2])
            return parse_period(f"{y - (mo == 1)}-{12 if mo == 1 else mo - 1:02d}")
        m = re.fullmatch(r"(\d{4})Q(\d)", self.label)
        if m:
            y, q = int(m[1]), int(m[2])
            return parse_period(f"{y - (q == 1)}Q{4 if q == 1 else q - 1}")
        m = re.fullmatch(r"(\d{4})H(\d)", self.label)
        if m:
            y, h = int(m[1]), int(m[2])
            return parse_period(f"{y - (h == 1)}H{2 if h == 1 else 1}")
        if re.fullmatch(r"\d{4}", self.label):
            return parse_period(str(int(self.label) - 1))
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end, "previous")


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def parse_date_arg(text: str, name: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--{name} must be a date like 2021-10-31, got {text!r}") from None


def parse_period(text: str, option: str = "--period") -> Period:
    """A period label; a bad one is a usage error that names `option`, the option typed."""
    t = text.strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})", t):
            y = int(m[1])
            return Period(date(y, 1, 1), date(y, 12, 31), t)
        if m := re.fullmatch(r"(\d{4})-?(\d{1,2})", t):
            y, mo = int(m[1]), int(m[2])
            return Period(date(y, mo, 1), _month_end(y, mo), f"{y}-{mo:02d}")
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", t):
            y, q = int(m[1]), int(m[2])
            return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"{y}Q{q}")
        if m := re.fullmatch(r"(\d{4})-?H([12])", t):
            y, h = int(m[1]), int(m[2])
            return Period(date(y, 6 * h - 5, 1), _month_end(y, 6 * h), f"{y}H{h}")
    except ValueError:
        pass
    if option == "--month":
        raise UsageError(f"--month must be a month like 2021-11, got {text!r}")
    raise UsageError(
        f"{option} must be a year (2021), month (2021-10), quarter (2021Q3) or half (2021H2), "
        f"got {text!r}"
    )


def month_of(day: date, months: int = 0) -> Period:
    """The calendar month of `day`, or the one `months` later (−1: the month before)."""
    first = add_months(day.replace(day=1), months)
    return parse_period(f"{first.year}-{first.month:02d}")


def last_full_month(today: date) -> Period:
    return month_of(today, -1)


def report_month(as_of: date) -> Period:
    """`report`'s default period (docs/rules.md §18 "No silent empty answers"): the month that ends on as_of when
    as_of is a month's last day, else the last full month before it."""
    return month_of(as_of, 0 if (as_of + timedelta(days=1)).day == 1 else -1)


def resolve_period(
    period: str | None, date_from: str | None, date_to: str | None, today: date
) -> Period:
    """--period, or --from/--to, else the last full month before today."""
    if period and (date_from or date_to):
        raise UsageError("give either --period or --from/--to, not both")
    if period:
        return parse_period(period)
    if date_from or date_to:
        if not (date_from and date_to):
            raise UsageError("--from and --to go together")
        start, end = parse_date_arg(date_from, "from"), parse_date_arg(date_to, "to")
        if end < start:
            raise UsageError("--to is before --from")
        return Period(start, end, f"{start}..{end}")
    return last_full_month(today)


def window_start(as_of: date, days: int = 365) -> date:
    """First day of the window of `days` days ending on as_of (as_of − 364 … as_of)."""
    return as_of - timedelta(days=days - 1)


def add_months(d: date, months: int) -> date:
    """Calendar months, clamped to the month's end (docs/rules.md §9)."""
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def last_full_half(as_of: date) -> Period:
    """The last full half year before as_of (the loyal list's default)."""
    return parse_period(f"{as_of.year - 1}H2" if as_of.month <= 6 else f"{as_of.year}H1")
