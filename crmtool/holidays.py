"""Holiday dates for greeting lists (关怀): fixed solar holidays and a bundled table of the
lunar ones (春节, 端午, 中秋; 元宵 = 春节 + 14 days) for 2018–2035. No network at run time."""

from __future__ import annotations

from datetime import date, timedelta

from .errors import UsageError

# Lunar holidays, Gregorian (month, day) per year: 春节 (正月初一), 端午 (五月初五),
# 中秋 (八月十五).
LUNAR: dict[str, dict[int, tuple[int, int]]] = {
    "春节": {
        2018: (2, 16),
        2019: (2, 5),
        2020: (1, 25),
        2021: (2, 12),
        2022: (2, 1),
        2023: (1, 22),
        2024: (2, 10),
        2025: (1, 29),
        2026: (2, 17),
        2027: (2, 6),
        2028: (1, 26),
        2029: (2, 13),
        2030: (2, 3),
        2031: (1, 23),
        2032: (2, 11),
        2033: (1, 31),
        2034: (2, 19),
        2035: (2, 8),
    },
    "端午": {
        2018: (6, 18),
        2019: (6, 7),
        2020: (6, 25),
        2021: (6, 14),
        2022: (6, 3),
        2023: (6, 22),
        2024: (6, 10),
        2025: (5, 31),
        2026: (6, 19),
        2027: (6, 9),
        2028: (5, 28),
        2029: (6, 16),
        2030: (6, 5),
        2031: (6, 24),
        2032: (6, 12),
        2033: (6, 1),
        2034: (6, 20),
        2035: (6, 10),
    },
    "中秋": {
        2018: (9, 24),
        2019: (9, 13),
        2020: (10, 1),
        2021: (9, 21),
        2022: (9, 10),
        2023: (9, 29),
        2024: (9, 17),
        2025: (10, 6),
        2026: (9, 25),
        2027: (9, 15),
        2028: (10, 3),
        2029: (9, 22),
        2030: (9, 12),
        2031: (10, 1),
        2032: (9, 19),
        2033: (9, 8),
        2034: (9, 27),
        2035: (9, 16),
    },
}
SOLAR: dict[str, tuple[int, int]] = {
    "元旦": (1, 1),
    "妇女节": (3, 8),
    "劳动节": (5, 1),
    "儿童节": (6, 1),
    "教师节": (9, 10),
    "国庆": (10, 1),
    "圣诞": (12, 25),
}
ALIASES = {
    "春节": ("新年", "spring"),
    "元宵": ("元宵节", "lantern"),
    "端午": ("端午节", "dragonboat"),
    "中秋": ("中秋节", "midautumn"),
    "元旦": ("newyear",),
    "国庆": ("国庆节", "national"),
    "劳动节": ("五一",),
}
HOLIDAYS = (
    "元旦",
    "春节",
    "元宵",
    "妇女节",
    "劳动节",
    "儿童节",
    "端午",
    "教师节",
    "中秋",
    "国庆",
    "圣诞",
)


def canonical(name: str) -> str:
    """The holiday's name as listed in HOLIDAYS (aliases such as 中秋节 accepted)."""
    text = name.strip()
    if text in HOLIDAYS:
        return text
    for key, names in ALIASES.items():
        if text.lower() in names:
            return key
    raise UsageError(f"--holiday: unknown holiday {name!r}; use {', '.join(HOLIDAYS)}")


def holiday_date(name: str, year: int) -> date:
    """The holiday's date in a year (lunar ones from the bundled table)."""
    key = canonical(name)
    if key in SOLAR:
        return date(year, *SOLAR[key])
    table = LUNAR["春节" if key == "元宵" else key]
    if year not in table:
        raise UsageError(
            f"--holiday {key}: the bundled table covers {min(table)}–{max(table)}, not {year}"
        )
    day = date(year, *table[year])
    return day + timedelta(days=14) if key == "元宵" else day


def next_holiday(name: str, as_of: date) -> date:
    """The holiday's next date on or after as_of."""
    this = holiday_date(name, as_of.year)
    return this if this >= as_of else holiday_date(name, as_of.year + 1)
