"""`crmtool inspect`: a dry run of `crmtool load` that says what it would do and why."""

from __future__ import annotations

import json
import tomllib
from typing import Annotated, Any

import typer

from ..config import find_config_path
from ..errors import UsageError
from ..schema import TABLES
from .app import app, state
from .lazy import lazy

labels = lazy("crmtool.output.labels")  # polars: not for --help (docs/rules.md §18)


def _config_file(explicit: str | None) -> dict[str, Any]:
    """The config file as written (to merge suggestions with), {} when there is none."""
    path = find_config_path(explicit)
    if path is None or not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # a broken config fails earlier, when the config is loaded


@app.command("inspect")
def inspect_cmd(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files or folders, as for `crmtool load`.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Force the table, as for `crmtool load`: " + ", ".join(TABLES) + "."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="As `crmtool load --force`: files loaded before count again."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="zh|en",
            help="Label language of the text (default: config lang, else zh).",
        ),
    ] = None,
    suggest_config: Annotated[
        bool,
        typer.Option(
            "--suggest-config",
            help="Print only the crmtool.toml lines that make the files load "
            "(guesses are comments).",
        ),
    ] = False,
) -> None:
    """What `crmtool load` would do with these files, writing nothing: the header row, the
    table detected (evidence and runner-up), each header's field and where that mapping
    comes from, missing required fields and the columns that could fill them, code values
    and what they map to, flags and rejects with example lines, and the counts a load into
    the current database would give. Exit 0 when the report was made, even when the load
    would fail (`--format json` has "load_ok").

    Examples:

      crmtool inspect exports/工单导出_2021.csv

      crmtool inspect --suggest-config odd_export.xls >> crmtool.toml

      crmtool inspect --format json exports/ | jq '.files[] | {file, load_error}'
    """
    from ..load.inspect import inspect
    from ..load.inspect_render import text, to_json
    from ..load.inspect_suggest import suggest

    st = state(ctx)
    if kind is not None and kind not in TABLES:
        raise UsageError(f"--kind must be one of: {', '.join(TABLES)}")
    if fmt not in ("text", "json"):
        raise UsageError("--format must be text or json")
    lang = labels.check_lang(lang, st.config.lang)
    report = inspect(
        paths, st.config, database=st.db, kind=kind, force=force, as_of=st.as_of, wait=st.wait
    )
    suggested = suggest(report, st.config, _config_file(st.config_path))
    if fmt == "json":
        typer.echo(json.dumps(to_json(report, suggested), ensure_ascii=False, indent=2))
    elif suggest_config:
        typer.echo(suggested, nl=False)
    else:
        typer.echo(text(report, lang), nl=False)
