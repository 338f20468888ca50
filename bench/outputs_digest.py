"""Digest of the list and report outputs on the demo store, to show that a refactoring changed
no output (rulebook §16 "Unchanged": same database, code before and after).

    python bench/outputs_digest.py DIR > after.txt      # DIR: a work folder (kept)
    PYTHONPATH=/path/to/old/checkout python bench/outputs_digest.py DIR2 > before.txt
    diff before.txt after.txt                           # no difference: no output changed

Each line: the command, the number of output lines and the sha256 of stdout (JSON with its
floats to 6 significant digits). The report data
(summary, previous summary, call lists of `collect_report_data`) is digested in-process.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

AS_OF = "2021-12-31"
COMMANDS = [
    ["segment", "--format", "csv"],
    ["segment", "--format", "csv", "--per-customer"],
    ["segment", "--format", "csv", "--by", "tier,stage"],
    ["segment", "--format", "csv", "--by", "mileage,frequency,area,decade,usage,status"],
    ["segment", "--format", "csv", "--tier", "A,B", "--stage", "mid,old", "--status", "loyal"],
    ["segment", "--format", "csv", "--mileage-band", "30k-60k", "--frequency", "1,2-3"],
    ["churn", "--format", "csv"],
    ["churn", "--format", "csv", "--per-customer", "--status", "lost,at_risk,general"],
    ["churn", "--format", "csv", "--leakage", "--period", "2021"],
    ["due", "--format", "csv"],
    ["due", "--format", "csv", "--month", "2021-11"],
    ["campaign", "warranty", "--format", "csv"],
    ["campaign", "insurance", "--format", "csv", "--days", "90"],
    ["campaign", "loyal", "--format", "csv", "--half", "2021H2"],
    ["campaign", "winback", "--format", "csv"],
    ["tiers", "--format", "csv"],
    ["summary", "--period", "2021", "--format", "json"],
    *[
        ["contacts", "export", "--list", name, "--format", "csv"]
        for name in (
            "due",
            "winback",
            "warranty",
            "insurance",
            "churn",
            "segment",
            "callbacks",
            "birthdays",
            "complaints",
        )
    ],
]


def _round(value: object) -> object:
    """Floats to 6 significant digits: the forecast's fitted parameters differ in their last
    digits from run to run (multi-threaded sums feed the optimiser), on any code."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def _json(text: str) -> str:
    try:
        return json.dumps(_round(json.loads(text)), sort_keys=True, ensure_ascii=False)
    except ValueError:
        return text


def _line(label: str, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{label}\t{text.count(chr(10))}\t{digest}"


def _report_data(db: Path, toml: Path) -> list[str]:
    from crmtool import db as dbmod
    from crmtool import facts
    from crmtool.config import load_config
    from crmtool.period import parse_period

    try:
        from crmtool.report.data import collect_report_data
    except ImportError:  # before the package re-layout
        from crmtool.report.data import collect_report_data

    cfg = load_config(toml)
    con = dbmod.connect(db, read_only=True)
    facts.install(con, cfg, snapshot=True)
    summary, previous, lists = collect_report_data(
        con, cfg, parse_period("2021-11"), date.fromisoformat(AS_OF)
    )
    out = [
        _line("report summary", _json(json.dumps(summary, default=str))),
        _line("report previous", _json(json.dumps(previous, default=str))),
    ]
    out += [_line(f"report list {k}", lists[k].write_csv()) for k in sorted(lists)]
    try:  # the rendered report: the HTML page and the workbook's bytes
        from crmtool.report.html import render_html
        from crmtool.report.xlsx import write_xlsx_report
    except ImportError:  # before the package re-layout
        from crmtool.render_html import render_html
        from crmtool.render_xlsx import write_xlsx_report
    out.append(_line("report html", render_html(summary, previous, lists)))
    book = Path(db).with_name("digest-report.xlsx")
    write_xlsx_report(book, summary, lists)
    out.append(_line("report xlsx", hashlib.sha256(book.read_bytes()).hexdigest()))
    return out


def main(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    db, toml = work / "crmtool-demo.duckdb", work / "crmtool-demo.toml"
    run = [sys.executable, "-m", "crmtool"]
    env = {**os.environ, "NO_COLOR": "1"}
    if not db.exists():
        subprocess.run([*run, "demo", "--keep"], cwd=work, check=True, capture_output=True)
    glob = ["--db", str(db), "--config", str(toml), "--as-of", AS_OF]
    for cmd in COMMANDS:
        r = subprocess.run([*run, *glob, *cmd], capture_output=True, text=True, env=env)
        out = _json(r.stdout) if "json" in cmd else r.stdout
        print(_line(" ".join(cmd) + f" (exit {r.returncode})", out), flush=True)
    for line in _report_data(db, toml):
        print(line)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "outputs-digest"))
