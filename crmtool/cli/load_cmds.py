"""Commands that bring data in: load, rejects, validate, sample, demo, config."""

from __future__ import annotations

import typer

from .app import app, state


@app.command("config")
def config_cmd(
    ctx: typer.Context,
    action: str = typer.Argument("show", help="show | init"),
) -> None:
    """Show the effective config, or write a commented default crmtool.toml (init)."""
    st = state(ctx)
    if action == "show":
        import json
        from dataclasses import asdict
        typer.echo(json.dumps(asdict(st.config), ensure_ascii=False, indent=2))
    else:
        raise typer.BadParameter("action must be show or init")
