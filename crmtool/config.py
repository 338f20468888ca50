"""Typed configuration (crmtool.toml). Every default is the rulebook's (docs/rules.md).

Found via --config, $CRMTOOL_CONFIG, or ./crmtool.toml. Unknown keys and values of the
wrong type are errors that name the key.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from .config_checks import check_shapes
from .errors import ConfigError, UsageError


@dataclass
class TiersConfig:
    """Value tier A–D (rules §3)."""

    combine: str = "strict"  # "strict" (lowest grade) or "score" (mean, rounded half up)
    default_group: str = "A"
    window_days: int = 365
    # series name -> threshold group; unlisted series use default_group
    series_groups: dict[str, list[str]] = field(default_factory=dict)
    # group -> ticket cut points for grades A, B, C (>=); below the last is D
    ticket: dict[str, list[float]] = field(
        default_factory=lambda: {
            "A": [700.0, 550.0, 400.0],
            "B": [400.0, 250.0, 200.0],
            "C": [1000.0, 700.0, 550.0],
        }
    )
    # paid visits in window for grades A, B, C (>=); below is D
    visits: list[int] = field(default_factory=lambda: [4, 2, 1])
    # cycle days for grades A, B, C (<=); above is D
    cycle_days: list[float] = field(default_factory=lambda: [90.0, 180.0, 365.0])
    # target mix (percent of A, B, C, D) for `tiers --suggest`
    target_mix: list[float] = field(default_factory=lambda: [20.0, 30.0, 30.0, 20.0])
    # series -> ticket cut points that override the series' group
    series_ticket: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class SegmentsConfig:
    """Segments (rules §4)."""

    age_stage_years: list[float] = field(default_factory=lambda: [3.0, 6.0])  # new | mid | old
    mileage_bands_km: list[float] = field(
        default_factory=lambda: [10_000.0, 30_000.0, 60_000.0, 100_000.0]
    )
    frequency_bands: list[int] = field(default_factory=lambda: [0, 1, 2, 4])  # 0, 1, 2–3, 4+
    default_daily_km: float = 35.0
    max_daily_km: float = 500.0
    min_rate_days: int = 30


@dataclass
class StatusConfig:
    """Loyalty status and churn warning (rules §5)."""

    new_days: int = 180
    at_risk_days: int = 180
    lost_days: int = 365
    loyal_visits: int = 3
    warn_min_visits: int = 3
    warn_ratio: float = 1.5
    warn_min_days: int = 90


@dataclass
class MaintenanceConfig:
    """Maintenance due (rules §9); [maintenance.series.<name>] overrides per series or brand."""

    first_months: int = 6
    first_km: float = 5000.0
    interval_months: int = 6
    interval_km: float = 5000.0
    overdue_max_days: int = 180
    return_before_days: int = 30
    return_after_days: int = 60
    series: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class WarrantyConfig:
    years: int = 3
    km: float = 100_000.0
    horizon_days: int = 90


@dataclass
class InsuranceConfig:
    days: int = 30
    # lower bounds of the bands: [5000, 10000) [10000, 20000] (20000, ∞)
    bands: list[float] = field(default_factory=lambda: [5000.0, 10000.0, 20000.0])
    gifts: list[str] = field(
        default_factory=lambda: [
            "价值800元礼包:300元续保代金券+四轮定位/次 或 300元续保代金券+内堂清洗/次",
            "价值1300元礼包:300元续保代金券+抛光打蜡一次 或 +400元精品抵扣券;50公里内事故拖车一次",
            "价值2000元礼包:300元续保代金券+内堂清洗/四轮定位+精品抵扣券;100公里内事故拖车一次",
        ]
    )


@dataclass
class LoyalConfig:
    year_visits: int = 4
    half_visits: int = 2
    gift: str = "赠送免费常规保养一次"


@dataclass
class WinbackConfig:
    gift: str = "赠送续保代金券200元、价值118元节气门清洗券一张"


@dataclass
class CareConfig:
    """Customer care lists and suppression (issue 8)."""

    callback_days: int = 3  # 3DC: the callback after a visit, N days after settlement
    delivery_days: int = 7  # 7DC: the callback after a delivery, N days after the sale
    recent_days: int = 7  # contacted in the last N days (as_of included): left off lists


@dataclass
class RetentionConfig:
    """Retention KPIs (docs/rules.md §19)."""

    window_months: int = 12  # first service within, next milestone within (calendar months)
    pool_months: int = 12  # closed sale months pooled into the first-service rate
    milestone_types: list[str] = field(default_factory=lambda: ["first_service", "maintenance"])
    milestones: int = 5  # report k = 1 … 5 (k → k+1)
    window_days: int = 365  # 12/24-month retention: two windows of this many days
    lookback_months: list[int] = field(default_factory=lambda: [6, 13])  # return after N months
    ownership_years: int = 5
    km_origin_days: int = 730  # time to return: spells start in as_of − 729 … as_of
    km_days: list[int] = field(default_factory=lambda: [90, 180, 365])  # S(t) reported at
    closing_days: int = 60  # lists: windows closing within this many days after as_of
    trend_months: int = 24


@dataclass
class ForecastConfig:
    """BG/NBD + Gamma-Gamma forecast (issue 17, docs/rules.md §20)."""

    discount_rate: float = 0.0  # annual rate applied to value_12m (0: undiscounted)
    horizon_days: int = 365  # expected_visits_12m / value_12m look this many days ahead


@dataclass
class ReportConfig:
    """The monthly report (docs/rules.md §11 "Report")."""

    # rows of each call-list sheet of the workbook (per own dealer in a group), the list's
    # most urgent first; a longer list says its full count and the command that exports it
    list_rows: int = 10_000


@dataclass
class SparkConfig:
    """The maker's tables for `--engine spark` (docs/rules.md §22 "Spark"): catalog tables in
    canonical columns, or a folder written by `crmtool export --parquet`."""

    master: str = ""  # --spark-master; empty: local[*]
    catalog: str = ""  # --catalog: the Spark catalog holding the database (iceberg, spark_catalog)
    database: str = ""  # --spark-database: the catalog database holding the tables
    parquet: str = ""  # a folder of `crmtool export --parquet`, instead of catalog tables
    repair_orders: str = "repair_orders"
    vehicles: str = "vehicles"
    customers: str = "customers"
    dealers: str = "dealers"


@dataclass
class DefaultsConfig:
    """What a load assumes where an export says nothing (docs/rules.md §1 "Repair-order exports")."""

    # payer when the export has no payer column or a blank cell: ro_type -> payer; types not
    # listed are "customer"
    payer_by_ro_type: dict[str, str] = field(
        default_factory=lambda: {
            "first_service": "warranty",
            "warranty": "warranty",
            "internal": "internal",
            "pds": "internal",
            "body_paint": "insurance",
        }
    )
    # readings above these are not believed: the value is dropped and flagged out_of_range
    max_mileage_km: float = 2_000_000.0
    max_amount: float = 10_000_000.0


@dataclass
class LimitsConfig:
    """What a file may make the readers allocate (docs/robustness.md 'Limits')."""

    max_line_mib: int = 16  # a longer CSV line is a reject (read in bounded memory)
    max_cells: int = 50_000_000  # cells a workbook sheet may declare (rows x columns)
    max_part_mib: int = 2048  # uncompressed size of one part of an .xlsx zip
    max_zip_ratio: int = 200  # uncompressed : compressed size of one part
    max_cell_chars: int = 32_767  # characters in one workbook cell (Excel's own limit)
    max_span: int = 1_000  # colspan / rowspan in an HTML ".xls" table


@dataclass
class Config:
    own_dealers: list[str] = field(default_factory=lambda: ["D001"])
    own_region: str = ""
    ours_days: int = 1096  # "ours": latest sale/own visit no more than 36 months back
    visit_excludes: list[str] = field(default_factory=lambda: ["pds", "internal"])
    merge_customers_by_phone: bool = True
    shared_phone_max_ids: int = 3
    never_returned_days: int = 180
    leads_overdue_days: int = 30
    lang: str = "zh"  # labels of terminal tables, Excel and HTML: "zh" or "en" (docs/rules.md §11)
    tiers: TiersConfig = field(default_factory=TiersConfig)
    segments: SegmentsConfig = field(default_factory=SegmentsConfig)
    status: StatusConfig = field(default_factory=StatusConfig)
    maintenance: MaintenanceConfig = field(default_factory=MaintenanceConfig)
    warranty: WarrantyConfig = field(default_factory=WarrantyConfig)
    insurance: InsuranceConfig = field(default_factory=InsuranceConfig)
    loyal: LoyalConfig = field(default_factory=LoyalConfig)
    winback: WinbackConfig = field(default_factory=WinbackConfig)
    care: CareConfig = field(default_factory=CareConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    # [columns.<table>] field = ["extra header", ...]
    columns: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # [values.<kind>] code = ["extra raw value", ...]   (kind: ro_type, payer, sale_channel ...)
    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # a vendor's bundle of header names and coded values (crmtool/profiles.py): "yonyou" ...
    profile: str = ""
    defaults: DefaultsConfig = field(default_factory=DefaultsConfig)
    # the whole group's own dealers after `--dealer` narrowed own_dealers to one store (set by
    # with_dealer; empty: own_dealers is the group). Not a config key.
    dealer_scope: list[str] = field(default_factory=list, metadata={"config_key": False})

    @property
    def own_dealer(self) -> str:
        """The dealer code given to rows that carry none."""
        return self.own_dealers[0]

    @property
    def dealer_group(self) -> list[str]:
        """The own dealers as the config lists them, also after `--dealer` narrowed
        own_dealers to one store (dealer_scope, kept by with_dealer)."""
        return self.dealer_scope or self.own_dealers

    @property
    def is_group(self) -> bool:
        """The config lists several own dealers (a dealer group): customer and lead ids are
        keyed with the dealer at load (rules §14)."""
        return len(self.dealer_group) > 1

    def series_group(self, series: str | None) -> str:
        for group, names in self.tiers.series_groups.items():
            if series in names:
                return group
        return self.tiers.default_group


def with_dealer(cfg: Config, dealer: str | None) -> Config:
    """The config restricted to one own dealer of a group (--dealer CODE): own_dealers =
    [CODE], so every rule counts only that dealer's repair orders as own."""
    if dealer is None:
        return cfg
    code = dealer.strip()
    if code not in cfg.own_dealers:
        raise UsageError(
            f"--dealer {code!r} is not an own dealer; configured own_dealers: "
            f"{', '.join(cfg.own_dealers)}"
        )
    return replace(cfg, own_dealers=[code], dealer_scope=list(cfg.dealer_group))


def _check(value: Any, tp: Any, key: str) -> Any:
    """Validate (and lightly coerce) a TOML value against a type annotation."""
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{key}' must be a table")
        return _build(tp, value, key + ".")
    if origin in (types.UnionType, typing.Union):
        for arg in typing.get_args(tp):
            try:
                return _check(value, arg, key)
            except ConfigError:
                continue
        raise ConfigError(f"config key '{key}' has a value of the wrong type: {value!r}")
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"config key '{key}' must be a list, got {value!r}")
        return [_check(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{key}' must be a table, got {value!r}")
        return {str(k): _check(v, item, f"{key}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config key '{key}' must be a number, got {value!r}")
        return float(value)
    if tp is type(None):
        if value is not None:
            raise ConfigError(f"config key '{key}' must be empty")
        return None
    if tp in (int, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise ConfigError(f"config key '{key}' must be {tp.__name__}, got {value!r}")
        return value
    return value


def _build(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.metadata.get("config_key", True)}
    for k in data:
        if k not in known:
            raise ConfigError(f"unknown config key '{prefix}{k}'")
    kwargs = {k: _check(v, hints[k], prefix + k) for k, v in data.items()}
    return cls(**kwargs)


def _validate(cfg: Config) -> Config:
    if cfg.tiers.combine not in ("strict", "score"):
        raise ConfigError('config key \'tiers.combine\' must be "strict" or "score"')
    groups = set(cfg.tiers.ticket)
    if cfg.tiers.default_group not in groups:
        raise ConfigError(f"config key 'tiers.default_group' must be one of {sorted(groups)}")
    for g in cfg.tiers.series_groups:
        if g not in groups:
            raise ConfigError(f"config key 'tiers.series_groups.{g}': no tiers.ticket.{g} group")
    if cfg.lang not in ("zh", "en"):
        raise ConfigError(f'config key \'lang\' must be "zh" or "en", got {cfg.lang!r}')
    if not cfg.own_dealers:
        raise ConfigError("config key 'own_dealers' must name at least one dealer code")
    if not 0 <= cfg.forecast.discount_rate < 1 or cfg.forecast.horizon_days < 1:
        raise ConfigError(
            "config key 'forecast.discount_rate' must be in [0, 1) and "
            "'forecast.horizon_days' at least 1"
        )
    check_shapes(cfg)
    from .profiles import PROFILES
    from .schema import CODES

    if cfg.profile and cfg.profile not in PROFILES:
        raise ConfigError(
            f"config key 'profile' must be one of: {', '.join(PROFILES)}; got {cfg.profile!r}"
        )
    _validate_mappings(cfg)
    payers = set(CODES["payer"]) | {"other"}
    for rt, payer in cfg.defaults.payer_by_ro_type.items():
        if rt not in CODES["ro_type"] and rt != "other":
            raise ConfigError(f"config key 'defaults.payer_by_ro_type.{rt}': not an ro_type")
        if payer not in payers:
            raise ConfigError(
                f"config key 'defaults.payer_by_ro_type.{rt}' must be one of: "
                f"{', '.join(sorted(payers))}"
            )
    for f in fields(cfg.limits):
        if getattr(cfg.limits, f.name) < 1:
            raise ConfigError(f"config key 'limits.{f.name}' must be a positive number")
    return cfg


def _validate_mappings(cfg: Config) -> None:
    """A [columns] or [values] entry that names no table, field or code kind would be ignored
    without a word: an error naming the key instead."""
    from .schema import CODES, TABLES

    for t, cols in cfg.columns.items():
        if t not in TABLES:
            raise ConfigError(
                f"config key 'columns.{t}': no such table; one of: {', '.join(TABLES)}"
            )
        names = [f.name for f in TABLES[t]]
        for name in cols:
            if name not in names:
                raise ConfigError(
                    f"config key 'columns.{t}.{name}': no such field of {t}; "
                    f"one of: {', '.join(names)}"
                )
    for kind in cfg.values:
        if kind not in CODES:
            raise ConfigError(
                f"config key 'values.{kind}': no such code kind; one of: {', '.join(CODES)}"
            )


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("CRMTOOL_CONFIG")
    if env:
        return Path(env)
    local = Path("crmtool.toml")
    return local if local.exists() else None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """The effective config: defaults, overridden by the TOML file found."""
    found = find_config_path(path)
    if found is None:
        return Config()
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {found}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{found}: not valid TOML: {e}") from None
    return _validate(_build(Config, data))


def config_from_dict(data: dict[str, Any]) -> Config:
    """Build a config from a dict shaped like crmtool.toml (used by tests and the library)."""
    return _validate(_build(Config, data))
