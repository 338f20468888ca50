"""The `crmtool` command line: a thin layer over the library. Each group of commands lives in
its own `*_cmds.py` module and registers itself on `app` when imported.

Run as the `crmtool` command, a command line imports only the modules of the command words it
names (`crmtool find …` starts in about 0.4 CPU-s instead of 0.55: the service desk, issue 18);
with no command word (`--help`, a mistyped command) and when imported as a library or by the
tests, every module."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Collection
from pathlib import Path

from .app import app, main
from .helptext import keep_all_examples

# the module that registers each command word (tests/test_cli_registry.py checks it)
COMMAND_MODULES = {
    "care": "care_cmds",
    "churn": "churn_cmds",
    "due": "churn_cmds",
    "campaign": "churn_cmds",
    "leads": "churn_cmds",
    "config": "config_cmds",
    "contacts": "contacts_cmds",
    "find": "desk_cmds",
    "forget": "desk_cmds",
    "export": "export_cmds",
    "forecast": "forecast_cmds",
    "loads": "history_cmds",
    "unload": "history_cmds",
    "inspect": "inspect_cmds",
    "load": "load_cmds",
    "rejects": "load_cmds",
    "validate": "load_cmds",
    "report": "report_cmds",
    "retention": "retention_cmds",
    "sample": "sample_cmds",
    "segment": "segment_cmds",
    "tiers": "segment_cmds",
    "sql": "sql_cmds",
    "summary": "summary_cmds",
    "demo": "summary_cmds",
}


def load_commands(words: Collection[str] | None = None) -> None:
    """Import the modules of the command words among `words`, or every module when `words`
    is None or names no command."""
    named = sorted({COMMAND_MODULES[w] for w in words or () if w in COMMAND_MODULES})
    every = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmds"))
    for mod in named or every:
        importlib.import_module(f"{__name__}.{mod}")
    keep_all_examples(app)


def _command_line() -> list[str] | None:
    """The arguments when this process is the crmtool command (its console script or
    `python -m crmtool`), else None (a library import, a test runner)."""
    prog = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    is_command = prog.stem == "crmtool" or (
        prog.name == "__main__.py" and prog.parent.name == "crmtool"
    )
    return sys.argv[1:] if is_command else None


load_commands(_command_line())

__all__ = ["COMMAND_MODULES", "app", "load_commands", "main"]
