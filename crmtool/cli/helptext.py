"""Help examples stay one line each at any terminal width (issue 15 item 7): Click rewraps
every paragraph of a help text, and cut `crmtool --db crmtool-demo.duckdb` inside a word at 80
columns. A paragraph that is a command line is marked with Click's `\\b` (keep as written)."""

from __future__ import annotations

import inspect
from typing import Any


def keep_examples(text: str) -> str:
    """`text` with each paragraph made of `crmtool …` lines marked not to be rewrapped."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    out = []
    for p in paragraphs:
        lines = [line.strip() for line in p.splitlines() if line.strip()]
        if lines and all(line.startswith("crmtool ") for line in lines):
            p = "\b\n" + p
        out.append(p)
    return "\n\n".join(out)


def keep_all_examples(typer_app: Any) -> None:
    """Apply keep_examples to every command and group help of a Typer app, recursively."""
    if isinstance(typer_app.info.help, str):
        typer_app.info.help = keep_examples(typer_app.info.help)
    for info in typer_app.registered_commands:
        if info.help:
            info.help = keep_examples(info.help)
        elif info.callback is not None and info.callback.__doc__:
            info.callback.__doc__ = keep_examples(info.callback.__doc__)
    for group in typer_app.registered_groups:
        keep_all_examples(group.typer_instance)
