"""Modules imported on first use, so `crmtool --help` and `--version` import none of duckdb,
polars, numpy, scipy or pyspark (docs/rules.md §18; bench/help_time.py times it), and
`crmtool find` imports no polars (the rule modules take it lazily).

    if TYPE_CHECKING:
        import polars as pl
    else:
        pl = lazy("polars")      # at module level, instead of `import polars as pl`
    pl.col("vin")                # polars is imported here, the first time

Type hints stay exact that way.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _Lazy(ModuleType):
    """A stand-in that imports the real module when an attribute is first read."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)


def lazy(name: str) -> Any:
    """The module `name` (absolute), imported when first used."""
    return _Lazy(name)
