"""Calendar months (docs/rules.md §9: "+6 months" is calendar months, clamped to the month's end)."""

from __future__ import annotations

from datetime import date

from crmtool.period import add_months, last_full_month, month_of


def test_month_of_and_its_neighbours():
    assert (month_of(date(2021, 12, 31)).start, month_of(date(2021, 12, 31)).end) == (
        date(2021, 12, 1),
        date(2021, 12, 31),
    )
    nxt = month_of(date(2021, 12, 31), 1)  # across the year end
    assert (nxt.start, nxt.end) == (date(2022, 1, 1), date(2022, 1, 31))
    feb = month_of(date(2024, 3, 31), -1)  # a leap February
    assert (feb.start, feb.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert last_full_month(date(2021, 1, 15)).start == date(2020, 12, 1)


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2021, 8, 31), 6) == date(2022, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    assert add_months(date(2021, 1, 15), -13) == date(2019, 12, 15)
