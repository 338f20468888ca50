"""The monthly report as one self-contained HTML page (no network, no scripts).

The page is built from data only: the summary dict of docs/rules.md §11 "Summary" (plus optional extra keys),
the previous period's summary and the month's call lists. Python turns them into sections of
tables and SVG charts; templates/report.html.j2 lays them out with Jinja2 autoescaping on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import jinja2
import polars as pl
from markupsafe import Markup

from ..call_lists import report_order
from ..codes import RO_TYPES, STATUSES, TIERS
from ..output.labels import column_label, flatten, translate_values, value_label
from ..summary_types import KpiSummary, Summary
from . import charts
from .common import by_dealer_rows, forecast_notes, labels, mask_people

# P(alive) bands: x = 0 grey, then low (red) to high (green)
FORECAST_COLORS = ("#bfbfbf", "#c00000", "#ed7d31", "#ffc000", "#70ad47")

TIER_COLORS = ("#1f4e79", "#2e75b6", "#9dc3e6", "#c9d3de")
STATUS_COLORS = {
    "new": "#5b9bd5",
    "loyal": "#2e7d32",
    "general": "#8a9aa9",
    "at_risk": "#e69b00",
    "lost": "#c62828",
}
LEAK_COLORS = {
    "retained": "#2e7d32",
    "cross_shop": "#e69b00",
    "defected": "#c62828",
    "out_of_channel": "#7f8c99",
}
# Columns a call list shows in the page (the workbook has them all), in this order.
LIST_COLUMNS = (
    "name",
    "phone",
    "plate",
    "vin",
    "series",
    "due_service",
    "due_date",
    "due_by",
    "overdue",
    "days_overdue",
    "warranty_end",
    "ends_by",
    "days_left",
    "settle_date",
    "total_amount",
    "band_label",
    "gift",
    "visits",
    "own_visits",
    "tier",
    "status",
    "days_since",
    "reason",
    "other_dealer_name",
    "lifetime_paid",
    "last_visit",
    "last_own_visit",
    "callback",
    "event_date",
    "ro_type",
    "advisor",
    "birthday",
    "age",
    "complaint_date",
    "days_open",
    "result",
    "note",
    "open_complaints",
)


# ----------------------------------------------------------------------------- formatting


def fmt_int(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def fmt_money(v: Any, decimals: int = 2) -> str:
    return "–" if v is None else f"{float(v):,.{decimals}f}"


def fmt_pct(v: Any) -> str:
    return "–" if v is None else f"{float(v) * 100:.1f}%"


def ratio(part: Any, whole: Any) -> float | None:
    return float(part) / float(whole) if part is not None and whole else None


def fmt_cell(v: Any, t: Mapping[str, str]) -> str:
    """A call-list value as text: dates ISO, booleans yes/no, money with two decimals."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return t["yes"] if v else t["no"]
    if isinstance(v, datetime | date):
        return v.isoformat()[:10] if not isinstance(v, datetime) else v.isoformat(sep=" ")
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    return str(v)


# ----------------------------------------------------------------------------- view model


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    foot: list[str] | None = None
    caption: str = ""
    wrap: list[bool] = field(default_factory=list)  # long text: wraps inside the card


@dataclass
class Panel:
    title: str = ""
    chart: Markup = Markup("")
    table: Table | None = None
    tiles: list[tuple[str, str, str]] = field(default_factory=list)  # label, value, sub
    note: str = ""
    wide: bool = False


@dataclass
class Section:
    id: str
    title: str
    note: str = ""
    panels: list[Panel] = field(default_factory=list)


@dataclass
class Kpi:
    label: str
    value: str
    delta: str
    tone: str  # good | bad | flat | none


WRAP_CHARS = 16  # a text column with a longer cell of words wraps (gift wording, notes)


def _wraps(text: str) -> bool:
    """Long text of words, not one code (a VIN, a phone, an id never wraps)."""
    return len(text) > WRAP_CHARS and (not text.isascii() or " " in text.strip())


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    foot: Sequence[str] | None = None,
    caption: str = "",
) -> Table:
    body = [list(r) for r in rows]
    wrap = [not numeric[j] and any(_wraps(r[j]) for r in body) for j in range(len(headers))]
    return Table(list(headers), body, list(numeric), list(foot) if foot else None, caption, wrap)


def _d(obj: Any, key: str) -> Mapping[str, Any]:
    v = obj.get(key) if isinstance(obj, Mapping) else None
    return v if isinstance(v, Mapping) else {}


def _l(obj: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    v = obj.get(key)
    return [r for r in v if isinstance(r, Mapping)] if isinstance(v, list) else []


# ----------------------------------------------------------------------------- KPIs


def _kpi_values(s: KpiSummary | None) -> dict[str, float | None]:
    if not s:
        return {}
    tiers, status, mix = s["tiers"], s["status"], s["service_mix"]
    ours = sum(tiers[k] for k in TIERS)
    return {
        "ours": ours,
        "tier_a": ratio(tiers["A"], ours),
        "lost": status["lost"],
        "at_risk": status["at_risk"],
        "cross_shop": s["leakage"]["cross_shop"],
        "never_returned": s["never_returned"],
        "revenue": sum(float(r["revenue"]) for r in mix.values()) if mix else None,
        "conversion": (s["leads"] or {}).get("conversion"),
    }


# key, kind, higher is better
KPI_SPEC = (
    ("ours", "int", True),
    ("tier_a", "share", True),
    ("lost", "int", False),
    ("at_risk", "int", False),
    ("cross_shop", "int", False),
    ("never_returned", "int", False),
    ("revenue", "money", True),
    ("conversion", "share", True),
)


def _kpis(summary: Summary, previous: KpiSummary | None, t: Mapping[str, str]) -> list[Kpi]:
    now, before = _kpi_values(summary), _kpi_values(previous)
    out = []
    for key, kind, up_good in KPI_SPEC:
        v, p = now.get(key), before.get(key)
        value = {"int": fmt_int, "share": fmt_pct, "money": lambda x: fmt_money(x, 0)}[kind](v)
        if v is None or p is None:
            out.append(
                Kpi(t[f"kpi_{key}"], value, t["no_previous"] if v is not None else "", "none")
            )
            continue
        diff = float(v) - float(p)
        if kind == "int":
            delta = f"{diff:+,.0f}"
        elif kind == "share":
            delta = f"{diff * 100:+.1f} {t['pp']}"
        else:
            delta = f"{diff / float(p):+.1%}" if p else f"{diff:+,.0f}"
        arrow = "▲" if diff > 0 else "▼" if diff < 0 else "＝"
        tone = "flat" if abs(diff) < 1e-9 else ("good" if (diff > 0) == up_good else "bad")
        out.append(Kpi(t[f"kpi_{key}"], value, f"{arrow} {delta}", tone))
    return out


# ----------------------------------------------------------------------------- sections


def _tiers(s: Summary, t: Mapping[str, str]) -> Section:
    sec = Section("tiers", t["tiers"], t["tiers_note"])
    tiers = s["tiers"]
    total = sum(tiers[k] for k in TIERS)
    items = [(k, tiers[k]) for k in TIERS]
    sec.panels.append(
        Panel(
            chart=charts.hbar(
                [(f"{t['tier']} {k}", v, f"{v:,} · {fmt_pct(ratio(v, total))}") for k, v in items],
                color=list(TIER_COLORS),
                title=t["tiers"],
                label_width=90,
            ),
            table=_table(
                [t["tier"], t["vehicles"], t["share"]],
                [[k, fmt_int(v), fmt_pct(ratio(v, total))] for k, v in items],
                [False, True, True],
                foot=[t["total"], fmt_int(total), fmt_pct(1 if total else None)],
            ),
            wide=True,
        )
    )
    by_series = s.get("tiers_by_series") or []
    if by_series:
        rows, chart_rows = [], []
        for r in by_series:
            vals = [int(r.get(k) or 0) for k in TIERS]
            n = sum(vals)
            rows.append(
                [
                    str(r.get("series") or "–"),
                    *map(fmt_int, vals),
                    fmt_int(n),
                    fmt_pct(ratio(vals[0], n)),
                ]
            )
            chart_rows.append((str(r.get("series") or "–"), vals))
        sec.panels.append(
            Panel(
                title=t["tiers_by_series"],
                chart=charts.stacked_rows(
                    chart_rows, list(TIERS), TIER_COLORS, title=t["tiers_by_series"]
                ),
                table=_table(
                    [t["series"], "A", "B", "C", "D", t["total"], t["tier_a_share"]],
                    rows,
                    [False] + [True] * 6,
                ),
            )
        )
    return sec


def _status(s: Summary, t: Mapping[str, str]) -> Section:
    sec = Section("status", t["status"], t["status_note"])
    st = s["status"]
    keys = STATUSES
    total = sum(st[k] for k in keys)
    steps = [
        (
            t[f"st_{k}"],
            st[k],
            f"{st[k]:,} · {fmt_pct(ratio(st[k], total))}",
            STATUS_COLORS[k],
        )
        for k in keys
    ]
    sec.panels.append(
        Panel(
            chart=charts.funnel(steps, title=t["status"]),
            table=_table(
                [t["status"], t["vehicles"], t["share"]],
                [[lab, fmt_int(v), fmt_pct(ratio(v, total))] for lab, v, _, _ in steps],
                [False, True, True],
                foot=[t["total"], fmt_int(total), ""],
            ),
            wide=True,
        )
    )
    return sec


def _leakage(s: Summary, t: Mapping[str, str], top: int) -> Section:
    sec = Section("leakage", t["leakage"], t["leakage_note"])
    lk = s["leakage"]
    counts = {
        "retained": lk["retained"],
        "cross_shop": lk["cross_shop"],
        "defected": lk["defected"],
        "out_of_channel": lk["out_of_channel"],
    }
    base = sum(counts.values())
    parts = [
        (t[f"lk_{k}"], counts[k], fmt_pct(ratio(counts[k], base)), LEAK_COLORS[k]) for k in counts
    ]
    sec.panels.append(
        Panel(
            chart=charts.stacked(parts, title=t["leakage"]),
            table=_table(
                ["", t["vehicles"], t["share"]],
                [[lab, fmt_int(v), pct] for lab, v, pct, _ in parts],
                [False, True, True],
                foot=[t["base"], fmt_int(base), ""],
            ),
            wide=True,
        )
    )
    by_visits = lk["cross_shop_by_own_visits"]
    cross = lk["cross_shop"]
    vis = [
        (t["visits_5"] if k == "5+" else t["visits_n"].format(n=k), int(by_visits.get(k) or 0))
        for k in ("1", "2", "3", "4", "5+")
    ]
    sec.panels.append(
        Panel(
            title=t["cross_by_visits"],
            chart=charts.hbar(
                [(lab, v, f"{v:,} · {fmt_pct(ratio(v, cross))}") for lab, v in vis],
                color="#e69b00",
                title=t["cross_by_visits"],
                label_width=110,
            ),
            table=_table(
                [t["own_visits"], t["vehicles"], t["share"]],
                [[lab, fmt_int(v), fmt_pct(ratio(v, cross))] for lab, v in vis],
                [False, True, True],
            ),
        )
    )
    region = _d(lk, "cross_shop_region")
    reg = [(t[f"rg_{k}"], int(region.get(k) or 0)) for k in ("same", "other", "unknown")]
    sec.panels.append(
        Panel(
            title=t["cross_region"],
            chart=charts.hbar(
                [(lab, v, f"{v:,} · {fmt_pct(ratio(v, cross))}") for lab, v in reg],
                color=["#e69b00", "#b45309", "#c9d3de"],
                title=t["cross_region"],
                label_width=110,
            ),
            table=_table(
                [t["region"], t["vehicles"], t["share"]],
                [[lab, fmt_int(v), fmt_pct(ratio(v, cross))] for lab, v in reg],
                [False, True, True],
            ),
        )
    )
    dealers = _l(s, "defected_by_dealer")  # churn.defected_by_dealer rows
    if dealers:
        defected = int(lk.get("defected") or 0) or sum(int(r.get("defected") or 0) for r in dealers)
        shown = dealers[:top]
        sec.panels.append(
            Panel(
                title=t["defected_by_dealer"],
                chart=charts.hbar(
                    [
                        (
                            str(r.get("name") or r.get("dealer_code") or "–"),
                            int(r.get("defected") or 0),
                            fmt_int(r.get("defected") or 0),
                        )
                        for r in shown
                    ],
                    color="#c62828",
                    title=t["defected_by_dealer"],
                ),
                table=_table(
                    [
                        t["dealer"],
                        t["dealer_name"],
                        t["region"],
                        t["vehicles"],
                        t["share"],
                        t["kpi_cross_shop"],
                    ],
                    [
                        [
                            str(r.get("dealer_code") or ""),
                            str(r.get("name") or ""),
                            value_label("region", r.get("region"), t["lang"]),
                            fmt_int(r.get("defected") or 0),
                            fmt_pct(ratio(r.get("defected") or 0, defected)),
                            fmt_int(r.get("cross_shop") or 0),
                        ]
                        for r in shown
                    ],
                    [False, False, False, True, True, True],
                    caption=(
                        t["rows_shown"].format(shown=len(shown), total=len(dealers))
                        if len(dealers) > len(shown)
                        else ""
                    ),
                ),
            )
        )
    return sec


def _follow(s: Summary, t: Mapping[str, str]) -> Section:
    sec = Section("follow", t["follow"])
    nc = s["new_car_defection"]
    sold, defected, direct = nc["sold"], nc["defected"], nc["direct"]
    sec.panels.append(
        Panel(
            title=t["new_car"],
            tiles=[
                (t["nc_sold"], fmt_int(sold), ""),
                (
                    t["nc_defected"],
                    fmt_int(defected),
                    f"{t['nc_of_sold']} {fmt_pct(ratio(defected, sold))}",
                ),
                (
                    t["nc_direct"],
                    fmt_int(direct),
                    f"{t['nc_of_defected']} {fmt_pct(ratio(direct, defected))}",
                ),
                (t["never_returned"], fmt_int(s["never_returned"]), ""),
            ],
            wide=True,
        )
    )
    sn = _d(s, "secondary_network")
    outlets = _l(sn, "by_outlet")
    heads = [
        t["outlet"],
        t["sn_sold"],
        t["sn_returned_paid"],
        t["sn_rate"],
        t["sn_revenue"],
        t["sn_no_paid"],
        t["sn_no_ro"],
    ]

    def row(name: str, r: Mapping[str, Any]) -> list[str]:
        sold_, ret = int(r.get("sold") or 0), int(r.get("returned_paid") or 0)
        no_paid = r.get("no_paid", sold_ - ret)
        return [
            name,
            fmt_int(sold_),
            fmt_int(ret),
            fmt_pct(ratio(ret, sold_)),
            fmt_money(r.get("revenue")) if "revenue" in r else "–",
            fmt_int(no_paid),
            fmt_int(r.get("no_ro")) if "no_ro" in r else "–",
        ]

    sec.panels.append(
        Panel(
            title=t["secondary"],
            chart=charts.hbar(
                [
                    (
                        str(r.get("outlet") or "–"),
                        int(r.get("sold") or 0),
                        f"{int(r.get('returned_paid') or 0):,}/{int(r.get('sold') or 0):,}"
                        f" · {fmt_pct(ratio(r.get('returned_paid') or 0, r.get('sold')))}",
                    )
                    for r in outlets
                ],
                color="#9dc3e6",
                inner=[int(r.get("returned_paid") or 0) for r in outlets],
                title=t["secondary"],
            ),
            table=_table(
                heads,
                [row(str(r.get("outlet") or "–"), r) for r in outlets],
                [False] + [True] * 6,
                foot=row(t["total"], sn),
            ),
            wide=True,
        )
    )
    return sec


def _service(s: Mapping[str, Any], t: Mapping[str, str]) -> Section:
    sec = Section("service", t["service"], t["service_note"])
    mix = _d(s, "service_mix")
    keys = [k for k in RO_TYPES] + sorted(k for k in mix if k not in RO_TYPES)
    rows = [(t.get(f"rt_{k}", k), _d(mix, k)) for k in keys]
    total_n = sum(int(r.get("count") or 0) for _, r in rows)
    total_rev = sum(float(r.get("revenue") or 0) for _, r in rows)
    sec.panels.append(
        Panel(
            chart=charts.hbar(
                [
                    (
                        lab,
                        int(r.get("count") or 0),
                        f"{int(r.get('count') or 0):,} · {fmt_pct(r.get('share') or 0)}",
                    )
                    for lab, r in rows
                ],
                color="#2e75b6",
                title=t["service"],
                label_width=120,
            ),
            table=_table(
                [t["ro_type"], t["ro_count"], t["share"], t["revenue"]],
                [
                    [
                        lab,
                        fmt_int(r.get("count") or 0),
                        fmt_pct(r.get("share") or 0),
                        fmt_money(r.get("revenue") or 0),
                    ]
                    for lab, r in rows
                ],
                [False, True, True, True],
                foot=[
                    t["total"],
                    fmt_int(total_n),
                    fmt_pct(1 if total_n else None),
                    fmt_money(total_rev),
                ],
            ),
            wide=True,
        )
    )
    md = _d(s, "maintenance_due")
    if md:
        sec.panels.append(
            Panel(
                title=t["maintenance_due"],
                tiles=[
                    (t["md_due"], fmt_int(md.get("due")), ""),
                    (t["md_returned"], fmt_int(md.get("returned")), ""),
                    (t["md_rate"], fmt_pct(md.get("rate")), ""),
                ],
                wide=True,
            )
        )
    care = _d(s, "care")
    if care:
        sec.panels.append(
            Panel(
                title=t["care"],
                table=_table(
                    [t["item"], t["value"]],
                    [[value_label("summary", k, t["lang"]), _scalar(v)] for k, v in flatten(care)],
                    [False, True],
                ),
                wide=True,
            )
        )
    return sec


def _by_dealer(s: Summary, t: Mapping[str, str]) -> Section | None:
    """A dealer group: each figure per own dealer, and the group's (summary by_dealer)."""
    table = by_dealer_rows(s, t)
    if table is None:
        return None
    headers, rows = table
    fmt = {"int": fmt_int, "money": fmt_money}
    sec = Section("by_dealer", t["by_dealer"], t["by_dealer_note"])
    sec.panels.append(
        Panel(
            table=_table(
                headers,
                [[label, *(fmt[kind](v) for v in values)] for label, kind, values in rows],
                [False] + [True] * (len(headers) - 1),
            ),
            wide=True,
        )
    )
    return sec


def _scalar(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return fmt_int(v)
    if isinstance(v, float):
        return fmt_pct(v) if 0 <= v <= 1 else fmt_money(v)
    return str(v)


def _lists(
    lists: Mapping[str, pl.DataFrame], t: Mapping[str, str], top: int, show_pii: bool, lang: str
) -> Section:
    sec = Section("lists", t["lists"], t["lists_note"])
    keys = report_order(list(lists))
    sec.panels.append(
        Panel(tiles=[(t.get(f"ls_{k}", k), fmt_int(lists[k].height), "") for k in keys], wide=True)
    )
    for k in keys:
        frame = lists[k]
        cols = [c for c in LIST_COLUMNS if c in frame.columns] or frame.columns[:8]
        head = translate_values(frame.head(top).select(cols), lang)
        if not show_pii:
            head = mask_people(head)
        numeric = [head.schema[c].is_numeric() for c in cols]
        sec.panels.append(
            Panel(
                title=f"{t.get(f'ls_{k}', k)}（{frame.height:,}）"
                if lang == "zh"
                else f"{t.get(f'ls_{k}', k)} ({frame.height:,})",
                table=_table(
                    [column_label(c, lang) for c in cols],
                    [[fmt_cell(v, t) for v in r] for r in head.rows()],
                    numeric,
                    caption=(
                        t["rows_shown"].format(shown=head.height, total=frame.height)
                        if frame.height > head.height
                        else ""
                    ),
                ),
                wide=True,
            )
        )
    return sec


LEAD_COLS = ("leads", "visited", "won", "lost", "conversion", "overdue")


def _leads(s: Mapping[str, Any], t: Mapping[str, str], top: int) -> Section:
    sec = Section("leads", t["leads"])
    ld = _d(s, "leads")
    sec.panels.append(
        Panel(
            tiles=[
                (t[f"ld_{k}"], fmt_pct(ld.get(k)) if k == "conversion" else fmt_int(ld.get(k)), "")
                for k in LEAD_COLS
            ],
            wide=True,
        )
    )
    for key, name_key in (("leads_by_source", "source"), ("leads_by_consultant", "consultant")):
        rows = _l(s, key)
        if not rows:
            continue
        shown = rows[:top]

        def fmt(k: str, v: Any) -> str:
            return fmt_pct(v) if k == "conversion" else fmt_int(v) if v is not None else "–"

        sec.panels.append(
            Panel(
                title=t[key],
                chart=charts.hbar(
                    [
                        (
                            str(r.get(name_key) or "–"),
                            int(r.get("leads") or 0),
                            f"{int(r.get('leads') or 0):,} · {fmt_pct(r.get('conversion'))}",
                        )
                        for r in shown
                    ],
                    color="#2e75b6",
                    title=t[key],
                    label_width=120,
                ),
                table=_table(
                    [t[name_key]] + [t[f"ld_{k}"] for k in LEAD_COLS],
                    [
                        [str(r.get(name_key) or "–")] + [fmt(k, r.get(k)) for k in LEAD_COLS]
                        for r in shown
                    ],
                    [False] + [True] * len(LEAD_COLS),
                    caption=(
                        t["rows_shown"].format(shown=len(shown), total=len(rows))
                        if len(rows) > len(shown)
                        else ""
                    ),
                ),
            )
        )
    return sec


def _quality(s: Mapping[str, Any], t: Mapping[str, str], top: int) -> Section:
    sec = Section("quality", t["dq"])
    dq = _d(s, "data_quality")
    parts = [int(dq.get(k) or 0) for k in ("loaded", "duplicates", "rejected")]
    ok = int(dq.get("read") or 0) == sum(parts)
    sec.panels.append(
        Panel(
            tiles=[
                (t["dq_read"], fmt_int(dq.get("read")), ""),
                (t["dq_loaded"], fmt_int(dq.get("loaded")), ""),
                (t["dq_duplicates"], fmt_int(dq.get("duplicates")), ""),
                (t["dq_rejected"], fmt_int(dq.get("rejected")), ""),
            ],
            note=f"{t['dq_check']}：{t['dq_ok'] if ok else t['dq_bad']}",
            wide=True,
        )
    )
    for key, name_key, color, domain in (
        ("rejects_by_reason", "reason", "#c62828", "reject"),
        ("flags_by_kind", "flag", "#e69b00", "flag"),
    ):
        rows = [
            {**r, name_key: value_label(domain, r.get(name_key), t["lang"])} for r in _l(s, key)
        ]
        if not rows:
            continue
        shown = rows[:top]
        sec.panels.append(
            Panel(
                title=t[key],
                chart=charts.hbar(
                    [
                        (
                            str(r.get(name_key) or "–"),
                            int(r.get("count") or 0),
                            fmt_int(r.get("count") or 0),
                        )
                        for r in shown
                    ],
                    color=color,
                    title=t[key],
                ),
                table=_table(
                    [t[name_key], t["count"]],
                    [[str(r.get(name_key) or "–"), fmt_int(r.get("count") or 0)] for r in shown],
                    [False, True],
                    caption=(
                        t["rows_shown"].format(shown=len(shown), total=len(rows))
                        if len(rows) > len(shown)
                        else ""
                    ),
                ),
            )
        )
    return sec


def _forecast(s: Mapping[str, Any], t: Mapping[str, str]) -> Section | None:
    """预测: expected 12-month value, the value at risk (at_risk + lost) and the P(alive)
    bands per tier (docs/rules.md §20); nothing when the summary has no usable forecast."""
    fc = _d(s, "forecast")
    if not fc or "error" in fc:
        return None
    by_status = _d(fc, "value_12m_by_status")
    at_risk = float(by_status.get("at_risk") or 0) + float(by_status.get("lost") or 0)
    sec = Section("forecast", t["forecast"], t["forecast_note"])
    sec.panels.append(
        Panel(
            tiles=[
                (
                    t["fc_value"],
                    fmt_money(fc.get("value_12m"), 0),
                    f"{fmt_int(fc.get('vehicles'))}",
                ),
                (
                    t["fc_at_risk"],
                    fmt_money(at_risk, 0),
                    fmt_pct(ratio(at_risk, fc.get("value_12m") or 0)),
                ),
            ],
            note=" ".join(forecast_notes(fc, t)),
            wide=True,
        )
    )
    bands = ["x0", "[0,0.2)", "[0.2,0.5)", "[0.5,0.8)", "[0.8,1]"]
    heads = [t["fc_x0"], *bands[1:]]
    by_tier = _d(fc, "p_alive_bands_by_tier")
    rows = [(f"{t['tier']} {k}", [float(_d(by_tier, k).get(b) or 0) for b in bands]) for k in TIERS]
    sec.panels.append(
        Panel(
            title=t["fc_bands"],
            chart=charts.stacked_rows(rows, heads, FORECAST_COLORS, title=t["fc_bands"]),
            table=_table(
                [t["tier"], *heads],
                [[lab, *map(fmt_int, v)] for lab, v in rows],
                [False] + [True] * len(bands),
            ),
            wide=True,
        )
    )
    return sec


def _retention(s: Mapping[str, Any], t: Mapping[str, str]) -> Section | None:
    """售后保持: KPI tiles, the 24-month trend, the milestone funnel, the cohort heat map and
    the time-to-return curve (docs/rules.md §19)."""
    from .retention import survival_points, trend_series

    detail = _d(s, "retention_detail")
    if not detail:
        return None
    b = _d(detail, "block")
    sec = Section("retention", t["retention"], t["retention_note"])
    back = _d(b, "return_after")
    median = b.get("median_days_to_return")
    sec.panels.append(
        Panel(
            tiles=[
                (
                    t["ret_first_service_rate"],
                    fmt_pct(_d(b, "first_service").get("rate")),
                    f"{fmt_int(_d(b, 'first_service').get('returned'))} / "
                    f"{fmt_int(_d(b, 'first_service').get('sold'))}",
                ),
                (
                    t["ret_retention_12_24_rate"],
                    fmt_pct(_d(b, "retention_12_24").get("rate")),
                    f"{fmt_int(_d(b, 'retention_12_24').get('retained'))} / "
                    f"{fmt_int(_d(b, 'retention_12_24').get('base'))}",
                ),
                *[
                    (
                        t.get(f"ret_return_{n}m_rate", f"{n}m"),
                        fmt_pct(_d(back, n).get("rate")),
                        f"{fmt_int(_d(back, n).get('returned'))} / {fmt_int(_d(back, n).get('vehicles'))}",
                    )
                    for n in back
                ],
                (t["ret_median_days"], "–" if median is None else fmt_int(median), t["days"]),
            ],
            wide=True,
        )
    )
    xs, series = trend_series(detail, t)
    sec.panels.append(
        Panel(
            title=t["ret_trend"],
            chart=charts.lines(series, xs, title=t["ret_trend"], ymax=1.0),
            wide=True,
        )
    )
    ms = _l(b, "milestones")
    sec.panels.append(
        Panel(
            title=t["ret_funnel"],
            chart=charts.funnel(
                [
                    (
                        f"{m['k']}{t['ret_k']}",
                        float(m.get("reached") or 0),
                        fmt_int(m.get("reached")),
                        "#2e75b6",
                    )
                    for m in ms
                ],
                title=t["ret_funnel"],
            ),
            table=_table(
                [
                    t["ret_milestone"],
                    t["ret_reached"],
                    t["ret_eligible"],
                    t["ret_next"],
                    t["share"],
                ],
                [
                    [
                        f"{m['k']}→{m['k'] + 1}",
                        fmt_int(m.get("reached")),
                        fmt_int(m.get("eligible")),
                        fmt_int(m.get("next")),
                        fmt_pct(m.get("rate")),
                    ]
                    for m in ms
                ],
                [False, True, True, True, True],
            ),
        )
    )
    cohort = _l(detail, "cohort")
    if cohort:
        years = [k for k in cohort[0] if k.startswith("year_")]
        sec.panels.append(
            Panel(
                title=t["ret_cohort"],
                chart=charts.heatmap(
                    [(str(r["sale_year"]), [r.get(k) for k in years]) for r in cohort],
                    [t["ret_year"].format(k[5:]) for k in years],
                    title=t["ret_cohort"],
                ),
                table=_table(
                    [
                        t["ret_sale_year"],
                        t["ret_sold"],
                        *[t["ret_year"].format(k[5:]) for k in years],
                    ],
                    [
                        [
                            str(r["sale_year"]),
                            fmt_int(r.get("sold")),
                            *[fmt_pct(r.get(k)) for k in years],
                        ]
                        for r in cohort
                    ],
                    [False] + [True] * (len(years) + 1),
                ),
            )
        )
    sx, sy = survival_points(detail)
    sec.panels.append(
        Panel(
            title=t["ret_curve"],
            note=t["ret_curve_note"],
            chart=charts.lines(
                [(t["ret_still_away"], sy, "#1f4e79")],
                sx,
                title=t["ret_curve"],
                ymax=1.0,
                step=True,
            ),
        )
    )
    return sec


# ----------------------------------------------------------------------------- entry point


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("crmtool.templates", "."),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(
    summary: Summary,
    previous: KpiSummary | None,
    lists: dict[str, pl.DataFrame],
    *,
    lang: str = "zh",
    show_pii: bool = False,
    top_rows: int = 10,
) -> str:
    """The report page for one period; names and phones masked unless show_pii."""
    t = labels(lang, summary.get("period"))
    period = _d(summary, "period")
    sections = [
        _tiers(summary, t),
        _status(summary, t),
        _leakage(summary, t, top_rows),
        _follow(summary, t),
        _service(summary, t),
        _by_dealer(summary, t),
        _lists(lists, t, top_rows, show_pii, lang),
        _leads(summary, t, top_rows),
        _quality(summary, t, top_rows),
        _retention(summary, t),
        _forecast(summary, t),
    ]
    sections = [sec for sec in sections if sec is not None]
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            t=t,
            lang="zh-CN" if lang == "zh" else "en",
            period_start=str(period.get("start") or ""),
            period_end=str(period.get("end") or ""),
            as_of=str(summary.get("as_of") or ""),
            kpis=_kpis(summary, previous, t),
            has_previous=previous is not None,
            sections=sections,
        )
    )
