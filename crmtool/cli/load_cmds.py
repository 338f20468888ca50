"""Commands that bring data in: load, rejects, validate, config."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ..config import Config
from ..errors import CrmError, MappingError, UsageError
from ..output import mask_phones_in_text
from ..schema import TABLES
from .app import app, err, state
from .options import ListOutput, list_command


@app.command("load")
def load_cmd(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        help="Files or folders (every .csv .txt .tsv .xlsx .xls inside, in name order).")],
    kind: Annotated[str | None, typer.Option(
        "--kind", help="Force the table: " + ", ".join(TABLES) + ".")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Load files again whose bytes were loaded before (each row then "
        "counts as a duplicate or replaces its key).")] = False,
) -> None:
    """Load DMS / I-CROP exports; each file's table is detected from its headers.

    All files of one invocation load in one transaction: a failing file loads nothing.
    `crmtool loads` lists the loads; `crmtool unload ID` undoes one.

    Examples:

      crmtool load exports/

      crmtool load 工单导出_2021.csv 车辆档案.xlsx

      crmtool load --kind repair_orders odd_export.txt
    """
    from ..db import connect

    st = state(ctx)
    if kind is not None and kind not in TABLES:
        raise UsageError(f"--kind must be one of: {', '.join(TABLES)}")
    con = connect(st.db, wait=st.wait)
    try:
        result = _load(con, st, paths, kind, force)
    finally:
        con.close()
    for s in result.sheets:
        st.say(s.describe())
    st.say(result.describe())
    if result.rejected:
        bad = [s.file for s in result.sheets if s.rejected and not s.skipped]
        name = shlex.quote(bad[0]) if len(set(bad)) == 1 else "FILE"
        st.say(f"rejected rows: `crmtool rejects`; how a file is read: `crmtool inspect {name}`")
    unread = [s for s in result.sheets
              if s.unread or (s.skipped or "").startswith("not recognised")]
    if unread:  # shown with -q too: a cron job must hear that a file was left out
        rows = sum(s.read for s in unread)
        err.print(f"crmtool: warning: {len(unread)} file(s) or sheet(s) not recognised and "
                  f"not loaded ({rows} rows rejected: no header); see the lines above and "
                  "`crmtool rejects`", markup=False)


def _load(con: Any, st: Any, paths: list[str], kind: str | None, force: bool) -> Any:
    """ingest.load with a progress bar on a terminal; a file whose headers do not say what it
    holds fails with a pointer to `crmtool inspect FILE`."""
    from .. import ingest

    try:
        if err.is_terminal and not st.quiet:
            from rich.progress import Progress

            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("loading", total=None)

                def progress(name: str, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total,
                               description=Path(name).name if name else "done")

                return ingest.load(con, paths, st.config, kind=kind, force=force,
                                   progress=progress)
        return ingest.load(con, paths, st.config, kind=kind, force=force)
    except MappingError as e:
        raise MappingError(f"{e}; run `crmtool inspect {shlex.quote(str(e.file))}` to see "
                           "why") from None


@app.command("rejects")
@list_command
def rejects_cmd(
    ctx: typer.Context,
    output: ListOutput,
    file: Annotated[str | None, typer.Option(
        "--file", help="Only rows of this file (path or file name).")] = None,
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
        frame = con.sql(f"SELECT load_id, file, line, kind, reason, raw FROM rejects {where} "
                        "ORDER BY load_id, file, line", params=params).pl()
    finally:
        con.close()
    if output.mask_pii:  # the raw line holds the person's phone as written
        frame = frame.with_columns(mask_phones_in_text(frame["raw"]))
    output.write(frame, sheet="rejects")


@app.command("validate")
def validate_cmd(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
) -> None:
    """Data-quality checks: VIN check digits, odd phones, future dates, negative totals,
    unknown codes, vehicles without owner, RO VINs without vehicle, mileage going back.

    Examples:

      crmtool validate

      crmtool validate --format json | jq '.[] | select(.count > 0)'
    """
    from ..db import connect
    from ..validate import validate

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
    for c in checks:
        typer.echo(f"{c.name}: {c.count}  ({c.description})")
        for e in c.examples:
            typer.echo(f"    {e}")


# ---------------------------------------------------------------- config

COMMENTS = {
    "own_dealers": "dealer codes that are \"us\"; the first is given to rows without one",
    "own_region": "compared with dealers.region (same-region cross-shopping)",
    "ours_days": "a vehicle is ours while its latest sale / own visit is this recent",
    "visit_excludes": "repair-order types that do not make a visit",
    "merge_customers_by_phone": "customers with the same normalised phone are one customer",
    "shared_phone_max_ids": "a phone shared by more customer ids never merges (flagged)",
    "never_returned_days": "sold by us and no own visit within this many days",
    "leads_overdue_days": "open leads without follow-up for this many days are overdue",
    "lang": "labels of terminal tables, Excel and the report: \"zh\" or \"en\" (--lang)",
    "tiers": "value tier A-D (rules §3)",
    "tiers.series_groups": "series name -> threshold group, e.g. B = [\"Polo\", \"朗逸\"]",
    "tiers.ticket": "group -> ticket cut points for grades A, B, C",
    "tiers.series_ticket": "series -> its own ticket cut points",
    "segments": "segments (rules §4)",
    "status": "loyalty status and churn warning (rules §5)",
    "maintenance": "maintenance due (rules §9)",
    "maintenance.series": "per series or brand, e.g. [maintenance.series.\"迈腾\"] "
                          "interval_km = 7500.0",
    "warranty": "warranty end: years after sale or km, whichever first",
    "insurance": "insurance renewal list",
    "loyal": "loyal-customer campaign",
    "winback": "win-back campaign",
    "limits": "what a file may make the readers allocate (docs/robustness.md)",
    "columns": "extra header names, e.g. [columns.repair_orders] ro_id = [\"单据编号\"]",
    "values": "extra code values, e.g. [values.ro_type] maintenance = [\"15K保养\"]",
}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isascii() and k.replace(
        "_", "").replace("-", "").isalnum() else json.dumps(k, ensure_ascii=False)


def default_toml() -> str:
    """crmtool.toml with every key at its default, each with a comment."""
    lines = ["# crmtool configuration: every key at its default (see docs/rules.md).", ""]

    def table(obj: Any, prefix: str) -> None:
        nested: list[tuple[str, Any]] = []
        for f in fields(obj):
            v = getattr(obj, f.name)
            key = prefix + f.name
            if is_dataclass(v) or isinstance(v, dict):
                nested.append((key, v))
                continue
            if key in COMMENTS:
                lines.append(f"# {COMMENTS[key]}")
            lines.append(f"{_toml_key(f.name)} = {_toml_value(v)}")
        for key, v in nested:
            lines.append("")
            if key in COMMENTS:
                lines.append(f"# {COMMENTS[key]}")
            lines.append(f"[{key}]")
            if is_dataclass(v):
                table(v, key + ".")
            else:
                for k, item in v.items():
                    lines.append(f"{_toml_key(k)} = {_toml_value(item)}")

    table(Config(), "")
    return "\n".join(lines) + "\n"


@app.command("config")
def config_cmd(
    ctx: typer.Context,
    action: str = typer.Argument("show", help="show | init"),
    path: str = typer.Argument("crmtool.toml", help="init: the file to write."),
    force: bool = typer.Option(False, "--force", help="init: overwrite an existing file."),
) -> None:
    """Show the effective config, or write a commented default crmtool.toml (init).

    Examples:

      crmtool config show

      crmtool config init crmtool.toml
    """
    st = state(ctx)
    if action == "show":
        typer.echo(json.dumps(asdict(st.config), ensure_ascii=False, indent=2))
    elif action == "init":
        target = Path(path)
        if target.exists() and not force:
            raise CrmError(f"{target} exists; pass --force to overwrite it")
        try:
            target.write_text(default_toml(), encoding="utf-8")
        except OSError as e:
            raise CrmError(f"cannot write {target}: {e.strerror or e}") from None
        st.say(f"wrote {target}")
    else:
        raise UsageError("action must be show or init")
