"""`crmtool summary` and `crmtool demo`: the figures of a period, as tables or JSON."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..config import Config, find_config_path, load_config
from ..output.labels import check_lang, column_label, flatten, value_label, words
from ..period import Period, parse_period, resolve_period
from ..summary_types import Summary
from . import notice
from .app import app, state
from .lazy import lazy
from .options import FromOpt, LangOpt, PeriodOpt, ToOpt
from .store import rules_store

db = lazy("crmtool.db")


@app.command("summary")
def summary_cmd(
    ctx: typer.Context,
    period: PeriodOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json")] = "table",
    lang: LangOpt = None,
) -> None:
    """Every figure of a period: tiers, status, where customers go, follow-through, service
    mix, leads, data quality.

    Examples:

      crmtool summary --period 2021-10

      crmtool summary --period 2021Q3 --format json | jq .leakage
    """
    from ..summary import build_summary

    st = state(ctx)
    if fmt not in ("table", "json"):
        raise typer.BadParameter("must be table or json", param_hint="--format")
    p = resolve_period(period, date_from, date_to, st.as_of or date.today())
    con = rules_store(st, facts_installed=False)  # --engine spark: the maker's tables
    as_of = st.as_of or p.end
    notice.check_as_of(st, con, as_of)
    notice.check_period(st, con, p)
    data = build_summary(con, st.config, p, as_of)
    notice.check_vehicles(st, sum(data["tiers"].values()), as_of)
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print_summary(data, Console(), check_lang(lang or st.config.lang))


def _table(title: str, rows: list[tuple[Any, ...]], headers: tuple[str, ...]) -> Table:
    t = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        show_edge=False,
        min_width=len(title) + 2,
    )
    for i, h in enumerate(headers):
        t.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        t.add_row(*(_fmt(v) for v in r))
    return t


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _pct(n: float) -> str:
    return f"{n * 100:.1f}%"


def print_summary(s: Summary, console: Console, lang: str = "zh") -> None:
    """The summary as readable tables (the same figures as the JSON), labelled in `lang`."""
    t = words(lang)
    zh = lang == "zh"
    fig, veh = t["item"], t["vehicles"]
    console.print(
        f"[bold]{t['summary_title']}[/bold] {s['period']['start']} … "
        f"{s['period']['end']}  ({t['as_of']} {s['as_of']})"
    )
    console.print(_table(t["tiers"], list(s["tiers"].items()), (t["tier"], veh)))
    console.print(
        _table(
            t["status"],
            [(value_label("status", k, lang), v) for k, v in s["status"].items()],
            (t["status"], veh),
        )
    )
    lk = s["leakage"]
    console.print(
        _table(
            t["leakage"],
            [
                (t[f"lk_{k}"], lk[k])
                for k in ("retained", "cross_shop", "defected", "out_of_channel")
            ]
            + [
                (
                    f"{t['cross_by_visits']}：{t['visits_5'] if k == '5+' else t['visits_n'].format(n=k)}"
                    if zh
                    else f"{t['cross_by_visits']}: {k}",
                    v,
                )
                for k, v in lk["cross_shop_by_own_visits"].items()
            ]
            + [
                (f"{t['cross_region']}{'：' if zh else ': '}{value_label('region', k, lang)}", v)
                for k, v in lk["cross_shop_region"].items()
            ],
            (fig, veh),
        )
    )
    nc, sn = s["new_car_defection"], s["secondary_network"]
    console.print(
        _table(
            t["follow"],
            [
                (t["nc_sold"], nc["sold"]),
                (t["nc_defected"], nc["defected"]),
                (t["nc_direct"], nc["direct"]),
                (f"{t['secondary']}{'：' if zh else ': '}{t['sn_sold']}", sn["sold"]),
                (t["sn_returned_paid"], sn["returned_paid"]),
                (t["sn_revenue"], sn["revenue"]),
                (t["sn_no_paid"], sn["no_paid"]),
                (t["sn_no_ro"], sn["no_ro"]),
                (t["never_returned"], s["never_returned"]),
            ],
            (fig, t["value"]),
        )
    )
    console.print(
        _table(
            t["service"],
            [
                (value_label("ro_type", k, lang), v["count"], _pct(v["share"]), v["revenue"])
                for k, v in s["service_mix"].items()
            ],
            (t["ro_type"], t["ro_count"], t["share"], t["revenue"]),
        )
    )
    ld = s["leads"] or {}  # None on Spark: the leads table is the store's
    console.print(
        _table(
            t["leads"],
            [(t.get(f"ld_{k}", k), _pct(v) if k == "conversion" else v) for k, v in ld.items()],
            (fig, t["value"]),
        )
    )
    if "maintenance_due" in s:
        md = s["maintenance_due"]
        console.print(
            _table(
                t["maintenance_due"],
                [
                    (t["md_due"], md["due"]),
                    (t["md_returned"], md["returned"]),
                    (t["md_rate"], _pct(md["rate"])),
                ],
                (fig, t["value"]),
            )
        )
    if isinstance(s.get("care"), dict):
        console.print(
            _table(
                t["care"],
                [(value_label("summary", k, lang), v) for k, v in flatten(s["care"])],
                (fig, t["value"]),
            )
        )
    if isinstance(s.get("forecast"), dict):
        _print_forecast(s["forecast"], console, t, lang)
    console.print(
        _table(
            t["dq_all"],
            [(t.get(f"dq_{k}", k), v) for k, v in (s["data_quality"] or {}).items()],
            (fig, t["count"]),
        )
    )


def _print_forecast(fc: dict[str, Any], console: Console, t: dict[str, str], lang: str) -> None:
    """价值预测: vehicles, 12-month value, value at risk and the P(alive) bands (x = 0 apart),
    then the fit's notes; the reason in one line when the fit cannot be used."""
    from ..report.common import forecast_notes

    if "error" in fc:
        console.print(f"[bold]{t['forecast']}[/bold]  {fc['error']}")
        return
    by_status = fc.get("value_12m_by_status") or {}
    at_risk = float(by_status.get("at_risk") or 0) + float(by_status.get("lost") or 0)
    bands = fc.get("p_alive_bands") or {}
    pa = column_label("p_alive", lang)
    sep = "：" if lang == "zh" else ": "
    rows: list[tuple[Any, ...]] = [
        (t["vehicles"], fc.get("vehicles", 0)),
        (t["fc_value"], float(fc.get("value_12m") or 0)),
        (t["fc_at_risk"], at_risk),
        (t["fc_x0"], bands.get("x0", 0)),
        *[(f"{pa}{sep}{b}", bands.get(b, 0)) for b in list(bands) if b != "x0"],
    ]
    console.print(_table(t["forecast"], rows, (t["item"], t["value"])))
    for line in forecast_notes(fc, t):
        console.print(line, markup=False, highlight=False)


@app.command("demo")
def demo_cmd(
    ctx: typer.Context,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep",
            help="Keep the demo database and its config as ./crmtool-demo.duckdb and "
            "./crmtool-demo.toml, to try the other commands on.",
        ),
    ] = False,
) -> None:
    """Load the bundled sample dealership into a fresh database and print its headline
    figures.

    Examples:

      crmtool demo

      crmtool demo --keep

      crmtool --db crmtool-demo.duckdb --config crmtool-demo.toml --as-of 2021-12-31 churn
    """
    from ..load.ingest import load
    from ..sample import bundled_sample_dir
    from ..summary import build_summary

    st = state(ctx)
    src = bundled_sample_dir()
    manifest = json.loads((Path(src) / "sample.json").read_text(encoding="utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix="crmtool-demo-"))
    target = Path("crmtool-demo.duckdb") if keep else tmp / "demo.duckdb"
    if keep and target.exists():
        target.unlink()
    try:
        con = db.connect(target)
        # the sample dealership's own config (series groups, region) unless one is given
        cfg: Config = (
            st.config
            if find_config_path(st.config_path)
            else load_config(Path(src) / "crmtool.toml")
        )
        st.say(f"loading the bundled sample from {src} into {target} …")
        result = load(con, [Path(src)], cfg)
        for sheet in result.sheets:
            st.say(sheet.describe())
        st.say(result.describe())
        period: Period = parse_period(manifest["period"])
        as_of = date.fromisoformat(manifest["as_of"])
        data = build_summary(con, cfg, period, as_of)
        con.close()
        print_summary(data, Console(), cfg.lang)
        try_it = "--db crmtool-demo.duckdb --config crmtool-demo.toml"
        if keep:
            shutil.copyfile(Path(src) / "crmtool.toml", "crmtool-demo.toml")
        st.say(
            f"next: crmtool {try_it} --as-of {as_of} segment --tier A"
            if keep
            else "keep the demo database to try the other commands: crmtool demo --keep"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
