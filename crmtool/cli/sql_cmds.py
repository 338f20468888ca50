"""`crmtool sql [RULE]`: the SQL of a rule as the config in force compiles it (issue 20)."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import rule_catalog
from ..errors import UsageError
from .app import app, state


@app.command("sql")
def sql_cmd(
    ctx: typer.Context,
    rule: Annotated[
        str | None,
        typer.Argument(metavar="[RULE]", help="A rule's name; without one, the rules are listed."),
    ] = None,
) -> None:
    """Print the SQL of a rule as the config in force (--config, --dealer) compiles it, with
    its bind parameters ($as_of …) in a comment: to read a rule, or to run it by hand in
    duckdb over a store after `crmtool` installed its facts. Without RULE, list the rules.

    Examples:

      crmtool sql

      crmtool sql tiers

      crmtool --config crmtool-demo.toml sql segments > segments.sql
    """
    st = state(ctx)
    if rule is None:
        for r in rule_catalog.RULES.values():
            typer.echo(f"{r.name:<16}{r.doc}")
        return
    if rule not in rule_catalog.RULES:
        raise UsageError(f"unknown rule {rule!r}; use one of {', '.join(rule_catalog.RULES)}")
    typer.echo(rule_catalog.compiled(rule, st.config), nl=False)
