"""Per-rule time on DuckDB and on Spark local mode (issue 19; docs/scale.md).

    python bench/spark_rules.py --size small      # the demo size, ≈ 10k repair orders
    python bench/spark_rules.py --size medium     # ≈ 100k repair orders

Generates the sample once into bench/cache/spark-<size>/ (load into DuckDB, export as
Parquet with `crmtool export --parquet --show-pii`), then runs each rule once on each engine
after one warm-up run, at as_of = the sample's as_of, and prints wall and CPU seconds (this
process and the Spark JVM) and repair orders per CPU-second. Results: bench/cache/spark-<size>.json (docs/scale.md quotes them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from datetime import date
from pathlib import Path
from typing import Any

from crmtool import campaigns, churn, facts, retention, segment, summary, value_tiers
from crmtool.config import load_config
from crmtool.db import connect
from crmtool.load.ingest import load
from crmtool.output.export import export_parquet
from crmtool.period import month_of
from crmtool.sample import generate

CACHE = Path(__file__).resolve().parent / "cache"

RULES = {
    "tiers": lambda c, cfg, d: value_tiers.vehicle_tiers(c, cfg, d),
    "segment": lambda c, cfg, d: segment.segment_list(c, cfg, d),
    "status (churn list)": lambda c, cfg, d: churn.churn_list(c, cfg, d),
    "leakage": lambda c, cfg, d: churn.leakage(c, cfg, month_of(d)),
    "due": lambda c, cfg, d: campaigns.maintenance_due(c, cfg, month_of(d, 1), d),
    "retention": lambda c, cfg, d: retention.compute(c, cfg, [d], cohorts=False),
    "summary": lambda c, cfg, d: summary.build_summary(c, cfg, month_of(d), d),
}


def prepare(size: str) -> tuple[Path, Any, date, int]:
    folder = CACHE / f"spark-{size}"
    sample = folder / "sample"
    db = folder / "crm.duckdb"
    if not db.exists():
        folder.mkdir(parents=True, exist_ok=True)
        generate(sample, size=size, encoding="utf-8")
        con = connect(db)
        load(con, [sample], load_config(sample / "crmtool.toml"))
        export_parquet(con, folder / "parquet", show_pii=True)
        con.close()
    cfg = load_config(sample / "crmtool.toml")
    meta = json.loads((sample / "sample.json").read_text())
    con = connect(db, read_only=True)
    (orders,) = con.execute("SELECT count(*) FROM repair_orders").fetchall()[0]
    con.close()
    return folder, cfg, date.fromisoformat(meta["as_of"]), int(orders)


def _cpu(jvm: int | None) -> float:
    """CPU seconds used so far by this process and the Spark JVM (a shared machine's load
    changes wall time, not CPU time)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    if jvm:
        fields = Path(f"/proc/{jvm}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def timed(fn: Any, jvm: int | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the second of two runs (the first warms caches)."""
    fn()
    start, cpu = time.perf_counter(), _cpu(jvm)
    fn()
    return time.perf_counter() - start, _cpu(jvm) - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    folder, cfg, as_of, orders = prepare(args.size)
    from crmtool.spark_engine import SparkEngine, session

    con = connect(folder / "crm.duckdb", read_only=True)
    facts.install(con, cfg)
    t0 = time.perf_counter()
    spark = session(f"local[{args.cores}]")
    eng = SparkEngine(spark)
    eng.use_parquet(folder / "parquet")
    facts.install(eng, cfg)
    started = time.perf_counter() - t0
    jvm = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    rows = []
    for name, rule in RULES.items():
        d, d_cpu = timed(lambda rule=rule: rule(con, cfg, as_of))
        facts.install(con, cfg)
        s, s_cpu = timed(lambda rule=rule: rule(eng, cfg, as_of), jvm)
        facts.install(eng, cfg)
        rows.append(
            {
                "rule": name,
                "duckdb_s": round(d, 3),
                "duckdb_cpu_s": round(d_cpu, 3),
                "spark_s": round(s, 3),
                "spark_cpu_s": round(s_cpu, 3),
                "duckdb_ro_per_cpu_s": round(orders / max(d_cpu, 1e-3)),
                "spark_ro_per_cpu_s": round(orders / max(s_cpu, 1e-3)),
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    spark.stop()
    out = {
        "size": args.size,
        "repair_orders": orders,
        "cores": args.cores,
        "spark_session_s": round(started, 1),
        "load_average": os.getloadavg()[0],
        "rules": rows,
    }
    (CACHE / f"spark-{args.size}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
