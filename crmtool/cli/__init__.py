"""The `crmtool` command line: a thin layer over the library. Each group of commands lives in
its own `*_cmds.py` module and registers itself on `app` when imported."""

from __future__ import annotations

import importlib
import pkgutil

from .app import app, main
from .helptext import keep_all_examples

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmds")):
    importlib.import_module(f"{__name__}.{_mod}")
keep_all_examples(app)

__all__ = ["app", "main"]
