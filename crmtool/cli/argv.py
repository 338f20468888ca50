"""Global options anywhere: `crmtool segment --as-of 2021-12-31` means
`crmtool --as-of 2021-12-31 segment` (docs/rules.md, "Global options").

The root command's own options (--db, --config, --as-of, -q, --wait, --dealer …) are moved
in front of the command path wherever they are typed; the values of the command's own options
and everything after `--` are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Hoisted:
    """The argument list with the global options first, and the command path typed."""

    args: list[str]
    path: list[str]


def _options(command: Any, ctx: Any) -> dict[str, Any]:
    """Every spelling of a command's options (help included), to its option."""
    out: dict[str, Any] = {}
    for p in command.get_params(ctx):
        if getattr(p, "param_type_name", "") == "option":
            for name in (*p.opts, *p.secondary_opts):
                out[name] = p
    return out


def _takes_value(opt: Any) -> bool:
    return not opt.is_flag and not opt.count and opt.nargs != 0


def hoist(root: Any, ctx: Any, args: list[str]) -> Hoisted:
    """`args` (after the program name) with the root's options moved to the front."""
    globals_ = {k: o for k, o in _options(root, ctx).items() if not o.is_eager}
    front: list[str] = []
    rest: list[str] = []
    path: list[str] = []
    command = root
    own: dict[str, Any] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        if tok == "--":
            rest += args[i:]
            break
        name, eq, _ = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        if name in globals_:
            step = 2 if _takes_value(globals_[name]) and not eq else 1
            front += args[i : i + step]
            i += step
            continue
        if tok.startswith("-") and len(tok) > 1:
            opt = own.get(name)
            step = 2 if opt is not None and _takes_value(opt) and not eq else 1
            rest += args[i : i + step]
            i += step
            continue
        if hasattr(command, "commands"):  # a group: the token names a command
            sub = command.get_command(ctx, tok)
            if sub is not None:
                path.append(tok)
                command = sub
                own = _options(sub, ctx)
        rest.append(tok)
        i += 1
    return Hoisted(front + rest, path)
