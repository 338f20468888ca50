"""Commands that bring data in: load, rejects, validate."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import MappingError, UsageError
from ..output.labels import check_lang, column_label, value_label
from ..schema import TABLES
from .app import app, err, state
from .lazy import lazy
from .options import LangOpt, ListOutput, list_command

outputs = lazy("crmtool.output.formats")


@app.command("load")
def load_cmd(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files or folders (every .csv .txt .tsv .xlsx .xls inside, in name order)."
        ),
    ],
    kind: Annotated[
        str | None, typer.Option("--kind", help="Force the table: " + ", ".join(TABLES) + ".")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Load files again whose bytes were loaded before (each row then "
            "counts as a duplicate or replaces its key).",
        ),
    ] = False,
) -> None:
    """Load DMS / I-CROP exports; each file's table is detected from its headers.

    All files of one invocation load in one transaction: a failing file loads nothing.
    `crmtool loads` lists the loads; `crmtool unload ID` undoes one.

    Examples:

      crmtool load exports/

      crmtool load 工单导出_2021.csv 车辆档案.xlsx

      crmtool load --kind repair_orders odd_export.txt
    """
    from ..db import connect, db_path
    from ..load import ingest, swap

    st = state(ctx)
    if kind is not None and kind not in TABLES:
        raise UsageError(f"--kind must be one of: {', '.join(TABLES)}")
    for folder in (Path(p) for p in paths):
        if folder.is_dir() and not ingest.expand([folder]):
            st.warn(
                f"{folder}: no {' '.join(ingest.EXTENSIONS)} file in this folder; "
                "nothing loaded from it"
            )
    # a copy of the database is loaded and swapped in: find and the lists read the database
    # as it was meanwhile; a failed load leaves it as it was (or none, when it was new)
    with swap.writable_copy(db_path(st.db), wait=st.wait) as path:
        con = connect(path, wait=st.wait)
        try:
            result = _load(con, st, paths, kind, force)
        finally:
            con.close()
    for s in result.sheets:
        st.say(s.describe())
    st.say(result.describe())
    for w in result.warnings:  # what looks off: shown even with --quiet
        err.print(f"crmtool: warning: {w}", markup=False, soft_wrap=True)
    if result.rejected:
        bad = [s.file for s in result.sheets if s.rejected and not s.skipped]
        name = shlex.quote(bad[0]) if len(set(bad)) == 1 else "FILE"
        st.say(f"rejected rows: `crmtool rejects`; how a file is read: `crmtool inspect {name}`")
    unread = [
        s for s in result.sheets if s.unread or (s.skipped or "").startswith("not recognised")
    ]
    if unread:  # shown with -q too: a cron job must hear that a file was left out
        rows = sum(s.read for s in unread)
        err.print(
            f"crmtool: warning: {len(unread)} file(s) or sheet(s) not recognised and "
            f"not loaded ({rows} rows rejected: no header); see the lines above and "
            "`crmtool rejects`",
            markup=False,
        )


def _load(con: Any, st: Any, paths: list[str], kind: str | None, force: bool) -> Any:
    """ingest.load with a progress bar on a terminal; a file whose headers do not say what it
    holds fails with a pointer to `crmtool inspect FILE`."""
    from ..load import ingest

    try:
        if err.is_terminal and not st.quiet:
            from rich.progress import Progress

            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("loading", total=None)

                def progress(name: str, done: int, total: int) -> None:
                    bar.update(
                        task,
                        completed=done,
                        total=total,
                        description=Path(name).name if name else "done",
                    )

                return ingest.load(
                    con, paths, st.config, kind=kind, force=force, progress=progress, as_of=st.as_of
                )
        return ingest.load(con, paths, st.config, kind=kind, force=force, as_of=st.as_of)
    except MappingError as e:
        raise MappingError(
            f"{e}; run `crmtool inspect {shlex.quote(str(e.file))}` to see why"
        ) from None


@app.command("rejects")
@list_command
def rejects_cmd(
    ctx: typer.Context,
    output: ListOutput,
    file: Annotated[
        str | None, typer.Option("--file", help="Only rows of this file (path or file name).")
    ] = None,
) -> None:
    """The rows that were not loaded, with file, line, reason and raw text (raw text shows
    the source line as it was, phones included: --mask-pii masks only the phone column).

    Examples:

      crmtool rejects

      crmtool rejects --file repair_orders_2021.csv --format csv > rejects.csv
    """
    from ..db import connect

    st = state(ctx)
    con = connect(st.db, read_only=True, wait=st.wait)
    try:
        where, params = "", []
        if file:
            where = "WHERE file = ? OR file LIKE ? ESCAPE '\\'"
            esc = file.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params = [file, "%/" + esc]
        frame = con.sql(
            f"SELECT load_id, file, line, kind, reason, raw FROM rejects {where} "
            "ORDER BY load_id, file, line",
            params=params,
        ).pl()
    finally:
        con.close()
    if output.mask_pii:  # the raw line holds the person's phone as written
        frame = frame.with_columns(outputs.mask_phones_in_text(frame["raw"]))
    output.write(frame, sheet="rejects")


@app.command("validate")
def validate_cmd(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
    lang: LangOpt = None,
) -> None:
    """Data-quality checks: VIN check digits, odd phones, future dates, negative totals,
    unknown codes, vehicles without owner, RO VINs without vehicle, mileage going back.

    Examples:

      crmtool validate

      crmtool validate --format json | jq '.[] | select(.count > 0)'
    """
    from ..db import connect
    from ..load.validate import validate

    st = state(ctx)
    if fmt not in ("text", "json"):
        raise UsageError("--format must be text or json")
    con = connect(st.db, read_only=True, wait=st.wait)
    try:
        checks = validate(con, st.config, st.as_of)
    finally:
        con.close()
    if fmt == "json":
        typer.echo(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
        return
    lang = check_lang(lang or st.config.lang)
    for c in checks:
        label = value_label("flag", c.name, lang)
        if lang == "zh":
            typer.echo(f"{label}：{c.count}")
        else:
            typer.echo(f"{c.name}: {c.count}  ({c.description})")
        for e in c.examples:
            typer.echo(f"    {_example(e, lang)}")


def _example(text: str, lang: str) -> str:
    """A validate example in words: 'vehicles V1 sale_date: 2023-01-01' -> '车辆 V1 购车日期：…'."""
    m = re.match(r"^([a-z_]+) (\S+) ([a-z_]+): (.*)$", text)
    if lang != "zh" or not m:
        return text
    table, key, field, value = m.groups()
    return f"{value_label('kind', table, lang)} {key} {column_label(field, lang)}：{value}"
