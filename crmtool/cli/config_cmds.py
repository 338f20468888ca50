"""`crmtool config show | init`: the config in force as TOML, or a commented default file."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import CrmError, UsageError
from .app import app, state


@app.command("config")
def config_cmd(
    ctx: typer.Context,
    action: str = typer.Argument("show", help="show | init"),
    path: str = typer.Argument("crmtool.toml", help="init: the file to write."),
    force: bool = typer.Option(False, "--force", help="init: overwrite an existing file."),
) -> None:
    """Show the config in force as TOML (naming its file, values that differ from the
    defaults marked '# changed'), or write a commented default crmtool.toml (init).

    Examples:

      crmtool config show

      crmtool config init crmtool.toml
    """
    from ..config import Config, find_config_path
    from ..config_toml import config_toml

    st = state(ctx)
    if action == "show":
        typer.echo(
            config_toml(st.config, mark=True, source=find_config_path(st.config_path)), nl=False
        )
    elif action == "init":
        target = Path(path)
        if target.exists() and not force:
            raise CrmError(f"{target} exists; pass --force to overwrite it")
        try:
            target.write_text(config_toml(Config()), encoding="utf-8")
        except OSError as e:
            raise CrmError(f"cannot write {target}: {e.strerror or e}") from None
        st.say(f"wrote {target}")
    else:
        raise UsageError("action must be show or init")
