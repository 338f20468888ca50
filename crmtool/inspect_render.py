"""`crmtool inspect` output: the terminal text (English or Chinese labels, `--lang`) and the
JSON for scripts (English keys, documented in docs/rules.md "Inspect before loading")."""

from __future__ import annotations

from typing import Any

from .inspect import FileReport, Finding, Report, SheetReport
from .output import LABELS_ZH

# English forms; the Chinese ones are in the label table (output.LABELS_ZH, key "inspect.*").
EN = {
    "inspect.header": "header row: line {line}",
    "inspect.table": "table: {kind}",
    "inspect.no_table": "table: not recognised (pass --kind)",
    "inspect.evidence": "evidence",
    "inspect.runner_up": "runner-up",
    "inspect.columns": "columns:",
    "inspect.unused": "not used: another column of this field wins",
    "inspect.missing": "missing required field {field}",
    "inspect.could_fill": "could come from",
    "inspect.no_candidate": "no column of this file could fill it",
    "inspect.parse": "{parsed} of {cells} cells parse",
    "inspect.now": "now {field}",
    "inspect.values": "values of {field}:",
    "inspect.unknown": "unknown",
    "inspect.empty": "empty",
    "inspect.more": "… {n} more values",
    "inspect.flags": "flags (values that did not parse, odd VINs and phones):",
    "inspect.rejects": "rejects:",
    "inspect.line": "line {line}",
    "inspect.counts": "a load would give: read {read} = loaded {loaded} + duplicates "
                      "{duplicates} + rejected {rejected}",
    "inspect.fed": "also fed",
    "inspect.skipped": "a load would skip it: {why}",
    "inspect.earlier": "loaded before (load {load_id}, as {file}); the flags and rejects "
                       "above are that load's",
    "inspect.earlier_counts": "when it was loaded: read {read} = loaded {loaded} + duplicates "
                              "{duplicates} + rejected {rejected}",
    "inspect.fails": "a load would fail: {error}",
    "inspect.unreadable": "cannot be read: {error}",
    "inspect.total": "total: read {read} = loaded {loaded} + duplicates {duplicates} + "
                     "rejected {rejected}",
    "inspect.no_own": "no repair order belongs to own_dealers ({own}): every figure would be 0; "
                      "see --suggest-config",
    "inspect.dry": "nothing was written to {db}",
    "inspect.no_db": "database {db} does not exist yet: counts are for an empty one",
    "source.built-in": "built-in", "source.config": "config", "source.profile": "profile",
    "source.none": "not used",
}


def tr(key: str, lang: str, **values: Any) -> str:
    text = LABELS_ZH.get(key, EN[key]) if lang == "zh" else EN[key]
    return text.format(**values)


def _field(name: str | None, lang: str) -> str:
    if name is None:
        return "—"
    zh = LABELS_ZH.get(name.split(".")[-1]) if lang == "zh" else None
    return f"{name} {zh}" if zh else name


def _kind(kind: str | None, lang: str) -> str:
    zh = LABELS_ZH.get(f"kind.{kind}") if lang == "zh" else None
    return f"{kind} {zh}" if zh else str(kind)


def _counts(c: dict[str, int], lang: str) -> str:
    return tr("inspect.counts", lang, **c)


def _sheet_lines(s: SheetReport, lang: str) -> list[str]:
    out = [tr("inspect.header", lang, line=s.header_line)
           + (f" ({s.encoding})" if s.encoding else "")]
    ev = {d.table: d for d in s.evidence}
    if s.kind is None:
        out.append(tr("inspect.no_table", lang))
    else:
        d = ev[s.kind]
        line = (tr("inspect.table", lang, kind=_kind(s.kind, lang)) + f"; "
                f"{tr('inspect.evidence', lang)}: {', '.join(d.fields)} ({len(d.fields)})")
        if s.runner_up:
            r = ev[s.runner_up]
            line += (f"; {tr('inspect.runner_up', lang)}: {_kind(s.runner_up, lang)}: "
                     f"{', '.join(r.fields)} ({len(r.fields)})")
        out.append(line)
    out.append(tr("inspect.columns", lang))
    for c in s.columns:
        note = tr(f"source.{c.source}", lang)
        if c.field and not c.used:
            note += "; " + tr("inspect.unused", lang)
        out.append(f"  {c.header or '(c' + str(c.index + 1) + ')'} → {_field(c.field, lang)} "
                   f"({note})")
    for m in s.missing:
        line = tr("inspect.missing", lang, field=_field(m.field, lang)) + ": "
        if m.candidates:
            parts = []
            for c in m.candidates:
                why = tr("inspect.parse", lang, parsed=c.parsed, cells=c.cells)
                if c.mapped_to:
                    why = tr("inspect.now", lang, field=c.mapped_to) + "; " + why
                parts.append(f"{c.header} ({why})")
            line += tr("inspect.could_fill", lang) + " " + ", ".join(parts)
        else:
            line += tr("inspect.no_candidate", lang)
        out.append(line)
    for name, vals in s.codes.items():
        out.append(tr("inspect.values", lang, field=_field(name, lang)))
        for v in vals[:20]:
            to = v.maps_to or tr("inspect.empty", lang)
            if not v.known:
                to += f" ({tr('inspect.unknown', lang)})"
            out.append(f"  {v.raw} ×{v.count} → {to}")
        more = len(vals) - 20 + s.more_values.get(name, 0)
        if more > 0:
            out.append("  " + tr("inspect.more", lang, n=more))
    if s.earlier:
        out.append(tr("inspect.earlier_counts", lang, **s.earlier))
    if s.counts:
        line = _counts(s.counts, lang) + f" ({s.kind})"
        if s.fed:
            line += f"; {tr('inspect.fed', lang)}: " + ", ".join(
                f"{t} +{n}" for t, n in s.fed.items())
        out.append(line)
    return out


def _findings(title: str, items: list[Finding], lang: str) -> list[str]:
    """Flags with their raw values; reject reasons with the full reason where it quotes one."""
    if not items:
        return []
    out = [tr(title, lang)]
    for f in items:
        ex = "; ".join(tr("inspect.line", lang, line=ln) + ("" if raw == f.what else f": {raw}")
                       for ln, raw in f.examples)
        what = f"{f.field}: {f.what}" if f.field else f.what
        out.append(f"  {f.kind} {what} ×{f.count}: {ex}")
    return out


def file_lines(f: FileReport, lang: str) -> list[str]:
    out = [f"== {f.file}"]
    for s in f.sheets:
        if s.sheet:
            out.append(f"-- [{s.sheet}]")
        out += _sheet_lines(s, lang)
    if f.error:
        out.append(tr("inspect.unreadable", lang, error=f.error))
    out += _findings("inspect.flags", f.flags, lang)
    out += _findings("inspect.rejects", f.rejects, lang)
    if f.skipped:
        out.append(tr("inspect.skipped", lang, why=f.skipped))
    if f.earlier:
        out.append(tr("inspect.earlier", lang, **f.earlier))
    if f.load_error:
        out.append(tr("inspect.fails", lang, error=f.load_error))
    return out


def text(report: Report, lang: str) -> str:
    """The terminal report: one block per file, then the total and what was (not) written."""
    out: list[str] = []
    for f in report.files:
        out += file_lines(f, lang) + [""]
    out.append(tr("inspect.total", lang, **report.total()))
    if report.own_orders == 0 and any(s.dealers for f in report.files for s in f.sheets):
        out.append(tr("inspect.no_own", lang, own=", ".join(report.own_dealers)))
    if not report.database_exists:
        out.append(tr("inspect.no_db", lang, db=report.database))
    out.append(tr("inspect.dry", lang, db=report.database))
    return "\n".join(out) + "\n"


def to_json(report: Report, suggested: str) -> dict[str, Any]:
    """The report as JSON-ready data (keys documented in docs/rules.md)."""
    def flag(f: Finding) -> dict[str, Any]:
        return {"kind": f.kind, "field": f.field, "flag": f.what, "count": f.count,
                "examples": [{"line": ln, "raw": raw} for ln, raw in f.examples]}

    def reject(f: Finding) -> dict[str, Any]:
        return {"kind": f.kind, "reason": f.what, "count": f.count,
                "examples": [{"line": ln, "reason": why} for ln, why in f.examples]}

    def sheet(s: SheetReport) -> dict[str, Any]:
        return {
            "sheet": s.sheet, "header_line": s.header_line, "encoding": s.encoding,
            "kind": s.kind, "runner_up": s.runner_up,
            "evidence": [{"table": d.table, "fields": d.fields, "eligible": d.eligible}
                         for d in s.evidence],
            "columns": [{"header": c.header, "column": c.index + 1, "field": c.field,
                         "source": c.source, "used": c.used} for c in s.columns],
            "missing": [{"field": m.field, "candidates": [
                {"header": c.header, "mapped_to": c.mapped_to, "parsed": c.parsed,
                 "cells": c.cells} for c in m.candidates]} for m in s.missing],
            "codes": {k: [{"raw": v.raw, "count": v.count, "maps_to": v.maps_to,
                           "known": v.known} for v in vals] for k, vals in s.codes.items()},
            "more_values": s.more_values,
            "dealers": s.dealers, "counts": s.counts, "fed": s.fed, "earlier": s.earlier,
        }

    return {
        "database": report.database, "database_exists": report.database_exists,
        "load_ok": report.ok,
        "files": [{"file": f.file, "error": f.error, "skipped": f.skipped,
                   "load_error": f.load_error, "sheets": [sheet(s) for s in f.sheets],
                   "flags": [flag(x) for x in f.flags],
                   "rejects": [reject(x) for x in f.rejects],
                   "earlier": f.earlier} for f in report.files],
        "total": report.total(),
        "own_dealers": report.own_dealers, "own_orders": report.own_orders,
        "suggested_config": suggested,
    }
