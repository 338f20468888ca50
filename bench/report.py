"""bench/RESULTS.md from the results-<size>.json files of bench/run.py."""

from __future__ import annotations

import json
from pathlib import Path

STEPS = [
    ("load_plain", "plain DuckDB load (UTF-8)"),
    ("load_utf8", "crmtool load (UTF-8)"),
    ("load_gbk", "crmtool load (GBK)"),
    ("load_monthly_plain", "plain DuckDB load of one month's repair orders"),
    ("load_monthly", "crmtool load of that month into the loaded database"),
    ("segment", "crmtool segment --format parquet"),
    ("summary", "crmtool summary --format json"),
    ("retention", "crmtool retention (one as_of)"),
    ("retention_trend", "crmtool retention --trend 24"),
    ("find_plate", "crmtool find PLATE"),
    ("find_phone", "crmtool find PHONE"),
    ("find_vin_tail", "crmtool find VIN-TAIL"),
    ("find_name", "crmtool find NAME"),
    ("report", "crmtool report --period (HTML + xlsx)"),
    ("forecast", "crmtool forecast --format parquet"),
    ("help", "crmtool --help"),
    ("segment_sql", "hand-written SQL segment list"),
    ("segment_pandas", "pandas segment list"),
    # results of runs before the baselines made the whole segment list
    ("tiers_sql", "hand-written SQL tiers only (older run)"),
    ("tiers_pandas", "pandas tiers only (older run)"),
]
CRM = ("load_utf8", "load_gbk", "segment", "summary")


def _ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("met" if flag else "**not met**")


def agrees(check: dict) -> bool:
    """True when a baseline's list is exactly crmtool's segment list (all columns and rows)."""
    return (
        check["rows_segment"] == check["rows_baseline"] == check["common"]
        and check["total_mismatches"] == 0
        and not check["missing_columns"]
        and not check["extra_columns"]
        and not check["type_differences"]
    )


def describe(check: dict) -> str:
    """One line from run.compare: rows, vehicles in one list only, the columns that differ."""
    if "total_mismatches" not in check:  # an older run: tiers only
        return f"tiers only {check}"
    bad = {c: n for c, n in check["mismatches"].items() if n}
    text = (
        f"rows {check['rows_segment']} / {check['rows_baseline']}, in both "
        f"{check['common']}, only in segment {check['only_segment']}, only in baseline "
        f"{check['only_baseline']}; mismatches: "
        + (
            ", ".join(f"{c} {n}" for c, n in bad.items())
            if bad
            else f"0 in all {len(check['mismatches'])} columns besides vin"
        )
    )
    for key in ("missing_columns", "extra_columns", "type_differences"):
        if check[key]:
            text += f"; {key.replace('_', ' ')}: {check[key]}"
    if not check["same_order"]:
        text += "; row order differs"
    return text + (" (agrees)" if agrees(check) else " (**differs**)")


def targets(r: dict) -> list[tuple[str, str, bool | None]]:
    def med(k: str) -> float | None:
        return r[k]["median_s"] if k in r else None

    old = "segment_sql" not in r  # an older run whose baselines made the tiers only
    sql, pandas = (
        (med("tiers_sql"), med("tiers_pandas"))
        if old
        else (med("segment_sql"), med("segment_pandas"))
    )
    note = " (baseline: tiers only, older run)" if old else ""
    plain, seg = med("load_plain"), med("segment")
    analyse = seg + med("summary")
    utf8, gbk = med("load_utf8"), med("load_gbk")
    out = [  # issue 18: ratios with the absolute figures beside them (rulebook §16)
        (
            "load (UTF-8) <= 2.5x plain DuckDB read_csv",
            f"{utf8 / plain:.2f}x ({utf8:.1f} s vs {plain:.1f} s)",
            utf8 / plain <= 2.5,
        ),
        (
            "load (GB18030) <= 2.8x plain DuckDB read_csv of the UTF-8 files",
            f"{gbk / plain:.2f}x ({gbk:.1f} s vs {plain:.1f} s)",
            gbk / plain <= 2.8,
        ),
        # the wording; the summary has no baseline of its own
        (
            "segment + summary <= 1.5x hand-written SQL" + note,
            f"{analyse / sql:.2f}x",
            analyse / sql <= 1.5,
        ),
    ]
    if not old:
        out.append(
            (
                "segment <= 1.5x hand-written SQL (like for like)",
                f"{seg / sql:.2f}x",
                seg / sql <= 1.5,
            )
        )
    if pandas is not None:
        out.append(
            (
                "segment + summary >= 10x faster than pandas" + note,
                f"pandas / crmtool = {pandas / analyse:.2f}x",
                pandas / analyse >= 10,
            )
        )
        if not old:
            out.append(
                (
                    "segment vs pandas: segment >= 10x faster (like for like)",
                    f"pandas / segment = {pandas / seg:.2f}x",
                    pandas / seg >= 10,
                )
            )
    if "retention" in r:
        ret, trend = med("retention"), med("retention_trend")
        out.append(("retention <= 1.5x segment", f"{ret / seg:.2f}x", ret / seg <= 1.5))
        out.append(
            ("retention --trend 24 <= 4x one as_of", f"{trend / ret:.2f}x", trend / ret <= 4)
        )
    finds = [k for k in ("find_plate", "find_phone", "find_vin_tail", "find_name") if k in r]
    if finds:
        worst = max(med(k) for k in finds)
        out.append(
            ("find <= 1 s (worst of plate, phone, VIN tail, name)", f"{worst:.2f} s", worst <= 1.0)
        )
    if "report" in r:
        out.append(
            (
                "report <= 2.5x summary",
                f"{med('report') / med('summary'):.2f}x",
                med("report") / med("summary") <= 2.5,
            )
        )
        big = r["size"] == "10m"  # rulebook §16: absolute targets at 10M
        out.append(
            ("summary <= 45 s", f"{med('summary'):.1f} s", med("summary") <= 45 if big else None)
        )
        sections = r["report"].get("sections")
        out.append(
            (
                "report <= 120 s with retention trend and forecast",
                f"{med('report'):.1f} s ({', '.join(sections) if sections else 'sections unknown'})",
                (med("report") <= 120 and sections == ["retention", "forecast"]) if big else None,
            )
        )
    if "forecast" in r:
        fc = r["forecast"]
        big = r["size"] == "10m"
        out.append(
            (
                "forecast (whole command) < 30 s and < 1.5 GB",
                f"{fc['median_s']:.1f} s, {fc['max_rss_mb']:.0f} MB",
                (fc["median_s"] < 30 and fc["max_rss_mb"] < 1536) if big else None,
            )
        )
    if "load_monthly" in r:
        month, base = med("load_monthly"), med("load_monthly_plain")
        out.append(
            (
                "monthly load into the loaded database <= 2x plain read_csv of the month",
                f"{month / base:.2f}x ({month:.1f} s vs {base:.1f} s)",
                month / base <= 2,
            )
        )
    loads = max(r[k]["max_rss_mb"] for k in ("load_utf8", "load_gbk", "load_monthly") if k in r)
    out.append(
        (
            "load peak RSS <= 3 GB",
            f"{loads:.0f} MB",
            loads <= 3072 if r["size"] == "10m" else None,
        )
    )
    rss = max(r[k]["max_rss_mb"] for k in CRM)
    out.append(
        (
            "peak RSS <= 4 GB (crmtool steps)",
            f"{rss:.0f} MB",
            rss <= 4096 if r["size"] == "10m" else None,
        )
    )
    return out


def scaling(res: dict) -> str:
    """'met'/'not met' with the worst 10M/1M time ratio of crmtool's steps, or 'n/a'."""
    if "1m" not in res or "10m" not in res:
        return "n/a"
    worst = max(res["10m"][k]["median_s"] / res["1m"][k]["median_s"] for k in CRM)
    return f"worst {worst:.1f}x ({_ok(worst <= 12)})"


def write_results(cache: Path, target: Path) -> None:
    res = {
        p.stem.split("-", 1)[1]: json.loads(p.read_text())
        for p in sorted(cache.glob("results-*.json"), key=lambda p: len(p.stem))
    }
    any_r = next(iter(res.values()))
    m = any_r["machine"]
    top = res.get("10m") or any_r
    met = targets(top)
    head = (
        f"**Headline ({top['size']} repair orders):** "
        + "; ".join(f"{t}: {v} ({_ok(ok)})" for t, v, ok in met)
        + f"; 10x data <= 12x time: {scaling(res)}."
    )
    lines = [
        "# Scale benchmark results (issue 6)",
        "",
        head,
        "",
        "Made by `python bench/run.py --size SIZE --repeat N` (see bench/README.md). "
        "Times are medians of N runs, each a fresh process; RSS is the max resident set "
        "of the process (getrusage of the child).",
        "",
        f"Machine: {m['nproc']} cores, {m['memory_gb']} GB, {m['cpu']}; "
        f"Python {m['python']}, DuckDB {m['duckdb']}, polars {m['polars']}, "
        f"pandas {m['pandas']}, crmtool {m['crmtool']}. DuckDB settings everywhere: "
        f"threads={any_r['settings']['threads']}, "
        f"memory_limit={any_r['settings']['memory_limit']}, temp_directory=bench/cache/tmp.",
        "",
        "The machine was shared with other jobs while measuring: load averages are "
        "given per run, and timings are noisy.",
        "",
    ]
    for size, r in res.items():
        lines += [
            f"## {size} repair orders (repeat {r['repeat']}, load average at the end "
            f"{', '.join(f'{x:.1f}' for x in r['loadavg'])})",
            "",
            "| step | median s | runs s | CPU s | max RSS MB |",
            "|---|---:|---|---:|---:|",
        ]
        for k, label in STEPS:
            if k in r:
                s = r[k]
                cpu = f"{s['cpu_s']:.1f}" if "cpu_s" in s else ""
                runs = ", ".join(f"{x:.2f}" for x in s["runs_s"])
                lines.append(
                    f"| {label} | {s['median_s']:.2f} | {runs} | {cpu} | {s['max_rss_mb']:.0f} |"
                )
        lines += [
            "",
            "Agreement of the baselines with crmtool's segment list (every column, "
            "matched by vin: exact, ticket and cycle_days within 0.011):",
            "",
            f"- hand-written SQL: {describe(r['check_sql'])}",
        ]
        if "check_pandas" in r:
            lines.append(f"- pandas: {describe(r['check_pandas'])}")
        lines += ["", "| target | value | |", "|---|---:|---|"]
        lines += [f"| {t} | {v} | {_ok(ok)} |" for t, v, ok in targets(r)]
        lines.append("")
    if "1m" in res and "10m" in res:
        lines += [
            "## Scaling 1M -> 10M (target: 10x data <= 12x time)",
            "",
            "| step | 1M s | 10M s | ratio | |",
            "|---|---:|---:|---:|---|",
        ]
        for k, label in STEPS:
            if k in res["1m"] and k in res["10m"]:
                a, b = res["1m"][k]["median_s"], res["10m"][k]["median_s"]
                lines.append(
                    f"| {label} | {a:.2f} | {b:.2f} | {b / a:.1f}x | "
                    f"{_ok(b / a <= 12) if k in CRM else ''} |"
                )
        lines.append("")
    for extra in ("NOTES.md", "FORECAST.md"):  # FORECAST.md: forecast_bench.py (issue 17)
        notes = target.with_name(extra)
        if notes.exists():
            lines += [notes.read_text()]
    target.write_text("\n".join(lines) + "\n")
