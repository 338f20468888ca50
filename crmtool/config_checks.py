"""Shape checks of a typed config (issue 15 item 5, docs/rules.md §18): lengths, non-empty
lists, rising cut points and ranges, each failure a ConfigError that names the key.

The types are checked when the TOML is read (config._check); these checks catch values of the
right type that no rule can use: `[tiers] visits = [4, 2]`, `mileage_bands_km = [30000, 10000]`,
`[status] lost_days = -5`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import Config

MAINTENANCE_SERIES_KEYS = ("first_months", "first_km", "interval_months", "interval_km")


def _fail(key: str, rule: str, value: object) -> ConfigError:
    return ConfigError(f"config key '{key}' must be {rule}, got {value!r}")


def _numbers(
    key: str,
    values: Sequence[float],
    *,
    n: int | None = None,
    order: str = "",
    minimum: float | None = None,
    what: str = "numbers",
) -> None:
    """`values` has n items (or at least one), all ≥ minimum, in the given order:
    'rising' (each > the one before), 'falling' (each ≤ the one before)."""
    value = list(values)
    count = f"{n} {what}" if n else f"a non-empty list of {what}"
    rule = count + {"rising": ", rising", "falling": ", falling"}.get(order, "")
    if minimum is not None:
        rule += f", ≥ {minimum:g}"
    if (n and len(value) != n) or not value:
        raise _fail(key, rule, value)
    if minimum is not None and any(v < minimum for v in value):
        raise _fail(key, rule, value)
    pairs = list(zip(value, value[1:], strict=False))
    if order == "rising" and any(b <= a for a, b in pairs):
        raise _fail(key, rule, value)
    if order == "falling" and any(b > a for a, b in pairs):
        raise _fail(key, rule, value)


def _at_least(key: str, value: float, minimum: float) -> None:
    if value < minimum:
        raise _fail(key, f"at least {minimum:g}", value)


def _more_than(key: str, value: float, other_key: str, other: float) -> None:
    if not value > other:
        raise ConfigError(
            f"config key '{key}' must be greater than {other_key} ({other:g}), got {value!r}"
        )


def _checks(cfg: Config) -> list[Callable[[], None]]:
    t, s, st, m = cfg.tiers, cfg.segments, cfg.status, cfg.maintenance
    w, ins, lo, care = cfg.warranty, cfg.insurance, cfg.loyal, cfg.care
    checks: list[Callable[[], None]] = [
        lambda: _at_least("ours_days", cfg.ours_days, 1),
        lambda: _at_least("report.list_rows", cfg.report.list_rows, 1),
        lambda: _at_least("shared_phone_max_ids", cfg.shared_phone_max_ids, 1),
        lambda: _at_least("never_returned_days", cfg.never_returned_days, 1),
        lambda: _at_least("leads_overdue_days", cfg.leads_overdue_days, 1),
        lambda: _at_least("tiers.window_days", t.window_days, 1),
        lambda: _numbers(
            "tiers.visits",
            t.visits,
            n=3,
            order="falling",
            minimum=0,
            what="whole numbers (A, B, C)",
        ),
        lambda: _numbers(
            "tiers.cycle_days",
            t.cycle_days,
            n=3,
            order="rising",
            minimum=0,
            what="numbers (A, B, C)",
        ),
        lambda: _numbers(
            "tiers.target_mix", t.target_mix, n=4, minimum=0, what="percentages (A, B, C, D)"
        ),
        lambda: _numbers(
            "segments.age_stage_years",
            s.age_stage_years,
            n=2,
            order="rising",
            minimum=0,
            what="numbers (new until, mid until)",
        ),
        lambda: _numbers(
            "segments.mileage_bands_km", s.mileage_bands_km, order="rising", minimum=0
        ),
        lambda: _numbers(
            "segments.frequency_bands",
            s.frequency_bands,
            order="rising",
            minimum=0,
            what="whole numbers",
        ),
        lambda: _at_least("segments.default_daily_km", s.default_daily_km, 0),
        lambda: _more_than(
            "segments.max_daily_km", s.max_daily_km, "segments.default_daily_km", s.default_daily_km
        ),
        lambda: _at_least("segments.min_rate_days", s.min_rate_days, 1),
        lambda: _at_least("status.new_days", st.new_days, 1),
        lambda: _at_least("status.at_risk_days", st.at_risk_days, 1),
        lambda: _more_than(
            "status.lost_days", st.lost_days, "status.at_risk_days", st.at_risk_days
        ),
        lambda: _at_least("status.loyal_visits", st.loyal_visits, 1),
        lambda: _at_least("status.warn_min_visits", st.warn_min_visits, 2),
        lambda: _at_least("status.warn_ratio", st.warn_ratio, 1),
        lambda: _at_least("status.warn_min_days", st.warn_min_days, 0),
        lambda: _at_least("maintenance.first_months", m.first_months, 1),
        lambda: _at_least("maintenance.interval_months", m.interval_months, 1),
        lambda: _more_than("maintenance.first_km", m.first_km, "0", 0),
        lambda: _more_than("maintenance.interval_km", m.interval_km, "0", 0),
        lambda: _at_least("maintenance.overdue_max_days", m.overdue_max_days, 0),
        lambda: _at_least("maintenance.return_before_days", m.return_before_days, 0),
        lambda: _at_least("maintenance.return_after_days", m.return_after_days, 0),
        lambda: _at_least("warranty.years", w.years, 1),
        lambda: _more_than("warranty.km", w.km, "0", 0),
        lambda: _at_least("warranty.horizon_days", w.horizon_days, 1),
        lambda: _at_least("insurance.days", ins.days, 1),
        lambda: _numbers(
            "insurance.bands",
            ins.bands,
            n=3,
            order="rising",
            minimum=0,
            what="amounts (lower bounds of the 3 bands)",
        ),
        lambda: _at_least("loyal.year_visits", lo.year_visits, 1),
        lambda: _at_least("loyal.half_visits", lo.half_visits, 1),
        lambda: _at_least("care.callback_days", care.callback_days, 0),
        lambda: _at_least("care.delivery_days", care.delivery_days, 0),
        lambda: _at_least("care.recent_days", care.recent_days, 0),
    ]
    return checks


def check_shapes(cfg: Config) -> None:
    """Raise ConfigError (naming the key) at the first value no rule can use."""
    for check in _checks(cfg):
        check()
    for name, cuts in {**cfg.tiers.ticket, **cfg.tiers.series_ticket}.items():
        table = "series_ticket" if name in cfg.tiers.series_ticket else "ticket"
        _numbers(
            f"tiers.{table}.{name}",
            cuts,
            n=3,
            order="falling",
            minimum=0,
            what="numbers (ticket cut points for A, B, C)",
        )
    if len(ins_gifts := cfg.insurance.gifts) != len(cfg.insurance.bands):
        raise _fail("insurance.gifts", f"{len(cfg.insurance.bands)} gifts, one per band", ins_gifts)
    codes = [c.strip() for c in cfg.own_dealers]
    if not codes or not all(codes):
        raise _fail("own_dealers", "a non-empty list of dealer codes", cfg.own_dealers)
    if len(set(codes)) != len(codes):
        raise _fail("own_dealers", "a list of different dealer codes", cfg.own_dealers)
    for name, over in cfg.maintenance.series.items():
        for k, v in over.items():
            key = f"maintenance.series.{name}.{k}"
            if k not in MAINTENANCE_SERIES_KEYS:
                raise ConfigError(
                    f"unknown config key '{key}'; use {', '.join(MAINTENANCE_SERIES_KEYS)}"
                )
            if not v > 0:
                raise _fail(key, "greater than 0", v)
