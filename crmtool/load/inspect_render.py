"""`crmtool inspect` output: the terminal text (words from the label table, `--lang`) and the
JSON for scripts (English keys, documented in docs/rules.md "Inspect before loading")."""

from __future__ import annotations

from typing import Any

from ..output import labels
from .inspect import FileReport, Finding, Report, SheetReport


def tr(key: str, lang: str, **values: Any) -> str:
    """One of inspect's phrases (labels.VALUES["inspect"]) with its blanks filled."""
    return labels.value_label("inspect", key, lang).format(**values)


def _both(code: str, label: str, lang: str) -> str:
    """zh: the canonical name (what crmtool.toml uses) and its label; en: the name."""
    return f"{code} {label}" if lang == "zh" and label != code else code


def _field(name: str | None, lang: str) -> str:
    if name is None:
        return "—"
    return _both(name, labels.column_label(name.split(".")[-1], lang), lang)


def _kind(kind: str | None, lang: str) -> str:
    return _both(str(kind), labels.value_label("kind", kind, lang), lang)


def _code(field: str, code: str, lang: str) -> str:
    domain = labels.value_domain(field)
    return _both(code, labels.value_label(domain, code, lang) if domain else code, lang)


def _counts(c: dict[str, int], lang: str) -> str:
    return tr("counts", lang, **c)


def _sheet_lines(s: SheetReport, lang: str) -> list[str]:
    out = [tr("header", lang, line=s.header_line) + (f" ({s.encoding})" if s.encoding else "")]
    d = s.detection
    if s.kind is None:
        out.append(tr("no_table", lang))
    else:
        line = (
            tr("table", lang, kind=_kind(s.kind, lang)) + f" ({d.reason}); "
            f"{tr('evidence', lang)}: {', '.join(d.evidence) or '—'} ({d.score})"
        )
        if d.runner_up:
            line += (
                f"; {tr('runner_up', lang)}: {_kind(d.runner_up, lang)}: "
                f"{', '.join(d.runner_up_evidence) or '—'} ({d.runner_up_score})"
            )
        out.append(line)
        if d.ambiguous:
            out.append(
                tr(
                    "ambiguous",
                    lang,
                    choices=" | ".join(f"--kind {t}" for t in (d.kind, d.runner_up) if t),
                )
            )
        if d.feeds:
            out.append(tr("feeds", lang, tables=", ".join(_kind(t, lang) for t in d.feeds)))
    out.append(tr("columns", lang))
    for c in s.columns:
        note = labels.value_label("mapping_source", c.source, lang)
        if c.overrides:
            note += "; " + tr("overrides", lang, field=_field(c.overrides, lang))
        if c.field and not c.used:
            note += "; " + tr("unused", lang)
        out.append(
            f"  {c.header or '(c' + str(c.index + 1) + ')'} → {_field(c.field, lang)} ({note})"
        )
    for m in s.missing:
        line = tr("missing", lang, field=_field(m.field, lang)) + ": "
        if m.candidates:
            parts = []
            for cand in m.candidates:
                why = tr("parse", lang, parsed=cand.parsed, cells=cand.cells)
                if cand.mapped_to:
                    why = tr("now", lang, field=cand.mapped_to) + "; " + why
                parts.append(f"{cand.header} ({why})")
            line += tr("could_fill", lang) + " " + ", ".join(parts)
        else:
            line += tr("no_candidate", lang)
        out.append(line)
    for name, vals in s.codes.items():
        out.append(tr("values", lang, field=_field(name, lang)))
        for v in vals[:20]:
            to = _code(name, v.maps_to, lang) if v.maps_to else tr("empty", lang)
            if not v.known:
                to += f" ({tr('unknown', lang)})"
            out.append(f"  {v.raw} ×{v.count} → {to}")
        more = len(vals) - 20 + s.more_values.get(name, 0)
        if more > 0:
            out.append("  " + tr("more", lang, n=more))
    if s.earlier:
        out.append(tr("earlier_counts", lang, **s.earlier))
    if s.counts:
        line = _counts(s.counts, lang) + f" ({s.kind})"
        if s.fed:
            line += f"; {tr('fed', lang)}: " + ", ".join(f"{t} +{n}" for t, n in s.fed.items())
        out.append(line)
        out += [f"  {n}" for n in s.notes]
    return out


def _reason(text: str, lang: str) -> str:
    """zh: a reject reason in words; en: as the load wrote it (as `crmtool rejects` shows)."""
    return labels.reason_label(text, lang) if lang == "zh" else text


def _findings(title: str, items: list[Finding], lang: str) -> list[str]:
    """Flags with their raw values; reject reasons with the full reason where it quotes one."""
    if not items:
        return []
    out = [tr(title, lang)]
    for f in items:
        ex = "; ".join(
            tr("line", lang, line=ln)
            + ("" if raw == f.what else ": " + (_reason(raw, lang) if f.field is None else raw))
            for ln, raw in f.examples
        )
        if f.field:
            flag = _both(f.what, labels.value_label("flag", f.what, lang), lang)
            what = f"{_field(f.field, lang)}: {flag}"
        else:
            what = _reason(f.what, lang)
        out.append(f"  {_kind(f.kind, lang)} {what} ×{f.count}: {ex}")
    return out


def file_lines(f: FileReport, lang: str) -> list[str]:
    out = [f"== {f.file}"]
    for s in f.sheets:
        if s.sheet:
            out.append(f"-- [{s.sheet}]")
        out += _sheet_lines(s, lang)
    if f.error:
        out.append(tr("unreadable", lang, error=f.error))
    out += _findings("flags", f.flags, lang)
    out += _findings("rejects", f.rejects, lang)
    if f.skipped:
        out.append(tr("skipped", lang, why=labels.value_label("inspect", f.skipped, lang)))
    if f.earlier:
        out.append(tr("earlier", lang, **f.earlier))
    if f.load_error:
        out.append(tr("fails", lang, error=f.load_error))
    if f.alone:
        out.append(tr("alone", lang))
    return out


def text(report: Report, lang: str) -> str:
    """The terminal report: one block per file, then the total and what was (not) written."""
    out: list[str] = []
    for f in report.files:
        out += file_lines(f, lang) + [""]
    out += [tr("warning", lang, text=n) for n in report.notices]
    if report.load_error and len(report.files) > 1:
        out.append(tr("all_fail", lang, error=report.load_error))
    out.append(tr("total", lang, **report.total()))
    if report.foreign_dealers() and not report.notices:  # else the load's warning says it
        out.append(tr("no_own", lang, own=", ".join(report.own_dealers)))
    if not report.database_exists:
        out.append(tr("no_db", lang, db=report.database))
    out.append(tr("dry", lang, db=report.database))
    return "\n".join(out) + "\n"


def to_json(report: Report, suggested: str) -> dict[str, Any]:
    """The report as JSON-ready data (keys documented in docs/rules.md)."""

    def flag(f: Finding) -> dict[str, Any]:
        return {
            "kind": f.kind,
            "field": f.field,
            "flag": f.what,
            "count": f.count,
            "examples": [{"line": ln, "raw": raw} for ln, raw in f.examples],
        }

    def reject(f: Finding) -> dict[str, Any]:
        return {
            "kind": f.kind,
            "reason": f.what,
            "count": f.count,
            "examples": [{"line": ln, "reason": why} for ln, why in f.examples],
        }

    def detection(d: Any) -> dict[str, Any]:
        return {
            "kind": d.kind,
            "reason": d.reason,
            "score": d.score,
            "evidence": list(d.evidence),
            "runner_up": d.runner_up,
            "runner_up_score": d.runner_up_score,
            "runner_up_evidence": list(d.runner_up_evidence),
            "ambiguous": d.ambiguous,
            "forced": d.forced,
            "feeds": list(d.feeds),
            "candidates": dict(d.candidates),
        }

    def sheet(s: SheetReport) -> dict[str, Any]:
        return {
            "sheet": s.sheet,
            "header_line": s.header_line,
            "encoding": s.encoding,
            "kind": s.kind,
            "detection": detection(s.detection),
            "columns": [
                {
                    "header": c.header,
                    "column": c.index + 1,
                    "field": c.field,
                    "source": c.source,
                    "used": c.used,
                    "overrides": c.overrides,
                }
                for c in s.columns
            ],
            "missing": [
                {
                    "field": m.field,
                    "candidates": [
                        {
                            "header": c.header,
                            "mapped_to": c.mapped_to,
                            "parsed": c.parsed,
                            "cells": c.cells,
                        }
                        for c in m.candidates
                    ],
                }
                for m in s.missing
            ],
            "codes": {
                k: [
                    {"raw": v.raw, "count": v.count, "maps_to": v.maps_to, "known": v.known}
                    for v in vals
                ]
                for k, vals in s.codes.items()
            },
            "more_values": s.more_values,
            "dealers": s.dealers,
            "notes": s.notes,
            "counts": s.counts,
            "fed": s.fed,
            "earlier": s.earlier,
        }

    return {
        "database": report.database,
        "database_exists": report.database_exists,
        "load_ok": report.ok,
        "load_error": report.load_error,
        "notices": report.notices,
        "files": [
            {
                "file": f.file,
                "error": f.error,
                "skipped": f.skipped,
                "load_error": f.load_error,
                "sheets": [sheet(s) for s in f.sheets],
                "flags": [flag(x) for x in f.flags],
                "rejects": [reject(x) for x in f.rejects],
                "alone": f.alone,
                "earlier": f.earlier,
            }
            for f in report.files
        ],
        "total": report.total(),
        "own_dealers": report.own_dealers,
        "own_orders": report.own_orders,
        "suggested_config": suggested,
    }
