"""`crmtool report`: the monthly HTML and Excel report, cron-ready."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from . import notice
from .app import app, err, state


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the report into.")],
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="Month (2021-10), quarter (2021Q3), half (2021H2) or year; default: "
            "the month ending on --as-of (today), else the last full month before it.",
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="zh or en labels (default: the config's lang, zh).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Comma-separated: html, xlsx (default both).")
    ] = "html,xlsx",
    mask_pii: Annotated[
        bool, typer.Option("--mask-pii", help="Mask names and phones in the Excel call lists too.")
    ] = False,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Show full names and phones in the HTML page.")
    ] = False,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Write the report even when no own repair order is settled in "
            "the period (else exit 1, so cron mails it).",
        ),
    ] = False,
) -> None:
    """Write crmtool-report-<period>.html / .xlsx into --out (atomically; same input, same
    content).

    Examples:

      crmtool report --period 2021-10 --out reports/

      crmtool report --out reports/ -q
    """
    from ..db import connect
    from ..errors import CrmError
    from ..output.labels import check_lang
    from ..period import parse_period, report_month
    from ..render import report_paths, write_report
    from ..report.data import collect_report_data
    from ..report.lists import list_sheets

    st = state(ctx)
    started = time.monotonic()
    lang = check_lang(lang or st.config.lang)
    formats = tuple(dict.fromkeys(f.strip().lower() for f in fmt.split(",") if f.strip()))
    per = parse_period(period) if period else report_month(st.as_of or date.today())
    report_paths(out, per.label, formats)  # validates --format before any work
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CrmError(f"cannot create output folder {out}: {e.strerror}") from None
    con = connect(st.db, read_only=True, wait=st.wait)
    try:
        notice.check_as_of(st, con, st.as_of or per.end)
        if not allow_empty:  # --allow-empty: the user knows; no warning either
            notice.check_period(st, con, per, fail=True)
        summary, previous, lists = collect_report_data(con, st.config, per, st.as_of)
        # the workbook's call-list sheets: the most urgent rows of each (docs/rules.md §11)
        capped = list_sheets(con, st.config, lists, st.as_of or per.end, lang)
    finally:
        con.close()
    notice.check_vehicles(st, sum(summary["tiers"].values()), st.as_of or per.end)
    paths = write_report(
        out,
        per.label,
        summary,
        previous,
        lists,
        formats=formats,
        lang=lang,
        show_pii=show_pii,
        mask_pii=mask_pii,
        capped=capped,
    )
    if not st.quiet:
        names = [str(paths[0])] + [p.suffix for p in paths[1:]]
        err.print(
            f"report {per.label}: wrote {', '.join(names)} in {time.monotonic() - started:.1f} s",
            markup=False,
        )
