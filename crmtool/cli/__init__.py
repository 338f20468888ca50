"""The `crmtool` command line: a thin layer over the library. Each group of commands lives in
its own module and registers itself on `app`."""

from __future__ import annotations

import sys

from . import load_cmds  # noqa: F401,E402  (registers commands)
from .app import app, main  # noqa: F401

for _name in ("list_cmds", "churn_cmds", "report_cmds", "care_cmds", "desk_cmds"):
    try:  # command modules land one by one; a missing one is simply not registered yet
        __import__(f"{__name__}.{_name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{_name}":
            raise

__all__ = ["app", "main", "sys"]
