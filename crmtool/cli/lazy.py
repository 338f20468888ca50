"""The CLI's lazy imports: crmtool.lazy (kept here, where every command module finds it)."""

from __future__ import annotations

from ..lazy import lazy

__all__ = ["lazy"]
