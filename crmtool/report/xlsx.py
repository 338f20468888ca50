"""The monthly report as an Excel workbook: a summary sheet of KPI tables with native charts,
then one sheet per call list (full rows, Chinese headers, frozen header, autofilter).

Every string is written as a string: no cell starting with = + - @ ever becomes a formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..call_lists import report_order
from ..codes import RO_TYPES, STATUSES, TIERS
from ..output.formats import print_setup, write_xlsx_sheets
from ..output.labels import translate_values, value_label
from ..summary_types import Summary
from .common import by_dealer_rows, forecast_notes, labels, mask_people
from .html import FORECAST_COLORS, KPI_SPEC, _kpi_values

if TYPE_CHECKING:
    from .lists import ListSheet

CHART_ROWS = 16  # rows a chart occupies beside its table
# Printing (issue 15): landscape A4, one page wide. At the scale that fits columns A..L
# (tables in A..E, charts from F) on the width, a page holds about PAGE_ROWS rows; a table
# and its chart start a new page when they would not fit on the current one.
PAGE_ROWS = 40
CHART_LAST_COL = 11


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'")[:31] or "Sheet"
    out, n = clean, 2
    while out.lower() in used:
        suffix = f" ({n})"
        out, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(out.lower())
    return out


class _Summary:
    """Writes the summary sheet block by block, each table with an optional chart beside it."""

    def __init__(self, wb: Workbook, ws: Worksheet, name: str) -> None:
        self.wb, self.ws, self.name, self.row = wb, ws, name, 0
        self.f_title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#1F4E79"})
        self.f_head = wb.add_format(
            {
                "bold": True,
                "font_size": 12,
                "font_color": "#1F4E79",
                "bottom": 2,
                "bottom_color": "#2E75B6",
            }
        )
        self.f_th = wb.add_format(
            {"bold": True, "bg_color": "#F1F4F8", "border": 1, "border_color": "#CFD7E2"}
        )
        self.f_td = wb.add_format({"border": 1, "border_color": "#E3E8EF"})
        self.f_int = wb.add_format({"num_format": "#,##0", "border": 1, "border_color": "#E3E8EF"})
        self.f_money = wb.add_format(
            {"num_format": "#,##0.00", "border": 1, "border_color": "#E3E8EF"}
        )
        self.f_pct = wb.add_format({"num_format": "0.0%", "border": 1, "border_color": "#E3E8EF"})
        ws.set_column(0, 0, 30)
        ws.set_column(1, 7, 14)
        self.breaks: list[int] = []  # rows that start a printed page
        self.page_start = 0
        self.last_col = 1

    def keep(self, height: int) -> None:
        """Start a new printed page here when `height` rows would not fit on this one."""
        if self.row > self.page_start and self.row - self.page_start + height > PAGE_ROWS:
            self.breaks.append(self.row)
            self.page_start = self.row

    def finish(self) -> None:
        """Print setup: landscape A4, fit to one page wide, the used area only, page breaks
        between blocks (never through a chart), page numbers in the footer."""
        print_setup(self.ws, self.row, self.last_col)
        if self.breaks:
            self.ws.set_h_pagebreaks(self.breaks)

    def text(self, value: str, fmt: Any = None) -> None:
        self.ws.write_string(self.row, 0, value, fmt)
        self.row += 1

    def table(
        self,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        kinds: Sequence[str],
        chart: dict[str, Any] | None = None,
    ) -> None:
        """kinds per column: text | int | money | pct. `chart`: xlsxwriter chart options plus
        'value_col' (column index of the values charted against column 0)."""
        self.keep(max(len(rows) + 2, CHART_ROWS if chart and rows else 0) + 1)
        self.last_col = max(
            self.last_col, len(headers) - 1, CHART_LAST_COL if chart and rows else 0
        )
        start = self.row
        self.ws.write_string(self.row, 0, title, self.f_head)
        self.row += 1
        for c, h in enumerate(headers):
            self.ws.write_string(self.row, c, h, self.f_th)
        self.row += 1
        first = self.row
        for r in rows:
            for c, (v, kind) in enumerate(zip(r, kinds, strict=True)):
                if v is None:
                    self.ws.write_blank(self.row, c, None, self.f_td)
                elif kind == "text":
                    self.ws.write_string(self.row, c, str(v), self.f_td)
                else:
                    fmt = {"int": self.f_int, "money": self.f_money, "pct": self.f_pct}[kind]
                    self.ws.write_number(self.row, c, float(v), fmt)
            self.row += 1
        if chart and rows:
            self._chart(chart, title, first, self.row - 1, start)
            self.row = max(self.row, start + CHART_ROWS)
        self.row += 1

    def _chart(self, opts: dict[str, Any], title: str, first: int, last: int, anchor: int) -> None:
        opts = dict(opts)
        value_col = opts.pop("value_col", 1)
        kind = opts.pop("type")
        chart = self.wb.add_chart({"type": kind, **opts})
        series: dict[str, Any] = {
            "name": title,
            "categories": [self.name, first, 0, last, 0],
            "values": [self.name, first, value_col, last, value_col],
            "data_labels": {"value": True},
        }
        if kind != "pie":
            series["fill"] = {"color": "#2E75B6"}
            series["gap"] = 60
        else:
            series["data_labels"] = {"percentage": True, "category": True, "leader_lines": True}
        chart.add_series(series)
        chart.set_title({"name": title, "name_font": {"size": 11}})
        chart.set_legend({"none": True} if kind != "pie" else {"position": "right"})
        if kind == "bar":
            chart.set_y_axis({"reverse": True})
        self.ws.insert_chart(anchor, 5, chart, {"x_scale": 1.1, "y_scale": 1.0})


def _extra_rows(summary: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The rows of one of the summary's optional list blocks (empty when it is left out)."""
    rows = summary.get(key)
    return rows if isinstance(rows, list) else []


def _n(d: Mapping[str, Any], k: str) -> float:
    v = d.get(k) if isinstance(d, Mapping) else None
    return float(v) if isinstance(v, int | float) else 0.0


def _summary_sheet(
    wb: Workbook, summary: Summary, t: Mapping[str, str], used: set[str]
) -> Worksheet:
    name = _sheet_name(t["sheet_summary"], used)
    s = _Summary(wb, wb.add_worksheet(name), name)
    period = summary["period"]
    s.text(t["title"], s.f_title)
    s.text(
        f"{t['period']}: {period['start']} ~ {period['end']}    {t['as_of']}: {summary['as_of']}"
    )
    s.row += 1
    kv = _kpi_values(summary)
    s.text(t["kpi"], s.f_head)
    s.ws.write_string(s.row, 0, t["item"], s.f_th)
    s.ws.write_string(s.row, 1, t["value"], s.f_th)
    s.row += 1
    for key, kind, _ in KPI_SPEC:
        v = kv.get(key)
        s.ws.write_string(s.row, 0, t[f"kpi_{key}"], s.f_td)
        fmt = {"int": s.f_int, "share": s.f_pct, "money": s.f_money}[kind]
        if v is None:
            s.ws.write_blank(s.row, 1, None, fmt)
        else:
            s.ws.write_number(s.row, 1, float(v), fmt)
        s.row += 1
    s.row += 1

    tiers = {k: float(summary["tiers"][k]) for k in TIERS}
    total = sum(tiers.values())
    s.table(
        t["tiers"],
        [t["tier"], t["vehicles"], t["share"]],
        [[k, n, n / total if total else None] for k, n in tiers.items()],
        ["text", "int", "pct"],
        {"type": "column"},
    )
    by_series = summary.get("tiers_by_series") or []
    if by_series:
        s.table(
            t["tiers_by_series"],
            [t["series"], "A", "B", "C", "D"],
            [[str(r.get("series") or ""), *(_n(r, k) for k in TIERS)] for r in by_series],
            ["text", "int", "int", "int", "int"],
        )

    st = {k: float(summary["status"][k]) for k in STATUSES}
    total = sum(st.values())
    s.table(
        t["status"],
        [t["status"], t["vehicles"], t["share"]],
        [[t[f"st_{k}"], n, n / total if total else None] for k, n in st.items()],
        ["text", "int", "pct"],
        {"type": "bar"},
    )

    lk = summary["leakage"]
    classes = {
        "retained": float(lk["retained"]),
        "cross_shop": float(lk["cross_shop"]),
        "defected": float(lk["defected"]),
        "out_of_channel": float(lk["out_of_channel"]),
    }
    base = sum(classes.values())
    s.table(
        t["leakage"],
        ["", t["vehicles"], t["share"]],
        [[t[f"lk_{k}"], n, n / base if base else None] for k, n in classes.items()],
        ["text", "int", "pct"],
        {"type": "bar"},
    )
    by_visits = lk["cross_shop_by_own_visits"]
    s.table(
        t["cross_by_visits"],
        [t["own_visits"], t["vehicles"]],
        [
            [t["visits_5"] if k == "5+" else t["visits_n"].format(n=k), _n(by_visits, k)]
            for k in ("1", "2", "3", "4", "5+")
        ],
        ["text", "int"],
    )
    region = lk["cross_shop_region"]
    s.table(
        t["cross_region"],
        [t["region"], t["vehicles"]],
        [[t[f"rg_{k}"], _n(region, k)] for k in ("same", "other", "unknown")],
        ["text", "int"],
    )
    dealers = summary.get("defected_by_dealer") or []
    if dealers:
        s.table(
            t["defected_by_dealer"],
            [t["dealer"], t["dealer_name"], t["region"], t["vehicles"]],
            [
                [
                    str(r.get("dealer_code") or r.get("dealer") or ""),
                    str(r.get("name") or ""),
                    value_label("region", r.get("region"), t["lang"]),
                    _n(r, "defected") or _n(r, "vehicles"),
                ]
                for r in dealers
            ],
            ["text", "text", "text", "int"],
        )

    nc = summary.get("new_car_defection") or {}
    s.table(
        t["new_car"],
        [t["item"], t["vehicles"]],
        [
            [t["nc_sold"], _n(nc, "sold")],
            [t["nc_defected"], _n(nc, "defected")],
            [t["nc_direct"], _n(nc, "direct")],
            [t["never_returned"], _n(summary, "never_returned")],
        ],
        ["text", "int"],
    )
    sn = summary.get("secondary_network") or {}
    rows = [
        [
            str(r.get("outlet") or ""),
            _n(r, "sold"),
            _n(r, "returned_paid"),
            r.get("revenue"),
            r.get("no_paid", _n(r, "sold") - _n(r, "returned_paid")),
            r.get("no_ro"),
        ]
        for r in (sn.get("by_outlet") or [])
    ]
    rows.append(
        [
            t["total"],
            _n(sn, "sold"),
            _n(sn, "returned_paid"),
            sn.get("revenue"),
            sn.get("no_paid"),
            sn.get("no_ro"),
        ]
    )
    s.table(
        t["secondary"],
        [
            t["outlet"],
            t["sn_sold"],
            t["sn_returned_paid"],
            t["sn_revenue"],
            t["sn_no_paid"],
            t["sn_no_ro"],
        ],
        rows,
        ["text", "int", "int", "money", "int", "int"],
    )

    mix = summary.get("service_mix") or {}
    types = list(RO_TYPES) + sorted(k for k in mix if k not in RO_TYPES)
    s.table(
        t["service"],
        [t["ro_type"], t["ro_count"], t["share"], t["revenue"]],
        [
            [
                t.get(f"rt_{k}", k),
                _n(mix.get(k) or {}, "count"),
                _n(mix.get(k) or {}, "share"),
                _n(mix.get(k) or {}, "revenue"),
            ]
            for k in types
        ],
        ["text", "int", "pct", "money"],
        {"type": "pie"},
    )
    md = summary.get("maintenance_due") or {}
    if md:
        s.table(
            t["maintenance_due"],
            [t["md_due"], t["md_returned"], t["md_rate"]],
            [[_n(md, "due"), _n(md, "returned"), _n(md, "rate")]],
            ["int", "int", "pct"],
        )

    ld = summary.get("leads") or {}
    lead_cols = ("leads", "visited", "won", "lost", "conversion", "overdue")
    lead_kinds = ["pct" if k == "conversion" else "int" for k in lead_cols]
    s.table(
        t["leads"], [t[f"ld_{k}"] for k in lead_cols], [[_n(ld, k) for k in lead_cols]], lead_kinds
    )
    for key, name_key in (("leads_by_source", "source"), ("leads_by_consultant", "consultant")):
        rows_ = _extra_rows(summary, key)
        if rows_:
            s.table(
                t[key],
                [t[name_key]] + [t[f"ld_{k}"] for k in lead_cols],
                [[str(r.get(name_key) or "")] + [_n(r, k) for k in lead_cols] for r in rows_],
                ["text", *lead_kinds],
            )

    dq = summary.get("data_quality") or {}
    dq_keys = ("read", "loaded", "duplicates", "rejected")
    s.table(
        t["dq"],
        [t["item"], t["count"]],
        [[t[f"dq_{k}"], _n(dq, k)] for k in dq_keys],
        ["text", "int"],
    )
    for key, name_key, domain in (
        ("rejects_by_reason", "reason", "reject"),
        ("flags_by_kind", "flag", "flag"),
    ):
        rows_ = _extra_rows(summary, key)
        if rows_:
            s.table(
                t[key],
                [t[name_key], t["count"]],
                [[value_label(domain, r.get(name_key), t["lang"]), _n(r, "count")] for r in rows_],
                ["text", "int"],
            )
    s.finish()
    return s.ws


def _by_dealer_sheet(
    wb: Workbook, summary: Summary, t: Mapping[str, str], used: set[str]
) -> Worksheet | None:
    """A dealer group: the sheet of each figure per own dealer and the group's (by_dealer)."""
    table = by_dealer_rows(summary, t)
    if table is None:
        return None
    headers, rows = table
    name = _sheet_name(t["by_dealer"], used)
    s = _Summary(wb, wb.add_worksheet(name), name)
    s.ws.set_column(1, len(headers) - 1, 14)
    s.text(t["by_dealer"], s.f_head)
    s.text(t["by_dealer_note"])
    s.row += 1
    for c, h in enumerate(headers):
        s.ws.write_string(s.row, c, h, s.f_th)
    s.ws.freeze_panes(s.row + 1, 1)
    s.row += 1
    for label, kind, values in rows:
        s.ws.write_string(s.row, 0, label, s.f_td)
        fmt = s.f_money if kind == "money" else s.f_int
        for c, v in enumerate(values, start=1):
            if v is None:
                s.ws.write_blank(s.row, c, None, fmt)
            else:
                s.ws.write_number(s.row, c, v, fmt)
        s.row += 1
    s.finish()
    return s.ws


def _retention_sheet(
    wb: Workbook, summary: Summary, t: Mapping[str, str], used: set[str]
) -> Worksheet | None:
    """售后保持: the 24-month trend (line chart), the milestone funnel (bar chart), the cohort
    table (colour scale) and the time-to-return curve (docs/rules.md §19)."""
    from .retention import TREND, survival_points, trend_series

    detail = summary.get("retention_detail")
    if not isinstance(detail, Mapping) or not detail.get("trend"):
        return None
    name = _sheet_name(t["retention"], used)
    s = _Summary(wb, wb.add_worksheet(name), name)
    s.text(t["retention"], s.f_title)
    s.text(t["retention_note"])
    s.row += 1
    xs, series = trend_series(detail, t)
    s.table(
        t["ret_trend"],
        [t["as_of"], *[n for n, _, _ in series]],
        [[x, *[vals[i] for _, vals, _ in series]] for i, x in enumerate(xs)],
        ["text"] + ["pct"] * len(series),
    )
    first = s.row - 1 - len(xs)
    chart = wb.add_chart({"type": "line"})
    for j, ((label, _, colour), _key) in enumerate(zip(series, TREND, strict=False), start=1):
        chart.add_series(
            {
                "name": label,
                "categories": [name, first, 0, first + len(xs) - 1, 0],
                "values": [name, first, j, first + len(xs) - 1, j],
                "line": {"color": colour, "width": 2},
            }
        )
    chart.set_title({"name": t["ret_trend"], "name_font": {"size": 11}})
    chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
    chart.set_legend({"position": "bottom"})
    s.ws.insert_chart(first - 2, 6, chart, {"x_scale": 1.3, "y_scale": 1.2})
    block = detail.get("block") or {}
    ms = [m for m in block.get("milestones") or [] if isinstance(m, Mapping)]
    s.table(
        t["ret_funnel"],
        [t["ret_milestone"], t["ret_reached"], t["ret_eligible"], t["ret_next"], t["share"]],
        [
            [
                f"{m['k']}→{m['k'] + 1}",
                m.get("reached"),
                m.get("eligible"),
                m.get("next"),
                m.get("rate"),
            ]
            for m in ms
        ],
        ["text", "int", "int", "int", "pct"],
        chart={"type": "bar", "value_col": 1},
    )
    cohort = [r for r in detail.get("cohort") or [] if isinstance(r, Mapping)]
    if cohort:
        years = [k for k in cohort[0] if k.startswith("year_")]
        s.table(
            t["ret_cohort"],
            [t["ret_sale_year"], t["ret_sold"], *[t["ret_year"].format(k[5:]) for k in years]],
            [[str(r["sale_year"]), r.get("sold"), *[r.get(k) for k in years]] for r in cohort],
            ["text", "int"] + ["pct"] * len(years),
        )
        top = s.row - 1 - len(cohort)
        s.ws.conditional_format(
            top,
            2,
            top + len(cohort) - 1,
            1 + len(years),
            {
                "type": "3_color_scale",
                "min_color": "#F8696B",
                "mid_color": "#FFEB84",
                "max_color": "#63BE7B",
            },
        )
    sx, sy = survival_points(detail)
    s.table(
        t["ret_curve"],
        [t["days"], t["ret_still_away"]],
        [[int(x), y] for x, y in zip(sx, sy, strict=True)],
        ["int", "pct"],
    )
    top = s.row - 1 - len(sx)
    curve = wb.add_chart({"type": "scatter", "subtype": "straight"})
    curve.add_series(
        {
            "name": t["ret_still_away"],
            "categories": [name, top, 0, s.row - 2, 0],
            "values": [name, top, 1, s.row - 2, 1],
            "line": {"color": "#1F4E79", "width": 2},
            "marker": {"type": "none"},
        }
    )
    curve.set_title({"name": t["ret_curve"], "name_font": {"size": 11}})
    curve.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
    curve.set_legend({"none": True})
    s.ws.insert_chart(top - 2, 5, curve, {"x_scale": 1.1, "y_scale": 1.0})
    return s.ws


def _forecast_sheet(
    wb: Workbook, summary: Mapping[str, Any], t: Mapping[str, str], used: set[str]
) -> Worksheet | None:
    """价值预测: the expected 12-month value per status with the value at risk (at_risk +
    lost) and the P(alive) bands per tier as a stacked bar chart (docs/rules.md §20); no
    sheet when the summary has no usable forecast (as the HTML page)."""
    fc = summary.get("forecast")
    if not isinstance(fc, Mapping) or "error" in fc:
        return None
    name = _sheet_name(t["forecast"], used)
    s = _Summary(wb, wb.add_worksheet(name), name)
    s.text(t["forecast"], s.f_title)
    s.text(t["forecast_note"])
    for line in forecast_notes(fc, t):
        s.text(line)
    s.row += 1
    total = _n(fc, "value_12m")
    by_status = fc.get("value_12m_by_status") or {}
    at_risk = _n(by_status, "at_risk") + _n(by_status, "lost")

    def share(v: float) -> float | None:
        return v / total if total else None

    s.table(
        t["fc_by_status"],
        [t["status"], t["fc_value"], t["share"]],
        [[t[f"st_{k}"], _n(by_status, k), share(_n(by_status, k))] for k in STATUSES]
        + [[t["fc_at_risk"], at_risk, share(at_risk)], [t["total"], total, share(total)]],
        ["text", "money", "pct"],
    )
    bands = ("x0", "[0,0.2)", "[0.2,0.5)", "[0.5,0.8)", "[0.8,1]")
    by_tier = fc.get("p_alive_bands_by_tier") or {}
    rows = [[k, *(_n(by_tier.get(k) or {}, b) for b in bands)] for k in TIERS]
    s.table(
        t["fc_bands"],
        [t["tier"], t["fc_x0"], *bands[1:]],
        rows,
        ["text"] + ["int"] * len(bands),
    )
    top = s.row - 1 - len(rows)
    chart = wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
    for j, colour in enumerate(FORECAST_COLORS, start=1):
        chart.add_series(
            {
                "name": [name, top - 1, j],
                "categories": [name, top, 0, top + len(rows) - 1, 0],
                "values": [name, top, j, top + len(rows) - 1, j],
                "fill": {"color": colour},
                "gap": 60,
            }
        )
    chart.set_title({"name": t["fc_bands"], "name_font": {"size": 11}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    s.ws.insert_chart(top - 2, 7, chart, {"x_scale": 1.1, "y_scale": 1.0})
    s.last_col = max(s.last_col, CHART_LAST_COL + 2)
    s.row = max(s.row, top - 2 + CHART_ROWS)
    s.finish()
    return s.ws


def _move_first(wb: Workbook, ws: Worksheet, *more: Worksheet) -> None:
    """Put the summary sheet (added last by the hook) in front, followed by `more`, and make
    it the active one."""
    objs = wb.worksheets_objs
    for i, sheet in enumerate((ws, *more)):
        objs.remove(sheet)
        objs.insert(i, sheet)
    for i, sheet in enumerate(objs):
        sheet.index = i  # autofilter names and the active sheet refer to this index
        sheet.selected = 0
    ws.activate()


def _for_people(frame: pl.DataFrame, lang: str, mask: bool) -> pl.DataFrame:
    """Code values and yes/no in words (zh), names and phones masked on request."""
    frame = translate_values(frame, lang)
    if lang == "zh":
        frame = frame.with_columns(
            pl.col(c).replace_strict({True: "是", False: "否"}, return_dtype=pl.String)
            for c, dt in frame.schema.items()
            if dt == pl.Boolean
        )
    return mask_people(frame) if mask else frame


def write_xlsx_report(
    path: Path,
    summary: Summary,
    lists: dict[str, pl.DataFrame],
    *,
    lang: str = "zh",
    mask_pii: bool = False,
    capped: Mapping[str, ListSheet] | None = None,
) -> None:
    """The workbook: summary sheet with charts, then one sheet per call list (phones unless
    mask_pii); list sheets come from output.write_xlsx_sheets. `capped` (report.lists): the
    rows each list's sheet holds and, for a list cut short, its first row; else every row."""
    t = labels(lang, summary.get("period"))
    keys = report_order(list(lists))
    rows = {k: capped[k].frame if capped and k in capped else lists[k] for k in keys}
    sheets = {t.get(f"ls_{k}", k): _for_people(rows[k], lang, mask_pii) for k in keys}
    notes = {
        t.get(f"ls_{k}", k): note
        for k in keys
        if capped and k in capped and (note := capped[k].note) is not None
    }

    def hook(wb: Workbook, names: dict[str, str]) -> None:
        used = {n.lower() for n in wb.sheetnames}
        ws = _summary_sheet(wb, summary, t, used)
        by_dealer = _by_dealer_sheet(wb, summary, t, used)
        kept = _retention_sheet(wb, summary, t, used)
        fc = _forecast_sheet(wb, summary, t, used)
        _move_first(wb, ws, *[x for x in (by_dealer, kept, fc) if x is not None])

    write_xlsx_sheets(path, sheets, lang=lang, workbook_hook=hook, notes=notes)
