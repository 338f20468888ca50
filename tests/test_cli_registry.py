"""The command line imports only the module of the command it runs (issue 18: `find` at the
service desk starts faster); the word → module table must name every command."""

from __future__ import annotations

import re
import subprocess
import sys

from crmtool.cli import COMMAND_MODULES, app


def test_the_table_names_every_command_and_its_module():
    registered = {c.name: c.callback.__module__ for c in app.registered_commands}
    for group in app.registered_groups:
        (module,) = {c.callback.__module__ for c in group.typer_instance.registered_commands}
        registered[group.name] = module
    assert {w: f"crmtool.cli.{m}" for w, m in COMMAND_MODULES.items()} == registered


def _command_modules(*args: str) -> set[str]:
    """The crmtool.cli.*_cmds modules `python -m crmtool ARGS` imports."""
    run = subprocess.run(
        [sys.executable, "-v", "-m", "crmtool", *args], capture_output=True, text=True, check=True
    )
    # -v says "import 'NAME' # <loader>" for each module it imports
    return set(re.findall(r"^import '(crmtool\.cli\.\w+_cmds)'", run.stderr, re.MULTILINE))


def test_a_command_imports_its_module_only():
    assert _command_modules("find", "--help") == {"crmtool.cli.desk_cmds"}
    # segment's --forecast option comes from the forecast command's module
    assert _command_modules("-q", "tiers", "--help") == {
        "crmtool.cli.segment_cmds",
        "crmtool.cli.forecast_cmds",
    }


def test_help_and_a_mistyped_command_see_every_command():
    every = {f"crmtool.cli.{m}" for m in COMMAND_MODULES.values()}
    assert _command_modules("--help") == every
    run = subprocess.run(
        [sys.executable, "-m", "crmtool", "fnd"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2
    assert run.stderr == (
        "crmtool: error: No such command 'fnd'. Did you mean 'find'? (try 'crmtool --help')\n"
    )
