"""Every rule's SQL by name, as the config in force compiles it (`crmtool sql RULE`, like
`dbt compile`), with the bind parameters it takes. The rules themselves live in their modules
(value_tiers, segment, churn, campaigns, leads); this only names them, so a test can build and
run each under several configs (tests/test_rule_sql.py).

Imports nothing heavy at module level: `crmtool --help` lists the names.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config


@dataclass(frozen=True)
class Rule:
    """A rule's SQL: `sql(cfg)` is one query over the facts of facts.install; `params` its bind
    parameters and their types (DATE, VARCHAR, VARCHAR[])."""

    name: str
    doc: str
    sql: Callable[[Config], str]
    params: dict[str, str]


def _tiers(cfg: Config) -> str:
    from .value_tiers import tiers_sql

    return tiers_sql(cfg)


def _rates(cfg: Config) -> str:
    from .segment import rates_sql

    return rates_sql(cfg)


def _segments(cfg: Config) -> str:
    from .segment import segments_sql

    return segments_sql(cfg)


def _status(cfg: Config) -> str:
    from .churn import status_sql

    return status_sql(cfg)


def _churn(cfg: Config) -> str:
    from .churn import churn_list_query

    return churn_list_query(cfg, date.min)[0]


def _leakage(cfg: Config) -> str:
    from .churn import _leakage_sql

    return _leakage_sql(cfg)


def _never_returned(cfg: Config) -> str:
    from .churn import _never_returned_sql

    return _never_returned_sql(cfg)


def _due(cfg: Config) -> str:
    from .campaigns import _due_sql

    return _due_sql(cfg)


def _warranty(cfg: Config) -> str:
    from .campaigns import warranty_query

    return warranty_query(cfg, date.min)[0]


def _last_advisor(cfg: Config) -> str:
    from .facts import last_advisor_sql

    return last_advisor_sql()


def _leads(cfg: Config) -> str:
    from .leads import _figures_sql

    return _figures_sql(cfg, None)


_AS_OF = {"as_of": "DATE"}

RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule("tiers", "value tier A–D per vehicle ours at $as_of", _tiers, _AS_OF),
        Rule(
            "rates",
            "mileage readings folded, daily km and estimated mileage per vehicle",
            _rates,
            _AS_OF,
        ),
        Rule(
            "segments",
            "the segment list: tier, segments, status per vehicle",
            _segments,
            _AS_OF,
        ),
        Rule("status", "loyalty status and churn warning per vehicle ours", _status, _AS_OF),
        Rule(
            "churn",
            "the churn list: status, reason, the other dealer",
            _churn,
            {"as_of": "DATE", "statuses": "VARCHAR[]"},
        ),
        Rule(
            "leakage",
            "where the base vehicles went in a period",
            _leakage,
            {"base_day": "DATE", "start": "DATE", "end": "DATE", "own_region": "VARCHAR"},
        ),
        Rule(
            "never_returned",
            "sold by us, never back",
            _never_returned,
            _AS_OF,
        ),
        Rule(
            "due",
            "maintenance due dates from the service history and km rates at $basis",
            _due,
            {"basis": "DATE"},
        ),
        Rule(
            "warranty",
            "warranty ends in the next days",
            _warranty,
            _AS_OF,
        ),
        Rule(
            "last_advisor", "the advisor of each vehicle's latest own order", _last_advisor, _AS_OF
        ),
        Rule(
            "leads",
            "lead figures of a period, overdue at $as_of",
            _leads,
            {"start": "DATE", "end": "DATE", "as_of": "DATE"},
        ),
    )
}


def compiled(name: str, cfg: Config) -> str:
    """The rule's SQL for `cfg`, headed by comments naming it and its parameters."""
    rule = RULES[name]
    params = ", ".join(f"${k} {t}" for k, t in rule.params.items())
    body = textwrap.dedent(rule.sql(cfg)).strip("\n")
    return f"-- crmtool rule {rule.name}: {rule.doc}\n-- parameters: {params}\n{body}\n"
