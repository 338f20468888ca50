"""crmtool.toml as text: the commented defaults (`config init`), the config in force with the
values that differ from the defaults marked (`config show`), and the in-place update of
[tiers.series_ticket] (`tiers --suggest --write`) that keeps the user's comments (tomlkit)."""

from __future__ import annotations

import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from .config import Config
from .errors import CrmError

COMMENTS = {
    "own_dealers": 'dealer codes that are "us"; the first is given to rows without one',
    "own_region": "compared with dealers.region (same-region cross-shopping)",
    "ours_days": "a vehicle is ours while its latest sale / own visit is this recent",
    "visit_excludes": "repair-order types that do not make a visit",
    "merge_customers_by_phone": "customers with the same normalised phone are one customer",
    "shared_phone_max_ids": "a phone shared by more customer ids never merges (flagged)",
    "never_returned_days": "sold by us and no own visit within this many days",
    "leads_overdue_days": "open leads without follow-up for this many days are overdue",
    "lang": 'labels of terminal tables, Excel and the report: "zh" or "en" (--lang)',
    "tiers": "value tier A-D (rules §3)",
    "tiers.series_groups": 'series name -> threshold group, e.g. B = ["Polo", "朗逸"]',
    "tiers.ticket": "group -> ticket cut points for grades A, B, C",
    "tiers.series_ticket": "series -> its own ticket cut points (crmtool tiers --suggest --write)",
    "segments": "segments (rules §4)",
    "status": "loyalty status and churn warning (rules §5)",
    "maintenance": "maintenance due (rules §9)",
    "maintenance.series": 'per series or brand, e.g. [maintenance.series."迈腾"] '
    "interval_km = 7500.0",
    "warranty": "warranty end: years after sale or km, whichever first",
    "insurance": "insurance renewal list",
    "loyal": "loyal-customer campaign",
    "winback": "win-back campaign",
    "limits": "what a file may make the readers allocate (docs/robustness.md)",
    "spark": "--engine spark: the maker's tables (catalog names, or a parquet folder)",
    "columns": 'extra header names, e.g. [columns.repair_orders] ro_id = ["单据编号"]',
    "values": 'extra code values, e.g. [values.ro_type] maintenance = ["15K保养"]',
}
_MISSING = object()


def _inline(value: Any) -> str:
    """A value as TOML writes it (for a comment)."""
    return tomlkit.item(value).as_string()


def _fill(table: Any, data: dict[str, Any], default: Any, prefix: str, mark: bool) -> None:
    """Scalars and lists of `data` into `table`, then its sub-tables, with comments."""
    defaults = default if isinstance(default, dict) else {}
    for key, value in data.items():
        if isinstance(value, dict):
            continue
        path = prefix + key
        if path in COMMENTS:
            table.add(tomlkit.comment(COMMENTS[path]))
        table.add(key, value)
        was = defaults.get(key, _MISSING)
        if mark and was is not value and was != value:
            table[key].comment(
                "changed; not in the defaults"
                if was is _MISSING
                else f"changed; default {_inline(was)}"
            )
    for key, value in data.items():
        if not isinstance(value, dict):
            continue
        path = prefix + key
        sub = tomlkit.table()
        if path in COMMENTS:
            sub.add(tomlkit.comment(COMMENTS[path]))
        was = defaults.get(key, {})
        _fill(sub, value, was, path + ".", mark)
        if mark and isinstance(was, dict):
            for gone, old in was.items():
                if gone not in value:
                    sub.add(
                        tomlkit.comment(
                            f"changed: the defaults also have "
                            f"{tomlkit.key(gone).as_string()} = {_inline(old)}"
                        )
                    )
        table.add(key, sub)


def _keys(cfg: Config) -> dict[str, Any]:
    """The config's keys and values (fields that are no config key, e.g. dealer_scope, left
    out)."""
    skip = {f.name for f in fields(cfg) if not f.metadata.get("config_key", True)}
    return {k: v for k, v in asdict(cfg).items() if k not in skip}


def config_toml(cfg: Config, *, mark: bool = False, source: Path | None = None) -> str:
    """The config as TOML; with `mark`, a header naming the file in force and a
    `# changed; default …` comment on every value that differs from the defaults."""
    doc = tomlkit.document()
    if mark:
        doc.add(
            tomlkit.comment(
                f"config in force: {source.resolve()}"
                if source
                else "config in force: none found (--config, $CRMTOOL_CONFIG, "
                "./crmtool.toml); these are the defaults"
            )
        )
        doc.add(tomlkit.comment("values that differ from the defaults end in '# changed'"))
    else:
        doc.add(
            tomlkit.comment("crmtool configuration: every key at its default (see docs/rules.md).")
        )
    doc.add(tomlkit.nl())
    _fill(doc, _keys(cfg), _keys(Config()), "", mark)
    return tomlkit.dumps(doc)


def write_series_ticket(path: Path, series_ticket: dict[str, list[float]]) -> None:
    """Replace [tiers.series_ticket] in the TOML file at `path` (created if missing), keeping
    every other key and comment; written under a temporary name and renamed."""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        doc = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError) as e:
        raise CrmError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    except tomlkit.exceptions.ParseError as e:
        raise CrmError(f"{path}: not valid TOML: {e}") from None
    tiers = doc.get("tiers")
    if tiers is None:
        tiers = tomlkit.table()
        doc.add("tiers", tiers)
    cuts = tiers.get("series_ticket")
    if not isinstance(cuts, Table):
        if cuts is not None:
            del tiers["series_ticket"]
        cuts = tomlkit.table()
        tiers.add("series_ticket", cuts)
    for old in list(cuts.keys()):
        del cuts[old]
    for series, values in series_ticket.items():
        cuts.add(series, [int(v) if float(v).is_integer() else v for v in values])
    tmp = path.with_name(f".{path.name}.crmtool-tmp")
    try:
        tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise CrmError(f"cannot write {path}: {e.strerror or e}") from None
