"""The scale benchmark (issue 6): crmtool against plain DuckDB and pandas.

python bench/run.py [--size 1m|10m] [--repeat 3] [--skip-pandas]

Generates the sample once into bench/cache/<size>/utf8 (and a GBK copy by transcoding), then
times each step in a fresh subprocess (median of --repeat runs, max RSS per process) and
writes bench/cache/results-<size>.json and bench/RESULTS.md (from every results file there).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from report import describe, write_results

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
SIZES = {"1m": "bench1m", "10m": "large"}
AS_OF, PERIOD = "2021-12-31", "2021-12"
THREADS = os.cpu_count() or 1
MEMORY = "3GB"
PY = sys.executable


def settings_env() -> dict[str, str]:
    """The same DuckDB settings for crmtool (via its environment) and the baselines."""
    temp = CACHE / "tmp"
    temp.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "CRMTOOL_THREADS": str(THREADS),
        "CRMTOOL_MEMORY_LIMIT": MEMORY,
        "CRMTOOL_TEMP_DIRECTORY": str(temp),
        "BENCH_THREADS": str(THREADS),
        "BENCH_MEMORY_LIMIT": MEMORY,
        "BENCH_TEMP": str(temp),
    }


def prepare(size: str) -> tuple[Path, Path, float | None]:
    """The UTF-8 and GBK datasets (generated once); seconds spent generating, if any."""
    root = CACHE / size
    utf8, gbk = root / "utf8", root / "gbk"
    spent = None
    if not (utf8 / "sample.json").exists():
        from crmtool.sample import generate

        t = time.perf_counter()
        generate(utf8, SIZES[size], 7, "utf-8")
        spent = time.perf_counter() - t
    if not (gbk / "sample.json").exists():
        gbk.mkdir(parents=True, exist_ok=True)
        for src in sorted(utf8.glob("*.csv")):
            part = gbk / (src.name + ".part")
            with open(part, "wb") as out:
                subprocess.run(
                    ["iconv", "-f", "UTF-8", "-t", "GB18030", str(src)], stdout=out, check=True
                )
            part.replace(gbk / src.name)
        shutil.copy(utf8 / "sample.json", gbk / "sample.json")
    return utf8, gbk, spent


def run_once(cmd: list[str], env: dict[str, str], log: Path) -> dict:
    out = subprocess.run(
        [PY, str(HERE / "_measure.py"), *cmd],
        env={**env, "BENCH_LOG": str(log)},
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout)
    if res["rc"] != 0:
        raise SystemExit(f"failed ({res['rc']}): {' '.join(cmd)}; see {log}")
    return res


def measure(
    name: str,
    cmd: list[str],
    repeat: int,
    env: dict[str, str],
    before: list[Path] | None = None,
    setup: Callable[[], object] | None = None,
) -> dict:
    """Median wall time and max RSS of `repeat` runs (files in `before` deleted first, then
    `setup` called, both outside the timing)."""
    walls, rss, cpus = [], [], []
    log = CACHE / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    for _ in range(repeat):
        for p in before or []:
            p.unlink(missing_ok=True)
            Path(str(p) + ".wal").unlink(missing_ok=True)
        if setup is not None:
            setup()
        r = run_once(cmd, env, log)
        walls.append(r["wall"])
        rss.append(r["rss_mb"])
        cpus.append(r["cpu"])
    res = {
        "median_s": statistics.median(walls),
        "runs_s": walls,
        "cpu_s": statistics.median(cpus),
        "max_rss_mb": max(rss),
    }
    print(
        f"  {name:<22} median {res['median_s']:7.2f} s  runs "
        + ", ".join(f"{w:.2f}" for w in walls)
        + f"  CPU {res['cpu_s']:.1f} s  max RSS {res['max_rss_mb']:.0f} MB",
        flush=True,
    )
    return res


FLOAT_TOLERANCE = 0.011  # ticket and cycle_days are rounded to 2 decimals


def compare(seg: Path, base: Path) -> dict:
    """Every column of crmtool's segment output against a baseline's, matched by vin: rows of
    each, vehicles in only one of them, mismatches per column among the vehicles in both
    (exact; floats within FLOAT_TOLERANCE), columns missing or of another type, and whether
    the rows come in the same order."""
    import duckdb

    con = duckdb.connect()
    cols = {c: t for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM '{seg}'").fetchall()}
    other = {c: t for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM '{base}'").fetchall()}
    both = [c for c in cols if c in other and c != "vin"]

    def differs(c: str) -> str:
        if cols[c] in ("DOUBLE", "FLOAT") or cols[c].startswith("DECIMAL"):
            return f"(a.{c} IS NULL) <> (b.{c} IS NULL) OR abs(a.{c} - b.{c}) > {FLOAT_TOLERANCE}"
        return f"a.{c} IS DISTINCT FROM b.{c}"

    row = con.execute(f"""
        SELECT (SELECT count(*) FROM '{seg}'), (SELECT count(*) FROM '{base}'),
               count(*) FILTER (WHERE a.vin IS NOT NULL AND b.vin IS NOT NULL),
               count(*) FILTER (WHERE b.vin IS NULL), count(*) FILTER (WHERE a.vin IS NULL),
               count(*) FILTER (WHERE a.vin IS NOT NULL AND b.vin IS NOT NULL
                                AND a.file_row_number <> b.file_row_number),
               {
        ", ".join(
            f"count(*) FILTER (WHERE a.vin IS NOT NULL AND b.vin IS NOT NULL AND ({differs(c)}))"
            for c in both
        )
    }
        FROM read_parquet('{seg}', file_row_number = true) a
        FULL JOIN read_parquet('{base}', file_row_number = true) b USING (vin)""").fetchall()[0]
    mismatches = dict(zip(both, row[6:], strict=True))
    return {
        "rows_segment": row[0],
        "rows_baseline": row[1],
        "common": row[2],
        "only_segment": row[3],
        "only_baseline": row[4],
        "same_order": row[5] == 0,
        "mismatches": mismatches,
        "total_mismatches": sum(mismatches.values()),
        "missing_columns": [c for c in cols if c not in other],
        "extra_columns": [c for c in other if c not in cols],
        "type_differences": {c: f"{cols[c]} vs {other[c]}" for c in both if cols[c] != other[c]},
    }


def baselines(
    db: Path, work: Path, seg: Path, repeat: int, env: dict[str, str], skip_pandas: bool
) -> dict:
    """Time the hand-written SQL and the pandas segment lists and check them against seg."""
    r: dict = {}
    base, pdo = work / "segment_sql.parquet", work / "segment_pandas.parquet"
    r["segment_sql"] = measure(
        "hand-written SQL",
        [PY, str(HERE / "segment_sql.py"), str(db), AS_OF, str(base)],
        repeat,
        env,
    )
    r["check_sql"] = compare(seg, base)
    print(f"  segment vs SQL: {describe(r['check_sql'])}", flush=True)
    if not skip_pandas:
        t = time.perf_counter()
        subprocess.run(
            [PY, str(HERE / "segment_sql.py"), str(db), "--export", str(work)], env=env, check=True
        )
        r["export_s"] = time.perf_counter() - t
        tables = [str(work / f"{t}.parquet") for t in ("repair_orders", "vehicles", "customers")]
        r["segment_pandas"] = measure(
            "pandas segment",
            [PY, str(HERE / "segment_pandas.py"), *tables, AS_OF, str(pdo)],
            repeat,
            env,
        )
        r["check_pandas"] = compare(seg, pdo)
        print(f"  segment vs pandas: {describe(r['check_pandas'])}", flush=True)
    return r


def bench(size: str, repeat: int, skip_pandas: bool) -> dict:
    utf8, gbk, generated = prepare(size)
    env = settings_env()
    work = CACHE / size / "work"
    work.mkdir(parents=True, exist_ok=True)
    db, db_gbk, plain_db = work / "crm.duckdb", work / "crm_gbk.duckdb", work / "plain.duckdb"
    crm = [PY, "-m", "crmtool", "-q"]
    r: dict = {
        "size": size,
        "generated_s": generated,
        "settings": {"threads": THREADS, "memory_limit": MEMORY},
    }
    print(f"size {size}: {utf8}", flush=True)
    r["load_plain"] = measure(
        "plain duckdb load",
        [PY, str(HERE / "plain_load.py"), str(plain_db), str(utf8)],
        repeat,
        env,
        [plain_db],
    )
    r["load_gbk"] = measure(
        "crmtool load gbk", crm + ["--db", str(db_gbk), "load", str(gbk)], repeat, env, [db_gbk]
    )
    r["load_utf8"] = measure(
        "crmtool load utf8", crm + ["--db", str(db), "load", str(utf8)], repeat, env, [db]
    )
    r.update(monthly(db, utf8, work, repeat, env))
    seg = work / "segment.parquet"
    r["segment"] = measure(
        "crmtool segment",
        # --include-recent: the baselines know nothing of the contacts' 7-day suppression
        crm
        + ["--db", str(db), "--as-of", AS_OF, "segment", "--include-recent"]
        + ["--format", "parquet", "-o", str(seg)],
        repeat,
        env,
    )
    r["summary"] = measure(
        "crmtool summary",
        crm + ["--db", str(db), "summary", "--period", PERIOD, "--format", "json"],
        repeat,
        env,
    )
    r["retention"] = measure(
        "crmtool retention",
        crm + ["--db", str(db), "--as-of", AS_OF, "retention", "--format", "csv"],
        repeat,
        env,
    )
    r["retention_trend"] = measure(
        "retention --trend 24",
        crm + ["--db", str(db), "--as-of", AS_OF, "retention", "--trend", "24", "--format", "csv"],
        repeat,
        env,
    )
    r.update(desk(db, work, max(repeat, 5), env))
    r["report"] = measure(
        "crmtool report",
        crm + ["--db", str(db), "report", "--period", PERIOD, "--out", str(work / "report")],
        repeat,
        env,
    )
    r["report"]["sections"] = report_sections(work / "report" / f"crmtool-report-{PERIOD}.html")
    r["forecast"] = measure(
        "crmtool forecast",
        crm
        + ["--db", str(db), "--as-of", AS_OF, "forecast", "--format", "parquet"]
        + ["-o", str(work / "forecast.parquet")],
        repeat,
        env,
    )
    r["help"] = measure("crmtool --help", [PY, "-m", "crmtool", "--help"], max(repeat, 5), env)
    r.update(baselines(db, work, seg, repeat, env, skip_pandas))
    r["loadavg"] = os.getloadavg()
    return r


def month_file(utf8: Path, work: Path) -> Path:
    """One month of repair orders (settled in PERIOD) exported from the sample as one file,
    as a DMS's monthly export would be (same header, same CSV dialect)."""
    folder = work / "monthly"
    out = folder / f"repair_orders_{PERIOD}.csv"
    if out.exists():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    part = out.with_suffix(".part")
    with open(part, "w", encoding="utf-8", newline="") as fh:
        writer = None
        for src in sorted(utf8.glob("repair_orders*.csv")):
            with open(src, encoding="utf-8", newline="") as rows:
                reader = csv.reader(rows)
                header = next(reader)
                if writer is None:
                    writer = csv.writer(fh, lineterminator="\n")
                    writer.writerow(header)
                col = header.index("结算日期")
                writer.writerows(r for r in reader if len(r) > col and r[col].startswith(PERIOD))
    part.replace(out)
    return out


def monthly(db: Path, utf8: Path, work: Path, repeat: int, env: dict[str, str]) -> dict:
    """The monthly incremental load (issue 18): the month's file loaded into a copy of the
    loaded database (made before each run, not timed); baseline: plain DuckDB read_csv of
    that file into a new database."""
    month = month_file(utf8, work)
    copy, plain = work / "monthly.duckdb", work / "monthly_plain.duckdb"
    crm = [PY, "-m", "crmtool", "-q", "--db", str(copy), "load", str(month)]
    return {
        "load_monthly_plain": measure(
            "plain monthly load",
            [PY, str(HERE / "plain_load.py"), str(plain), str(month.parent)],
            repeat,
            env,
            [plain],
        ),
        "load_monthly": measure(
            "crmtool monthly load",
            crm,
            repeat,
            env,
            [copy],
            setup=lambda: shutil.copyfile(db, copy),
        ),
    }


REPORT_SECTIONS = ("retention", "forecast")  # this round's sections (rulebook §16)


def report_sections(page: Path) -> list[str]:
    """The sections of this round the report page carries (its retention trend and forecast
    must be in the timed report); a missing one is said at once."""
    html = page.read_text(encoding="utf-8")
    found = [s for s in REPORT_SECTIONS if f'<section class="sec" id="{s}">' in html]
    if missing := [s for s in REPORT_SECTIONS if s not in found]:
        print(f"  warning: the report has no {', '.join(missing)} section", flush=True)
    return found


def desk(db: Path, work: Path, repeat: int, env: dict[str, str]) -> dict:
    """`find` at the service desk (issue 18): a plate, a phone, a VIN tail and a name of one
    customer with a vehicle and visits, median of at least 5 runs each."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    plate, phone, vin, name = con.execute("""
        SELECT v.plate, c.phone, v.vin, c.name FROM vehicles v JOIN customers c USING
        (customer_id) WHERE v.plate IS NOT NULL AND c.phone IS NOT NULL
          AND v.vin IN (SELECT vin FROM repair_orders) ORDER BY v.vin LIMIT 1""").fetchone()
    con.close()
    crm = [PY, "-m", "crmtool", "-q", "--db", str(db), "--as-of", AS_OF, "find"]
    return {
        f"find_{kind}": measure(f"find {kind}", crm + [q, "--format", "json"], repeat, env)
        for kind, q in (("plate", plate), ("phone", phone), ("vin_tail", vin[-6:]), ("name", name))
    }


def machine() -> dict:
    import duckdb
    import polars

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in open("/proc/cpuinfo")
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(int(ln.split()[1]) for ln in open("/proc/meminfo") if ln.startswith("MemTotal"))
    try:
        import pandas

        pd_v = pandas.__version__
    except ImportError:
        pd_v = "not installed"
    from crmtool import __version__

    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem / 2**20, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pandas": pd_v,
        "crmtool": __version__,
        "loadavg": os.getloadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="1m")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-pandas", action="store_true")
    a = ap.parse_args()
    res = bench(a.size, a.repeat, a.skip_pandas)
    res["machine"] = machine()
    res["repeat"] = a.repeat
    (CACHE / f"results-{a.size}.json").write_text(json.dumps(res, indent=2))
    write_results(CACHE, HERE / "RESULTS.md")
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
