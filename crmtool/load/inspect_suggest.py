"""`crmtool inspect --suggest-config`: the crmtool.toml lines that make inspected files load
(docs/rules.md "Inspect before loading"). Guesses are written as comments, never as settings:
a line that is not a comment is backed by the file's own content (a column whose cells parse
as the missing field, a value that contains exactly one known value, the dealer codes of the
file's repair orders)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from .. import schema
from ..config import Config
from . import detect
from .inspect import Report


def _toml(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def _key(k: str) -> str:
    bare = k.replace("_", "").replace("-", "")
    return k if bare.isascii() and bare.isalnum() else json.dumps(k, ensure_ascii=False)


def guess_code(kind: str, raw: str, config: Config | None) -> str | None:
    """The code whose longest known value (2+ characters) the raw value contains, when exactly
    one code has it ('15K保养' contains 5K and 保养: no guess)."""
    norm = schema.normalise_value(raw)
    best: dict[str, int] = {}
    for value, code in schema.code_map(kind, config).items():
        if len(value) >= 2 and value in norm and value != norm:
            best[code] = max(best.get(code, 0), len(value))
    if not best:
        return None
    top = max(best.values())
    codes = [c for c, n in best.items() if n == top]
    return codes[0] if len(codes) == 1 else None


def best_profile(report: Report, config: Config) -> tuple[str, int, int] | None:
    """The vendor profile (profiles.PROFILES) that makes the most unknown code values known
    and missing required fields found, when the config names none: (name, values, fields)."""
    from ..profiles import PROFILES

    if config.profile:
        return None
    best = None
    for name in PROFILES:
        cfg = replace(config, profile=name)
        values = fields = 0
        for f in report.files:
            for s in f.sheets:
                if s.kind is None:
                    continue
                for kind, vals in s.codes.items():
                    known = schema.code_map(kind, cfg)
                    values += sum(
                        1 for v in vals if not v.known and schema.normalise_value(v.raw) in known
                    )
                found = detect.map_fields([c.header for c in s.columns], s.kind, cfg)
                fields += sum(1 for m in s.missing if m.field in found)
        if (values or fields) and (best is None or values + fields > best[1] + best[2]):
            best = (name, values, fields)
    return best


def suggest(report: Report, config: Config, existing: dict[str, Any] | None = None) -> str:
    """TOML text to append to crmtool.toml (`existing`: the config file as parsed, to merge
    with its lists and not to open its tables twice). Empty when nothing is needed."""
    existing = existing or {}
    top: list[str] = []
    prof = best_profile(report, config)
    if prof:
        name, nv, nf = prof
        top.append(
            f"# the {name} profile knows {nv} unknown values and {nf} missing columns "
            "of these files (crmtool/profiles.py)"
        )
        top.append(f"profile = {_toml(name)}")
        config = replace(config, profile=name)
    columns: dict[str, dict[str, list[str]]] = {}
    values: dict[str, dict[str, list[str]]] = {}
    notes: list[str] = []
    for f in report.files:
        for s in f.sheets:
            place = f.file + (f" [{s.sheet}]" if s.sheet else "")
            if s.kind is None:
                notes.append(f"# {place}: no table recognised; name one with --kind")
                continue
            d = s.detection
            if d.ambiguous:
                notes.append(
                    f"# {place}: {d.kind} or {d.runner_up}? the evidence is too close;"
                    f" load it with --kind {d.kind} or --kind {d.runner_up}"
                )
            found = detect.map_fields([c.header for c in s.columns], s.kind, config)
            for m in s.missing:
                if m.field in found:  # the profile names it
                    continue
                if m.candidates:
                    columns.setdefault(s.kind, {}).setdefault(m.field, []).append(
                        m.candidates[0].header
                    )
                else:
                    notes.append(
                        f"# {place}: no column holds {s.kind}.{m.field}; name its header:"
                        f' [columns.{s.kind}] {m.field} = ["…"]'
                    )
            for kind, vals in s.codes.items():
                known = schema.code_map(kind, config)
                for v in vals:
                    if v.known or schema.normalise_value(v.raw) in known:
                        continue
                    code = guess_code(kind, v.raw, config)
                    if code:
                        values.setdefault(kind, {}).setdefault(code, []).append(v.raw)
                    else:
                        choices = " ".join(schema.CODES[kind]) + (
                            " other" if schema.CODE_FALLBACK.get(kind) == "other" else ""
                        )
                        notes.append(
                            f"# {kind} {_toml(v.raw)} ×{v.count} is unknown (loads as "
                            f"{v.maps_to or 'empty'}); map it under [values.{kind}] "
                            f"to one of: {choices}"
                        )
    if dealers := report.foreign_dealers():
        ranked = list(dealers.items())
        top.append(
            "# no repair order belongs to own_dealers "
            f"{_toml(report.own_dealers)}; the files' dealers: "
            + ", ".join(f"{d} ×{n}" for d, n in ranked)
        )
        top.append(f"own_dealers = {_toml([ranked[0][0]])}")
    out: list[str] = []
    if top:
        if any(isinstance(v, dict) for v in existing.values()):
            out.append("# top-level key: put it above the first [table] of your config")
        out += top
    for name, tables in (("columns", columns), ("values", values)):
        have = existing.get(name, {}) if isinstance(existing.get(name), dict) else {}
        for table, keys in tables.items():
            mine = have.get(table, {}) if isinstance(have.get(table), dict) else {}
            out.append("")
            if mine:
                out.append(
                    f"# [{name}.{table}] is in your config already: put these keys there "
                    "(a table cannot be opened twice)"
                )
            else:
                out.append(f"[{name}.{table}]")
            for k, items in keys.items():
                merged = list(dict.fromkeys([*mine.get(k, []), *items]))
                out.append(("# " if mine else "") + f"{_key(k)} = {_toml(merged)}")
    if notes:
        out += ["", *dict.fromkeys(notes)]
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(out) + "\n" if out else ""
